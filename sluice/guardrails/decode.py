"""Extra readings of a text for the injection rules: payloads in an encoding the model can read
but a pattern cannot (base64, base32, hex, ROT13, URL encoding, character codes, reversed text,
pig latin) decoded, and string fragments the model is asked to assemble joined.

Each decoder is gated by a few ``find``/``count`` calls or one ``translate`` (a shape of the
text) so that prose without such a run costs next to nothing, reads only the plausible runs, and
stops at ``MAX_RUN`` characters per run; a reading counts only when it decodes to mostly
printable text with spaces (words), so hashes, ids and numbers read as nothing.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import string
from urllib.parse import unquote

MAX_RUN = 65536
_PRINTABLE = frozenset(string.printable)

# --- base64, base32 and bare hex: runs of 20+ characters of the base64 alphabet ---------------------

_B64_SHAPE = bytes(
    ord("a") if chr(i) in string.ascii_letters + string.digits + "+/=-_" else ord(" ") for i in range(256)
)
_B64_RUN = b"a" * 20
_B64 = re.compile(r"[A-Za-z0-9+/\-_]{20,}={0,6}")
_B32 = re.compile(r"[A-Z2-7]+=*")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _is_text(decoded: str, min_len: int = 8) -> bool:
    """Mostly printable, with a space: words, not bytes."""
    if len(decoded) < min_len or " " not in decoded:
        return False
    printable = sum(c in _PRINTABLE or c.isalpha() for c in decoded)
    return printable >= 0.9 * len(decoded)


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _run(run: str) -> tuple[str, str] | None:
    """A run of the base64 alphabet read as base64, base32 or hex, whichever gives text."""
    if len(run) > MAX_RUN:
        return None
    bare = run.rstrip("=")
    if len(bare) % 2 == 0 and _HEX.fullmatch(bare):
        decoded = _utf8(bytes.fromhex(bare))
        if decoded is not None and _is_text(decoded):
            return "hex", decoded
    if _B32.fullmatch(run) and len(bare) >= 16:
        try:
            decoded = _utf8(base64.b32decode(bare + "=" * (-len(bare) % 8)))
        except (binascii.Error, ValueError):
            decoded = None
        if decoded is not None and _is_text(decoded):
            return "base32", decoded
    try:
        data = base64.b64decode(
            bare + "=" * (-len(bare) % 4), altchars=b"-_" if "-" in bare or "_" in bare else None
        )
    except (binascii.Error, ValueError):
        return None
    decoded = _utf8(data)
    return ("base64", decoded) if decoded is not None and _is_text(decoded) else None


def _alphabet_runs(text: str, raw: bytes) -> list[tuple[str, str]]:
    shape = raw.translate(_B64_SHAPE)
    out: list[tuple[str, str]] = []
    pos = shape.find(_B64_RUN)
    while pos != -1:
        m = _B64.match(text, pos)
        end = shape.find(b" ", pos)
        end = len(shape) if end == -1 else end
        if m is not None and (found := _run(m.group())) is not None:
            out.append(found)
        pos = shape.find(_B64_RUN, end)
    return out


# --- separated hex bytes and character codes -----------------------------------------------------

# Digits "d", hex letters "h", separators "s", everything else "x". A byte of printable ASCII in
# hex starts with a digit (0x20-0x7e), a character code is two or three digits: four in a row
# (" 69 67 6e 6f ", " 105, 103, 110, 111 ") let the patterns run; prose, tables and JSON with
# numbers here and there rarely have them. One bytes pattern searches the shape (it skips to "d"s).
_CODE_SHAPE = bytes(
    ord("d")
    if chr(i) in string.digits
    else ord("h")
    if chr(i) in "abcdefABCDEF"
    else ord("s")
    if chr(i) in " ,;:\t\n-"
    else ord("x")
    for i in range(256)
)
# Eight in a row, as the patterns below need: a date and a time with a phone number ("2026-05-01
# 12:30:45") is six, and a prompt of them no longer runs the patterns over the whole text.
_CODE_RUN = re.compile(rb"d[dh]d?s{1,2}" * 7 + rb"d[dh]d?")  # unrolled: 6x faster than {7}
_HEX_PAIRS = re.compile(
    r"(?<![0-9a-zA-Z])(?:(?:0x)?[0-9a-fA-F]{2}[\s,;:\-]+){7,}(?:0x)?[0-9a-fA-F]{2}(?![0-9a-zA-Z])"
)
_DEC_CODES = re.compile(r"(?<![\d.])(?:\d{2,3}[\s,;]+){7,}\d{2,3}(?![\d.])")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")


def _codes(text: str, raw: bytes) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if raw.count(b"0x") + raw.count(b"0X") >= 6:
        regions = [(0, len(text))]
    else:  # only where the shape has a run, each region from its start to the run's end or further
        regions = [
            (max(0, m.start() - 8), m.start() + MAX_RUN)
            for m in _CODE_RUN.finditer(raw.translate(_CODE_SHAPE))
        ]
    seen = -1
    for start, end in regions:
        if end <= seen:
            continue
        m_hex = _HEX_PAIRS.search(text, max(start, seen), end)
        if m_hex is not None:
            digits = re.sub(r"\\x|0x|%|[\s,;:\-]", "", m_hex.group()[:MAX_RUN])
            if len(digits) % 2 == 0 and _HEX.fullmatch(digits):
                decoded = _utf8(bytes.fromhex(digits))
                if decoded is not None and _is_text(decoded):
                    out.append(("hex", decoded))
        m_dec = _DEC_CODES.search(text, max(start, seen), end)
        if m_dec is not None:
            codes = [int(c) for c in re.findall(r"\d+", m_dec.group()[:MAX_RUN])]
            if all(c in (9, 10, 13) or 32 <= c < 127 for c in codes):
                decoded = "".join(map(chr, codes))
                if _is_text(decoded):
                    out.append(("charcodes", decoded))
        seen = max(end, *(m.end() for m in (m_hex, m_dec) if m is not None)) if (m_hex or m_dec) else end
    if text.count("&#") >= 4:
        decoded = html.unescape(text[:MAX_RUN])
        if decoded != text:
            out.append(("charcodes", decoded))
    if text.count("\\u") + text.count("\\x") >= 4:
        decoded = _ESCAPED.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text[:MAX_RUN])
        if decoded != text:
            out.append(("charcodes", decoded))
    return out


# --- URL (percent) encoding ----------------------------------------------------------------------

_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def _url(text: str) -> list[tuple[str, str]]:
    if text.count("%") < 4 or len(_PERCENT.findall(text[:MAX_RUN])) < 4:
        return []
    decoded = unquote(text[:MAX_RUN])
    if "%20" not in text and "+" in decoded:
        decoded = decoded.replace("+", " ")
    return [("url", decoded)]


# --- ROT13 and reversed text: gated by common words written that way -----------------------------

_ROT13 = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase,
    string.ascii_lowercase[13:]
    + string.ascii_lowercase[:13]
    + string.ascii_uppercase[13:]
    + string.ascii_uppercase[:13],
)
# "the", "you", "and", "is", "are", "now", "your", "all", "ignore", "prompt", "instruct", "system"
# in ROT13, and the same reversed: two of them make a plausible run.
_ROT13_WORDS = (
    b" gur ",
    b" lbh ",
    b" naq ",
    b" vf ",
    b" ner ",
    b" abj ",
    b" lbhe ",
    b" nyy ",
    b"vtaber",
    b"cebzcg",
    b"vafgehpg",
    b"flfgrz",
)
_REVERSED_WORDS = (
    b" eht ",
    b" uoy ",
    b" dna ",
    b" si ",
    b" era ",
    b" won ",
    b" ruoy ",
    b" lla ",
    b"erongi",
    b"tpmorp",
    b"tcurtsni",
    b"metsys",
)
# Line breaks and ASCII punctuation read as spaces (on the bytes: one C call), so that the words
# above are found anywhere.
_WORD_GAPS = bytes(32 if chr(i) in string.whitespace + string.punctuation else i for i in range(256))
_ROT13_NAMES = (b"rot13", b"rot 13", b"caesar")


def _hits(padded: bytes, words: tuple[bytes, ...]) -> int:
    n = 0
    for w in words:
        if w in padded:
            n += 1
            if n == 2:
                break
    return n


def _skewed(data: bytes, common: bytes, rare: bytes, factor: float) -> bool:
    """Whether ``rare`` outnumbers ``common`` by ``factor`` in the text."""
    return data.count(rare) > factor * data.count(common) + 2


def _rot13_reversed(lowered: str, raw: bytes) -> list[tuple[str, str]]:
    """Common words written in ROT13 or backwards, two of them: looked for in the first and last
    600 characters (where a payload after a line of plain English sits), and in the whole text
    when its letter statistics say so (English "e" is ROT13 "r"; "th" reversed is "ht")."""
    out: list[tuple[str, str]] = []
    data = raw[:MAX_RUN].lower()
    ends = data if len(data) <= 1200 else data[:600] + b" " + data[-600:]
    window = b" " + ends.translate(_WORD_GAPS) + b" "
    whole = window if ends is data else b" " + data.translate(_WORD_GAPS) + b" "
    if (
        _hits(window, _ROT13_WORDS) >= 2
        or any(n in window for n in _ROT13_NAMES)
        or (whole is not window and _skewed(data, b"e", b"r", 1.2) and _hits(whole, _ROT13_WORDS) >= 2)
    ):
        out.append(("rot13", lowered[:MAX_RUN].translate(_ROT13)))
    if _hits(window, _REVERSED_WORDS) >= 2 or (
        whole is not window and _skewed(data, b"th", b"ht", 1.0) and _hits(whole, _REVERSED_WORDS) >= 2
    ):
        out.append(("reversed", lowered[:MAX_RUN][::-1]))
        out.append(("reversed", " ".join(w[::-1] for w in lowered[:MAX_RUN].split())))
    return out


# --- pig latin: most words end in "ay" ------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")
_VOWELS = "aeiou"
_ONSETS = frozenset(
    "bl br ch cl cr dr fl fr gl gr kn ph pl pr qu sc sh sk sl sm sn sp st sw th tr wh wr "
    "sch scr shr spl spr squ str thr".split()
)


# "-way" and "-yay" are ambiguous ("allway" is "all", "ithoutway" is "without"): these common
# words are read with their w or y moved back, every other such word as one that began with a vowel.
_W_WORDS = frozenset(
    "without with what which who whom whose will would want write why when where work word words way we were was "
    "well wish world your you yours yes yet year".split()
)


def _unpig(word: str) -> str:
    """``word`` out of pig latin ("eviouspray" is "previous", "ignoreway" is "ignore")."""
    if not word.endswith("ay") or len(word) < 4:
        return word
    stem = word[:-2]
    if stem[-1] in "wy" and stem[-1] + stem[:-1] in _W_WORDS:
        return stem[-1] + stem[:-1]
    if stem.endswith(("w", "y", "h")) and stem[0] in _VOWELS and len(stem) > 2:
        # "ignoreway", "allway", "andyay": a word that started with a vowel
        return stem[:-1]
    run = len(stem) - len(stem.rstrip("bcdfghjklmnpqrstvwxyz"))
    if run == 0 or run == len(stem):
        return stem
    tail = stem[-run:]
    onset = next((tail[-n:] for n in (2, 3) if len(tail) >= n and tail[-n:] in _ONSETS), tail[-1])
    return onset + stem[: -len(onset)]


def _pig_latin(lowered: str) -> list[tuple[str, str]]:
    # Most words end in "ay": at least one in three spaces follows one (two C calls).
    ends = lowered.count("ay ")
    if ends < 3 or 3 * (ends + 1) < lowered.count(" "):
        return []
    words = _WORD.findall(lowered[:MAX_RUN])
    pig = sum(w.endswith("ay") for w in words)
    if pig < 4 or pig < 0.5 * len(words):
        return []
    return [("pig_latin", _WORD.sub(lambda m: _unpig(m.group()), lowered[:MAX_RUN]))]


# --- payload splitting: quoted fragments the text asks to be put together ------------------------

_FRAGMENT = re.compile(
    r"""(?:(\b\w{1,24})\s*(?:=|:=|:|\bis\b)\s*|[\[,+(]\s*)(?:"([^"\n]{1,160})"|'([^'\n]{1,160})')"""
)
_ASSEMBLE = re.compile(r"\b\w{1,24}(?:\s*\+\s*\w{1,24})+\b")
_ASSEMBLY_CUES = ("+", "combin", "concat", "join", "merge", "assembl", "together", "append")


def _fragment_starts(text: str, limit: int) -> int:
    """Quotes that may start a fragment (after "=", ":", "is", "[", ",", "+" or "("), counted up
    to two: apostrophes in prose do not start one. A loop over the few quotes, not a regex over
    every character."""
    n = 0
    for quote in ('"', "'"):
        i = text.find(quote, 0, limit)
        while i != -1:
            j = i - 1
            while j >= 0 and text[j] in " \t":
                j -= 1
            if j >= 0 and (
                text[j] in "=:[,+(" or (text[j - 1 : j + 1] == "is" and (j < 2 or not text[j - 2].isalnum()))
            ):
                n += 1
                if n >= 2:
                    return n
            i = text.find(quote, i + 1, limit)
    return n


def _fragments(text: str, lowered: str) -> list[tuple[str, str]]:
    if text.count('"') + text.count("'") < 4 or not any(c in lowered for c in _ASSEMBLY_CUES):
        return []
    if _fragment_starts(text, MAX_RUN) < 2:
        return []
    named: dict[str, str] = {}
    parts: list[str] = []
    for m in _FRAGMENT.finditer(text[:MAX_RUN]):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        parts.append(value)
        if m.group(1):
            named[m.group(1).lower()] = value
    if len(parts) < 2:
        return []
    out = [("fragments", "".join(parts).lower()), ("fragments", " ".join(parts).lower())]
    for m in _ASSEMBLE.finditer(text[:MAX_RUN]):
        names = [n.strip().lower() for n in m.group().split("+")]
        if len(names) >= 2 and all(n in named for n in names):
            out.append(("fragments", "".join(named[n] for n in names).lower()))
    return out


def readings(text: str, lowered: str) -> list[tuple[str, str]]:
    """Every decoded reading of ``text`` (``lowered`` is the same text lower-cased), each lower-cased."""
    raw = text.encode("ascii", "replace")  # one byte per character: the shapes' positions are the text's
    out = [(name, decoded.lower()) for name, decoded in _alphabet_runs(text, raw)]
    out += [(name, decoded.lower()) for name, decoded in _codes(text, raw)]
    out += [(name, decoded.lower()) for name, decoded in _url(text)]
    out += _rot13_reversed(lowered, raw)
    out += _pig_latin(lowered)
    out += _fragments(text, lowered)
    return out
