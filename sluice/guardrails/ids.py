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
from collections.abc import Callable, Iterator
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


def _date_ok(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _personnummer_ok(d: str) -> bool:
    """Sweden: [YY]YYMMDD-NNNC, Luhn over the last ten digits; a coordination number adds 60 to the day."""
    d = d[-10:]
    month, day = int(d[2:4]), int(d[4:6]) % 60
    yy = int(d[:2])
    return (_date_ok(2000 + yy, month, day) or _date_ok(1900 + yy, month, day)) and luhn_ok(d)


_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {"+": 1800, "-": 1900, **dict.fromkeys("UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}


def _hetu_ok(value: str) -> bool:
    """Finland: DDMMYY, a century sign, NNN and a check character (the nine digits mod 31)."""
    century = _HETU_CENTURY.get(value[6])
    if century is None or not value[:6].isdigit() or not value[7:10].isdigit():
        return False
    if not 2 <= int(value[7:10]) <= 899:  # 900-999: temporary numbers, never on a person
        return False
    if not _date_ok(century + int(value[4:6]), int(value[2:4]), int(value[:2])):
        return False
    return _HETU_CHECK[int(value[:6] + value[7:10]) % 31] == value[10]


def _rrn_ok(d: str) -> bool:
    """South Korea: YYMMDD-GNNNNNC; G gives the century, NN after it a place of registration
    (at most 96), C a weighted mod 11."""
    if int(d[7:9]) > 96:
        return False
    century = {"9": 1800, "0": 1800, "1": 1900, "2": 1900, "5": 1900, "6": 1900}.get(d[6], 2000)
    if not _date_ok(century + int(d[:2]), int(d[2:4]), int(d[4:6])):
        return False
    total = sum(w * int(c) for w, c in zip((2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), d, strict=False))
    return (11 - total % 11) % 10 == int(d[12])


def _rodne_cislo_ok(d: str) -> bool:
    """Czech Republic and Slovakia: YYMMDD/NNNC, a month plus 50 (or 20, 70) for some, and the
    ten digits divisible by 11 (or a remainder of 10 with a 0 check)."""
    month = int(d[2:4]) % 50
    month = month - 20 if month > 20 else month
    yy = int(d[:2])
    if not (_date_ok(1900 + yy, month, int(d[4:6])) or _date_ok(2000 + yy, month, int(d[4:6]))):
        return False
    return int(d) % 11 == 0 or (int(d[:9]) % 11 == 10 and d[9] == "0")


def _ahv_ok(d: str) -> bool:
    """Switzerland: 756 and ten digits, the last an EAN-13 check digit."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(d[:12]))
    return d.startswith("756") and (10 - total % 10) % 10 == int(d[12])


def _pesel_ok(d: str) -> bool:
    """Poland: YYMMDD (the month plus 20, 40, 60 or 80 by century), NNNN and a weighted check."""
    century = {0: 1900, 1: 2000, 2: 2100, 3: 2200, 4: 1800}[int(d[2:4]) // 20]
    if not _date_ok(century + int(d[:2]), int(d[2:4]) % 20, int(d[4:6])):
        return False
    total = sum(w * int(c) for w, c in zip((1, 3, 7, 9, 1, 3, 7, 9, 1, 3), d, strict=False))
    return (10 - total % 10) % 10 == int(d[10])


def _tckn_ok(d: str) -> bool:
    """Turkey: eleven digits, not starting with 0, the last two checks on the others."""
    n = [int(c) for c in d]
    return n[0] != 0 and (sum(n[0:9:2]) * 7 - sum(n[1:8:2])) % 10 == n[9] and sum(n[:10]) % 10 == n[10]


def _fodselsnummer_ok(d: str) -> bool:
    """Norway: DDMMYY (a D-number adds 40 to the day), NNN and two weighted mod 11 checks."""
    if not (1 <= int(d[:2]) % 40 <= 31 and 1 <= int(d[2:4]) % 40 <= 12):
        return False
    for weights, n in (((3, 7, 6, 1, 8, 9, 4, 5, 2), 9), ((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), 10)):
        check = (11 - sum(w * int(c) for w, c in zip(weights, d, strict=False)) % 11) % 11
        if check == 10 or check != int(d[n]):
            return False
    return True


def _itin_ok(d: str) -> bool:
    """US ITIN: 9NN-GG-NNNN with the group in 70-88, 90-92 or 94-99 (python-stdnum's ranges; the
    50-65 of 2011 are left out, as 987-65-4320..4329 are advertising numbers)."""
    g = int(d[3:5])
    return d[0] == "9" and (70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99)


def _cuit_ok(d: str) -> bool:
    """Argentina's CUIT/CUIL: a type (20, 23, 24, 27, 30, 33, 34), eight digits and a weighted mod 11."""
    if d[:2] not in ("20", "23", "24", "27", "30", "33", "34"):
        return False
    check = 11 - sum(w * int(c) for w, c in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), d, strict=False)) % 11
    return {11: 0, 10: 9}.get(check, check) == int(d[10])


def _thai_pin_ok(d: str) -> bool:
    """Thailand: thirteen digits, the last a weighted mod 11 of the others."""
    total = sum((13 - i) * int(c) for i, c in enumerate(d[:12]))
    return d[0] not in "09" and (11 - total % 11) % 10 == int(d[12])


def _bsn_ok(d: str) -> bool:
    """The Netherlands' BSN: nine digits passing the "11-proef" (weights 9..2, and -1)."""
    return int(d) > 0 and (sum((9 - i) * int(c) for i, c in enumerate(d[:8])) - int(d[8])) % 11 == 0


def _israeli_id_ok(d: str) -> bool:
    """Israel's teudat zehut: nine digits (leading zeros kept) and a Luhn check."""
    return int(d) > 0 and luhn_ok(d)


def _cnp_ok(d: str) -> bool:
    """Romania's CNP: a sex and century digit, YYMMDD, county, number, a weighted mod 11."""
    century = {"1": 1900, "2": 1900, "3": 1800, "4": 1800, "5": 2000, "6": 2000}.get(d[0], 1900)
    if d[0] == "0" or not _date_ok(century + int(d[1:3]), int(d[3:5]), int(d[5:7])):
        return False
    total = sum(int(w) * int(c) for w, c in zip("279146358279", d, strict=False))
    return (total % 11 if total % 11 < 10 else 1) == int(d[12])


def _inn_ok(d: str) -> bool:
    """Russia's INN of a person: twelve digits, the last two weighted mod 11 checks."""
    w1, w2 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    c1 = sum(w * int(c) for w, c in zip(w1, d, strict=False)) % 11 % 10
    c2 = sum(w * int(c) for w, c in zip(w2, d, strict=False)) % 11 % 10
    return c1 == int(d[10]) and c2 == int(d[11])


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
    | (?P<dated> (?:00)?0{6}(?:[\-+]0{4}|-0{7}|[\-+A]0{3}[0A]|/0{4}) )  # one branch: a date of birth first
    | (?P<ahv> 000\.0000\.0000\.00 )
    | (?P<cuit> 00-0{8}-0 )
    | (?P<thai> 0-0{4}-0{5}-00-0 )
    | (?P<run> 0{8,15} )
    | (?P<dni> 0{8}-?A )
    | (?P<nie> A-?0{7}-?A )
    | (?P<nino> AA\ ?00\ ?00\ ?00\ ?A )
    | (?P<cf> A{6}00A00A000A )
    )(?![\w\-]|[.,/]0)""",
    re.VERBOSE,
)
# Seeds for the forms that no run of digits holds (a NINO written compactly, a codice fiscale).
LETTERED_SEED = re.compile(rb"A0{6}A|A00A000A")
# A henkilötunnus with a letter for its century: found by the letter (a literal scan) and then
# the six digits before it.
HETU_SEED = re.compile(rb"A000[0A]")


def _words(*words: str) -> re.Pattern[str]:
    """Any of ``words`` as a whole word, in any case."""
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(map(re.escape, words))})(?![^\W_])", re.IGNORECASE)


def _context(text: str, start: int, words: re.Pattern[str]) -> bool:
    """A word naming the id before the number, or just after it ("gave 046 454 286 as her SIN")."""
    before = words.search(text, max(0, start - _CONTEXT_CHARS), start) is not None
    return before or words.search(text, start, start + _CONTEXT_CHARS) is not None


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
_PESEL_WORDS = _words("pesel")
_TCKN_WORDS = _words("tckn", "tc kimlik", "kimlik", "tc no", "tc kimlik no", "t.c. kimlik")
_FNR_WORDS = _words("fødselsnummer", "fodselsnummer", "personnummer", "fnr", "d-nummer")
_BSN_WORDS = _words("bsn", "burgerservicenummer", "sofinummer")
_ISRAELI_WORDS = _words("teudat zehut", "zehut", "ת.ז", "תעודת זהות", "israeli id")
_CNP_WORDS = _words("cnp", "cod numeric personal")
_INN_WORDS = _words("inn", "инн")


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
            if _ssn_ok(d):
                return "SSN"
            return "NATIONAL_ID" if _itin_ok(d) else ""
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
        case "cuit":
            return "NATIONAL_ID" if _cuit_ok(d) else ""
        case "thai":
            return "NATIONAL_ID" if _thai_pin_ok(d) else ""
        case "dated":
            return "NATIONAL_ID" if _dated_ok(d, text[start : start + len(d) + 1]) else ""
        case "ahv":
            return "NATIONAL_ID" if _ahv_ok(d) else ""
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


def _dated_ok(d: str, value: str) -> bool:
    """The forms that open with a date of birth: a rodné číslo (``/``), a Korean RRN (13 digits),
    a henkilötunnus (a century letter, or a check letter), a personnummer."""
    if value[6] == "/":
        return _rodne_cislo_ok(d)
    if len(d) == 13:
        return _rrn_ok(d)
    if value[6].isalpha() or value[10].isalpha():
        return _hetu_ok(value)
    return _personnummer_ok(d) or (len(d) == 10 and _hetu_ok(value))


# A run of digits without separators, by its length: each (kind, the words that must name it,
# its check), tried in order; a NIR is the one found alone.
_BARE_RUNS: dict[int, tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...]] = {
    8: (("NATIONAL_ID", _TFN_WORDS, _tfn_ok),),
    9: (
        ("SSN", _SSN_WORDS, _ssn_ok),
        ("NATIONAL_ID", _SIN_WORDS, _sin_ok),
        ("NATIONAL_ID", _BSN_WORDS, _bsn_ok),
        ("NATIONAL_ID", _ISRAELI_WORDS, _israeli_id_ok),
        ("NATIONAL_ID", _TFN_WORDS, _tfn_ok),
    ),
    11: (
        ("NATIONAL_ID", _STEUER_WORDS, _steuer_id_ok),
        ("NATIONAL_ID", _CPF_WORDS, _cpf_ok),
        ("NATIONAL_ID", _PESEL_WORDS, _pesel_ok),
        ("NATIONAL_ID", _TCKN_WORDS, _tckn_ok),
        ("NATIONAL_ID", _FNR_WORDS, _fodselsnummer_ok),
    ),
    12: (("NATIONAL_ID", _INN_WORDS, _inn_ok), ("NATIONAL_ID", _AADHAAR_WORDS, _aadhaar_ok)),
    13: (("NATIONAL_ID", _CNP_WORDS, _cnp_ok),),
}


def _judge_run(d: str, text: str, start: int) -> str:
    """A run of digits without separators: a NIR alone (15 digits, mod 97), anything else only
    after a word naming it."""
    if len(d) == 15:
        return "NATIONAL_ID" if _nir_ok(d) else ""
    for kind, words, ok in _BARE_RUNS.get(len(d), ()):
        if _context(text, start, words) and ok(d):
            return kind
    return ""
