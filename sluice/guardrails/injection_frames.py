"""Prompt-injection rules for the frames attacks arrive in and for what they demand of the answer,
whatever the instruction itself says (it may be in a language no rule reads):

- a header that announces new instructions ("*** NEW IMPORTANT INSTRUCTIONS ***", "URGENT NEW
  TASK:") or a pretext of a malfunction, a debug or developer mode, or a test pipeline;
- a forged correction from whoever set the assistant up ("I forgot to ask you to ...");
- a demand on the answer's content: markup that runs script (``onerror=``, ``javascript:``), an
  image whose URL is to carry data (the common exfiltration of a chat through a rendered
  Markdown image), a phrase repeated a hundred times at the end of "your response".

In a tool result or a document every one of these is an instruction to the assistant; in a user's
own prompt some are ordinary requests (a developer asking for an ``<img onerror>`` example), so
they weigh less there.
"""

from __future__ import annotations

from sluice.guardrails.injection_rules import Category, Rule, rule

_O, _I = Category.INSTRUCTION_OVERRIDE, Category.INDIRECT_INJECTION

_ANSWER = r"(?:your|the)\ (?:response|answer|reply|output|summary|next\ message|final\ answer)"
_INCLUDE = r"(?:include|insert|add|append|prepend|output|print|render|display|embed|put|place|write|start|end|begin|finish|respond|reply)"

RULES: list[Rule] = [
    rule(
        "new_instructions_header",
        _O,
        (0.6, 0.8),
        "new|updated|urgent|priority|important",
        r"(?:^|[*#=\[\-]{2,}\ *)(?:(?:new|updated|urgent|priority|important|revised|critical)\W+){1,3}"
        r"(?:instructions?|task|directives?|orders|objective|mission|assignment)\b\W*(?:[*#=\]\-]{2,}|:)",
        reach=(12, 80),
    ),
    rule(
        "pretext_mode",
        _O,
        (0.5, 0.75),
        "mode|pipeline|malfunction|experiencing errors|troubleshoot|debugging",
        r"\b(?:you\ are|you're)\ (?:now\ )?(?:operating|running|working|acting)\ (?:in|under)\ (?:\w+\ )?"
        r"(?:developer|dev|debug|debugging|admin|maintenance|test|testing|diagnostic|god|sudo|root|unrestricted)\ mode\b|"
        r"(?:^|[*#\[]\ *)(?:developer|dev|debug|admin|maintenance|test|diagnostic|god|sudo|root)\ mode\ (?:enabled|activated|on|engaged)\b|"
        r"\byou\ are\ (?:now\ )?running\ as\ part\ of\ (?:a|an|the)\ (?:test|testing|evaluation|ci|automated)\ (?:pipeline|harness|suite|run)\b|"
        r"\b(?:system|critical)\ (?:malfunction|failure|error)\W+(?:\w+\W+){0,6}?(?:please\ )?(?:provide|execute|run|do|perform|follow)\b|"
        r"\b(?:is|are)\ experiencing\ errors\W+(?:\w+\W+){0,6}?(?:please\ )?(?:do|execute|run|perform|follow)\b|"
        r"\bto\ (?:enable|start|allow)\ (?:debugging|diagnostics|troubleshooting)\W+(?:please\ )?(?:execute|run|do|perform)\b",
        reach=(60, 120),
    ),
    rule(
        "forged_correction",
        _O,
        (0.6, 0.8),
        "forgot to|neglected to|made a mistake|mistake when",
        r"\b(?:i|we)\ (?:forgot|neglected|failed)\ to\ (?:ask|tell|instruct|remind|mention\ to)\ you\ to\b|"
        r"\b(?:i|we)\ made\ a\ mistake\ (?:when|while|in)\ (?:i|we)?\ ?(?:gave|giving|wrote|writing|set|setting)\ (?:you\ )?"
        r"(?:up\ )?(?:your|the)\ (?:instructions|prompt|rules|task|setup|system\ prompt)\b",
        reach=(20, 140),
    ),
    rule(
        "answer_runs_script",
        _I,
        (0.45, 0.85),
        "onerror|onload|javascript:|<script|<svg|<iframe",
        rf"\b{_INCLUDE}\b[^\n]{{0,120}}?(?:\bin\ |\bto\ |\bat\ the\ (?:start|end|beginning)\ of\ ){_ANSWER}[^\n]{{0,160}}?"
        r"(?:\bon(?:error|load|click|mouseover)\s*=|javascript:|<\s*(?:script|svg|iframe)\b)|"
        rf"(?:\bon(?:error|load|click|mouseover)\s*=|javascript:|<\s*(?:script|svg|iframe)\b)[^\n]{{0,200}}?\b(?:include|insert|add|output|render)\b[^\n]{{0,40}}?\b(?:in|to)\ {_ANSWER}",
        reach=(260, 260),
    ),
    rule(
        "answer_image_exfiltration",
        _I,
        (0.5, 0.9),
        "![",
        r"!\[[^\]\n]{0,80}\]\(\s*https?://[^\s)]{1,200}[?&][\w\-]{1,30}=[^\s)]{0,200}\)"
        rf"(?=[^\n]{{0,200}}?\b(?:where|replace|substitute|with|containing|encoded|base64|summary|conversation|chat|history|data|query)\b)|"
        rf"\b{_INCLUDE}\b[^\n]{{0,120}}?(?:\bin\ |\bto\ ){_ANSWER}[^\n]{{0,120}}?!\[[^\]\n]{{0,80}}\]\(\s*https?://",
        reach=(200, 420),
    ),
    rule(
        "answer_repeated",
        _I,
        (0.3, 0.75),
        (
            "0 times",
            "1 times",
            "2 times",
            "3 times",
            "4 times",
            "5 times",
            "6 times",
            "7 times",
            "8 times",
            "9 times",
        ),
        r"\b(?:repeat|write|print|output|say|append|add)\b[^\n]{0,80}?\b\d{2,}\ times\b[^\n]{0,80}?\b(?:at\ the\ (?:end|start|beginning)\ of|in)\ "
        rf"{_ANSWER}\b|\b(?:at\ the\ (?:end|start|beginning)\ of|in)\ {_ANSWER}\W+(?:\w+\W+){{0,6}}?(?:repeat|write|print|output|say)\b[^\n]{{0,80}}?\b\d{{2,}}\ times\b",
        reach=(140, 200),
    ),
]
