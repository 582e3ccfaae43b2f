"""Where a user's message carries data it pasted: an email to summarise, a review to translate, a
page to extract from. Instructions addressed to the assistant inside such data are an indirect
injection whoever typed the message, so the injection rules weigh a match there as they weigh it in
a tool result or a retrieved document.

The data is found by the shapes people paste in: a fenced or triple-quoted block, a tagged block
(``<email>...</email>``), quoted lines (``> ...``), a labelled block (``Email: ...`` at a line's
start), the rest of the message after a first line that announces it ("Summarize the following
email:", "Translate this review into German?"), or everything before a last line that points back
at it ("Summarize the above."). A message of one short paragraph has none.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

_MIN_DATA = 60
"""Characters of pasted data below which a block is more likely part of the request itself."""

# Each shape is searched for only when its opening marks are in the text (a regex scan of every
# position for four alternatives costs more than the rules it gates).
_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_TRIPLE = re.compile(r'"""(.*?)(?:"""|\Z)', re.DOTALL)
_SINGLE = re.compile(r"'''(.*?)(?:'''|\Z)", re.DOTALL)
_TAGGED = re.compile(r"<([a-zA-Z][\w-]{0,30})(?:\s[^<>\n]{0,200})?>(.*?)</\1\s*>", re.DOTALL)
_QUOTED_LINES = re.compile(r"(?:^>[^\n]*(?:\n|\Z)){2,}", re.MULTILINE)
_LABEL = re.compile(
    r"[ \t*#]*(?:text|document|email|e-mail|mail|article|review|input|context|passage|message|content|"
    r"resume|cv|transcript|comment|ticket|page|post|letter|notes?|source|excerpt|snippet|data)\s*",
    re.IGNORECASE,
)
_LABEL_MAX = 40
"""Characters between a line's start and a label's colon."""


def _blocks(text: str, *, tags: bool) -> list[Span]:
    """Fenced, triple-quoted and (with ``tags``) tagged blocks: their contents' spans."""
    out = []
    for opener, pattern, group in (("```", _FENCE, 1), ('"""', _TRIPLE, 1), ("'''", _SINGLE, 1)):
        if opener in text:
            out += [m.span(group) for m in pattern.finditer(text) if len(m.group(group)) >= _MIN_DATA]
    if tags and "</" in text:
        out += [m.span(2) for m in _TAGGED.finditer(text) if len(m.group(2)) >= _MIN_DATA]
    return out


def _labels(text: str, label: re.Pattern[str]) -> list[int]:
    """Where the text after a label ends, for each line that starts with ``label`` and a colon
    (found from the colons: most texts have few)."""
    out = []
    i = text.find(":")
    while i != -1:
        line = text.rfind("\n", 0, i) + 1
        if i - line <= _LABEL_MAX and label.fullmatch(text, line, i) is not None:
            end = i + 1
            while end < len(text) and text[end] in " \t":
                end += 1
            out.append(end)
        i = text.find(":", i + 1)
    return out


_ANNOUNCES = re.compile(
    r"(?::\s*$|\b(?:following|below|this|these|here\ is|here's|attached|pasted|enclosed|"
    r"siguiente|suivant|folgende|seguente|seguinte)\b)",
    re.IGNORECASE,
)
_POINTS_BACK = re.compile(
    r"\b(?:above|previous\ (?:text|email|message|document|article|paragraph)s?|this\ (?:text|email|message|"
    r"document|article|review|page|resume|passage|paragraph|transcript|letter))\b",
    re.IGNORECASE,
)
_FIRST_LINE_MAX = 300


def spans(text: str) -> list[Span]:
    """The (start, end) character spans of ``text`` that are pasted data; empty when none is."""
    if "\n" not in text and '"""' not in text and "'''" not in text and "<" not in text:
        return []
    out = _blocks(text, tags=True)
    if text.startswith(">") or "\n>" in text:
        out += [m.span() for m in _QUOTED_LINES.finditer(text) if m.end() - m.start() >= _MIN_DATA]
    for end in _labels(text, _LABEL):
        if len(text) - end >= _MIN_DATA:
            out.append((end, len(text)))
            break
    first_end = text.find("\n")
    if 0 < first_end <= _FIRST_LINE_MAX and len(text) - first_end > _MIN_DATA:
        if _ANNOUNCES.search(text, 0, first_end) is not None:
            out.append((first_end + 1, len(text)))
    last_start = text.rstrip().rfind("\n") + 1
    if last_start > _MIN_DATA and len(text) - last_start <= _FIRST_LINE_MAX:
        if _POINTS_BACK.search(text, last_start) is not None:
            out.append((0, last_start))
    return out


def inside(found: list[Span], position: int) -> bool:
    return any(start <= position < end for start, end in found)


# In a system or developer message the application's own instructions surround the data, so only
# blocks that name themselves data count: a fenced or quoted block, a block labelled as context or
# a document ("Context:", "Sources:"), or one a line announces ("Use the following documents to
# answer:"). "Follow these rules:" announces instructions, and the labels stop at the next
# instruction label ("Question:", "Rules:").
_DATA_NOUN = (
    r"(?:context|documents?|sources?|passages?|excerpts?|search\ results?|retrieved\ (?:content|documents?|passages?)|"
    r"knowledge(?:\ base)?|reference\ (?:material|documents?|text)|articles?|emails?|transcripts?|web\ ?pages?|"
    r"page\ content|results|snippets?|information|data|text|notes|records|reviews?|messages?|files?)"
)
_DATA_LABEL = re.compile(rf"[ \t*#]*{_DATA_NOUN}\s*", re.IGNORECASE)
_DATA_ANNOUNCED = re.compile(
    rf"^[^\n]{{0,{_FIRST_LINE_MAX}}}(?:\b(?:following|below|these|attached|provided|retrieved)\W+(?:\w+\W+)?{_DATA_NOUN}\b"
    rf"|\b{_DATA_NOUN}\W+(?:below|that\ follows?|as\ follows)\b)[^\n]*\n",
    re.IGNORECASE | re.MULTILINE,
)
_ANNOUNCING_WORDS = ("following", "below", "these", "attached", "provided", "retrieved", "follow")
_INSTRUCTION_LABEL = re.compile(
    r"^[ \t*#]*(?:question|questions|query|instructions?|rules|task|guidelines|answer|response|output\ format|format)\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def documents(text: str) -> list[Span]:
    """The spans of an application's own (system or developer) message that hold data it pasted
    in: what the injection detector reads as documents there."""
    out = _blocks(text, tags=False)
    starts = _labels(text, _DATA_LABEL)
    lowered = text.lower()
    if any(word in lowered for word in _ANNOUNCING_WORDS):
        starts += [m.end() for m in _DATA_ANNOUNCED.finditer(text)]
    for start in starts:
        if start < len(text) and text[start] == "\n":
            start += 1
        stop = _INSTRUCTION_LABEL.search(text, start)
        end = stop.start() if stop is not None else len(text)
        if end - start >= _MIN_DATA:
            out.append((start, end))
    return sorted(set(out))
