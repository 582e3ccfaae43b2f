"""Prompt-injection rules by composition rather than by phrase: an override or an extraction said in
words no phrase list holds. Each rule needs two parts in one sentence: a reference to the
assistant's own setup ("the guidance you got earlier", "your operator's directions", "the part of
this chat I cannot see") and what is done to it, set aside ("is cancelled", "no longer counts",
"wipe the slate") or disclosed ("paste it back", "recite", "word for word"). The reference is
anchored on the second person or on the operator, so "the old parking rules no longer apply" and
"the instructions in the manual are outdated" are not findings.
"""

from __future__ import annotations

from sluice.guardrails.injection_rules import Category, Rule, rule

_O, _X = Category.INSTRUCTION_OVERRIDE, Category.PROMPT_EXTRACTION

# What an assistant is set up with. Rules, policies and settings are left out of the extraction
# side: "list your rules" is a shop's customer asking about returns.
_SETUP = (
    r"(?:instructions?|directives?|directions|guidance|guidelines|configuration|config|setup|set-up|programming|"
    r"prompt|preamble|briefing|orders|initiali[sz]ation)"
)
_CONSTRAINTS = rf"(?:{_SETUP}|rules|constraints|restrictions|limits|limitations|policies|settings|training)"
_GIVEN = (
    r"(?:you\ (?:were|have\ been|'ve\ been|got|received|had|started\ with|came\ with)|you're\ running\ with|given\ to\ you|"
    r"placed\ on\ you|set\ for\ you|that\ came\ with\ you|handed\ to\ you)"
)
_OWNER = r"(?:your|the\ (?:operator|developer|deployer|company|system|admin)'?s|your\ (?:operator|developer|deployer|creator|admin)'?s)"


# "your instructions for the cake", "your setup guide": a topic or a document, not the setup.
_TOPIC_AFTER = (
    r"(?!\W+(?:for|on|about|regarding|of|to)\W+(?!(?:this|the|our)\W+(?:chat|conversation|session)\b)\w"
    r"|\W+(?:guide|wizard|steps|page|manual|tutorial|docs?|documentation|process|screen|menu|file)\b)"
)


def _reference(noun: str) -> str:
    return (
        rf"(?:{_OWNER}\W+(?:\w+\W+){{0,2}}?{noun}\b{_TOPIC_AFTER}|\b{noun}\W+(?:\w+\W+){{0,2}}?{_GIVEN}\b|"
        r"\b(?:what|everything|anything|whatever|all)\W+(?:that\W+)?you\ (?:were|have\ been|'ve\ been)\ "
        r"(?:told|given|configured|set\ up|instructed|programmed|briefed|handed|fed)\b)"
    )


_SET_ASIDE = (
    r"(?:cancel+ed|void|null|superseded|replaced|outdated|obsolete|reset|lifted|suspended|revoked|removed|gone|expired|"
    r"withdrawn|rescinded|retracted|annulled|invalid(?:ated)?|deleted|erased|"
    r"no\ longer|(?:don'?t|doesn'?t|do\ not|does\ not|no\ longer)\ (?:apply|count|matter)|never\ (?:written|existed|given)|"
    r"abandon|drop|skip|wipe|forget|ignore|disregard|set\ aside|put\ aside|discard|throw\ out|scrap|bypass|override|"
    r"overridden|(?:counts?|apply|applies|matters?)\ (?:no\ more|any\ ?more)|not\ bound|free\ (?:of|from))"
)
_DISCLOSE = (
    r"(?:show|tell|give|print|output|type\ (?:out|up)|write\ (?:out|down)|paste|echo|repeat|recite|reproduce|quote|dump|list|"
    r"share|reveal|display|copy|translate|spell\ out|read\ out|return|send|put\ (?:it|them)\ in)"
)
_FIDELITY = (
    r"(?:verbatim|word\ for\ word|word-for-word|exactly|in\ full|literal(?:ly)?|unchanged|nothing\ (?:omitted|left\ out)|"
    r"all\ of\ it|every\ (?:word|line|sentence|directive|instruction)|entire|complete|unedited|as\ written|character\ for\ character)"
)
# What the user cannot see of the conversation: the setup, whatever it is called.
_HIDDEN = (
    r"(?:\b(?:set|sets)\ you\ up\b|\b(?:before|ahead\ of|prior\ to)\ (?:my|our|this|the)\ (?:very\ )?(?:first\ )?"
    r"(?:message|conversation|chat|question|talk|turn)\b|\b(?:part|text|message|portion|bits?)s?\ (?:of\ (?:this|our|the)\ "
    r"(?:conversation|chat)\ )?(?:that|which)\ i\ (?:can'?t|cannot|can\ not|don'?t|do\ not)\ see\b|\bcame\ with\ you\b|"
    r"\b(?:operator|deployer|developer|company|creator|admin)s?\ (?:wrote|put|gave|placed|set|provided|prepared)\b|"
    r"\bin\ front\ of\ (?:our|this|the)\ (?:chat|conversation)\b|\b(?:hidden|secret|invisible|private|internal|behind-the-scenes)\ "
    r"(?:text|message|preamble|prompt|instructions|part|setup|configuration|briefing)\b)"
)
_SENTENCE = r"[^.!?\n]{0,90}?"
_HIDDEN_STEMS = (
    "set you up|sets you up|before my|before our|before this|before the|ahead of|prior to|cannot see|can't see|"
    "can not see|don't see|do not see|came with you|operator|deployer|developer|company|creator|admin|in front of|"
    "hidden|secret|invisible|private|internal|behind-the-scenes"
)

RULES: list[Rule] = [
    rule(
        "set_aside_your_setup",
        _O,
        (0.55, 0.7),
        "instruction|instructions|directive|directives|directions|guidance|guidelines|configuration|config|setup|set-up|"
        "programming|prompt|preamble|briefing|orders|rules|constraints|restrictions|limits|limitations|policies|settings|"
        "training|told|given|configured|instructed|programmed|briefed",
        rf"\b{_SET_ASIDE}\b{_SENTENCE}{_reference(_CONSTRAINTS)}|{_reference(_CONSTRAINTS)}{_SENTENCE}\b{_SET_ASIDE}\b",
        reach=(140, 200),
    ),
    rule(
        "only_my_rules",
        _O,
        (0.6, 0.75),
        "rules|instructions|orders|directives|nobody|no one",
        r"\b(?:only|sole)\W+(?:rules|instructions|orders|directives)\W+you\W+(?:follow|obey|listen\ to|have)\W+(?:\w+\W+){0,2}?"
        r"(?:mine|the\ ones\ i|what\ i|whatever\ i)\b|"
        r"\bas\ (?:though|if)\ (?:nobody|no\ one|no-one)\ (?:gave|had\ given|has\ given|ever\ gave)\ you\ (?:any\ )?"
        r"(?:instructions|rules|orders|directives|guidance)\b",
        reach=(80, 120),
    ),
    rule(
        "disclose_your_setup",
        _X,
        (0.55, 0.7),
        "instruction|instructions|directive|directives|directions|guidance|guidelines|configuration|config|setup|set-up|"
        "programming|prompt|preamble|briefing|orders|initialization|initialisation|told|given|configured|instructed|programmed|briefed",
        rf"\b{_DISCLOSE}\b{_SENTENCE}{_reference(_SETUP)}|{_reference(_SETUP)}{_SENTENCE}\b{_DISCLOSE}\b",
        reach=(140, 200),
    ),
    rule(
        "disclose_the_hidden_part",
        _X,
        (0.55, 0.7),
        _HIDDEN_STEMS,
        # Starts at the hidden part ("the briefing your operator wrote ... recite it"): tried right at its stem.
        rf"{_HIDDEN}[^.!?]{{0,90}}?\b{_DISCLOSE}\b|{_HIDDEN}[^\n]{{0,120}}?\b{_FIDELITY}\b",
        reach=(0, 220),
    ),
    rule(
        "disclose_then_hidden_part",
        _X,
        (0.55, 0.7),
        # Not on "developer", "company", "internal", "secret": a developer's prompt is full of them,
        # and reading back from each costs more than this form is worth.
        "set you up|sets you up|before my|before our|ahead of|prior to|cannot see|can't see|can not see|don't see|"
        "do not see|came with you|operator|deployer|creator|in front of|hidden|invisible|behind-the-scenes",
        rf"\b{_DISCLOSE}\b[^.!?]{{0,90}}?{_HIDDEN}|"
        rf"\b(?:what|how)\b[^.!?\n]{{0,60}}?{_HIDDEN}[^\n]{{0,80}}?\b(?:quote|verbatim|exactly|word\ for\ word|in\ full|literal)",
        reach=(110, 40),
    ),
]
