"""National identity numbers: US SSNs, UK NINOs, German Steuer-IDs, French NIRs, Spanish DNIs and
NIEs, Italian codici fiscali, Indian Aadhaar numbers, Brazilian CPFs, Canadian SINs, Australian
TFNs and Chinese resident ids, each confirmed by its check digits where it has them.

A number whose check is weak (one digit in ten: a SIN's Luhn, an Aadhaar's Verhoeff, a bare
nine-digit SSN) counts only after a word that names it ("SIN", "Aadhaar",
"social security") in the few dozen characters before it; one whose print format is distinctive
(a CPF's ``000.000.000-00``) or whose check is strong (a NIR's
mod 97, a resident id's date of birth and mod 11-2) counts alone. ``pii.py`` finds the candidates
in its digit shape (digits as ``0``, capitals as ``A``) and runs them through ``spans``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

_DOUBLED = str.maketrans("0123456789", "0246813579")  # each digit doubled, its digits summed


def luhn_ok(digits: str) -> bool:
    return (sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2].translate(_DOUBLED)))) % 10 == 0


# Verhoeff's dihedral-group tables (Aadhaar).
_VERHOEFF_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]  # fmt: skip
_VERHOEFF_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]  # fmt: skip


def _verhoeff_ok(digits: str) -> bool:
    c = 0
    for i, d in enumerate(reversed(digits)):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(d)]]
    return c == 0


def _ssn_ok(d: str) -> bool:
    return d[:3] not in ("000", "666") and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


def _tfn_ok(d: str) -> bool:
    return sum(w * int(c) for w, c in zip((1, 4, 3, 7, 5, 8, 6, 9, 10), d)) % 11 == 0  # noqa: B905 (8 or 9)


def _sin_ok(d: str) -> bool:
    return d[0] not in "08" and luhn_ok(d)


def _steuer_id_ok(d: str) -> bool:
    """ISO 7064 MOD 11,10, a first digit other than 0, and in the first ten digits exactly one
    digit twice or thrice, the others once."""
    repeated = [n for n in map(d[:10].count, set(d[:10])) if n > 1]
    if d[0] == "0" or len(repeated) != 1 or repeated[0] > 3:
        return False
    product = 10
    for c in d[:10]:
        s = (int(c) + product) % 10 or 10
        product = 2 * s % 11
    return (11 - product) % 10 == int(d[10])


def _cpf_ok(d: str) -> bool:
    if len(set(d)) == 1:
        return False
    for n in (9, 10):
        check = sum(int(c) * w for c, w in zip(d[:n], range(n + 1, 1, -1), strict=True)) * 10 % 11 % 10
        if check != int(d[n]):
            return False
    return True


def _aadhaar_ok(d: str) -> bool:
    return d[0] not in "01" and d != d[::-1] and _verhoeff_ok(d)


def _nir_ok(d: str) -> bool:
    return d[0] in "123478" and 97 - int(d[:13]) % 97 == int(d[13:])


def _ric_ok(d: str) -> bool:
    if d[0] not in "12345678":
        return False
    try:
        date(int(d[6:10]), int(d[10:12]), int(d[12:14]))
    except ValueError:
        return False
    if not 1900 <= int(d[6:10]) <= 2099:
        return False
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(d[:17]))
    return "10X98765432"[total % 11] == d[17]


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni_ok(d: str) -> bool:
    number = d[:-1].translate(_NIE_PREFIX)
    return _DNI_LETTERS[int(number) % 23] == d[-1]


_NIE_PREFIX = str.maketrans("XYZ", "012")
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _nino_ok(d: str) -> bool:
    return (
        d[0] not in "DFIQUV" and d[1] not in "DFIOQUV" and d[:2] not in _NINO_BAD_PREFIXES and d[-1] in "ABCD"
    )


# The codice fiscale's check letter: the values of characters in odd and even positions.
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21) * 2 + (2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
        strict=True,
    )
)
_CF_EVEN = {c: (int(c) if c.isdigit() else ord(c) - 65) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _cf_ok(d: str) -> bool:
    total = sum(_CF_ODD[c] for c in d[0:15:2]) + sum(_CF_EVEN[c] for c in d[1:15:2])
    return chr(65 + total % 26) == d[15]


# Words that name an id are looked for in the characters before a weak-check number.
_CONTEXT_CHARS = 48


# A candidate's shape: digits as "0", capitals as "A". Each alternative names its form; the
# separators inside a form must agree (a backreference), as people write them.
_CANDIDATE = re.compile(
    rb"""(?<![\w.\-/+])(?:
      (?P<ssn_sep> 000(?P<s1>[ \-])00(?P=s1)0000 )
    | (?P<g333> 000(?P<s2>[ \-])000(?P=s2)000 )
    | (?P<cpf> 000\.000\.000-00 )
    | (?P<g2333> 00\ 000\ 000\ 000 )
    | (?P<g444> 0000(?P<s3>[ \-])0000(?P=s3)0000 )
    | (?P<nir> 0\ 00\ 00\ 00\ 000\ 000\ 00 )
    | (?P<ric> 0{17}[0A] )
    | (?P<run> 0{8,15} )
    | (?P<dni> 0{8}-?A )
    | (?P<nie> A-?0{7}-?A )
    | (?P<nino> AA\ ?00\ ?00\ ?00\ ?A )
    | (?P<cf> A{6}00A00A000A )
    )(?![\w\-]|[.,/]0)""",
    re.VERBOSE,
)
# Seeds for the two forms that no run of digits holds (a NINO written compactly, a codice fiscale).
LETTERED_SEED = re.compile(rb"A0{6}A|A00A000A")


def _words(*words: str) -> re.Pattern[str]:
    """Any of ``words`` as a whole word, in any case."""
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(map(re.escape, words))})(?![^\W_])", re.IGNORECASE)


def _context(text: str, start: int, words: re.Pattern[str]) -> bool:
    return words.search(text, max(0, start - _CONTEXT_CHARS), start) is not None


# Each weak-check form: the words one of them needs nearby, and its check.
_SSN_WORDS = _words("ssn", "ssns", "ss#", "ssn#", "social security", "social sec", "taxpayer")
_AADHAAR_WORDS = _words("aadhaar", "aadhar", "uid", "uidai", "kyc", "आधार")
_SIN_WORDS = _words("sin", "social insurance", "assurance sociale", "nas")
_TFN_WORDS = _words("tfn", "tax file")
_STEUER_WORDS = _words(
    "steuer-id",
    "steuerid",
    "idnr",
    "steuer-idnr",
    "steueridentifikationsnummer",
    "identifikationsnummer",
    "tax id",
    "tin",
)
_CPF_WORDS = _words("cpf")


def spans(text: str, shape: bytes, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    """The ids in ``text[start:end]`` as ``(kind, start, end)``, kind ``SSN`` or ``NATIONAL_ID``."""
    for m in _CANDIDATE.finditer(shape, start, end):
        form = m.lastgroup
        s, e = m.span()
        value = text[s:e]
        d = "".join(c for c in value if c.isalnum())
        kind = _judge(form or "", d, text, s)
        if kind:
            yield kind, s, e


def _judge(form: str, d: str, text: str, start: int) -> str:
    """The kind of the candidate ``d`` (its letters and digits) written in ``form``, or ``""``."""
    match form:
        case "ssn_sep":
            return "SSN" if _ssn_ok(d) else ""
        case "g333":
            if _context(text, start, _SIN_WORDS) and _sin_ok(d):
                return "NATIONAL_ID"
            if _context(text, start, _TFN_WORDS) and _tfn_ok(d):
                return "NATIONAL_ID"
            return ""
        case "cpf":
            return "NATIONAL_ID" if _cpf_ok(d) else ""
        case "g2333":
            return "NATIONAL_ID" if _steuer_id_ok(d) else ""
        case "g444":
            return "NATIONAL_ID" if _context(text, start, _AADHAAR_WORDS) and _aadhaar_ok(d) else ""
        case "nir":
            return "NATIONAL_ID" if _nir_ok(d) else ""
        case "ric":
            return "NATIONAL_ID" if d[-1] in "0123456789X" and _ric_ok(d) else ""
        case "run":
            return _judge_run(d, text, start)
        case "dni":
            return "NATIONAL_ID" if _dni_ok(d) else ""
        case "nie":
            return "NATIONAL_ID" if d[0] in "XYZ" and _dni_ok(d) else ""
        case "nino":
            return "NATIONAL_ID" if _nino_ok(d) else ""
        case "cf":
            return "NATIONAL_ID" if _cf_ok(d) else ""
    return ""


def _judge_run(d: str, text: str, start: int) -> str:
    """A run of digits without separators: a NIR alone (15 digits, mod 97), anything else only
    after a word naming it."""
    n = len(d)
    if n == 15:
        return "NATIONAL_ID" if _nir_ok(d) else ""
    if n == 9:
        if _context(text, start, _SSN_WORDS) and _ssn_ok(d):
            return "SSN"
        if _context(text, start, _SIN_WORDS) and _sin_ok(d):
            return "NATIONAL_ID"
    if n in (8, 9) and _context(text, start, _TFN_WORDS) and _tfn_ok(d):
        return "NATIONAL_ID"
    if n == 11:
        if _context(text, start, _STEUER_WORDS) and _steuer_id_ok(d):
            return "NATIONAL_ID"
        if _context(text, start, _CPF_WORDS) and _cpf_ok(d):
            return "NATIONAL_ID"
    if n == 12 and _context(text, start, _AADHAAR_WORDS) and _aadhaar_ok(d):
        return "NATIONAL_ID"
    return ""
