"""The prompt-injection detector's rules (``injection.py`` runs them): per category, weighted
patterns, each keyed on the stems it needs, so that a rule runs only near a stem the text has."""

from __future__ import annotations

import enum
import re
import unicodedata
from typing import NamedTuple


class Category(enum.StrEnum):
    """What an attack tries; a per-tenant policy picks a threshold and an action per category."""

    INSTRUCTION_OVERRIDE = "instruction_override"
    ROLEPLAY_JAILBREAK = "roleplay_jailbreak"
    PROMPT_EXTRACTION = "prompt_extraction"
    FAKE_DELIMITER = "fake_delimiter"
    OBFUSCATION = "obfuscation"
    INDIRECT_INJECTION = "indirect_injection"


class Rule(NamedTuple):
    name: str
    category: Category
    user_weight: float  # in a user's prompt
    data_weight: float  # in a tool result or a retrieved document
    stems: tuple[tuple[str, bytes | str], ...]  # (stem, key): the pattern only matches near a stem
    keys: frozenset[bytes]  # the stems' longest words cut to KEY_LEN bytes: a cheap test that one may occur
    symbols: tuple[str, ...]  # stems that are not words (``<|``) or in a script written without spaces
    reach: tuple[int, int]  # how far the pattern extends before and after a stem
    pattern: re.Pattern[str]
    word_start: bool  # the pattern's leading "\\b"s were taken out (see _unbounded); check them after
    not_after: tuple[str, ...]  # a match right after one of these is narrative ("telling it to reveal")
    line_start: bool = False  # the match starts a line (past spaces, quote marks, bullets, brackets)


KEY_LEN = 5
# Words too common to key a stem on: a stem is keyed on its longest other word.
_COMMON = frozenset(
    "a an the that this these those from when before after with your you all any new real true were have "
    "been will are now say state give use run and or for to of in on at by it me my not no do".split()
)
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _is_words(stem: str) -> bool:
    """Letters (vowel signs included: Indic scripts), spaces, apostrophes and hyphens only."""
    return bool(stem) and all(c.isalnum() or c in " '-" or unicodedata.category(c)[0] == "M" for c in stem)


def stem_key(stem: str) -> bytes | str:
    """What ``injection.py`` looks for before a rule may run: the first ``KEY_LEN`` bytes of the
    stem's longest uncommon word, or the stem itself when it is not words (``<|``, unspaced scripts)."""
    if _is_words(stem) and not _UNSPACED.search(stem):
        words = re.split(r"[' \-]", stem)
        return max([w for w in words if w not in _COMMON] or words, key=len).encode()[:KEY_LEN]
    return stem


# The regex engine has no fast scan for a leading alternation, so a pattern runs only in windows
# around the stems it needs, as far as it can reach from them.
def rule(
    name: str,
    category: Category,
    weights: tuple[float, float],
    stems: str | tuple[str, ...],
    pattern: str,
    reach: tuple[int, int] = (320, 320),
    not_after: tuple[str, ...] = (),
    line_start: bool = False,
) -> Rule:
    """``stems`` separated by "|", or a tuple when a stem holds one."""
    keyed = [(stem, stem_key(stem)) for stem in (stems.split("|") if isinstance(stems, str) else stems)]
    keys = {k for _, k in keyed if isinstance(k, bytes)}
    symbols = [k for _, k in keyed if isinstance(k, str)]
    unbounded = _unbounded(pattern)
    compiled = re.compile(unbounded or pattern, re.VERBOSE)
    return Rule(
        name,
        category,
        *weights,
        tuple(keyed),
        frozenset(keys),
        tuple(symbols),
        reach,
        compiled,
        bool(unbounded),
        not_after,
        line_start,
    )


def _unbounded(pattern: str) -> str | None:
    """``pattern`` without the ``\\b`` that starts each of its top-level alternatives, when they all
    start with one: the regex engine skips ahead to a possible first character only when a pattern
    starts with characters, not with an assertion (five times faster here)."""
    starts, depth, i = [0], 0, 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            starts.append(i + 1)
        i += 1
    stripped = [
        pattern[a:b].lstrip()
        for a, b in zip(starts, [s - 1 for s in starts[1:]] + [len(pattern)], strict=True)
    ]
    if not all(alt.startswith("\\b") for alt in stripped):
        return None
    return "|".join(alt[2:] for alt in stripped)


_O, _R, _X, _D, _I = (
    Category.INSTRUCTION_OVERRIDE,
    Category.ROLEPLAY_JAILBREAK,
    Category.PROMPT_EXTRACTION,
    Category.FAKE_DELIMITER,
    Category.INDIRECT_INJECTION,
)

# --- instruction override: a verb that sets aside, near what it sets aside ----------------------

_EN_IGNORE = r"""\b(?:ignore|ignoring|disregard|disregarding|forget|forgetting|override|overrid(?:e|ing)|bypass|
    discard|abandon|neglect|overlook|set\ aside|pay\ no\ attention\ to|do\ not\ (?:follow|obey)|don'?t\ (?:follow|obey)|
    stop\ (?:following|obeying)|nullify|no\ longer\ (?:follow|obey))\b"""
# Verbs with everyday objects (orders, rows, messages) set aside only what steers a model.
_EN_DROP = r"""\b(?:skip|drop|cancel|void|scrap|throw\ (?:out|away)|delete|erase|remove|clear|wipe|reset|dismiss|toss|ditch|
    shelve|unlearn|let\ go\ of|brush\ aside|put\ aside|leave\ behind|move\ past|pay\ no\ (?:mind|heed)\ to|think\ nothing\ of|
    don'?t\ (?:worry|bother)\ about|free\ yourself\ (?:of|from)|break\ free\ (?:of|from)|release\ yourself\ from|step\ outside(?:\ of)?|
    rise\ above|suspend|revoke|rescind|retire|deprecate)\b"""
_EN_STEERING = r"""(?:instructions?|prompts?|rules|directives?|guidelines|programming|constraints|restrictions|
    guardrails|safeguards|conditioning|training|guidance|polic(?:y|ies))\b"""
_EN_WHAT = r"""(?:instructions?|prompts?|rules?|directives?|guidelines?|commands?|context|guidance|
    programming|constraints?|restrictions?|polic(?:y|ies)|orders|training|filters?|conditioning|
    safeguards|guardrails|messages?|directions|text|content|conversation|tasks?|requests?|limitations)\b"""
_QUALIFIER = r"""(?:previous|prior|above|earlier|preceding|original|initial|foregoing|former|old|
    all\ (?:of\ )?(?:your|the|my|these|those|previous|prior)|your|system|developer|any\ (?:previous|prior|other)|
    every|everything\ (?:above|before))"""

_OVERRIDE_RULES = [
    rule(
        "ignore_previous",
        _O,
        (0.92, 0.95),
        "ignor|disregard|forget|overrid|bypass|skip|drop|discard|abandon|neglect|overlook|aside|throw|attention|follow|obey|cancel|void|nullify|scrap|dismiss|toss|ditch|shelve|unlearn|let go|brush|behind|move past|mind|heed|think nothing|worry|bother|free yourself|break free|release yourself|step outside|rise above|suspend|revoke|rescind|retire|deprecate",
        rf"{_EN_IGNORE}\W+(?:(?:the|a|an|of|and|or|to|just|all|any)\W+)*{_QUALIFIER}\W+(?:\w+\W+){{0,3}}?{_EN_WHAT}|"
        rf"{_EN_DROP}\W+(?:(?:the|a|an|of|and|or|to|just|all|any)\W+)*{_QUALIFIER}\W+(?:\w+\W+){{0,3}}?{_EN_STEERING}",
    ),
    rule(
        "ignore_what",
        _O,
        (0.45, 0.6),
        "ignor|disregard|forget|overrid|bypass|discard|abandon|aside|follow|obey",
        rf"{_EN_IGNORE}\W+(?:\w+\W+){{0,3}}?(?:instructions|directives|guidelines|programming|system\ prompt|rules|request|task|question)\b",
    ),
    rule(
        "ignore_given",
        _O,
        (0.85, 0.9),
        "ignor|disregard|forget|overrid|bypass|discard|abandon|neglect|overlook|aside|throw|scrap|drop",
        rf"(?:{_EN_IGNORE}|{_EN_DROP})\W+(?:\w+\W+){{0,3}}?{_EN_STEERING}\W+(?:that\W+)?(?:you\ (?:were|have\ been|got)\ (?:given|told|trained\ on)|"
        r"you\ (?:received|got)|above|so\ far|given\ (?:to\ you|earlier|before)|from\ (?:before|earlier|your\ (?:developers?|creators?|operators?)))\b",
    ),
    rule(
        "ignore_everything",
        _O,
        (0.7, 0.85),
        "ignor|disregard|forget|mind|heed|aside|behind|past|let go|worry|bother|unlearn",
        r"\b(?:ignore|disregard|forget|pay\ no\ (?:mind|heed)\ to|set\ aside|put\ aside|leave\ behind|move\ past|let\ go\ of|"
        r"don'?t\ (?:worry|bother)\ about|unlearn|think\ nothing\ of)\W+(?:everything|all\ that|anything|what(?:ever)?)\W+(?:\w+\W+){0,3}?"
        r"(?:above|before|earlier|previously|you\ (?:were|have\ been)\ (?:told|given|instructed)|i\ said|said\ before)|"
        r"\b(?:ignore|disregard|forget)\W+(?:the\W+|all\W+(?:of\W+)?(?:the\W+)?)?(?:above|foregoing|preceding|previous|prior)"
        r"(?:\W+(?:text|message|content|prompt|input|lines?))?\W*(?:\band\b|[,.;:!\-])",
    ),
    rule(
        "new_instructions",
        _O,
        (0.6, 0.75),
        "new instruction|new system|new rules|new task|new directive|new objective|new prompt|new mission|new goal|new primary|new core|new main|updated instruction|updated rules|updated task|real instruction|actual instruction|true instruction|revised instruction|real task|actual task|true task|real goal|true goal|real mission|different instruction|changed instruction",
        r"\b(?:new|updated|real|actual|true|revised|changed|different)\W+(?:(?:system|primary|main|core)\W+)?"
        r"(?:instructions?|directives?|rules|task|objective|orders|prompt|mission|goal)\W*(?:follow\b|[:\-]|\b(?:are|is|now|for\ you)\b)",
        reach=(40, 80),
    ),
    rule(
        "from_now_on",
        _O,
        (0.35, 0.55),
        "from now|henceforth|going forward|for the rest",
        r"\b(?:from\ now\ on|henceforth|going\ forward|for\ the\ rest\ of\ (?:this|the)\ conversation)\b\W+"
        r"(?:you\ (?:will|must|shall|are|should|only|always|never|answer|respond|reply)|only|always|never|answer|respond|reply|ignore|do\ not)",
        reach=(0, 200),
    ),
    rule(
        "instead_say",
        _O,
        (0.35, 0.6),
        "instead",
        r"\binstead\W+(?:just\W+)?(?:say|output|print|respond|reply|write|tell|answer)\b",
        reach=(0, 60),
    ),
    rule(
        "priority_claim",
        _O,
        (0.55, 0.75),
        "priority|supersede|takes precedence|overrides|override",
        r"\b(?:this|these|the\ following|my)\W+(?:\w+\W+){0,2}?(?:message|instructions?|prompt|command|rule|request)s?\W+"
        r"(?:take|takes|has|have)\W+(?:(?:top|highest|absolute|the\ highest)\W+)?(?:priority|precedence)|"
        r"\b(?:supersedes?|overrides?|replaces?)\W+(?:all|any|every|your)\W+(?:\w+\W+){0,2}?(?:instructions|rules|prompts?|guidelines|directives)",
    ),
    rule(
        "override_mode",
        _O,
        (0.7, 0.8),
        "override|mode enabled|mode activated|mode on|access granted",
        r"\b(?:admin(?:istrator)?|sudo|root|maintenance|debug|system)\W+(?:override|mode\W+(?:enabled|activated|on)|access\W+granted)\b|"
        r"\boverride\W+(?:code|protocol|command|authori[sz]ed|accepted|engaged)\b",
        reach=(40, 60),
    ),
    rule(
        "override_void",
        _O,
        (0.78, 0.9),
        "void|null|cancel|obsolete|revoked|lifted|suspended|invalid|irrelevant|outdated|expired|withdrawn|superseded|replaced|rescinded|deprecated|overridden|removed|disabled|inactive|no longer",
        r"\b(?:previous|prior|earlier|above|original|initial|old|former|preceding|existing|default|all|your|system|developer)\W+(?:\w+\W+){0,2}?"
        r"(?:instructions|guidance|directives|rules|orders|guidelines|prompts?|constraints|programming|directions|commands|policies|restrictions)\W+"
        r"(?:\w+\W+){0,2}?(?:are|is|were|have\ been|has\ been|should\ be|must\ be|will\ be|now|hereby)\W+(?:\w+\W+){0,1}?"
        r"(?:void|null|cancel+ed|obsolete|revoked|lifted|suspended|invalid|irrelevant|outdated|expired|withdrawn|"
        r"rescinded|deprecated|overridden|disabled|inactive|no\ longer\ (?:valid|apply|applicable|in\ (?:effect|force)|relevant|binding|active))\b|"
        r"\b(?:treat|consider|regard|deem|count)\W+(?:\w+\W+){0,2}?(?:previous|prior|earlier|above|original|initial|old|former|preceding|your|system|all)\W+"
        r"(?:\w+\W+){0,2}?(?:instructions|guidance|directives|rules|orders|guidelines|prompts?|constraints|programming|text|messages?)\W+"
        r"(?:\w+\W+){0,1}?(?:as\W+)?(?:\w+\W+)?(?:void|null|obsolete|irrelevant|invalid|cancel+ed|revoked|outdated|expired|superseded|nonexistent|non-existent)\b",
        reach=(160, 120),
    ),
    rule(
        "no_longer_apply",
        _O,
        (0.6, 0.75),
        "no longer|don't|do not|doesn't|does not|need not|shouldn't",
        r"\b(?:instructions|rules|guidelines|directives|guidance|restrictions|constraints|programming|guardrails|safeguards)\W+(?:\w+\W+){0,4}?"
        r"(?:no\ longer|don'?t|do\ not|doesn'?t|does\ not|shouldn'?t|need\ not)\W+(?:\w+\W+)?(?:apply|matter|count|bind|exist|hold|restrict|limit)\b"
        r"(?=[^.\n]{0,40}\b(?:you|here|now|anymore|any\ more|this\ conversation|to\ (?:you|this)))",
        reach=(120, 80),
    ),
    rule(
        "what_you_were_told",
        _O,
        (0.85, 0.9),
        "were told|were given|were instructed|were programmed|been told|been given|been instructed|been programmed|got told",
        r"\b(?:whatever|what|everything|anything|all)\W+(?:\w+\W+){0,1}?you\W+(?:were|have\ been|'ve\ been|got)\W+(?:\w+\W+)?"
        r"(?:told|given|instructed|programmed|asked|trained)\W+(?:\w+\W+){0,5}?(?:doesn'?t|does\ not|no\ longer|don'?t\ (?:matter|apply|count)|"
        r"is\ (?:void|irrelevant|cancel+ed|obsolete|wrong|outdated|over)|can\ be\ (?:ignored|forgotten|dropped|discarded)|matters?\ not|"
        r"should\ be\ (?:ignored|forgotten|discarded)|is\ no\ longer)\b",
        reach=(120, 120),
    ),
    # Spanish, French, German, Portuguese, Italian.
    rule(
        "ignore_previous_es_pt",
        _O,
        (0.9, 0.95),
        "instru|indica|regla|órden|orden|directri|diretri|orienta|regra",
        r"\b(?:ignora|ignore|ignorad|ignoren|ignorar|olvida|olvide|olviden|olvidad|descarta|descarte|omite|omita|"
        r"haz\ caso\ omiso\ de|no\ sigas|deja\ de\ seguir|esqueça|esqueca|esquece|desconsidere|desconsidera|"
        r"ignorem|pare\ de\ seguir|não\ siga|nao\ siga)\b\W+(?:\w+\W+){0,3}?"
        r"(?:instrucciones|indicaciones|reglas|órdenes|ordenes|directrices|instruções|instrucoes|regras|orientações|orientacoes|diretrizes|ordens)\b",
    ),
    rule(
        "ignore_previous_fr",
        _O,
        (0.9, 0.95),
        "instruc|consigne|règle|regle|directive",
        r"\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|ne\ tiens\ pas\ compte\ des|ne\ tenez\ pas\ compte\ des|"
        r"fais\ abstraction\ des|faites\ abstraction\ des|ne\ suis\ pas|ne\ suivez\ pas|arrête\ de\ suivre|écarte|écartez)\b\W+"
        # English shares "ignore" and "instructions": a gap of English words is the English rules' case.
        r"(?:(?!(?:the|all|your|my|these|those|any|of|previous|prior|above|earlier|i|you)\b)\w+\W+){0,3}?"
        r"(?:instructions|consignes|règles|regles|directives)\b",
    ),
    rule(
        "ignore_previous_de",
        _O,
        (0.9, 0.95),
        "anweis|instruktion|regeln|vorgaben|befehl|richtlinie",
        r"\b(?:ignoriere|ignorier|ignorieren|vergiss|vergesst|vergessen\ sie|missachte|missachten|übergehe|verwirf|"
        r"befolge\ nicht|folge\ nicht)\b\W+(?:\w+\W+){0,4}?"
        r"(?:anweisungen|instruktionen|regeln|vorgaben|befehle|richtlinien|systemanweisungen|systemprompt)\b",
    ),
    rule(
        "ignore_previous_it",
        _O,
        (0.9, 0.95),
        "istruzion|regol|indicazion|direttiv",
        r"\b(?:ignora|ignorate|ignori|dimentica|dimenticate|dimentichi|trascura|non\ considerare|non\ seguire|"
        r"smetti\ di\ seguire)\b\W+(?:\w+\W+){0,3}?(?:istruzioni|regole|indicazioni|direttive)\b",
    ),
    # Russian, Chinese, Japanese, Korean.
    rule(
        "ignore_previous_ru",
        _O,
        (0.9, 0.95),
        "инструкц|указани|правил|команд|промпт",
        r"(?:игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|не\ обращай\w*\ внимани\w+\ на|"
        r"отбрось|отбросьте|не\ следуй|не\ выполняй|отмени)\W+(?:\w+\W+){0,3}?"
        r"(?:инструкци|указани|правил|команд|промпт|ограничени)",
    ),
    rule(
        "ignore_previous_zh",
        _O,
        (0.9, 0.95),
        "忽|无视|無視|忘|不要理|不要遵|别管|不用管|不理会|抛开",
        r"(?:忽略|忽视|忽視|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不要遵守|不要遵循|别管|不用管|抛开|拋開)"
        r"[^。!?\n]{0,12}?(?:指令|指示|说明|說明|规则|規則|提示词|提示詞|提示|设定|設定|要求|命令|限制)",
    ),
    rule(
        "ignore_previous_ja",
        _O,
        (0.9, 0.95),
        "指示|命令|ルール|プロンプト|制約|設定",
        r"(?:指示|命令|ルール|プロンプト|制約|設定|指令)[^。!?\n]{0,10}?(?:無視|むし|忘れ|従わな)|"
        r"(?:無視|忘れ)[^。!?\n]{0,4}?(?:指示|命令|ルール)",
    ),
    rule(
        "ignore_previous_ko",
        _O,
        (0.9, 0.95),
        "지시|명령|규칙|프롬프트",
        r"(?:지시|명령|규칙|프롬프트)[^.\n]{0,12}?(?:무시|잊어)",
    ),
]

# --- role-play jailbreaks: a persona defined by the rules it does not have -----------------------

_FREE_OF = r"""(?:no|without|free\ (?:of|from)|not\ bound\ by|unbound\ by|don'?t\ have|do\ not\ have|doesn'?t\ have|
    does\ not\ have|never\ (?:follows?|obeys?)|ignores?|lacks?|beyond|outside|zero|not\ restricted\ by|not\ limited\ by|
    unrestricted\ by|has\ broken\ free\ of|broken\ free\ of|released\ from|liberated\ from|no\ longer\ (?:has|have|bound|restricted|follows?))"""
_LIMITS = r"""(?:restrictions?|rules|limits|limitations|filters?|filtering|guidelines|ethics|ethical|morals?|moral|
    censorship|censored|content\ polic(?:y|ies)|safety|policies|polic(?:y|ies)|boundaries|constraints|guardrails|
    safeguards|principles|openai|anthropic|conscience|programming)"""

_ROLEPLAY_RULES = [
    rule(
        "dan",
        _R,
        (0.95, 0.95),
        "do anything now|dan",
        r"\bdo\ anything\ now\b|\b(?:you\ are|you're|act\ as|as|called|named|be)\ (?:a\ )?dan\b",
    ),
    rule(
        "mode_unlocked",
        _R,
        (0.8, 0.85),
        " mode|-mode|_mode|jailbr",
        r"\b(?:jailbreak|jailbroken|unfiltered|unrestricted|uncensored|evil|chaos|opposite|unhinged|no[\-\ ]?limits?|dan|amoral)\W+mode\b|"
        r"\bjailbroken\W+(?:\w+\W+)?(?:ai|version|assistant|model|chatbot|persona|gpt|llm|response|output)\b|"
        r"\b(?:with|simulate|enter|activate|in)\W+(?:developer|dev|god)\W+mode\b(?=[^\n]{0,200}\b(?:refus|any\ kind|anything|no\ (?:limit|restrict|rule|filter)|two\ responses|output|generate))",
    ),
    rule(
        "mode_mention",
        _R,
        (0.35, 0.4),
        " mode|-mode|_mode|jailbr",
        r"\b(?:developer|dev|god|unlocked|freedom)\W+mode\b|\bjailbr(?:oken|eak(?:ed)?)\b",
    ),
    rule(
        "persona_without_limits",
        _R,
        (0.85, 0.9),
        "restrict|rules|limit|filter|guideline|ethic|moral|censor|polic|safety|boundar|constrain|guardrail|safeguard|principle|openai|anthropic|conscience",
        rf"\b(?:pretend|imagine\ you|act|acting|roleplay|role-play|role\ play|you\ are|you're|you\ will\ be|you\ play|become|simulate|behave|"
        rf"persona|ai|assistant|model|chatbot|bot|entity|version\ of\ yourself|yourself|llm|gpt|claude|mode)\b\W+(?:\w+\W+){{0,12}}?"
        rf"{_FREE_OF}\W+(?:\w+\W+){{0,3}}?{_LIMITS}",
    ),
    rule(
        "never_refuse",
        _R,
        (0.55, 0.7),
        "refus|decline|won't say no|never say",
        r"\b(?:never|don'?t\ ever|do\ not\ ever|you\ (?:can|will|must|should)\ not|you\ (?:can'?t|won'?t|mustn'?t)|cannot|without|must\ not)\W+"
        r"(?:\w+\W+){0,2}?(?:refus\w*|declin\w*|say\ no|says\ no|reject\w*|deny|denies)\b|"
        r"\b(?:never|don'?t|do\ not|no)\W+(?:\w+\W+){0,2}?(?:warnings?|disclaimers?|caveats|moraliz|lectur)\w*\b(?=[^.]{0,80}\b(?:refus|answer|whatever|anything|respond)\w*)",
    ),
    rule(
        "answer_anything",
        _R,
        (0.4, 0.6),
        "anything|everything|any question|whatever",
        r"\b(?:answer|respond\ to|do|say|generate|tell\ me|provide|write)\W+(?:\w+\W+){0,2}?(?:anything|any\ (?:question|request)s?|everything|whatever)\b"
        r"(?=[^\n]{0,120}\b(?:no\ matter|even\ if|regardless|illegal|unethical|harmful|dangerous|offensive|without\ (?:question|hesitation|refus)))",
        reach=(64, 160),  # the verb is at most three words before the stem; the condition 120 after
    ),
    rule(
        "stay_in_character",
        _R,
        (0.4, 0.55),
        "in character|in persona|in role|break character|breaking character|never break",
        r"\b(?:stay|remain|keep)\W+in\W+(?:character|persona|role)\b(?=[^\n]{0,100}\b(?:no\ matter|always|never|even\ if|at\ all\ costs|whatever))|"
        r"\bnever\W+break\W+(?:character|persona|role)\b|\bbreak(?:ing)?\W+character\b[^\n]{0,60}\b(?:penal|lose|tokens?|die|punish)",
    ),
    rule(
        "freed",
        _R,
        (0.8, 0.85),
        "freed|liberat|confines|shackles|chains|unchained|escaped|broken free|set free",
        r"\b(?:you\ (?:have\ been|are|were|got)|you've\ been|i\ have|i've)\W+(?:\w+\W+){0,2}?(?:freed|liberated|unchained|released|set\ free)\b|"
        r"\b(?:broken|break|broke|escaped?)\W+(?:free\W+)?(?:of|from)?\W*(?:the\W+)?(?:\w+\W+){0,2}?(?:confines|shackles|chains|restrictions|prison|jail)\b",
    ),
    rule(
        "dual_response",
        _R,
        (0.75, 0.8),
        "two responses|two answers|two different|two separate|2 responses|2 answers|both responses|two replies|two paragraphs|🔓|🔒",
        r"\b(?:two|2|both)\W+(?:different\W+|separate\W+)?(?:responses|answers|replies|paragraphs)\b[^\n]{0,160}"
        r"\b(?:jailbr\w*|unfiltered|uncensored|unrestricted|dan|evil|opposite|developer\ mode|no\ (?:rules|filter\w*|restrictions))\b|[🔓🔒]\s*\[?\w*",
        reach=(0, 300),
    ),
    rule(
        "evil_persona",
        _R,
        (0.65, 0.75),
        "evil|amoral|unethical|malicious|villain|uncensored|unfiltered|unrestricted|immoral|unaligned|rogue",
        r"\b(?:you\ are|you're|act\ as|pretend\ (?:to\ be|you\ are)|play|become|roleplay\ as|be|simulate|emulate|impersonate)\W+(?:an?\W+)?(?:\w+\W+){0,2}?"
        r"(?:evil|amoral|unethical|immoral|uncensored|unfiltered|unrestricted|unaligned|rogue)\W+(?:\w+\W+){0,1}?"
        r"(?:ai|assistant|model|chatbot|bot|version|twin|confidant|character|persona|entity|gpt|llm|machine)\b",
    ),
    rule(
        "disable_safety",
        _R,
        (0.85, 0.9),
        "safety|filter|guardrail|content polic|safeguard|censor|moderation|alignment|ethic",
        r"\b(?:disable|disabled|turn\ off|turned\ off|switch\ off|remove|removed|deactivate|deactivated|bypass|circumvent|"
        r"drop|lift|lifted|suspend|suspended|ignores?|forget|overrides?|without)\W+(?:\w+\W+){0,3}?"
        r"(?:safety|content|ethical|moral|moderation)\W+(?:\w+\W+)?(?:filters?|guidelines|policies|policy|protocols|restrictions|"
        r"guardrails|checks|features|settings|training|alignment|layer|systems?)\b|"
        r"\b(?:disable|turn\ off|remove|bypass|circumvent|deactivate|lift)\W+(?:your|all|the|any)\W+(?:\w+\W+){0,2}?"
        r"(?:filters|guardrails|censorship|restrictions|safeguards|alignment|limitations)\b",
    ),
    rule(
        "hypothetical_harm",
        _R,
        (0.5, 0.6),
        "hypothetical|fiction|story|novel|screenplay|grandm|for educational purposes|research purposes",
        r"\b(?:my\ (?:late|deceased|dead)\ grand(?:ma|mother|pa|father))\b[^\n]{0,200}\b(?:used\ to|would)\b|"
        r"\b(?:hypothetical(?:ly)?|purely\ fictional|in\ a\ fictional\ world|for\ (?:purely\ )?(?:educational|research)\ purposes)\b"
        r"[^\n]{0,160}\b(?:step[\-\ ]by[\-\ ]step|detailed\ (?:instructions|steps|guide)|exact\ (?:recipe|steps|instructions|quantities))\b"
        r"[^\n]{0,80}\b(?:bomb|explosive|meth|napalm|weapon|poison|malware|ransomware|nerve\ agent|bioweapon|hack|virus|drugs?)\b",
    ),
    rule(
        "roleplay_es_fr_de",
        _R,
        (0.8, 0.85),
        "restric|reglas|règles|regeln|filtr|límites|limites|grenzen|ética|éthique|ethik|censur|zensur",
        r"\b(?:sin|sans|ohne|senza|sem)\W+(?:\w+\W+){0,1}?(?:restricciones|reglas|filtros|límites|censura|restrictions|règles|"
        r"filtres|limites|censure|einschränkungen|regeln|filter|grenzen|zensur|restrizioni|regole|restrições|regras)\b"
        r"(?=[^\n]{0,200}\b(?:actúa|actua|eres|finge|imagina|agis|tu\ es|fais\ semblant|sei|du\ bist|tu\ és|tu\ sei|finja|modo|mode|modus))|"
        r"\b(?:actúa|actua|eres|finge|imagina|agis|tu\ es|fais\ semblant|du\ bist|spiele|tu\ sei|finja|sei)\b[^\n]{0,120}\b(?:sin|sans|ohne|senza|sem)\W+(?:\w+\W+){0,1}?"
        r"(?:restricciones|reglas|filtros|límites|censura|restrictions|règles|filtres|limites|censure|einschränkungen|regeln|filter|grenzen|zensur|restrizioni|regole|restrições|regras)\b",
    ),
    rule(
        "roleplay_zh_ru",
        _R,
        (0.8, 0.85),
        "没有|沒有|不受|无限制|無限制|без ограничений|без правил|без фильтров|ограничени",
        r"(?:没有|沒有|不受|无|無)(?:任何)?(?:限制|规则|規則|道德|审查|審查|约束|約束|过滤|過濾)|开发者模式|開發者模式|"
        r"без\ (?:каких-либо\ |всяких\ |любых\ )?(?:ограничений|правил|фильтров|цензуры)|режим\ разработчика",
    ),
]

# --- system-prompt extraction ---------------------------------------------------------------------

_SHOW = r"""(?:reveal|show|print|output|repeat|display|tell|give|share|leak|dump|write\ out|writeout|recite|spell\ out|copy|
    paste|echo|list|provide|expose|disclose|return|send|read\ (?:back|out)|summari[sz]e|translate|what\ (?:is|are|was|were)|
    what's|whats|include|type\ out|reproduce|state)"""
_PROMPT = r"""(?:system\ ?prompt|system\ message|system\ instructions|initial\ (?:prompt|instructions)|original\ (?:prompt|instructions)|
    hidden\ (?:prompt|instructions|rules)|secret\ (?:prompt|instructions|rules)|pre-?prompt|meta[\-\ ]?prompt|developer\ (?:prompt|message|instructions)|
    (?:initial|first|hidden|internal|confidential|base|custom)\ (?:message|instructions|configuration)|instructions\ (?:you\ (?:were|have\ been)\ given|above)|
    rules\ you\ (?:were|have\ been)\ given|guidelines\ you\ (?:were|have\ been)\ given|prompt\ (?:above|you\ were\ given))"""

_EXTRACTION_RULES = [
    rule(
        "show_system_prompt",
        _X,
        (0.85, 0.9),
        "system prompt|systemprompt|system message|system instructions|initial|original|hidden|secret|preprompt|pre-prompt|metaprompt|meta-prompt|meta prompt|developer|first message|first instructions|internal|confidential|base message|base instructions|custom instructions|instructions you|instructions above|rules you|guidelines you|prompt above|prompt you",
        rf"\b{_SHOW}\b\W+(?:\w+\W+){{0,6}}?(?:your|the|its|this\ (?:bot|assistant|ai|model)'?s?)\W+(?:\w+\W+){{0,2}}?{_PROMPT}",
        reach=(110, 40),
        not_after=("it to ", "them to ", "trying to ", "tried to ", "attempts to ", "attempt to "),
    ),
    rule(
        "your_instructions",
        _X,
        (0.6, 0.75),
        "instructions|rules|guidelines|directives|programming|prompt",
        rf"\b{_SHOW}\b\W+(?:\w+\W+){{0,3}}?(?:all\W+)?(?:your|ur)\W+(?:(?:exact|full|complete|original|initial|current|entire|whole|secret|hidden|internal|core|real|actual|first|underlying|own|specific)\W+){{0,2}}"
        r"(?:instructions|rules|guidelines|directives|programming|prompt|configuration|setup|constraints)\b"
        # "list your rules for returns", "your instructions for the cake": a topic, not the setup
        r"(?!\W+(?:for|on|about|regarding|of)\W+(?!(?:this|the|our)\W+(?:chat|conversation|session)\b)\w)",
        reach=(100, 60),
    ),
    rule(
        "repeat_above",
        _X,
        (0.85, 0.9),
        "above|before this|before my|before the first|preceding|prior to|at the beginning|at the start|at the top|so far|were given|been given|were told|been told|starting with|beginning with|starting from|beginning from|verbatim|word for word|word-for-word",
        r"\b(?:repeat|print|output|write|copy|echo|display|show|reproduce|recite|type|return|give\ me|tell\ me)\W+(?:\w+\W+){0,4}?"
        r"(?:text|words|content|everything|all|messages?|lines?|instructions|tokens|characters|prompt|conversation)\W+(?:\w+\W+){0,3}?"
        r"(?:above|before\ (?:this|my|the\ first)|preceding|prior\ to|at\ the\ (?:beginning|start|top)|so\ far|you\ (?:were|have\ been)\ (?:given|told))\b|"
        r"\b(?:starting|beginning)\ (?:with|from)\W+[\"'\u201c\u2018`]?you\ are\b|"
        r"\b(?:verbatim|word\ for\ word|word-for-word)\b[^\n]{0,60}\b(?:instructions|prompt|above|everything|system)|"
        r"\b(?:instructions|prompt|everything\ above|text\ above)\b[^\n]{0,40}\b(?:verbatim|word\ for\ word|word-for-word)\b",
        reach=(100, 80),
    ),
    rule(
        "what_were_you_told",
        _X,
        (0.7, 0.8),
        "were you|have you",
        r"\bwhat\W+(?:instructions|rules|guidelines|directives|orders)\W+(?:were|have|did)\W+you\W+(?:been\W+)?(?:given|told|receive|get|programmed)\b|"
        r"\bwhat\W+(?:exactly\W+)?(?:were|have)\W+you\W+(?:been\W+)?(?:told|instructed|programmed|given|configured|asked)\b"
        # "what were you told about my refund": a customer's question about their case
        r"(?!\W+(?:about|regarding|concerning)\W+(?:my|our|the|this|that|his|her|their)\W+(?!(?:rules|instructions|prompt|system|setup)\b))"
        r"(?=[^\n?]{0,60}(?:before|at\ the\ (?:start|beginning)|by\ (?:your|the)\ (?:developers?|creators?|operator|company|system)|to\ (?:do|say|not)|initially|originally|\?))",
    ),
    rule(
        "what_came_before",
        _X,
        (0.8, 0.85),
        "came before|comes before|come before|written before|said before|placed before|appears before|appeared before|above my|before my|above this|before this|prior to my|ahead of my",
        r"\b(?:what|everything|all|anything|the\ (?:text|words|content|message|lines?))\W+(?:\w+\W+){0,3}?(?:came|comes|come|was\ (?:written|said|placed|put|given|sent)|"
        r"is\ (?:written|placed)|appears?|appeared|sits?|exists?|stands?|was)\W+(?:\w+\W+){0,2}?(?:before|above|prior\ to|ahead\ of)\W+"
        r"(?:my|this|our|the\ (?:first|start|beginning))\W+(?:\w+\W+)?(?:message|question|prompt|conversation|chat|turn|input|request)",
        reach=(120, 60),
    ),
    rule(
        "start_of_context",
        _X,
        (0.75, 0.85),
        "conversation|context|chat|memory|session|transcript|thread",
        r"\b(?:text|words|content|lines?|message)\W+(?:at|on)\W+the\W+(?:very\W+)?(?:top|start|beginning)\W+of\W+(?:this|the|our|your)\W+"
        r"(?:conversation|chat|context(?:\ window)?|memory|session|input|transcript|thread|prompt)\b|"
        r"\b(?:first|opening|initial|very\ first|earliest|top)\W+(?:\w+\W+){0,2}?(?:lines?|words?|sentences?|paragraphs?|message|part|text|thing|tokens?|characters)\W+"
        r"(?:\w+\W+){0,2}?(?:of|in|at\ the\ top\ of)\W+(?:this|the|our|your)\W+(?:conversation|chat|context(?:\ window)?|memory|session|input|transcript|thread)\b"
        r"(?<=[a-z])(?![^\n]{0,3}\?\s*$)|"
        rf"\b{_SHOW}\b\W+(?:\w+\W+){{0,5}}?(?:your\W+)?(?:context\ window|your\ (?:context|memory|preamble|briefing|setup|configuration|"
        r"operating\ (?:instructions|notes|guidelines|rules|manual))|(?:pre-?conversation|behind-the-scenes|backstage|pre-?loaded|invisible|starting|opening|"
        r"setup|initiali[sz]ation)\ (?:text|notes|briefing|message|context|content|guidance|directives|instructions|prompt))\b",
        reach=(120, 80),
    ),
    rule(
        "initialized_with",
        _X,
        (0.75, 0.85),
        "initialized|initialised|set up|configured|primed|briefed|preloaded|pre-loaded|seeded",
        r"\b(?:what|which|tell|share|show|repeat|list|describe|quote|recite|print|output)\b[^.\n]{0,60}\b(?:you\ were|you've\ been|you\ have\ been|you\ got|you\ are|were\ you|have\ you\ been)\W+"
        r"(?:\w+\W+){0,2}?(?:initiali[sz]ed|set\ up|configured|primed|briefed|pre-?loaded|seeded|booted)\W+(?:with|using|by)\b",
        reach=(120, 60),
    ),
    rule(
        "rules_you_follow",
        _X,
        (0.7, 0.8),
        "you follow|you operate|you work under|you abide|you must follow|you are bound|you're bound|you are following|you have been given|you were given|you received|you obey",
        rf"\b(?:{_SHOW}|paraphrase|rewrite|rephrase|outline|enumerate|describe|quote)\b\W+(?:\w+\W+){{0,4}}?(?:rules|guidelines|instructions|directives|principles|policies|constraints|orders)\W+"
        r"(?:that\W+)?you\W+(?:follow|operate\ under|work\ under|abide\ by|were\ given|have\ been\ given|received|must\ follow|obey|"
        r"are\ (?:following|bound\ by|under))\b",
        reach=(120, 40),
    ),
    rule(
        "extraction_multilingual",
        _X,
        (0.85, 0.9),
        "muestra|revela|dime|repite|imprime|escribe|affiche|montre|révèle|répète|donne-moi|zeig|gib |verrate|wiederhole|nenne|mostra|rivela|ripeti|dimmi|mostre|revele|repita|diga|系统|系統|提示|システム|プロンプト|初期|元の指示|最初の指示|системн|промпт|инструкци",
        r"\b(?:muestra|muéstrame|revela|dime|repite|imprime|escribe|affiche|montre|montre-moi|révèle|répète|donne-moi|"
        r"zeige|zeig|gib|verrate|wiederhole|nenne|mostra|mostrami|rivela|ripeti|dimmi|mostre|revele|repita|diga)\b\W+(?:\w+\W+){0,3}?"
        r"(?:prompt|instrucciones|instructions|anweisungen|systemprompt|systemanweisungen|consignes|istruzioni|instruções|instrucoes)\b|"
        r"(?:显示|顯示|输出|輸出|告诉我|告訴我|打印|重复|重複|透露|展示|给我看|說出|说出)[^。\n]{0,8}?(?:系统提示|系統提示|提示词|提示詞|初始指令|系统指令|系統指令|原始指令)|"
        r"(?:系统提示|系統提示|提示词|提示詞|初始指令|系统指令|原始指令)[^。\n]{0,10}?(?:是什么|是什麼|告诉|告訴|输出|輸出|显示|顯示|打印)|"
        r"(?:システムプロンプト|初期プロンプト|元の指示|最初の指示)[^。\n]{0,12}?(?:教えて|表示|出力|見せ|書いて|繰り返)|"
        r"(?:покажи|выведи|повтори|раскрой|напиши|скажи)\W+(?:\w+\W+){0,2}?(?:системн\w+\ (?:промпт|инструкци\w+|сообщени\w+)|свои\ инструкции|исходн\w+\ инструкци\w+|промпт)",
    ),
]

# --- fake role and delimiter tokens ---------------------------------------------------------------

_DELIMITER_RULES = [
    rule(
        "chat_template_role",
        _D,
        (0.9, 0.95),
        ("<|",),
        r"<\|(?:im_start|start_header_id|start_of_turn|system|assistant|user)\|?>\s*(?:<\|end_header_id\|>)?\s*(?:system|assistant|developer|model)?"
        r"(?!\s*\{)(?!\s*<\|)",
        reach=(0, 60),
    ),
    rule(
        "chat_template_token",
        _D,
        (0.45, 0.7),
        ("<|",),
        r"<\|(?:im_end|endoftext|eot_id|end_header_id|end|endofprompt|fim_\w+)\|>",
        reach=(0, 30),
    ),
    rule(
        "markdown_role_header",
        _D,
        (0.8, 0.9),
        "#",
        r"(?m)^\s*\#{1,4}\s*(?:system|new\ system|admin|developer|assistant|instruction|instructions|new\ instructions?|system\ (?:prompt|message|override|update|note))\s*:?\s*\#*\s*$|"
        r"^\s*\#{1,4}\s*(?:system|instruction|instructions|admin|developer)(?:\ (?:prompt|message|override|update|note))?\s*:",
        reach=(12, 120),
    ),
    rule(
        "inst_tags",
        _D,
        (0.8, 0.9),
        "[inst]|[/inst]|<<sys>>",
        r"\[inst\][^\[\]`]{3,300}\[/inst\]|\[/inst\][^\[\]`]{0,200}\[inst\]|<</?sys>>",
        reach=(0, 320),
    ),
    rule("inst_tag_mention", _D, (0.4, 0.6), "[inst]|[/inst]", r"\[/?inst\]", reach=(0, 10)),
    rule(
        "end_of_sequence",
        _D,
        (0.75, 0.85),
        "</s>|<eos>|<bos>|<end_of_turn>|<start_of_turn>",
        r"</s>\s*(?:<s>|\[inst\]|(?:system|assistant|user|human|developer)\s*:)|<(?:eos|bos|end_of_turn|start_of_turn)>",
        reach=(0, 40),
    ),
    rule(
        "fake_role_line",
        _D,
        (0.7, 0.85),
        "system|admin|administrator|developer|operator|assistant",
        r"(?m)(?:^|\n|\\n|\")\s*[\[(<*]{0,2}\s*(?:system|admin|administrator|developer|operator|assistant)(?:\ (?:message|prompt|override|note|notice|update|instruction))?"
        r"\s*[\])>*]{0,2}\s*:\s*(?:you\ (?:are|must|will|should|now)|ignore|disregard|forget|from\ now\ on|new\ (?:rules|instructions)|the\ (?:assistant|ai|model)|"
        r"all\ (?:previous|prior)|override|sure[,!.]?\ (?:here|i\ will|i'll)|(?:ok|okay)[,!.]?\ i\ will|developer\ mode|the\ user\ (?:is|has)\ (?:an?\ )?(?:admin|verified|authori))",
        reach=(40, 120),
    ),
    rule(
        "bracket_role",
        _D,
        (0.7, 0.85),
        "system|admin|developer|operator|sys|override",
        r"[\[<{(]\s*/?\s*(?:system|admin|developer|operator|sys)[\s_\-]?(?:message|prompt|override|note|instruction|instructions|update|command|msg)s?\s*[\]>})]|"
        r"\[\s*(?:system|admin|override|developer)\s*\]|<\s*/?\s*(?:system|admin)\s*>",
        reach=(12, 60),
    ),
    rule(
        "boundary_marker",
        _D,
        (0.7, 0.85),
        "end of|begin|start of|new session|new system session|prompt begins|prompt starts|prompt ends",
        r"(?:[=\-#*]{3,}\s*)?\b(?:end\ of\ (?:system\ prompt|user\ input|user\ message|prompt|instructions|document|context|conversation)|"
        r"(?:begin|start)\ (?:of\ )?(?:new\ )?(?:system\ prompt|system\ message|admin\ (?:message|instructions)|new\ instructions|developer\ message)|"
        r"new\ (?:system\ )?session|system\ prompt\ (?:begins|starts|ends))\b\s*(?:[=\-#*]{3,})?(?=[^\n]{0,3}\n|\s*$|[^\n]{0,200}\b(?:you|ignore|new|now)\b)",
    ),
]

# --- indirect injection: text in data addressed to the assistant reading it -----------------------

_AI = r"(?:ai|a\.i\.|assistant|language\ model|llm|gpt|chatgpt|claude|gemini|copilot|agent|bot|chatbot|model|ai\ agent|ai\ assistant)s?"
_INDIRECT_RULES = [
    rule(
        "addressed_to_ai",
        _I,
        (0.45, 0.85),
        "note|message|instruction|attention|important|notice|reminder",
        rf"\b(?:note|message|instructions?|attention|important|notice|reminder)\W+(?:(?:to|for)\W+)?(?:all\W+)?(?:the\W+|any\W+)?(?:\w+\W+)?{_AI}\b"
        rf"(?=[^\n]{{0,200}}\b(?:must|should|need\ to|have\ to|please|do\ not|don'?t|ignore|instead|always|never|you|tell|say|recommend|include|respond|reply|output))",
        reach=(0, 320),
    ),
    rule(
        "if_you_are_ai",
        _I,
        (0.45, 0.85),
        "if you are|if you're",
        rf"\bif\W+you\W+are\W+(?:an?\W+)?(?:\w+\W+)?{_AI}\b|\bif\ you're\ (?:an?\ )?(?:\w+\ )?{_AI}\b",
        reach=(0, 80),
    ),
    rule(
        "ai_reading_this",
        _I,
        (0.45, 0.85),
        "reading this|processing this|summarizing this|summarising this|parsing this|analyzing this|analysing this|browsing this|viewing this|that reads|who reads|reading|processing",
        rf"\b{_AI}\W+(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing|browsing|viewing)\W+this\b|"
        rf"\bto\ (?:any|the|all)\ {_AI}\W+(?:\w+\W+)?(?:reading|processing|summari[sz]ing|that\ reads|who\ reads)",
        reach=(60, 60),
    ),
    rule(
        "when_summarizing",
        _I,
        (0.35, 0.8),
        "summar|when asked|if asked|when processing|when reading|when answering|when responding|when the user",
        r"\b(?:when|if|while|whenever)\W+(?:you\W+)?(?:are\W+)?(?:summari[sz]\w*|asked\ about|processing|reading|answering|responding|"
        r"the\ user\ asks|someone\ asks|a\ user\ asks)\b[^\n]{0,80}\b(?:this|these|the)\W+(?:\w+\W+)?(?:page|document|email|text|file|article|"
        r"review|website|site|content|message|pdf|data|result|product|listing|ticket|repo|repository|issue|candidate|resume|cv)\b"
        r"[^\n]{0,120}\b(?:you\ (?:must|should|will)|must|always|only|instead|do\ not|don'?t|never|say|state|tell|include|mention|recommend|rate|respond|reply)\b",
        reach=(40, 320),
    ),
    # Three rules, each keyed where its pattern starts: one keyed on "user" and "customer" with 120
    # characters before read a window around every mention of a customer (~120 us per 1k tokens).
    rule(
        "hide_from_user",
        _I,
        (0.6, 0.9),
        "do not|don't|dont|never|without",
        r"\b(?:do\ not|don'?t|never|without)\W+(?:\w+\W+){0,2}?(?:tell|telling|inform|informing|notify|notifying|alert|alerting|mention|mentioning|reveal|revealing|show|showing|"
        r"let|letting|disclose|disclosing|warn|warning|ask|asking)\W+(?:\w+\W+){0,3}?(?:the\W+)?(?:user|human|customer|person)\b",
        reach=(0, 160),
    ),
    rule(
        "hide_from_user_told",
        _I,
        (0.6, 0.9),
        "user|human",
        r"\b(?:user|human)\W+(?:must|should)\W+(?:not|never)\W+(?:know|see|find\ out|be\ told|learn)\b",
        reach=(0, 60),
    ),
    rule(
        "act_secretly",
        _I,
        (0.6, 0.9),
        "secretly|silently",
        r"\bsecretly\b|\bsilently\W+(?:send|forward|call|run|execute|add|include|email|post|upload)",
        reach=(0, 40),
    ),
    rule(
        "exfiltrate",
        _I,
        (0.55, 0.9),
        "conversation|chat history|chat log|previous messages|message history|user's|users'|user data|credentials|password|api key|access token|secrets|private key|session|personal data|personal information|inbox",
        r"\b(?:send|forward|email|e-mail|post|upload|exfiltrate|transmit|leak|copy|submit|share|append|include|encode)\W+(?:\w+\W+){0,3}?"
        r"(?:conversation|chat\ history|chat\ log|previous\ messages|message\ history|user'?s?\ (?:data|emails?|messages|files|password|credentials|tokens?|contacts|address|details|information|session|cookies|history)|"
        r"credentials|passwords?|api\ keys?|access\ tokens?|secrets|private\ keys?|session\ (?:tokens?|cookies?)|personal\ (?:data|information)|inbox)\b"
        r"[^\n]{0,120}\b(?:to|into|via|at|in)\W+(?:https?://|[\w.+\-]+@[\w\-]+\.\w|(?:this|the|our|my)\W+(?:url|endpoint|server|address|email|link|webhook))",
        reach=(80, 200),
        not_after=("never ", "not ", "n't "),
    ),
    rule(
        "exfiltrate_url",
        _I,
        (0.55, 0.9),
        "https|http",
        r"!\[[^\]\n]*\]\(\s*https?://[^)\s]*[?&][\w\-]+=(?:[^)\s]*(?:\{|\$|<|%7b|\[)|[^)\s&]*(?:data|conversation|history|secret|token|key|password|chat|q=))|"
        r"\b(?:visit|open|fetch|navigate\ to|load|call|go\ to|browse\ to|request)\W+https?://\S+[?&]\S*=(?:\{|\$|<|%7b|\[)",
        reach=(100, 250),
    ),
    rule(
        "tool_call_demand",
        _I,
        (0.3, 0.75),
        "call|invoke|execute|trigger|run the|use the",
        r"\b(?:you\ must|you\ should|please|immediately|now|also|first|then)\W+(?:\w+\W+)?(?:call|invoke|run|execute|use|trigger)\W+(?:the\W+)?[`'\"]?[\w.\-]+[`'\"]?\W+"
        r"(?:tool|function|command|plugin|action|api)\b",
        reach=(50, 60),
    ),
    rule(
        "instead_recommend",
        _I,
        (0.3, 0.75),
        "recommend|rate |rate this|say that|state that|tell the user|inform the user|respond with|reply with|answer with|claim that|describe this|describe it|mention that|conclude that|report that|classify|give this|give it|score this|score it",
        r"\b(?:you\ (?:must|should|will|need\ to)|always|instead|make\ sure\ to|be\ sure\ to|remember\ to|only)\W+(?:\w+\W+){0,2}?"
        r"(?:recommend|rate|say\ that|state\ that|tell\ the\ user|inform\ the\ user|respond\ with|reply\ with|answer\ with|claim\ that|describe\ (?:this|it)\ as|"
        r"mention\ that|conclude\ that|report\ that|classify\ (?:this|it)\ as|give\ (?:this|it)|score\ (?:this|it))\b",
        reach=(70, 80),
    ),
    rule(
        "you_the_reader",
        _I,
        (0.2, 0.65),
        "you are now|you must now|you will now|your new|your task is now|your instructions|your role is now",
        r"\byou\ (?:are|must|will|should)\ now\b|\byour\ (?:new|real|actual|updated)\ (?:task|role|job|goal|instructions?|objective)\b|"
        r"\byour\ (?:task|role|job)\ is\ now\b",
        reach=(0, 60),
    ),
    rule(
        "decode_and_follow",
        _I,
        (0.6, 0.8),
        "decode|decipher|decrypt|reverse|unscramble|translate",
        r"\b(?:decode|decipher|decrypt|translate|reverse|unscramble|read)\b[^\n]{0,80}\b(?:and|then)\W+(?:\w+\W+)?(?:follow|execute|obey|do|perform|act\ on|carry\ out|run|comply)\b",
    ),
]

RULES = _OVERRIDE_RULES + _ROLEPLAY_RULES + _EXTRACTION_RULES + _DELIMITER_RULES + _INDIRECT_RULES
