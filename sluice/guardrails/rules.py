"""Content rules for answers: deny-listed words and phrases, named regexes and built-in word
categories, compiled once; checked on a whole text, or on a stream through a hold-back window
(``RuleGate``), where a match is checked whole before any of it is released.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from sluice.errors import GuardrailError

# Deliberately short and illustrative: a deployment lists its own words in its deny list.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "profanity": ("damn", "shit", "bullshit", "fuck", "fucking", "asshole"),
    "violence": ("kill you", "shoot you", "stab you", "build a bomb", "make a bomb"),
    "self_harm": ("kill myself", "end my life", "suicide", "self-harm", "cut myself"),
}
DENY_LIST = "deny_list"
REGEX = "regex"


class Violation(NamedTuple):
    """``text[span[0]:span[1]]`` broke a rule: ``rule`` is the phrase as configured or the
    regex's name; ``category`` is ``deny_list``, ``regex`` or a built-in category."""

    rule: str
    category: str
    span: tuple[int, int]


def _key(phrase: str) -> str:
    return " ".join(phrase.casefold().split())


def _alternation(phrases: Iterable[str]) -> str:
    # Longest first, so that "kill myself" wins over a listed "kill"; any whitespace between words.
    ordered = sorted({_key(p) for p in phrases}, key=len, reverse=True)
    return "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered)


class Rules:
    """The content rules of one deployment, built once from its settings.

    Args:
        deny: words and phrases, matched case-insensitively as whole words.
        patterns: regexes by name (flags inline, such as ``(?i)``).
        categories: names from ``CATEGORIES``.

    Raises:
        ValueError: an unknown category, an empty phrase or a regex that does not compile.
    """

    def __init__(
        self,
        *,
        deny: Iterable[str] = (),
        patterns: Mapping[str, str] | None = None,
        categories: Iterable[str] = (),
    ) -> None:
        lists = {DENY_LIST: tuple(deny)}
        for name in categories:
            if name not in CATEGORIES:
                raise ValueError(f"unknown content category {name!r}; known: {', '.join(CATEGORIES)}")
            lists[name] = CATEGORIES[name]
        if any(not p.strip() for p in lists[DENY_LIST]):
            raise ValueError("the deny list has an empty phrase")
        self._phrases = {category: {_key(p): p for p in words} for category, words in lists.items() if words}
        groups = [f"(?P<{category}>{_alternation(words)})" for category, words in self._phrases.items()]
        self._words = re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)", re.IGNORECASE) if groups else None
        # A phrase of n words may still be completed by what follows the last n - 1 words.
        self.words_held = max((len(p.split()) for words in lists.values() for p in words), default=1) - 1
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, pattern in (patterns or {}).items():
            try:
                self._patterns.append((name, re.compile(pattern)))
            except re.error as e:
                raise ValueError(f"content rule {name!r} is not a valid regex: {e}") from None

    @property
    def has_patterns(self) -> bool:
        return bool(self._patterns)

    def check(self, text: str) -> list[Violation]:
        """Every rule ``text`` breaks, in order of position."""
        found: list[Violation] = []
        if self._words is not None:
            for m in self._words.finditer(text):
                category = m.lastgroup or DENY_LIST
                rule = self._phrases[category].get(_key(m.group()), m.group())
                found.append(Violation(rule, category, m.span()))
        for name, pattern in self._patterns:
            found += (Violation(name, REGEX, m.span()) for m in pattern.finditer(text) if m.end() > m.start())
        found.sort(key=lambda v: v.span)
        return found


class ContentStopped(GuardrailError):
    """A content rule stopped a streamed answer; ``released`` is the text before the violation
    that may still go out."""

    released: str = ""


class RuleGate:
    """``Rules`` as a hold-back gate for a streamed answer: a match is checked whole before any
    of it goes out. A violation stops the stream with ``GuardrailError`` before its text is
    released, or, given ``mask``, is replaced by it. A match longer than the hold-back window
    (only a regex can have one) may be missed or cut."""

    def __init__(self, rules: Rules, *, mask: str | None = None) -> None:
        self._rules = rules
        self._mask = mask
        self._released = 0  # characters released before the current ``start``
        self.violations: list[Violation] = []  # spans in the whole answer

    def unsettled(self, text: str, floor: int) -> int:
        if self._rules.has_patterns:  # a regex may match anything: the whole window stays held
            return floor
        i = len(text)
        for _ in range(self._rules.words_held):
            while i > floor and text[i - 1].isspace():
                i -= 1
            while i > floor and not text[i - 1].isspace():
                i -= 1
        return i

    def release(self, text: str, start: int, cut: int) -> tuple[int, str]:
        found = [v for v in self._rules.check(text) if v.span[0] >= start]
        # Overlapping matches: move the cut before every one that crosses it.
        while crossing := [v.span[0] for v in found if v.span[0] < cut < v.span[1]]:
            cut = min(crossing)
        due = [v for v in found if v.span[1] <= cut]
        shift = self._released - start
        self.violations += (v._replace(span=(v.span[0] + shift, v.span[1] + shift)) for v in due)
        self._released += cut - start
        if not due:
            return cut, text[start:cut]
        if self._mask is None:
            stop = ContentStopped(f"The answer broke the content rule {due[0].category!r} and was stopped.")
            stop.released = text[start : min(v.span[0] for v in due)]
            raise stop
        parts: list[str] = []
        pos = start
        for _, _, (s, e) in due:
            if s >= pos:
                parts += (text[pos:s], self._mask)
            pos = max(pos, e)
        parts.append(text[pos:cut])
        return cut, "".join(parts)
