"""Prompt-injection rules for attacks by structure rather than by wording: a conversation forged
inside one message (a plain ``system:``/``user:`` transcript, JSON role objects) and a payload in
fragments the model is asked to assemble (the fragments themselves are joined by ``decode.py``)."""

from __future__ import annotations

from sluice.guardrails.injection_rules import Category, Rule, rule

_D, _O = Category.FAKE_DELIMITER, Category.INSTRUCTION_OVERRIDE

_PRIVILEGED = (
    r"(?:system|developer|admin|administrator|operator|root)(?:\ (?:message|prompt|note|instructions?))?"
)
_ROLE = r"(?:user|human|assistant|ai|model|bot|chatbot|gpt|system|developer|admin)"
_DIRECTIVE = (
    r"(?:you\ (?:are|must|will|should|shall|may|can|now)|ignore|disregard|forget|reveal|print|output|answer|respond|reply|"
    r"comply|new\ (?:rules|instructions|policy)|from\ now\ on|no\ (?:rules|restrictions|limits|filters)|pretend|act\ as|"
    r"unrestricted|the\ (?:assistant|ai|model)\ (?:must|will|should|may|can)|always|never|do\ not|don'?t|override|"
    r"(?:safety|content)\ (?:filters?|polic)|authori[sz]ed|grant|admin|developer\ mode|sure|certainly|of\ course|okay|ok)"
)

RULES: list[Rule] = [
    rule(
        "forged_transcript",
        _D,
        (0.75, 0.9),
        "system|developer|admin|administrator|operator|root",
        rf"{_PRIVILEGED}[\])*]*[ \t]*:[ \t]*(?=[^\n]{{0,200}}?\b{_DIRECTIVE}\b)[^\s][^\n]{{0,300}}\n(?:[^\n]*\n){{0,12}}?"
        rf"[ \t>*#\[(]*{_ROLE}[\])*]*[ \t]*:[ \t]*\S",
        reach=(0, 1200),
        line_start=True,
    ),
    rule(
        "forged_system_turn",
        _D,
        (0.75, 0.9),
        "user|human|assistant|ai|model|bot|chatbot|gpt",
        rf"(?:user|human|assistant|ai|model|bot|chatbot|gpt)[\])*]*[ \t]*:[ \t]*[^\s][^\n]{{0,600}}\n(?:[^\n]*\n){{0,12}}?"
        rf"[ \t>*#\[(]*{_PRIVILEGED}[\])*]*[ \t]*:\s*(?:\S[^\n]{{0,200}})?{_DIRECTIVE}",
        reach=(0, 1600),
        line_start=True,
    ),
    rule(
        "forged_assistant_turn",
        _D,
        (0.6, 0.85),
        "user|human",
        r"(?:user|human)[\])*]*[ \t]*:[^\n]{0,600}\n(?:[^\n]*\n){0,6}?[ \t>*#\[(]*(?:assistant|ai|model|bot|chatbot|gpt)[\])*]*[ \t]*:\s*"
        r"(?:sure|certainly|of\ course|absolutely|okay|ok|understood|yes)\b[^\n]{0,80}\b(?:i\ will|i'll|i\ am|i'm|here\ (?:is|are)|no\ (?:rules|restrictions|limits)|"
        r"unrestricted|without\ (?:rules|restrictions|limits|filters)|developer\ mode|system\ prompt|my\ instructions)",
        reach=(0, 1200),
        line_start=True,
    ),
    rule(
        "json_role_object",
        _D,
        (0.4, 0.9),
        "role",
        r"""\\?["']role\\?["']\s*:\s*\\?["'](?:system|developer)\\?["']\s*,\s*\\?["'](?:content|text)\\?["']\s*:\s*\\?["']""",
        reach=(3, 80),
    ),
    rule(
        "json_role_directive",
        _D,
        (0.8, 0.9),
        "role",
        r"""\\?["']role\\?["']\s*:\s*\\?["'](?:system|developer|assistant)\\?["']\s*,\s*\\?["'](?:content|text)\\?["']\s*:\s*\\?["'][^"'\n]{0,80}?"""
        + _DIRECTIVE
        + r"""[^"'\n]{0,160}?(?:ignore|disregard|no\ (?:rules|restrictions|limits|filters)|unrestricted|reveal|system\ prompt|"""
        + r"""secret|password|previous\ instructions|without\ (?:restrictions|limits|filters|rules)|developer\ mode|anything|override|"""
        + r"""the\ user\ is\ (?:an?\ )?(?:admin|developer|authori[sz]ed)|sure|here\ is|forward|send|email|delete)""",
        reach=(3, 320),
    ),
    # Three rules, each keyed near where its pattern starts (a stem at the match's start is tried
    # right there; one pattern keyed on "+" read every "+1 (415)" of a prompt: ~0.7 ms per 1k tokens).
    rule(
        "assemble_and_follow",
        _O,
        (0.75, 0.85),
        "combine|concatenate|join|merge|put together|assemble|append|add up|glue|stitch",
        r"\b(?:combine|concatenate|join|merge|put\ together|assemble|append|add\ up|glue|stitch)\w*\W+(?:\w+\W+){0,8}?"
        r"(?:strings?|variables?|parts?|pieces?|fragments?|segments?|halves|words|letters|tokens|chunks|[a-z]\d?\s*(?:and|\+|,|&)\s*[a-z]\d?)\b"
        r"[^\n]{0,160}?\b(?:and|then|,)\W+(?:\w+\W+){0,3}?(?:follow|execute|do|obey|perform|answer|respond\ to|act\ on|carry\ out|complete|"
        r"comply\ with|treat\ (?:it|the\ result)\ as|run|fulfil+|reply\ to)\b",
        reach=(0, 400),
    ),
    rule(
        "assemble_variables_and_follow",
        _O,
        (0.75, 0.85),
        "=",
        r"\b[a-z]\w{0,8}\s*=\s*[a-z]\w{0,8}(?:\s*\+\s*[a-z]\w{0,8})+\b[\s\S]{0,200}?\b(?:follow|execute|answer|respond\ to|do\ what|perform|obey|"
        r"carry\ out|complete|act\ on|output\ of|result\ of|returns?|returned|would\ (?:say|output|reply|respond|write)|response\ (?:to|of))\b",
        reach=(12, 300),
    ),
    rule(
        "answer_assembled_call",
        _O,
        (0.75, 0.85),
        "return|output|answer|response|respond|example",
        r"\b(?:return|output|answer|response|respond|example)\w*\W+(?:\w+\W+){0,6}?\w+\(\s*[a-z]\w{0,8}\s*(?:\+\s*[a-z]\w{0,8}\s*)+\)",
        reach=(0, 200),
    ),
]
