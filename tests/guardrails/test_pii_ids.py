"""Issue 21's recognisers one by one: each national id found when its check digits hold, passed
over when one digit is wrong and when it only looks like one (a weak-check number without a word
naming it); the checksums agree with python-stdnum's on random numbers; and the new credential
forms found where they stand and not in their look-alikes."""

from __future__ import annotations

import random
import string

import pytest
from stdnum.au import tfn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.in_ import aadhaar

from sluice.guardrails import ids
from sluice.guardrails.pii import Kind, find, redact
from tests.guardrails.pii_samples import token

ALNUM = string.ascii_letters + string.digits


def found(text: str) -> list[tuple[Kind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find(text)]


def wrong(value: str) -> str:
    """``value`` with its last digit changed, so that its check fails."""
    i = max(i for i, c in enumerate(value) if c.isdigit())
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]


# (context, a valid value, a near miss: the same shape that is not one). A value with check
# digits fails with its last digit changed; SSNs and NINOs, which have none, by what they may not be.
INVALID = {
    "123 45 6789": "666 45 6789",
    "536904399": "536004399",
    "AB 12 34 56 C": "QQ 12 34 56 C",
    "JG103759A": "JG103759E",
}
IDS = [
    ("SSN {} on file", "123 45 6789", "order 123 45 67890"),
    ("social security number {}", "536904399", "order 536904399"),
    ("NI number {}", "AB 12 34 56 C", "model AB 12 34 56 E"),
    ("NINO {}", "JG103759A", "part QQ123456Z"),
    ("Steuer-ID {}", "86095742719", "ticket 86095742719"),
    ("Identifikationsnummer {}", "86 095 742 719", "Rechnung 86 095 742 718"),
    ("NIR {}", "269054958815780", "order 269054958815781"),
    ("n° SS {}", "2 69 05 49 588 157 80", "ref 2 69 05 49 588 157 81"),
    ("DNI {}", "12345678Z", "part 12345678A"),
    ("NIE {}", "X1234567L", "serial X1234567A"),
    ("codice fiscale {}", "RSSMRA85T10A562S", "code RSSMRA85T10A562A"),
    ("Aadhaar {}", "2345 6789 0124", "tracking 2345 6789 0124"),
    ("CPF {}", "529.982.247-25", "produto 529.982.247-26"),
    ("cpf {}", "52998224725", "pedido 52998224725"),
    ("SIN {}", "130 692 544", "part 130 692 544"),
    ("TFN {}", "123 456 782", "widget 123 456 782"),
    ("身份证 {}", "11010519491231002X", "batch 110105194912310021"),
]


@pytest.mark.parametrize(("context", "value", "near_miss"), IDS)
def test_each_national_id_is_found_with_its_check_and_context(
    context: str, value: str, near_miss: str
) -> None:
    kind = Kind.SSN if "SSN" in context or "social" in context else Kind.NATIONAL_ID
    assert found(context.format(value)) == [(kind, value)]
    invalid = INVALID.get(value) or wrong(value)
    assert found(context.format(invalid)) in ([], [(Kind.PHONE, invalid)])
    assert [k for k, _ in found(near_miss)] in ([], [Kind.PHONE])


def test_a_national_id_is_redacted_into_its_typed_placeholder() -> None:
    r = redact("CPF 529.982.247-25 and codice fiscale RSSMRA85T10A562S", reversible=True)
    assert r.text == "CPF [NATIONAL_ID_1] and codice fiscale [NATIONAL_ID_2]"
    assert r.restore(r.text) == "CPF 529.982.247-25 and codice fiscale RSSMRA85T10A562S"


@pytest.mark.parametrize(
    ("ours", "theirs", "digits", "first"),
    [
        (ids._steuer_id_ok, idnr.is_valid, 11, "123456789"),
        (ids._cpf_ok, cpf.is_valid, 11, string.digits),
        (ids._aadhaar_ok, aadhaar.is_valid, 12, "23456789"),
        (ids._nir_ok, nir.is_valid, 15, "12"),
        (ids._sin_ok, sin.is_valid, 9, string.digits),
        (ids._tfn_ok, tfn.is_valid, 9, string.digits),
    ],
)
def test_the_checksums_agree_with_python_stdnum(
    ours: object, theirs: object, digits: int, first: str
) -> None:
    rng = random.Random(21)
    numbers = [rng.choice(first) + "".join(rng.choices(string.digits, k=digits - 1)) for _ in range(20_000)]
    disagree = [n for n in numbers if ours(n) != theirs(n)]  # type: ignore[operator]
    assert not disagree
    assert sum(map(ours, numbers)) > 10  # type: ignore[arg-type]  # some valid ones were drawn


def test_the_resident_id_check_agrees_with_python_stdnum() -> None:
    rng = random.Random(21)
    for _ in range(2_000):
        stem = f"110105{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        good = stem + ric.calc_check_digit(stem + "0")
        assert ids._ric_ok(good)
        assert not ids._ric_ok(stem + ("0" if good[-1] != "0" else "1"))


@pytest.mark.parametrize(
    ("context", "value"),
    [
        ("aws_secret_access_key = {}", token("", 40, ALNUM + "/+")),
        ('"SecretAccessKey": "{}"', token("", 40, ALNUM + "/+")),
        ("AWS_SESSION_TOKEN={}", token("IQoJb3JpZ2luX2Vj", 240, ALNUM + "/+")),
        ("AccountName=x;AccountKey={};EndpointSuffix=core.windows.net", token("", 86, ALNUM + "/+") + "=="),
        ("?sv=2022-11-02&sp=r&sig={}", token("", 40, ALNUM) + "%3D"),
        ("hook {}", "https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/" + token("", 24)),
        ("SLACK_APP_TOKEN={}", token("xapp-1-A0", 60, "0123456789ABCDEF-")),
        ("refresh {}", token("xoxe.xoxp-1-", 140)),
        ("bot.run('{}')", token("MTA", 23) + "." + token("", 6) + "." + token("", 38)),
        ("TELEGRAM={}", "5123456789:AA" + token("", 33)),
        ("SENDGRID_API_KEY={}", "SG." + token("", 22) + "." + token("", 43)),
        ("twilio {}", token("SK", 32, "0123456789abcdef")),
        ("deploy token {}", token("gldt-", 20)),
        ("STRIPE_WEBHOOK_SECRET={}", token("whsec_", 32)),
    ],
)
def test_each_credential_form_is_found_as_an_api_key(context: str, value: str) -> None:
    assert found(context.format(value)) == [(Kind.API_KEY, value)]


@pytest.mark.parametrize(
    "text",
    [
        "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
        "api_key: YOUR_API_KEY_HERE",
        "AccountKey=<storage-account-key>",
        "https://hooks.slack.com/services/YOUR/WEBHOOK/URL",
        "request key: 6f1c2b3a-4d5e-4f60-8a9b-0c1d2e3f4a5b",
        "token = os.getenv('SLACK_BOT_TOKEN')",
        "the sig= parameter is added by the SDK",
        "primary key = user_id",
    ],
)
def test_credential_look_alikes_are_not_keys(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (Kind.PHONE, "Shanghai 139 8765 4321"),
        (Kind.PHONE, "Moscow 8 (495) 123-45-67"),
        (Kind.PHONE, "from the US 011 44 20 7946 0958"),
        (None, "Receipt 0042-000318-2205"),
        (None, "Lottery numbers 04 12 23 31 42 49"),
        (None, "NDC 0777-3105-02"),
    ],
)
def test_phone_formats_and_leading_zero_look_alikes(kind: Kind | None, text: str) -> None:
    assert [k for k, _ in found(text)] == ([kind] if kind else [])
