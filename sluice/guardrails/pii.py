"""Finding PII and secrets in text, and redacting them into typed placeholders (``[EMAIL_1]``).

Candidates come from regexes and are confirmed by validators (Luhn and issuer prefixes, IBAN
length and mod-97, ``ipaddress``, a JWT header that decodes to JSON with ``alg``). It runs on the
hot path, so the text is first mapped once to ASCII shapes (digits to ``0`` and capitals to
``A``; token characters to ``a``) in which the regex engine's fast literal scan finds the few
places where a full pattern has to run.

Deliberate limits: a dotted quad after ``v``, ``version``, ``release``, ``build`` or a document
part (``section``, ``clause``, ``§``...) is not an IPv4 address; ``user@host:path`` is an SSH
remote, not an email address; a phone number needs a ``+`` country code, a trunk ``0``, the North American
3-3-4 grouping or an area code in parentheses, so bare digit runs are never phones; an API key
is found by its provider's prefix (or after ``Bearer``), never by entropy alone.
"""

from __future__ import annotations

import base64
import enum
import ipaddress
import re
import string
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import msgspec

from sluice.guardrails import credentials, ids


class Kind(enum.StrEnum):
    """What a finding is; its value names the placeholder (``[API_KEY_1]``)."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    SSN = "SSN"
    NATIONAL_ID = "NATIONAL_ID"
    IBAN = "IBAN"
    IP = "IP"
    API_KEY = "API_KEY"
    JWT = "JWT"
    PRIVATE_KEY = "PRIVATE_KEY"


PII = frozenset({Kind.EMAIL, Kind.PHONE, Kind.CARD, Kind.SSN, Kind.NATIONAL_ID, Kind.IBAN, Kind.IP})
SECRETS = frozenset({Kind.API_KEY, Kind.JWT, Kind.PRIVATE_KEY})
ALL = PII | SECRETS

# Of two overlapping findings the longer one is kept; of two equal spans, the kind listed first.
_RANK = {
    Kind(k): i
    for i, k in enumerate("PRIVATE_KEY JWT API_KEY IBAN CARD NATIONAL_ID SSN EMAIL IP PHONE".split())
}
_NUMBER_KINDS = frozenset({Kind.PHONE, Kind.CARD, Kind.SSN, Kind.NATIONAL_ID, Kind.IP})
_ID_KINDS = frozenset({Kind.SSN, Kind.NATIONAL_ID})
_TOKEN_KINDS = frozenset({Kind.API_KEY, Kind.JWT})


class Finding(NamedTuple):
    """``text[start:end]`` is a value of ``kind``."""

    kind: Kind
    start: int
    end: int


# --- shapes: one translate each, so that the scans below are literal searches --------------------

# Digits become "0" and capitals "A"; every other character stays (non-ASCII is already "?").
_DIGIT_SHAPE = bytes.maketrans((string.digits + string.ascii_uppercase).encode(), b"0" * 10 + b"A" * 26)
# Characters that can make up an API key or a JWT segment become "a", everything else " ".
_TOKEN_SHAPE = bytes(
    ord("a") if chr(i) in string.ascii_letters + string.digits + "_-" else ord(" ") for i in range(256)
)
# A run of digits with separators long enough to hold the shortest number we look for (1.1.1.1).
_CLUSTER = re.compile(rb"0[0 .\-/()]{6,}")
_IBAN_SEED = re.compile(rb"AA00")
_TOKEN_RUN = b"a" * 16


# --- IBANs ----------------------------------------------------------------------------------------

# Length per country, from the SWIFT IBAN registry.
_IBAN_LENGTH = dict(
    AD=24, AE=23, AL=28, AT=20, AZ=28, BA=20, BE=16, BG=22, BH=22, BI=27, BR=29, BY=28, CH=21, CR=22,
    CY=28, CZ=24, DE=22, DJ=27, DK=18, DO=28, EE=20, EG=29, ES=24, FI=18, FK=18, FO=18, FR=27, GB=22,
    GE=22, GI=23, GL=18, GR=27, GT=28, HN=28, HR=21, HU=28, IE=22, IL=23, IQ=23, IS=26, IT=27, JO=30,
    KW=30, KZ=20, LB=28, LC=32, LI=21, LT=20, LU=20, LV=21, LY=25, MC=27, MD=24, ME=22, MK=19, MN=20,
    MR=27, MT=31, MU=30, NI=28, NL=18, NO=15, OM=23, PK=24, PL=28, PS=29, PT=25, QA=29, RO=24, RS=22,
    RU=33, SA=24, SC=31, SD=18, SE=24, SI=19, SK=24, SM=27, SO=23, ST=25, SV=28, TL=23, TN=24, TR=26,
    UA=29, VA=22, VG=24, XK=20, YE=30,
)  # fmt: skip
# Written compact, or in the print format: groups of four separated by single spaces.
_IBAN = re.compile(r"[A-Z]{2}\d\d(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)", re.ASCII)
_IBAN_LETTERS = {ord(c): str(i) for i, c in enumerate(string.ascii_uppercase, 10)}


def _ibans(text: str, shape: bytes) -> Iterator[Finding]:
    for seed in _IBAN_SEED.finditer(shape):
        start = seed.start()
        length = _IBAN_LENGTH.get(text[start : start + 2])
        if length is None or (start and text[start - 1].isalnum()):
            continue
        m = _IBAN.match(text, start)
        if m is None:
            continue
        end = start + (length + (length - 1) // 4 if text[start + 4] == " " else length)
        if m.end() < end or (end < len(text) and text[end].isalnum()):
            continue
        iban = text[start:end].replace(" ", "")
        if int((iban[4:] + iban[:4]).translate(_IBAN_LETTERS)) % 97 == 1:
            yield Finding(Kind.IBAN, start, end)


# --- numbers: cards, SSNs, IPv4 addresses, phones -------------------------------------------------

_CARD = re.compile(r"(?<![\w+\-.])\d++(?:[ \-]\d++)*+(?![\w]|[.\-]\d)", re.ASCII)
_CARD_GROUP = re.compile(r"\d+", re.ASCII)
_ISSUER = re.compile(
    r"""4\d{12}(?:\d{3}){0,2}                                   # Visa: 13, 16, 19
    | (?:5[1-5]\d\d|2(?:2(?:2[1-9]|[3-9]\d)|[3-6]\d\d|7(?:[01]\d|20)))\d{12}  # Mastercard
    | 3[47]\d{13}                                               # American Express
    | 3(?:0[0-5]|[689]\d)\d{11,16}                              # Diners Club
    | 35(?:2[89]|[3-8]\d)\d{12,15}                              # JCB
    | 6(?:011|4[4-9]\d|5\d\d)\d{12,15} | 62\d{14,17}            # Discover, UnionPay
    | (?:2131|1800)\d{11}                                       # JCB's 15-digit ranges
    | (?:5[06-8]|6\d)\d{11,17} | 220[0-4]\d{12,15}              # Maestro, Mir
    """,
    re.ASCII | re.VERBOSE,
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.\-]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w\-]|\.\d)", re.ASCII)
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\b(?:v|version|ver|release|build|rev|section|sec|clause|chapter|article|paragraph|para|rule|step|item|figure|fig|table)|§)[\s:=#.]*\Z"
)
"""A dotted quad after these is a version or a numbered part of a document, not an IPv4 address."""
_PHONE = re.compile(
    r"""(?<![\w+\-./])  # not glued to a word, a sign or another number
    (?: (?P<intl> (?:\+|00(?=[1-9])|011\ (?=[1-9]))\d{1,3} (?:[ .\-]?(?:\(\d{1,5}\)|\d{1,5}))++ )
      | (?P<nanp> (?:1[ .\-])? (?:\([2-9]\d\d\)\ ?|[2-9]\d\d[ .\-]) [2-9]\d\d[ .\-]\d{4} )
      | (?P<trunk> (?<!\d\ ) (?:\(0[1-9]\d{0,3}\)[ .\-/]?|0[1-9]\d{0,3}[ .\-/]) \d{2,8} (?:[ .\-/]\d{2,8})*+ )
      | (?P<paren> \(\d{2,3}\)\ ?\d{4,5}[ \-]?\d{4} )
      | (?P<cn> 1[3-9]\d(?P<cn_sep>[ \-])\d{4}(?P=cn_sep)\d{4} )
      | (?P<ru> 8\ ?\(\d{3,4}\)\ ?\d{2,3}-\d\d-\d\d )
    )
    (?:(?=x\d)|(?![\w+]|[.\-/:]\d))  # or an extension glued on (555-2671x204)
    """,
    re.ASCII | re.VERBOSE,
)
# An extension after a number: "x204", " ext. 204", " extension 204".
_EXTENSION = re.compile(r"\ ?(?:x|ext\.?|extension)\ ?\d{1,6}(?!\w)", re.ASCII | re.IGNORECASE)
_DIGIT_COUNT_RANGE = {
    "intl": (8, 15), "trunk": (9, 13), "nanp": (10, 11), "paren": (10, 12), "cn": (11, 11), "ru": (11, 11)
}  # fmt: skip
# Where a call from abroad starts: "+", or a country's international call prefix in its place.
_EXIT_CODE_DIGITS = {"00": 2, "011": 3}


def _cards(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """Cards among the groups of one digit run: written as one block of 13-19 digits, or as a
    group of 4 and then groups of 3-6 (4-4-4-4, 4-6-5, ...). A run may hold other numbers around
    a card ("order 12 4111 ... cvv 123"), so each group may start one; the longest card wins."""
    text = m.string
    groups = [g.span() for g in _CARD_GROUP.finditer(text, *m.span())]
    i = 0
    while i < len(groups):
        start, end = groups[i]
        ends = [(end, i + 1)] if 13 <= end - start <= 19 else []
        if end - start == 4:
            digits = 4
            for k, (s, e) in enumerate(groups[i + 1 : i + 5], i + 2):
                digits += e - s
                if not 3 <= e - s <= 6 or digits > 19:
                    break
                if digits >= 13:
                    ends.append((e, k))
        for end, after in reversed(ends):
            number = text[start:end].replace(" ", "").replace("-", "")
            if _ISSUER.fullmatch(number) and ids.luhn_ok(number):
                yield start, end
                i = after
                break
        else:
            i += 1


def _ipv4s(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    if not _VERSION_BEFORE.search(m.string, max(0, m.start() - 12), m.start()):
        yield m.span()


def _phones(m: re.Match[str]) -> Iterator[tuple[int, int]]:
    """A phone with the digit count its format allows. When more digits follow after a space
    ("+44 20 7946 0958 4111 ..."), the phone ends at the last space that keeps it in range."""
    form = m.lastgroup or ""
    low, high = _DIGIT_COUNT_RANGE[form]
    number = m.group()
    if number[0] == "0" and form == "intl":
        exit_code = "011" if number.startswith("011 ") else "00"
        if "-" in number or "." in number:  # "0042-000318-2205": a receipt number, not a call from abroad
            return
        low, high = low + _EXIT_CODE_DIGITS[exit_code], high + _EXIT_CODE_DIGITS[exit_code]
    count = digits = 0
    end = m.start()
    groups: list[str] = []
    for group in _CARD_GROUP.finditer(m.string, *m.span()):
        count += len(group[0])
        if count > high:
            break
        groups.append(group[0])
        if group.end() == m.end() or m.string[group.end()] == " ":
            digits, end = count, group.end()
    if form == "intl" and number[0] == "0" and len(groups) >= 3 and all(g[0] == "0" for g in groups):
        return  # "0078 0826 0126 0972": codes with leading zeros, not a call from abroad
    if digits >= low and (form != "trunk" or _is_trunk_grouping(groups, digits)):
        if end == m.end() and (ext := _EXTENSION.match(m.string, end)) is not None:
            end = ext.end()
        yield m.start(), end


def _is_trunk_grouping(groups: list[str], digits: int) -> bool:
    """How national numbers are grouped: pairs only as five of them (``06 12 34 56 78``), a
    closing pair only after a group of two or three (``044 668 18 00``), and a subscriber number
    after the area code that does not start with the trunk's ``0``, so that lottery numbers and
    product codes with a leading zero (``NDC 0777-3105-02``, ``0943 0107 0398``) are not phones."""
    kept, total = [], 0
    for g in groups:
        total += len(g)
        kept.append(len(g))
        if total == digits:
            break
    if all(n == 2 for n in kept):
        return len(kept) == 5
    if len(groups) > 1 and groups[1][0] == "0":
        return False
    return not (len(kept) >= 2 and kept[-1] == 2 and kept[-2] >= 4)


# A national number written bare or in a country's own grouping ("6518226396", "790 004 963",
# "50 97 84 29", "18027965024") counts only after a word for a phone in the characters before it.
_PHONE_WORDS = re.compile(
    r"(?<![^\W_])(?:phone|telephone|tel|mobile|cell|cellphone|call|ring|reach|whatsapp|sms|fax|dial|"
    r"handy|telefon|telefono|teléfono|téléphone|portable|móvil|celular|telefone|telemóvel|"
    r"手机|电话|電話|携帯)(?:s|ed|ing)?(?![^\W_])"
)
_PHONE_CONTEXT_CHARS = 40
_LOOSE_PHONE = re.compile(
    r"(?<![\w+\-./,])(?:\(\d{2,5}\)\ ?)?\d++(?:[ .\-/]\d++)*+(?![\w+]|[.\-/:,]\d)", re.ASCII
)
_DATE_LIKE = re.compile(r"\d{1,2}([./\-])\d{1,2}\1\d{2,4}|\d{4}([./\-])\d{1,2}\2\d{1,2}", re.ASCII)


def _phone_word_before(text: str, start: int) -> bool:
    before = max(0, start - _PHONE_CONTEXT_CHARS)
    return _PHONE_WORDS.search(text[before:start].lower()) is not None


def _context_phones(text: str, start: int, end: int) -> Iterator[Finding]:
    """Numbers of 8 to 15 digits (15: an MSISDN, E.164 without its "+") in groups of two or more
    after a phone word; not dates, not amounts with thousands separators. The digits are looked
    at first: the phone word is searched for only before a number that could be a phone."""
    for m in _LOOSE_PHONE.finditer(text, start, end):
        number = m.group()
        groups = _CARD_GROUP.findall(number)
        digits = sum(map(len, groups))
        if not 8 <= digits <= 15 or min(map(len, groups)) < 2 or _DATE_LIKE.fullmatch(number):
            continue
        if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]) and "," in number:
            continue
        if _phone_word_before(text, m.start()):
            yield Finding(Kind.PHONE, *m.span())


class _NumberDetector(NamedTuple):
    kind: Kind
    pattern: re.Pattern[str]
    spans: Callable[[re.Match[str]], Iterator[tuple[int, int]]]
    min_digits: int
    separator: bytes = b""  # one the number has at least ``min_separators`` of (IPv4: three ".")
    min_separators: int = 0


_NUMBER_DETECTORS = (
    _NumberDetector(Kind.CARD, _CARD, _cards, 13),
    _NumberDetector(Kind.IP, _IPV4, _ipv4s, 4, b".", 3),
    _NumberDetector(Kind.PHONE, _PHONE, _phones, 8),
)


_MIN_DIGITS = min(d.min_digits for d in _NUMBER_DETECTORS)


def _numbers(text: str, shape: bytes, kinds: Collection[Kind]) -> Iterator[Finding]:
    detectors = [d for d in _NUMBER_DETECTORS if d.kind in kinds]
    for cluster in _CLUSTER.finditer(shape):
        start, end = cluster.span()
        if start >= 2 and shape[start - 1] == ord("A") and (code := _IBAN.match(text, start - 2)) is not None:
            start = code.end()  # an IBAN's groups, valid or not ("DE88 3704 0044 ..."), are not numbers
        digits = shape.count(b"0", start, end)
        if digits < _MIN_DIGITS:
            continue
        if start and text[start - 1] in "+(":
            start -= 1
        # Two characters past the run, so that the patterns' lookaheads see what follows it.
        end = min(len(text), end + 2)
        found = 0  # how far this run's findings reach
        for d in detectors:
            if digits < d.min_digits or shape.count(d.separator, start, end) < d.min_separators:
                continue
            for m in d.pattern.finditer(text, start, end):
                for s, e in d.spans(m):
                    found = max(found, e)
                    yield Finding(d.kind, s, e)
        # A run already read as a card, an IP or a phone in a known format needs no phone word.
        if 8 <= digits <= 15 and Kind.PHONE in kinds and found <= shape.rindex(b"0", start, cluster.end()):
            yield from _context_phones(text, start, end)
        if digits >= 6 and not _ID_KINDS.isdisjoint(kinds):  # a NINO has six
            # Three characters before the run: a NIE's letter, a NINO's two letters and a space.
            yield from _ids(text, shape, max(0, start - 3), end, kinds)


def _ids(text: str, shape: bytes, start: int, end: int, kinds: Collection[Kind]) -> Iterator[Finding]:
    for kind, s, e in ids.spans(text, shape, start, end):
        if (found := Kind(kind)) in kinds:
            yield Finding(found, s, e)


def _lettered_ids(text: str, shape: bytes, kinds: Collection[Kind]) -> Iterator[Finding]:
    """NINOs written compactly, codici fiscali and henkilötunnukset with a century letter: ids
    that no run of digits holds."""
    for seed in ids.LETTERED_SEED.finditer(shape):
        yield from _ids(text, shape, max(0, seed.start() - 8), min(len(text), seed.end() + 2), kinds)
    for seed in ids.HETU_SEED.finditer(shape):
        if seed.start() >= 6 and shape.startswith(b"000000", seed.start() - 6):
            yield from _ids(text, shape, seed.start() - 6, min(len(text), seed.end() + 2), kinds)


# --- emails and IPv6 addresses --------------------------------------------------------------------

_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?P<tld>[^\W\d_]{2,63})(?![\w-]|\.[^\W_])")
_LOCAL_CHARS = frozenset("._%+-")
# "icon@2x.png" is an image, not an address.
_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico"})


def _emails(text: str) -> Iterator[Finding]:
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < 64 and ((c := text[start - 1]).isalnum() or c in _LOCAL_CHARS):
            start -= 1
        while start < at and text[start] == ".":
            start += 1
        m = _DOMAIN.match(text, at + 1) if start < at and text[at - 1] != "." else None
        # "git@github.com:acme/api.git" is an SSH remote, not an address.
        remote = (
            m is not None
            and text[m.end() : m.end() + 1] == ":"
            and text[m.end() + 1 : m.end() + 2] not in ("", " ", "\n")
        )
        if (
            m is not None
            and not remote
            and m["tld"].lower() not in _FILE_EXTENSIONS
            and ".." not in text[start:at]
        ):
            yield Finding(Kind.EMAIL, start, m.end())
            at = text.find("@", m.end())
        else:
            at = text.find("@", at + 1)


# Every IPv6 address has two colons with at most four hex digits between them.
_IPV6_SEED = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_LEFT_CHARS = frozenset(string.hexdigits + ":")
_IPV6_CHARS = _IPV6_LEFT_CHARS | {"."}  # an IPv4 tail: ::ffff:192.0.2.1


def _ipv6s(text: str) -> Iterator[Finding]:
    n, pos = len(text), 0
    while (seed := _IPV6_SEED.search(text, pos)) is not None:
        start, end = seed.start(), seed.end()
        while start > pos and seed.start() - start < 39 and text[start - 1] in _IPV6_LEFT_CHARS:
            start -= 1
        while end < n and end - start < 45 and text[end] in _IPV6_CHARS:
            end += 1
        pos = end
        while text[end - 1] == ".":
            end -= 1
        if (start and _is_word(text[start - 1])) or (end < n and _is_word(text[end])):
            continue
        address = text[start:end]
        if address.endswith(":") and not address.endswith("::") and _is_ipv6(address[:-1]):
            yield Finding(Kind.IP, start, end - 1)
        elif _is_ipv6(address):
            yield Finding(Kind.IP, start, end)


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _is_ipv6(address: str) -> bool:
    """A full address or one with ``::``, with a decimal digit and five hex digits at least, so
    that Python slices (``[1::2]``), C++ scopes (``add::face``) and times (``12:30:45``) are not."""
    colons = address.count(":")
    if not ("::" in address or colons == 7 or (colons == 6 and "." in address)):
        return False
    if len(address) - colons < 5 or not any(c.isdigit() for c in address):
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


# --- secrets --------------------------------------------------------------------------------------

_HAS_DIGIT = re.compile(r"\d", re.ASCII).search
_JWT_STEM = "eyJ"  # '{"' in base64url: how every JWT header starts
_JWT = re.compile(_JWT_STEM + r"[\w\-]{14,}+\.[\w\-]{2,}+\.[\w\-]*+", re.ASCII)
_BEARER = re.compile(r"earer(?<=\b[Bb]earer)[ \t]+([\w\-.~+/]{20,}+=*)", re.ASCII)
_KEY_STEM = "-----BEGIN "
_PRIVATE_KEY = re.compile(
    re.escape(_KEY_STEM) + r"([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
    # Its headers and base64 lines: where a key cut off before its END line ends.
    r"(?:(?:\s|\\n)*+(?:[\w-]+:[^\n]*|[A-Za-z0-9+/]{16,}+={0,2}))*+"
)


def _tokens(text: str, shape: bytes, kinds: Collection[Kind]) -> Iterator[Finding]:
    """API keys and JWTs: each starts a run of token characters, and runs of 16 are rare in prose."""
    start = shape.find(_TOKEN_RUN)
    while start != -1:
        end = shape.find(b" ", start)
        end = len(shape) if end == -1 else end
        if text.startswith(_JWT_STEM, start):
            if Kind.JWT in kinds and (m := _JWT.match(text, start)) is not None and _is_jwt(m.group()):
                yield Finding(Kind.JWT, start, m.end())
                end = m.end()
        elif Kind.API_KEY in kinds and _HAS_DIGIT(text, start, end):
            if credentials.PREFIXED.fullmatch(text, start, end):
                yield Finding(Kind.API_KEY, credentials.refresh_prefix(text, start), end)
            elif (span := credentials.dotted(text, start, end)) is not None:
                yield Finding(Kind.API_KEY, *span)
                end = max(end, span[1])
        start = shape.find(_TOKEN_RUN, end)


def _is_jwt(token: str) -> bool:
    header = token[: token.index(".")]
    try:
        decoded = msgspec.json.decode(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, msgspec.DecodeError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


def _bearer_tokens(text: str) -> Iterator[Finding]:
    for m in _BEARER.finditer(text):
        start, end = m.span(1)
        while text[end - 1] == ".":
            end -= 1
        if _HAS_DIGIT(text, start, end):
            yield Finding(Kind.API_KEY, start, end)


def _private_keys(text: str) -> Iterator[Finding]:
    pos = 0
    ends_missing: set[str] = set()
    while (m := _PRIVATE_KEY.search(text, pos)) is not None:
        end_line = f"-----END {m[1]}-----"
        end = -1 if end_line in ends_missing else text.find(end_line, m.end())
        if end == -1:
            ends_missing.add(end_line)
            pos = m.end()
        else:
            pos = end + len(end_line)
        yield Finding(Kind.PRIVATE_KEY, m.start(), pos)


# --- the prefilter --------------------------------------------------------------------------------

# Every finding holds one of these in its own span: an email its "@", a JWT and a private key
# their stems (they start with them), every other kind an ASCII digit (the number and IBAN
# patterns by ``\d``, an IPv6 address by ``_is_ipv6``, an API key by ``_HAS_DIGIT``). A text
# without any of them has no finding, which most prose is; tests/guardrails/test_pii.py checks
# every finding of the sample set against this list.
_EVIDENCE = ("@", _JWT_STEM, _KEY_STEM, *string.digits)


def may_hold(text: str) -> bool:
    """False when ``text`` cannot hold a finding (nor a part of one that has its evidence): no
    digit, no ``@``, no JWT or private key stem. True says only that ``find`` has to look."""
    return any(evidence in text for evidence in _EVIDENCE)


# --- find and redact ------------------------------------------------------------------------------


def find(text: str, kinds: Collection[Kind] = ALL) -> list[Finding]:
    """The PII and secrets of the given kinds in ``text``, in order and not overlapping."""
    if not may_hold(text):
        return []
    hits: list[Finding] = []
    ascii_text = text.encode("ascii", "replace")  # one byte per character: offsets agree with text
    if not _NUMBER_KINDS.isdisjoint(kinds) or Kind.IBAN in kinds:
        shape = ascii_text.translate(_DIGIT_SHAPE)
        if not _NUMBER_KINDS.isdisjoint(kinds):
            hits.extend(_numbers(text, shape, kinds))
        if Kind.NATIONAL_ID in kinds:
            hits.extend(_lettered_ids(text, shape, kinds))
        if Kind.IBAN in kinds:
            hits.extend(_ibans(text, shape))
    if Kind.EMAIL in kinds and "@" in text:
        hits.extend(_emails(text))
    if Kind.IP in kinds and ":" in text:
        hits.extend(_ipv6s(text))
    if not _TOKEN_KINDS.isdisjoint(kinds):
        hits.extend(_tokens(text, ascii_text.translate(_TOKEN_SHAPE), kinds))
    if Kind.API_KEY in kinds:
        hits.extend(_bearer_tokens(text))
        hits.extend(Finding(Kind.API_KEY, s, e) for s, e in credentials.by_context(text, ascii_text))
    if Kind.PRIVATE_KEY in kinds:
        hits.extend(_private_keys(text))
    return _without_overlaps(hits)


def _without_overlaps(hits: list[Finding]) -> list[Finding]:
    hits.sort(key=lambda f: f.start)
    if all(a.end <= b.start for a, b in pairwise(hits)):
        return hits
    starts: list[int] = []
    kept: list[Finding] = []
    for f in sorted(hits, key=lambda f: (f.start - f.end, _RANK[f.kind], f.start)):
        i = bisect_left(starts, f.start)
        if (i and kept[i - 1].end > f.start) or (i < len(kept) and kept[i].start < f.end):
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept


_PLACEHOLDER = re.compile(rf"\[(?:{'|'.join(Kind)})_\d+\]")


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted text, how many findings of each kind it had and, when reversible, the
    original behind each placeholder."""

    text: str
    findings: dict[Kind, int]
    originals: dict[str, str]

    def restore(self, text: str) -> str:
        """``text`` (the redacted text, or an answer quoting its placeholders) with the originals back."""
        if not self.originals or "[" not in text:
            return text
        return _PLACEHOLDER.sub(lambda m: self.originals.get(m.group(), m.group()), text)


def redact(
    text: str, *, reversible: bool = False, kinds: Collection[Kind] = ALL, hits: list[Finding] | None = None
) -> Redacted:
    """Replace each finding with ``[KIND_n]``; the same value gets the same placeholder. A
    placeholder already present in ``text`` is never handed out, so ``restore`` cannot change
    what the client wrote itself. ``hits``: ``find(text, kinds)``'s answer when the caller has it."""
    if hits is None:
        hits = find(text, kinds)
    if not hits:
        return Redacted(text, {}, {})
    parts: list[str] = []
    counts: dict[Kind, int] = {}
    numbers: dict[Kind, int] = {}
    placeholders: dict[tuple[Kind, str], str] = {}
    originals: dict[str, str] = {}
    pos = 0
    for kind, start, end in hits:
        value = text[start:end]
        placeholder = placeholders.get((kind, value))
        if placeholder is None:
            n = numbers.get(kind, 0) + 1
            while (placeholder := f"[{kind}_{n}]") in text:
                n += 1
            numbers[kind] = n
            placeholders[kind, value] = placeholder
            if reversible:
                originals[placeholder] = value
        counts[kind] = counts.get(kind, 0) + 1
        parts += (text[pos:start], placeholder)
        pos = end
    parts.append(text[pos:])
    return Redacted("".join(parts), counts, originals)
