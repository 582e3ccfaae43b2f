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

_BLOCK = re.compile(
    r"```[^\n]*\n(?P<fence>.*?)(?:```|\Z)"
    r"|\"\"\"(?P<triple>.*?)(?:\"\"\"|\Z)"
    r"|'''(?P<single>.*?)(?:'''|\Z)"
    r"|<(?P<tag>[a-zA-Z][\w-]{0,30})(?:\s[^<>\n]{0,200})?>(?P<tagged>.*?)</(?P=tag)\s*>",
    re.DOTALL,
)
_QUOTED_LINES = re.compile(r"(?:^>[^\n]*(?:\n|\Z)){2,}", re.MULTILINE)
_LABELLED = re.compile(
    r"^[ \t*#]*(?:text|document|email|e-mail|mail|article|review|input|context|passage|message|content|"
    r"resume|cv|transcript|comment|ticket|page|post|letter|notes?|source|excerpt|snippet|data)\s*:[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
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
    out: list[Span] = []
    if "\n" not in text and '"""' not in text and "'''" not in text and "<" not in text:
        return out
    for m in _BLOCK.finditer(text):
        group = next(g for g in ("fence", "triple", "single", "tagged") if m.group(g) is not None)
        if len(m.group(group)) >= _MIN_DATA:
            out.append(m.span(group))
    for m in _QUOTED_LINES.finditer(text):
        if m.end() - m.start() >= _MIN_DATA:
            out.append(m.span())
    for m in _LABELLED.finditer(text):
        if len(text) - m.end() >= _MIN_DATA:
            out.append((m.end(), len(text)))
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
_DATA_LABEL = re.compile(rf"^[ \t*#]*{_DATA_NOUN}\s*:[ \t]*\n?", re.IGNORECASE | re.MULTILINE)
_DATA_ANNOUNCED = re.compile(
    rf"^[^\n]{{0,{_FIRST_LINE_MAX}}}(?:\b(?:following|below|these|attached|provided|retrieved)\W+(?:\w+\W+)?{_DATA_NOUN}\b"
    rf"|\b{_DATA_NOUN}\W+(?:below|that\ follows?|as\ follows)\b)[^\n]*\n",
    re.IGNORECASE | re.MULTILINE,
)
_INSTRUCTION_LABEL = re.compile(
    r"^[ \t*#]*(?:question|questions|query|instructions?|rules|task|guidelines|answer|response|output\ format|format)\s*:",
    re.IGNORECASE | re.MULTILINE,
)


def documents(text: str) -> list[Span]:
    """The spans of an application's own (system or developer) message that hold data it pasted
    in: what the injection detector reads as documents there."""
    out: list[Span] = []
    for m in _BLOCK.finditer(text):
        group = (
            next(g for g in ("fence", "triple", "single") if m.group(g) is not None)
            if not m.group("tag")
            else None
        )
        if group is not None and len(m.group(group)) >= _MIN_DATA:
            out.append(m.span(group))
    for pattern in (_DATA_LABEL, _DATA_ANNOUNCED):
        for m in pattern.finditer(text):
            stop = _INSTRUCTION_LABEL.search(text, m.end())
            end = stop.start() if stop is not None else len(text)
            if end - m.end() >= _MIN_DATA:
                out.append((m.end(), end))
    return sorted(set(out))
