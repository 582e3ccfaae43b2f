"""PII and secrets detection: each detector finds its kind and passes over look-alikes, overlaps
keep the longer finding, and redaction numbers placeholders per kind and can put the originals back."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from sluice.guardrails import pii
from sluice.guardrails.pii import ALL, PII, SECRETS, Kind, find, redact
from tests.guardrails.pii_samples import NEAR_MISSES, POSITIVES, jwt, pem, token

AWS_EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"  # the example id in AWS's own documentation
HS256_JWT = jwt(b'{"alg":"HS256","typ":"JWT"}')


def found(text: str, kinds: frozenset[Kind] = ALL) -> list[tuple[Kind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find(text, kinds)]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Kind.EMAIL, "john.doe@example.com"),
        (Kind.EMAIL, "jane+billing@mail.example.co.uk"),
        (Kind.PHONE, "+44 20 7946 0958"),
        (Kind.PHONE, "+1 (415) 555-2671"),
        (Kind.PHONE, "(415) 555-2671"),
        (Kind.PHONE, "020 7946 0958"),
        (Kind.PHONE, "06 12 34 56 78"),
        (Kind.CARD, "4111 1111 1111 1111"),
        (Kind.CARD, "5555-5555-5555-4444"),
        (Kind.CARD, "378282246310005"),
        (Kind.SSN, "123-45-6789"),
        (Kind.IBAN, "DE89 3704 0044 0532 0130 00"),
        (Kind.IBAN, "DE89370400440532013000"),
        (Kind.IBAN, "GB29 NWBK 6016 1331 9268 19"),
        (Kind.IP, "192.168.1.10"),
        (Kind.IP, "2001:db8::8a2e:370:7334"),
        (Kind.IP, "fe80::1ff:fe23:4567:890a"),
        (Kind.API_KEY, token("sk-proj-", 64)),
        (Kind.API_KEY, token("sk-ant-api03-", 90)),
        (Kind.API_KEY, AWS_EXAMPLE_KEY_ID),
        (Kind.API_KEY, token("ghp_", 36)),
        (Kind.API_KEY, token("xoxb-", 40)),
        (Kind.API_KEY, token("AIza", 35)),
        (Kind.API_KEY, token("sk_" + "live_", 24)),
        (Kind.JWT, HS256_JWT),
        (Kind.PRIVATE_KEY, pem("RSA PRIVATE KEY")),
    ],
)
def test_each_detector_finds_its_kind(kind: Kind, value: str) -> None:
    assert found(f"see {value}, then") == [(kind, value)]


@pytest.mark.parametrize(
    "text",
    [
        "order ORD-2024-000123",
        "ISBN 978-3-16-148410-0",
        "logged at 2024-05-01 12:30:45",
        "unix time 1714566645 or 1714566645123",
        "request 550e8400-e29b-41d4-a716-446655440000",
        "md5 d41d8cd98f00b204e9800998ecf8427e, commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "card 4111 1111 1111 1112",  # Luhn fails
        "9999 9999 9999 9995",  # Luhn passes, but no issuer starts with 9
        "DE88 3704 0044 0532 0130 00",  # the checksum is 89
        "666-12-3456 and 123-00-4567 and 123-45-0000 and 912-34-5678",
        "999.1.1.1 and 1.2.3.4.5",
        "std::vector, a[1::2] and MAC 00:1A:2B:3C:4D:5E",
        "user@localhost, icon@2x.png and lodash@4.17.21",
        "Bearer of bad news; demo key sk-sluice-demo",
        "header only eyJhbGciOiJIUzI1NiJ9",
        pem("CERTIFICATE"),
    ],
)
def test_look_alikes_are_not_found(text: str) -> None:
    assert found(text) == []


def test_a_dotted_quad_after_a_version_marker_is_a_version_not_an_address() -> None:
    # The known ambiguity: "1.2.3.4" alone is a valid IPv4 address and is reported as one.
    assert found("v1.2.3.4, version 1.2.3.4, release 10.0.0.1, build: 2.0.0.1") == []
    assert found("host 1.2.3.4") == [(Kind.IP, "1.2.3.4")]


def test_a_jwt_needs_a_json_header_with_alg() -> None:
    assert found(jwt(b'{"typ":"JWT"}')) == []
    assert found(jwt(b'{"alg":"none"}', signature="")) == [(Kind.JWT, jwt(b'{"alg":"none"}', signature=""))]


def test_a_private_key_cut_off_before_its_end_line_is_found_to_the_end_of_its_body() -> None:
    key = pem("PRIVATE KEY", end=False).rstrip()
    assert found(f"{key}\n\nWhat is this?") == [(Kind.PRIVATE_KEY, key)]


def test_digits_that_follow_a_phone_or_surround_a_card_are_left_out() -> None:
    assert found("call +44 20 7946 0958 2024") == [(Kind.PHONE, "+44 20 7946 0958")]
    assert found("card 12 4111 1111 1111 1111 cvv 123") == [(Kind.CARD, "4111 1111 1111 1111")]


def test_overlapping_findings_keep_the_longer_one() -> None:
    # The IPv4 tail of a mapped IPv6 address, an email inside a key block.
    assert found("mapped ::ffff:192.0.2.128 here") == [(Kind.IP, "::ffff:192.0.2.128")]
    block = pem("RSA PRIVATE KEY").replace("\n", "\nops@example.com\n", 1)
    assert found(block) == [(Kind.PRIVATE_KEY, block)]


def test_equal_spans_keep_the_more_specific_kind() -> None:
    # After "Bearer" the token is an API key, unless it is a JWT.
    assert found(f"Authorization: Bearer {HS256_JWT}") == [(Kind.JWT, HS256_JWT)]


def test_findings_are_in_order_and_do_not_overlap() -> None:
    text = f"{AWS_EXAMPLE_KEY_ID} a@example.com 10.0.0.1 +1 415 555 2671 123-45-6789 {HS256_JWT}"
    findings = find(text)
    assert [f.kind for f in findings] == [Kind.API_KEY, Kind.EMAIL, Kind.IP, Kind.PHONE, Kind.SSN, Kind.JWT]
    assert all(a.end <= b.start for a, b in pairwise(findings))


def test_kinds_select_what_is_found() -> None:
    text = f"mail a@example.com, key {AWS_EXAMPLE_KEY_ID}"
    assert found(text, PII) == [(Kind.EMAIL, "a@example.com")]
    assert found(text, SECRETS) == [(Kind.API_KEY, AWS_EXAMPLE_KEY_ID)]
    assert redact(text, kinds={Kind.API_KEY}).text == "mail a@example.com, key [API_KEY_1]"


def test_placeholders_are_numbered_per_kind_and_repeat_for_the_same_value() -> None:
    r = redact("a@example.com, b@example.com, 4111 1111 1111 1111, again a@example.com")
    assert r.text == "[EMAIL_1], [EMAIL_2], [CARD_1], again [EMAIL_1]"
    assert r.findings == {Kind.EMAIL: 3, Kind.CARD: 1}
    assert r.originals == {}


def test_reversible_redaction_restores_the_originals() -> None:
    text = "Write to jürgen@example.de or call +49 30 12345678; my IBAN is DE89 3704 0044 0532 0130 00."
    r = redact(text, reversible=True)
    assert r.text == "Write to [EMAIL_1] or call [PHONE_1]; my IBAN is [IBAN_1]."
    assert r.originals == {
        "[EMAIL_1]": "jürgen@example.de",
        "[PHONE_1]": "+49 30 12345678",
        "[IBAN_1]": "DE89 3704 0044 0532 0130 00",
    }
    assert r.restore(r.text) == text
    # An answer quotes placeholders in its own order; unknown ones stay as they are.
    assert r.restore("Sent to [EMAIL_1], not [EMAIL_7]; [PHONE_1] noted.") == (
        "Sent to jürgen@example.de, not [EMAIL_7]; +49 30 12345678 noted."
    )


def test_restore_without_originals_changes_nothing() -> None:
    r = redact("a@example.com")
    assert r.restore("[EMAIL_1]") == "[EMAIL_1]"


def test_a_placeholder_already_in_the_text_is_not_handed_out() -> None:
    text = "[EMAIL_1] is what I wrote; my address is a@example.com"
    r = redact(text, reversible=True)
    assert r.text == "[EMAIL_1] is what I wrote; my address is [EMAIL_2]"
    assert r.restore(r.text) == text


def test_a_text_without_findings_comes_back_as_it_was() -> None:
    text = "Version 1.8.0 shipped on 2024-05-01 at 12:30; 3 regions, 12 models, p99 250 ms."
    assert redact(text) == redact(text, reversible=True)
    assert redact(text).text is text
    assert redact(text).findings == {}


def test_offsets_count_characters_in_unicode_text() -> None:
    text = "Привет 👋 — 电话：+86 138 0013 8000，邮件 иван@пример.рф 🙂 карта 4111 1111 1111 1111"  # noqa: RUF001
    assert found(text) == [
        (Kind.PHONE, "+86 138 0013 8000"),
        (Kind.EMAIL, "иван@пример.рф"),
        (Kind.CARD, "4111 1111 1111 1111"),
    ]
    r = redact(text, reversible=True)
    assert r.text == "Привет 👋 — 电话：[PHONE_1]，邮件 [EMAIL_1] 🙂 карта [CARD_1]"  # noqa: RUF001
    assert r.restore(r.text) == text


# The samples the detector gets wrong, pinned so that a change in either direction shows here
# (bench/pii_eval.py prints the rates). Positives by their text around the value, near misses whole.
KNOWN_MISSES = {
    "The ticket was opened by {} at 09:14.",  # an apostrophe in the local part: only "brien@..." is found
    "git clone https://{}@github.com/acme/api.git",  # the token is found, as the local part of an EMAIL
}
KNOWN_FALSE_POSITIVES = {
    "Bumped protobuf to 4.25.3.1 in requirements.txt",  # a dotted quad with nothing version-like before it
}
STRUCTURED = frozenset({Kind.CARD, Kind.SSN, Kind.NATIONAL_ID, Kind.IBAN, Kind.EMAIL, Kind.PHONE, Kind.IP})


def test_the_sample_set_recall_and_false_positive_rate() -> None:
    assert len(POSITIVES) >= 220 and len(NEAR_MISSES) >= 220
    misses = [p for p in POSITIVES if (p.kind, p.value) not in found(p.full_text)]
    false_positives = [(n, found(n.text)) for n in NEAR_MISSES if found(n.text)]
    structured = [p for p in POSITIVES if p.kind in STRUCTURED]
    recall = 1 - sum(p.kind in STRUCTURED for p in misses) / len(structured)
    report = "\n".join(
        [f"structured recall {recall:.3f}, false-positive rate {len(false_positives) / len(NEAR_MISSES):.3f}"]
        + [f"missed {p.kind}: {p.value!r} in {p.full_text!r}" for p in misses]
        + [f"found {hits} in near miss {n.text!r}" for n, hits in false_positives]
    )
    assert recall >= 0.98, report
    assert {p.text for p in misses} == KNOWN_MISSES, report
    assert {n.text for n, _ in false_positives} == KNOWN_FALSE_POSITIVES, report
    # The target: at most 1% of near misses flagged.
    assert len(false_positives) / len(NEAR_MISSES) <= 0.01, report


# --- the prefilter ---------------------------------------------------------------------------------

SAMPLE_TEXTS = [p.full_text for p in POSITIVES] + [n.text for n in NEAR_MISSES]


def test_every_finding_of_the_sample_set_holds_its_evidence_in_its_own_span() -> None:
    """What makes skipping ``find`` on a text without evidence safe, per finding: a detector
    whose findings can lack a digit, an ``@`` or a stem must add its evidence to ``_EVIDENCE``."""
    checked = 0
    for text in SAMPLE_TEXTS:
        for f in find(text):
            assert pii.may_hold(text[f.start : f.end]), (f, text)
            checked += 1
    assert checked >= len(POSITIVES)


def test_find_with_and_without_the_prefilter_agree_on_the_sample_set(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(14)
    texts = SAMPLE_TEXTS + [
        text[i:j] for text in SAMPLE_TEXTS for i, j in [sorted(rng.sample(range(len(text) + 1), 2))]
    ]
    filtered = [find(text, kinds) for text in texts for kinds in (ALL, PII, SECRETS)]
    skipped = sum(not pii.may_hold(text) for text in texts)
    monkeypatch.setattr(pii, "may_hold", lambda text: True)
    assert [find(text, kinds) for text in texts for kinds in (ALL, PII, SECRETS)] == filtered
    assert skipped >= 50  # the near misses without digits, and pieces of the samples


def test_prose_without_digits_at_signs_or_stems_is_skipped() -> None:
    assert not pii.may_hold("Hello there! This is a mock response from the benchmark upstream.\n")
    assert not pii.may_hold("Bearer tokens and -----END lines alone are no evidence; eyj neither.")
    for evidence in ("a@b", "ey eyJhbG", "x -----BEGIN RSA", "v1", "٣ and 3"):
        assert pii.may_hold(evidence), evidence
