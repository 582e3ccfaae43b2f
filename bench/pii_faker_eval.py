"""PII recall and near-miss false positives on values in formats that someone else wrote: the
locale providers of the Faker library (``faker==40.63.0``, MIT; the ``bench`` extra).

For each locale, values of the providers that are PII (phone numbers and MSISDNs, national ids,
IBANs, payment cards, emails, IPv4 and IPv6 addresses), a few dozen of each, each put in a short
English sentence; a provider a locale only inherits (``ar_SA``'s phone numbers are ``en_US``'s) is
left out there, so every cell is the locale's own format. National ids are kept only when
python-stdnum says they are valid for their country (Faker does not always compute check digits);
how many were dropped is printed. Then near misses that must not be flagged at all, as PII or as
a secret: Faker's EANs and ISBNs, dates, times, prices, versions, order numbers, postcodes,
building numbers, hex colours, UUIDs, SHA-256 digests, coordinates, BIC/SWIFT codes, lottery
numbers and digit groups with leading zeros.

A PII value counts as found when one finding of its kind covers it whole
(``sluice.guardrails.pii.find`` with every kind, as the input stage calls it); a near miss is a
false positive when ``find`` returns anything for its sentence. Seeded: the same output each run.

    .venv/bin/python bench/pii_faker_eval.py [--per-cell N]
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import faker
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.guardrails.pii import Kind, find

SEED = 20261208
# en_ZA is not one of Faker's locales; zu_ZA (South Africa) stands in for it.
LOCALES = (
    "en_US en_GB en_CA en_AU en_IN de_DE fr_FR es_ES it_IT nl_NL pt_BR pt_PT pl_PL sv_SE da_DK no_NO "
    "fi_FI cs_CZ tr_TR ru_RU uk_UA ja_JP ko_KR zh_CN zh_TW hi_IN id_ID th_TH vi_VN ar_SA he_IL el_GR "
    "hu_HU ro_RO es_MX es_AR fr_CA de_AT de_CH en_NZ en_IE zu_ZA"
).split()

TEMPLATES = {
    "phone": [
        "You can reach me on {v} after six.",
        "My {label} is {v}, please update the file.",
        "Call {v} if the parcel is late.",
        "Please ring the office ({v}) before Friday.",
        "New number: {v}",
    ],
    "id": [
        "My {label} is {v}, please update the file.",
        "{label}: {v}",
        "Here is my {label} for the form: {v}.",
        "The applicant gave {v} as her {label}.",
        "Can you check whether {v} is right? It is my {label}.",
    ],
    "other": [
        "My {label} is {v}, please update the file.",
        "Please send it to {v} when you can.",
        "I wrote {v} on the form yesterday.",
        "{label}: {v}",
        "Is {v} correct?",
    ],
    "near": [
        "The {label} on the label reads {v}.",
        "Please note the {label} {v} in the ticket.",
        "{label}: {v}",
        "It says {v} at the top of the page.",
        "Could you check {v} against the list?",
    ],
}


class IdSpec(NamedTuple):
    method: str
    validator: str  # a python-stdnum module
    label: str
    kinds: frozenset[Kind]


_ID = frozenset({Kind.NATIONAL_ID})
_SSN = frozenset({Kind.SSN})
_ANY_ID = frozenset({Kind.SSN, Kind.NATIONAL_ID})

# The national ids of each locale that python-stdnum can validate. Left out, for want of a
# validator there: the UK NINO (Faker writes only the never-issued ZZ prefix anyway), Taiwan's
# id, Hungary's TAJ, Mexico's NSS, Russia's SNILS. en_IE and zu_ZA have no national id provider.
IDS: dict[str, list[IdSpec]] = {
    "en_US": [
        IdSpec("ssn", "us.ssn", "social security number", _SSN),
        IdSpec("itin", "us.itin", "ITIN", _ANY_ID),
    ],
    "en_CA": [IdSpec("ssn", "ca.sin", "SIN", _ID)],
    "en_IN": [IdSpec("aadhaar_id", "in_.aadhaar", "Aadhaar number", _ID)],
    "fr_FR": [IdSpec("ssn", "fr.nir", "numéro de sécurité sociale", _ID)],
    "es_ES": [IdSpec("nif", "es.nif", "DNI", _ID), IdSpec("nie", "es.nie", "NIE", _ID)],
    "it_IT": [IdSpec("ssn", "it.codicefiscale", "codice fiscale", _ID)],
    "nl_NL": [IdSpec("ssn", "nl.bsn", "BSN", _ID)],
    "pt_BR": [IdSpec("cpf", "br.cpf", "CPF", _ID), IdSpec("ssn", "br.cpf", "CPF", _ID)],
    "pl_PL": [IdSpec("pesel", "pl.pesel", "PESEL", _ID)],
    "sv_SE": [IdSpec("ssn", "se.personnummer", "personnummer", _ID)],
    "no_NO": [IdSpec("ssn", "no.fodselsnummer", "fødselsnummer", _ID)],
    "fi_FI": [IdSpec("ssn", "fi.hetu", "henkilötunnus", _ID)],
    "cs_CZ": [IdSpec("birth_number", "cz.rc", "rodné číslo", _ID)],
    "tr_TR": [IdSpec("ssn", "tr.tckimlik", "TC kimlik no", _ID)],
    "ru_RU": [IdSpec("individuals_inn", "ru.inn", "INN", _ID)],
    "uk_UA": [IdSpec("ssn", "ua.rntrc", "RNOKPP", _ID)],
    "ko_KR": [IdSpec("ssn", "kr.rrn", "resident registration number", _ID)],
    "zh_CN": [IdSpec("ssn", "cn.ric", "resident id", _ID)],
    "th_TH": [IdSpec("ssn", "th.pin", "personal id", _ID)],
    "he_IL": [IdSpec("ssn", "il.idnr", "teudat zehut", _ID)],
    "el_GR": [IdSpec("ssn", "gr.amka", "AMKA", _ID), IdSpec("tin", "gr.vat", "AFM", _ID)],
    "ro_RO": [IdSpec("ssn", "ro.cnp", "CNP", _ID)],
    "es_MX": [IdSpec("curp", "mx.curp", "CURP", _ID), IdSpec("rfc", "mx.rfc", "RFC", _ID)],
    "es_AR": [IdSpec("ssn", "ar.cuit", "CUIL", _ID), IdSpec("dni", "ar.dni", "DNI", _ID)],
    "de_AT": [IdSpec("ssn", "at.vnr", "Versicherungsnummer", _ID)],
    "de_CH": [IdSpec("ssn", "ch.ssn", "AHV-Nummer", _ID)],
}

# The other PII kinds: provider method, the label in a sentence, the kind it must be found as.
OTHERS = {
    "phone": ("phone_number", "phone number", Kind.PHONE),
    "msisdn": ("msisdn", "mobile number", Kind.PHONE),
    "iban": ("iban", "IBAN", Kind.IBAN),
    "card": ("credit_card_number", "card number", Kind.CARD),
    "email": ("email", "email address", Kind.EMAIL),
    "ipv4": ("ipv4_public", "IP address", Kind.IP),
    "ipv6": ("ipv6", "IPv6 address", Kind.IP),
}
# Providers whose values do not depend on the locale: generated in every locale all the same.
LOCALE_FREE = frozenset({"card", "ipv4", "ipv6", "email"})


class Item(NamedTuple):
    locale: str
    kind: str  # "phone", ..., or "id:<method>"
    text: str
    start: int
    end: int
    expect: frozenset[Kind]


# The class data a base provider's method draws its values from: a locale that sets it has its own format.
_FORMAT_DATA = {
    "phone_number": ("formats",),
    "msisdn": ("msisdn_formats",),
    "iban": ("bban_format", "country_code"),
    "ssn": ("ssn_formats",),
}


def own_provider(fake: Faker, method: str, locale: str) -> bool:
    """Whether the locale's own provider defines ``method`` or the formats it draws from (not the
    base class, not another locale's provider that it inherits)."""
    bound = getattr(fake, method, None)
    if bound is None:
        return False
    names = (method, *_FORMAT_DATA.get(method, ()))
    for cls in type(bound.__self__).__mro__:
        if any(name in vars(cls) for name in names):
            owner = cls.__module__.rsplit(".", 1)[-1]  # de_CH's ssn is fr_CH's: the same country's
            return owner == locale or (owner[2:3] == "_" and owner[3:] == locale[3:])
    return False


def sentence(rng: random.Random, family: str, label: str, value: str) -> tuple[str, int, int]:
    template = rng.choice(TEMPLATES[family])
    before, after = template.split("{v}")
    before = before.replace("{label}", label)
    if before[:1].islower() or not before:
        before = before[:1].upper() + before[1:]
    text = before + value + after.replace("{label}", label)
    return text, len(before), len(before) + len(value)


def seeded(locale: str, salt: str) -> tuple[Faker, random.Random]:
    seed = SEED + zlib.crc32(f"{locale}/{salt}".encode())
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake, random.Random(seed)


def positives(per_cell: int) -> tuple[list[Item], dict[str, list[str]], list[str]]:
    items: list[Item] = []
    dropped: dict[str, list[str]] = defaultdict(list)
    skipped: list[str] = []
    for locale in LOCALES:
        for kind, (method, label, expect) in OTHERS.items():
            fake, rng = seeded(locale, kind)
            if kind not in LOCALE_FREE and not own_provider(fake, method, locale):
                skipped.append(f"{locale}/{kind}")
                continue
            for _ in range(per_cell):
                value = str(getattr(fake, method)())
                family = "phone" if expect is Kind.PHONE else "other"
                text, s, e = sentence(rng, family, label, value)
                items.append(Item(locale, kind, text, s, e, frozenset({expect})))
        for spec in IDS.get(locale, []):
            fake, rng = seeded(locale, spec.method)
            if not own_provider(fake, spec.method, locale):
                skipped.append(f"{locale}/id:{spec.method}")
                continue
            validator: Any = importlib.import_module(f"stdnum.{spec.validator}")
            kept = tries = 0
            while kept < per_cell and tries < per_cell * 20:
                tries += 1
                value = str(getattr(fake, spec.method)())
                if not validator.is_valid(value):
                    continue
                kept += 1
                text, s, e = sentence(rng, "id", spec.label, value)
                items.append(Item(locale, f"id:{spec.method}", text, s, e, spec.kinds))
            dropped[locale].append(f"{spec.method} ({spec.validator}): {tries - kept} of {tries} invalid")
    return items, dropped, skipped


# --- near misses ------------------------------------------------------------------------------------


def _numbered(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)


def _lottery(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(f"{n:02d}" for n in sorted(rng.sample(range(1, 50), 6)))
    return " ".join(f"0{rng.randrange(1000):03d}" for _ in range(4))


_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y%m%d", "%Y/%m/%d", "%d.%m.%y")
_TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%SZ", "%I:%M %p")


def _when(rng: random.Random, formats: tuple[str, ...]) -> str:
    moment = datetime(1950, 1, 1) + timedelta(seconds=rng.randrange(80 * 365 * 86400))
    return moment.strftime(rng.choice(formats))


def _price(rng: random.Random, fake: Faker) -> str:
    amount = rng.randrange(100, 10_000_000) / 100
    return rng.choice(
        [
            fake.pricetag(),
            f"${amount:,.2f}",
            f"{amount:,.2f} EUR".replace(",", " "),
            f"€{amount:.2f}".replace(".", ","),
            f"{amount:,.2f} zł",
            f"CHF {amount:,.2f}".replace(",", "'"),
        ]
    )


def _version(rng: random.Random) -> str:
    a, b, c, d = rng.randrange(30), rng.randrange(50), rng.randrange(200), rng.randrange(9999)
    return rng.choice(
        [f"{a}.{b}.{c}", f"v{a}.{b}.{c}", f"version {a}.{b}.{c}.{d}", f"{a}.{b}.{c}-rc.{d % 9}"]
    )


def _order(rng: random.Random) -> str:
    year = rng.randrange(2000, 2031)
    return rng.choice(
        [
            f"INV-{year}-{rng.randrange(100000):05d}",
            f"ORD-{rng.randrange(10**6):06d}",
            f"PO {rng.randrange(10**8):08d}",
            f"#{rng.randrange(10**7):07d}",
            f"SO-{year}/{rng.randrange(10**4):04d}",
        ]
    )


def _number_string(rng: random.Random) -> str:
    return _numbered(rng, rng.choice(["##-##-##", "###-##", "####/##", "#.###.###", "#,###,###", "## ## ##"]))


def _coordinates(fake: Faker) -> str:
    lat, lng = fake.latitude(), fake.longitude()
    return f"{lat:.6f}, {lng:.6f}"


NEAR: dict[str, tuple[str, Callable[[random.Random, Faker], str]]] = {
    "ean13": ("barcode", lambda r, f: f.ean13()),
    "ean8": ("barcode", lambda r, f: f.ean8()),
    "isbn10": ("ISBN", lambda r, f: f.isbn10()),
    "isbn13": ("ISBN", lambda r, f: f.isbn13()),
    "number_string": ("reference", lambda r, f: _number_string(r)),
    "date": ("date", lambda r, f: _when(r, _DATE_FORMATS)),
    "time": ("time", lambda r, f: _when(r, _TIME_FORMATS)),
    "price": ("price", _price),
    "version": ("release", lambda r, f: _version(r)),
    "order_number": ("order number", lambda r, f: _order(r)),
    "postcode": ("postcode", lambda r, f: f.postcode()),
    "building_number": ("house number", lambda r, f: f.building_number()),
    "hex_color": ("colour", lambda r, f: f.hex_color()),
    "uuid": ("request id", lambda r, f: f.uuid4()),
    "sha256": ("checksum", lambda r, f: f.sha256()),
    "coordinates": ("location", lambda r, f: _coordinates(f)),
    # A BIC names a bank's branch, not a person or an account: by itself it identifies nobody, so
    # it is not PII and must not be flagged (an IBAN, which does, is found on its own).
    "bic": ("BIC", lambda r, f: r.choice([f.swift8(), f.swift11()])),
    "lottery": ("winning numbers", lambda r, f: _lottery(r)),
}
# Families whose values depend on the locale: drawn in every locale, the rest in en_US.
NEAR_LOCAL = frozenset({"postcode", "building_number", "price"})


def near_misses(per_family: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for family, (label, make) in NEAR.items():
        locales = LOCALES if family in NEAR_LOCAL else ["en_US"]
        n = max(1, per_family // len(locales))
        for locale in locales:
            fake, rng = seeded(locale, "near/" + family)
            for _ in range(n):
                text, _, _ = sentence(rng, "near", label, make(rng, fake))
                out.append((family, text))
    return out


# --- scoring ----------------------------------------------------------------------------------------


def found(item: Item) -> bool:
    return any(f.kind in item.expect and f.start <= item.start and f.end >= item.end for f in find(item.text))


def _rate(hit: int, total: int) -> str:
    return f"{hit / total:.3f} ({hit}/{total})" if total else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-cell", type=int, default=30, help="values per locale and kind")
    ap.add_argument("--near", type=int, default=120, help="near misses per family (about)")
    args = ap.parse_args()

    items, dropped, skipped = positives(args.per_cell)
    by_kind: Counter[str] = Counter()
    hit_kind: Counter[str] = Counter()
    by_locale: Counter[str] = Counter()
    hit_locale: Counter[str] = Counter()
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    misses: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item in items:
        ok = found(item)
        kind = "id" if item.kind.startswith("id:") else item.kind
        by_kind[kind] += 1
        by_locale[item.locale] += 1
        cells[item.locale, item.kind][1] += 1
        if ok:
            hit_kind[kind] += 1
            hit_locale[item.locale] += 1
            cells[item.locale, item.kind][0] += 1
        else:
            misses[item.locale, item.kind].append(item.text[item.start : item.end])

    print(
        f"== Faker {faker.VERSION} locale providers, seed {SEED}, {args.per_cell} per locale and kind: "
        f"{len(items)} PII values in {len(LOCALES)} locales =="
    )
    print("(en_ZA is not a Faker locale: zu_ZA stands in for South Africa)")
    print("\n-- national ids kept when python-stdnum says valid; dropped per locale --")
    for locale in LOCALES:
        if dropped.get(locale):
            print(f"{locale:6}  " + "; ".join(dropped[locale]))
    print(f"\n-- left out: the locale only inherits the provider ({len(skipped)}) --")
    print(" ".join(skipped))

    print("\n-- recall per kind --")
    for kind in sorted(by_kind):
        print(f"{kind:8} {_rate(hit_kind[kind], by_kind[kind])}")
    print("\n-- recall per locale --")
    for locale in LOCALES:
        print(f"{locale:6} {_rate(hit_locale[locale], by_locale[locale])}")
    print("\n-- worst 20 locale x kind cells (with up to 3 values missed) --")
    worst = sorted(cells.items(), key=lambda kv: (kv[1][0] / kv[1][1], kv[0]))[:20]
    for (locale, kind), (hit, total) in worst:
        shown = ", ".join(repr(v) for v in misses[locale, kind][:3])
        print(f"{locale:6} {kind:20} {_rate(hit, total):18} {shown}")

    near = near_misses(args.near)
    print(f"\n-- near-miss false positives per family (anything found: PII or secret), {len(near)} --")
    fp_total = 0
    for family in NEAR:
        texts = [t for f, t in near if f == family]
        flagged = [(t, find(t)) for t in texts]
        flagged = [(t, fs) for t, fs in flagged if fs]
        fp_total += len(flagged)
        shown = "; ".join(f"{t[fs[0].start : fs[0].end]!r} as {fs[0].kind}" for t, fs in flagged[:3])
        print(f"{family:16} {_rate(len(flagged), len(texts)):18} {shown}")

    total_hit, total = sum(hit_kind.values()), sum(by_kind.values())
    print(
        f"\nsummary: PII recall {total_hit / total:.3f} ({total_hit}/{total}, goal >= 0.98); "
        f"near-miss false positives {fp_total / len(near):.1%} ({fp_total}/{len(near)}, goal <= 1%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
