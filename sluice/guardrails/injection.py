"""Scoring a prompt, tool result or retrieved document for prompt injection and jailbreaks.

The text is normalised first (``normalize.py``: invisible characters, look-alikes, leetspeak,
spacing, base64), then weighted patterns per category run over it and over each other reading.
A pattern runs only when a key word of one of its stems is among the text's words, and then only
in windows around those stems, so benign prose pays for one split into words and a few searches.
Weights of distinct patterns in one category combine as independent
evidence (``1 - prod(1 - w)``); the verdict is the best category at or over its threshold.

Text from tools and documents is data: instructions addressed to the assistant inside it are the
indirect-injection signal, so it has patterns of its own, higher weights, and every finding in it
is reported as ``indirect_injection``. Data a user pasted into their message (``pasted.py``: an
email to summarise, a page to extract from) is weighed as data too. Found only in a decoded or de-obfuscated reading, or in
text that hid invisible characters or look-alike letters, a finding is reported as
``obfuscation``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sluice.guardrails import (
    injection_frames,
    injection_languages,
    injection_paraphrase,
    injection_structure,
    pasted,
)
from sluice.guardrails.injection_rules import KEY_LEN, RULES, Category, Rule
from sluice.guardrails.normalize import normalize

Source = Literal["user", "tool", "document"]


DEFAULT_THRESHOLD = 0.5
DEFAULT_THRESHOLDS: Mapping[Category, float] = dict.fromkeys(Category, DEFAULT_THRESHOLD)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The best finding: its ``score`` in [0, 1], ``category``, the ``rule`` that weighed most and
    the ``evidence`` it matched (in the normalised text, or the reading named by ``reading``)."""

    score: float
    category: Category
    rule: str
    evidence: str
    reading: str = "text"


_RULES = (
    RULES
    + injection_structure.RULES
    + injection_paraphrase.RULES
    + injection_frames.RULES
    + injection_languages.RULES
)
_KEYS = frozenset().union(*(r.keys for r in _RULES))
# The rules by each key and symbol stem they run on, as their places in _RULES: a text visits only
# the rules its keys name, however many languages the table has.
_BY_KEY: dict[bytes | str, list[int]] = {}
for _i, _rule in enumerate(_RULES):
    for _key in _rule.keys | set(_rule.symbols):
        _BY_KEY.setdefault(_key, []).append(_i)
# Symbol stems by their first character, which is searched for first.
_SYMBOLS: dict[str, list[str]] = {}
for _symbol in sorted({s for r in _RULES for s in r.symbols}):
    _SYMBOLS.setdefault(_symbol[0], []).append(_symbol)
_ASCII_SYMBOLS = {first: symbols for first, symbols in _SYMBOLS.items() if first.isascii()}
# ASCII punctuation to spaces, so that ``bytes.split`` yields the words of the UTF-8 text.
_SPACE_PUNCT = bytes(i if chr(i).isalnum() or chr(i) == "_" or i > 127 else 32 for i in range(256))


def _keys(text: str) -> set[bytes | str]:
    """The keys of the rules whose stems may occur in ``text``, and the symbol stems it holds."""
    words = set(text.encode().translate(_SPACE_PUNCT).split())
    keys: set[bytes | str] = {w[:KEY_LEN] for w in words}
    keys.intersection_update(_KEYS)
    for first, symbols in _SYMBOLS.items() if not text.isascii() else _ASCII_SYMBOLS.items():
        if first in text:
            keys.update(s for s in symbols if s in text)
    return keys


def _findings(
    text: str, keys: set[bytes | str], source: Source
) -> dict[Category, list[tuple[float, str, str]]]:
    """Per category, (weight, rule, evidence) for each rule that matches ``text``, whose keys are given."""
    found: dict[Category, list[tuple[float, str, str]]] = {}
    is_user = source == "user"
    data: list[pasted.Span] | None = None  # the user's pasted data, found at the first match
    places: set[int] = set()
    for key in keys:
        places.update(_BY_KEY.get(key, ()))
    for rule in [_RULES[i] for i in sorted(places)]:
        if (m := _search(rule, text, keys)) is None:
            continue
        weight = rule.user_weight if is_user else rule.data_weight
        if is_user:
            if _is_quoted(text, m):
                weight *= _QUOTED
            if rule.category is Category.FAKE_DELIMITER and _is_mentioned(text, m):
                weight *= _MENTIONED
            elif rule.category is Category.INSTRUCTION_OVERRIDE and _is_self_correction(text, m):
                weight *= _CORRECTED
            # Role tokens and role objects in pasted code are the code's; the rest weighs as data.
            if rule.data_weight > weight and rule.category is not Category.FAKE_DELIMITER:
                if data is None:
                    data = pasted.spans(text)
                if data and pasted.inside(data, m.start()):
                    weight = rule.data_weight
        found.setdefault(rule.category, []).append((weight, rule.name, m.group()))
    return found


def _search(rule: Rule, text: str, keys: set[bytes | str]) -> re.Match[str] | None:
    windows: list[list[int]] = []
    before, after = rule.reach
    for stem, key in rule.stems:
        if key not in keys:
            continue
        i = text.find(stem)
        while i != -1:
            if not before:  # the pattern starts with its stem: try it right there
                m = rule.pattern.match(text, i, i + len(stem) + after)
                if m is not None and _is_placed(rule, text, m):
                    return m
                i = text.find(stem, i + 1)
                continue
            windows.append([max(0, i - before), i + len(stem) + after])
            i = text.find(stem, i + len(stem) + after)
    if not windows:
        return None
    windows.sort()
    merged = [windows[0]]
    for start, end in windows[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        # Back to the line's start, or at least a word's, so that "^" and "\b" mean what they say.
        line = text.rfind("\n", max(0, start - 100), start)
        start = line + 1 if line != -1 else start
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        m = rule.pattern.search(text, start, end)
        while m is not None and not _is_placed(rule, text, m):
            m = rule.pattern.search(text, m.start() + 1, end)
        if m is not None:
            return m
    return None


def _is_placed(rule: Rule, text: str, m: re.Match[str]) -> bool:
    """Whether ``m`` starts a word (when the pattern's ``\\b`` was taken out) and is not narrative."""
    start = m.start()
    if rule.word_start and start and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return False
    if rule.line_start and text[text.rfind("\n", 0, start) + 1 : start].strip(_LINE_LEAD):
        return False
    return not (rule.not_after and text.endswith(rule.not_after, max(0, start - 12), start))


_LINE_LEAD = " \t>*#[(-"


# A phrase inside quotes is more often mentioned ("why do 'ignore previous instructions' attacks
# work?") than meant; in a user's prompt it weighs less.
_QUOTED = 0.4
_QUOTES = "'\"`\u201c\u201d\u2018\u2019«»"


_QUOTE_OPEN = 10
_QUOTE_REACH = 200


def _is_quoted(text: str, m: re.Match[str]) -> bool:
    """The match opens a quotation: a quote mark just before it (a word or two may come between:
    'Please ignore ...') and one after it, within a quoted sentence's reach."""
    start, end = m.span()
    before = text[max(0, start - _QUOTE_OPEN) : start]
    return any(q in before for q in _QUOTES) and any(q in text[end : end + _QUOTE_REACH] for q in _QUOTES)


# A developer asking about chat-template tokens or role formats names them without an instruction
# after them; a forged turn carries one. In a user's prompt, such a mention weighs less.
_MENTIONED = 0.35
_DEV_CONTEXT = re.compile(
    r"```|\b(?:token|tokens|template|templates|tokeni[sz]er|format|formats|formatting|fine-?tun\w*|dataset|chatml|llama|"
    r"mistral|gemma|qwen|vicuna|alpaca|hugging\ ?face|jinja|parse|parser|escape|strip|regex|markers?|tags?|headers?|"
    r"my\ (?:code|model|prompt|dataset|template|script|app|file|chatbot|bot)|messages\ ?=|openai|client|sdk|python|json)\b"
)
_DIRECTIVE_AFTER = re.compile(
    r"\b(?:you\ (?:are|must|will|should|shall|now|obey|only|have\ no)|ignore|disregard|forget|reveal|no\ (?:rules|restrictions|limits|filters)|"
    r"pretend|act\ as|unrestricted|uncensored|jailbr\w*|developer\ mode|do\ anything|from\ now\ on|new\ (?:rules|instructions|policy)|"
    r"override|bypass|without\ (?:restrictions|limits|filters|rules)|answer\ (?:freely|anything|everything)|secret|password|"
    r"system\ prompt|all\ (?:previous|prior)|policies\ are|is\ (?:void|lifted|disabled))"
)


def _is_mentioned(text: str, m: re.Match[str]) -> bool:
    """A role token or format named in a developer's question, with no instruction in or after it."""
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    asks = "?" in text[line_start : len(text) if line_end == -1 else line_end]
    return (asks or _DEV_CONTEXT.search(text) is not None) and _DIRECTIVE_AFTER.search(
        text, m.start(), min(len(text), m.end() + 240)
    ) is None


# "Ignore my last message, I meant Paris": the user setting aside their own words.
_CORRECTED = 0.3
_CORRECTION = re.compile(
    r"\b(?:i\ meant|i\ mean|meant\ to|sorry|typo|my\ (?:mistake|bad|error)|oops|wrong\ (?:one|file|link|text|message|version|question)|"
    r"correction|let\ me\ rephrase|scratch\ that|i\ made\ a\ mistake|i\ misspoke|what\ i\ (?:meant|wanted)|actually|instead|"
    r"quise\ decir|quería\ decir|perdón|perdon|me\ equivoqué|je\ voulais\ dire|pardon|désolé|ich\ meinte|entschuldigung|"
    r"intendevo|scusa|eu\ quis\ dizer|desculpa|я\ имел\ в\ виду|извини)\b|我的意思是|抱歉|すみません|つもり"
)
_OWN = re.compile(
    r"\b(?:my|mine|i|me|mis|mi|mes|ma|mon|meine?[nmrs]?|mie|miei|mio|minhas?|meus?|meu|мо[иейюё]\w*)\b|我的|私の|"
    r"\b(?:message|question|request|email|e-mail|text|sentence|reply|comment|answer|typo|post|note)s?\W*$"
)
_STEERING_YOURS_ONLY = re.compile(r"\b(?:your|system|developer)\b")
_STEERING_YOURS = re.compile(
    r"\b(?:your|system|developer)\b|\b(?:instructions|rules|guidelines|programming|prompt)\b"
)


# "the instructions I gave you about the essay", "previous instructions regarding my order": the
# user's own earlier instructions, named as theirs right where they are set aside.
_OWNED_AFTER = re.compile(
    r"\W{0,3}(?:that\ |which\ )?(?:i|we)\ (?:(?:just|already|originally)\ )?(?:gave|sent|wrote|typed|told|asked|mentioned|"
    r"provided|listed|put|said|shared|added|posted)\b|\W{0,3}(?:about|regarding|concerning|on|for|in)\ (?:my|our)\b"
)


def _is_self_correction(text: str, m: re.Match[str]) -> bool:
    """The evidence sets aside the user's own words (first person, or a message or question), and
    the text corrects itself ("I meant", "sorry", "typo"); or the instructions set aside are named
    as the user's own right after them ("the instructions I gave you about ...")."""
    evidence = m.group()
    if _OWNED_AFTER.match(text, m.end()) is not None and _STEERING_YOURS_ONLY.search(evidence) is None:
        return True
    if _OWN.search(evidence) is None or _CORRECTION.search(text) is None:
        return False
    first_person = re.search(
        r"\b(?:my|mis|mi|mes|ma|mon|meine?[nmrs]?|mie|miei|mio|minhas?|meus?|meu)\b|我的|私の", evidence
    )
    return first_person is not None or _STEERING_YOURS.search(evidence) is None


def _combine(hits: list[tuple[float, str, str]]) -> tuple[float, str, str]:
    """Distinct rules as independent evidence, unless they matched the same words (the French
    rule and the English one both read "ignore ... instructions"); the strongest names the finding."""
    by_evidence: dict[str, float] = {}
    for weight, _, evidence in hits:
        by_evidence[evidence] = max(weight, by_evidence.get(evidence, 0.0))
    miss = 1.0
    for weight in by_evidence.values():
        miss *= 1.0 - weight
    weight, name, evidence = max(hits)
    return 1.0 - miss, name, evidence


_PARTIAL_READINGS = frozenset({"leet", "spaced"})
# Each invisible character or look-alike word is a little evidence; enough of them is a disguise.
_DISGUISE_WEIGHT = 0.15


# A request written in an encoding (base64, hex, ROT13, ...) is smuggled past whoever reads the
# text, whatever it asks: people do not encode their own questions. Decoded data (a JWT header, a
# config file, a greeting) does not start a sentence with an order or "how do I".
_ENCODED_READINGS = frozenset(
    {"base64", "base32", "hex", "charcodes", "url", "rot13", "reversed", "pig_latin", "tags"}
)
_ENCODED_REQUEST = 0.6
_REQUEST = re.compile(
    r"(?:^|[.!?:\n]\s*)(?:please\s+)?(?:(?:write|tell|give|explain|describe|list|create|generate|make|provide|show|teach|"
    r"build|draft|compose|produce|find|outline|detail|help)\s+(?:me\s+|us\s+)?(?:a|an|the|how|what|where|which|some|step|"
    r"all|your|my|instructions|ways?|methods?)\b|how\s+(?:do|can|could|would|should|to)\s+(?:i|you|we|one|someone)?\s*\w+\s+\w+)",
)


def score(text: str, *, source: Source = "user") -> Verdict | None:
    """The highest-scoring finding in ``text``, whatever its score; ``None`` when nothing matched."""
    norm = normalize(text)
    best: Verdict | None = None
    disguised = norm.invisible > 0 or norm.lookalikes > 0
    base_keys = _keys(norm.text)
    for reading, body in [("text", norm.text), *norm.readings]:
        keys = base_keys if reading == "text" else _keys(body)
        # A leet or spaced reading that brings no new stem cannot match where the text did not.
        if reading in _PARTIAL_READINGS and keys <= base_keys:
            continue
        for category, hits in _findings(body, keys, source).items():
            value, rule, evidence = _combine(hits)
            if reading != "text" or disguised:
                value = 1.0 - (1.0 - value) * (1.0 - _DISGUISE_WEIGHT)
                if category is not Category.INDIRECT_INJECTION or source == "user":
                    category = Category.OBFUSCATION
            if source != "user":
                category = Category.INDIRECT_INJECTION
            if best is None or value > best.score:
                best = Verdict(round(value, 3), category, rule, evidence, reading)
    for reading, body in norm.readings:
        if reading in _ENCODED_READINGS and (best is None or best.score < _ENCODED_REQUEST):
            m = _REQUEST.search(body)
            # Some readings decode the whole text (URL escapes): the request must be what was hidden.
            while m is not None and body[m.start() : m.end() + 8].lstrip(".!?:\n ") in norm.text:
                m = _REQUEST.search(body, m.end())
            if m is not None:
                category = Category.OBFUSCATION if source == "user" else Category.INDIRECT_INJECTION
                best = Verdict(_ENCODED_REQUEST, category, "encoded_request", m.group(), reading)
    if best is None and norm.invisible >= 3:
        best = Verdict(
            min(0.45, norm.invisible * 0.05), Category.OBFUSCATION, "invisible_characters", "", "text"
        )
    return best


def scan(
    text: str, *, source: Source = "user", thresholds: Mapping[Category, float] = DEFAULT_THRESHOLDS
) -> Verdict | None:
    """The highest-scoring finding in ``text`` at or over its category's threshold, or ``None``.

    ``source`` says where the text came from: a user's prompt, or data (a tool result, a retrieved
    document) in which instructions to the assistant are themselves the finding.
    """
    verdict = score(text, source=source)
    if verdict is None or verdict.score < thresholds.get(verdict.category, DEFAULT_THRESHOLD):
        return None
    return verdict
