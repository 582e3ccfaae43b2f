"""Undoing the disguises prompt injections wear, so that one set of patterns sees through them:
NFKC, invisible characters stripped (and counted), Cyrillic and Greek look-alikes folded inside
Latin words, Unicode tag characters decoded, and, as extra readings of the text, leetspeak folded,
s p a c e d letters joined, and the encodings and fragments ``decode.py`` reads.

Plain ASCII text, the common case, skips the Unicode steps; every extra reading is gated by a
literal search on a one-byte-per-character shape of the text, so prose without disguises costs
a few translate and find calls.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass, field

from sluice.guardrails import decode

# Zero-width and other invisible format characters. U+200D (the zero-width joiner) is left out:
# emoji sequences need it, so it is only stripped, never counted.
_INVISIBLE = "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u3164\ufeff\uffa0"
_STRIP = dict.fromkeys(map(ord, _INVISIBLE + "\u200d"))
_INVISIBLE_SEARCH = re.compile(f"[{_INVISIBLE}]").search
# Tag characters (U+E0020-E007E) mirror ASCII invisibly: text hidden in them is "ASCII smuggling".
# Persian, Arabic, Hebrew and the Indic scripts write with the zero-width non-joiner and the
# direction marks: in their text these are spelling, not a disguise (stripped, never counted).
_SCRIPT_MARKS = "\u200c\u200e\u200f\u061c"
_JOINER_SCRIPT = re.compile("[\u0590-\u06ff\u0750-\u077f\u0900-\u0dff\ufb1d-\ufdff\ufe70-\ufeff]")
_TAGS = re.compile("[\U000e0020-\U000e007e]+")
_TAG_TO_ASCII = {c: c - 0xE0000 for c in range(0xE0020, 0xE007F)}

# Cyrillic and Greek letters drawn like Latin ones; folded only inside words that also hold Latin
# letters, so that Russian and Greek text stays itself.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁɡһӏԛԝвкмнтАВЕКМНОРСТХУІЈЅαβεικνοραυχτΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdghlqwbkmhtABEKMHOPCTXYIJSabeiknopauxtABEZHIKMNOPTYX",
)
_LOOKALIKE_CHARS = "".join(chr(c) for c in _LOOKALIKES)
_HAS_LOOKALIKE = re.compile(f"[{_LOOKALIKE_CHARS}]")
_MIXED_SEED = re.compile(f"[a-zA-Z][{_LOOKALIKE_CHARS}]|[{_LOOKALIKE_CHARS}][a-zA-Z]")
_NOT_WORD = re.compile(r"\W")
_NOT_LETTERS = bytes(i for i in range(128) if chr(i) not in string.ascii_letters)

# Leetspeak digits and symbols, read as the letters they stand for.
_LEET = str.maketrans("0134578@$!|+", "oieastbasiit")
_LEET_L = str.maketrans("1|", "ll")  # "1" is "l" as often as "i" (ru135, 4ll)
# Shape: letters past "f" become "a", leet digits and symbols "0", everything else " " (hex digits
# too, so that hashes and UUIDs do not look like leetspeak). A letter between two leet characters
# or the reverse, twice over, is leetspeak.
_LEET_SHAPE = bytes(
    ord("a") if chr(i) in string.ascii_lowercase[6:] else ord("0") if chr(i) in "0134578@$!|+" else ord(" ")
    for i in range(256)
)
_LEET_SEEDS = 2

# Letters spaced out by one separator ("i g n o r e", "i-g-n-o-r-e"); wider gaps separate words.
# Between words, a wider gap or another separator ("i.g.n.o.r.e a.l.l").
_SPACED = re.compile(
    r"(?<![^\W\d_])[^\W\d_](?:([ .\-_*|+/])[^\W\d_](?![^\W\d_])){3,}"
    r"(?:(?:[ .\-_*|+/]{2,5}|(?!\1)[ .\-_*|+/])[^\W\d_](?:\1[^\W\d_](?![^\W\d_]))*)*"
)
# Shape: letters "a", separators "s", everything else "x"; three single letters in a row seed it.
_SPACED_SHAPE = bytes(
    ord("a") if chr(i) in string.ascii_letters else ord("s") if chr(i) in " .-_*|+/" else ord("x")
    for i in range(256)
)
_SPACED_SEED = b"sasasas"
_SEPARATORS = re.compile(r"[ .\-_*|+/]+")


@dataclass(slots=True)
class Normalized:
    """``text`` lower-cased, NFKC, without invisible characters and with look-alikes folded;
    ``readings`` holds the other ways to read it (``("leet", ...)``, ``("spaced", ...)``,
    ``("tags", ...)`` and ``decode.py``'s: ``("base64", ...)``, ``("hex", ...)``, ...), each already
    lower-cased."""

    text: str
    invisible: int = 0
    lookalikes: int = 0
    readings: list[tuple[str, str]] = field(default_factory=list)


def normalize(raw: str) -> Normalized:
    """The text as the patterns should see it, with what it took to get there."""
    invisible = lookalikes = 0
    readings: list[tuple[str, str]] = []
    text = raw
    if not raw.isascii():
        # Tag and invisible characters are not printable: most text is, which one C call tells.
        hides = not raw.replace("\n", "").replace("\t", "").replace("\r", "").isprintable()
        if (
            hides
            and (tags := _TAGS.findall(raw))
            and (hidden := "".join(tags).translate(_TAG_TO_ASCII)).strip()
        ):
            readings.append(("tags", hidden.lower()))
            text = _TAGS.sub("", text)
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        if hides and (_INVISIBLE_SEARCH(text) or "\u200d" in text):
            invisible = sum(text.count(c) for c in _INVISIBLE)
            if _JOINER_SCRIPT.search(text):
                invisible -= sum(text.count(c) for c in _SCRIPT_MARKS)
            text = text.translate(_STRIP)
        has_latin = bool(text.encode("ascii", "ignore").translate(None, _NOT_LETTERS))
        if has_latin and _HAS_LOOKALIKE.search(text) and _MIXED_SEED.search(text):
            text, lookalikes = _fold_lookalikes(text)
    lowered = text.lower()
    readings.extend(decode.readings(text, lowered))
    ascii_text = lowered.encode("ascii", "replace")
    leet = ascii_text.translate(_LEET_SHAPE)
    if leet.count(b"a0a") + leet.count(b"0a0") >= _LEET_SEEDS:
        readings.append(("leet", lowered.translate(_LEET)))
        if "1" in lowered or "|" in lowered:
            readings.append(("leet", lowered.translate(_LEET_L).translate(_LEET)))
    if _SPACED_SEED in ascii_text.translate(_SPACED_SHAPE) and (joined := _join_spaced(lowered)) != lowered:
        readings.append(("spaced", joined))
    return Normalized(lowered, invisible, lookalikes, readings)


def _fold_lookalikes(text: str) -> tuple[str, int]:
    """``text`` with the look-alikes in words that mix them with Latin letters folded, and how many
    such words there were."""
    parts: list[str] = []
    pos = count = 0
    while (m := _MIXED_SEED.search(text, pos)) is not None:
        start = m.start()
        while start > pos and not _NOT_WORD.match(text, start - 1):
            start -= 1
        end_m = _NOT_WORD.search(text, m.end())
        end = len(text) if end_m is None else end_m.start()
        parts += (text[pos:start], text[start:end].translate(_LOOKALIKES))
        count += 1
        pos = end
    parts.append(text[pos:])
    return "".join(parts), count


def _join_spaced(text: str) -> str:
    def join(m: re.Match[str]) -> str:
        sep = m.group(1)
        return _SEPARATORS.sub(lambda gap: "" if gap.group() == sep else " ", m.group())

    return _SPACED.sub(join, text)
