"""A labelled sample set for the PII detector: positives (a text, the kind and the exact value
that must be found in it) and near misses (texts that resemble a kind, in which nothing may be
found). Secrets are assembled at import from a seeded generator, so that no secret scanner
mistakes this file for a leak.
"""

from __future__ import annotations

import base64
import random
from typing import NamedTuple

from sluice.guardrails.pii import Kind

_rng = random.Random(20240501)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def token(prefix: str, length: int, alphabet: str = _ALNUM) -> str:
    """``prefix`` and ``length`` random characters, with a digit among them."""
    body = "".join(_rng.choice(alphabet) for _ in range(length - 1))
    return prefix + body + _rng.choice("0123456789")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header: bytes, signature: str | None = None) -> str:
    payload = b64url(b'{"sub":"1234567890","name":"Ada"}')
    return f"{b64url(header)}.{payload}.{token('', 43, _ALNUM + '-_') if signature is None else signature}"


def pem(label: str, lines: int = 4, end: bool = True) -> str:
    body = "\n".join(token("", 64, _ALNUM + "+/") for _ in range(lines))
    block = f"-----BEGIN {label}-----\n{body}\n"
    return block + (f"-----END {label}-----" if end else "")


class Positive(NamedTuple):
    kind: Kind
    text: str  # "{}" marks where the value goes
    value: str

    @property
    def full_text(self) -> str:
        return self.text.replace("{}", self.value)


class NearMiss(NamedTuple):
    resembles: Kind
    text: str


P = Positive
POSITIVES = [
    P(Kind.EMAIL, "Contact {} for access.", "john.doe@example.com"),
    P(Kind.EMAIL, "cc: {}", "jane+billing@mail.corp.example.co.uk"),
    P(Kind.EMAIL, "Reply to <{}>.", "Support-Team@Example.ORG"),
    P(Kind.EMAIL, "mailto:{}?subject=hi", "ops_oncall@acme-widgets.io"),
    P(Kind.EMAIL, "Schreiben Sie an {}.", "jürgen.müller@beispiel.de"),
    P(Kind.EMAIL, "Пишите на {} пожалуйста", "иван@пример.рф"),
    P(Kind.EMAIL, "(email: {})", "a.b.c.d@sub.domain.example"),
    P(Kind.EMAIL, "Sent by {}, 3 days ago", "x_y-z%tag@example.net"),
    P(Kind.EMAIL, "author={}", "maintainer@python.org"),
    P(Kind.EMAIL, "電子メール：{}", "tanaka@example.jp"),  # noqa: RUF001 (Japanese punctuation)
    P(Kind.PHONE, "Call {} now.", "+44 20 7946 0958"),
    P(Kind.PHONE, "Phone: {}", "+1 (415) 555-2671"),
    P(Kind.PHONE, "tel {}", "+1-415-555-2671"),
    P(Kind.PHONE, "WhatsApp {}", "+14155552671"),
    P(Kind.PHONE, "Berlin office {}", "+49 30 12345678"),
    P(Kind.PHONE, "portable : {}", "+33 6 12 34 56 78"),
    P(Kind.PHONE, "Tokyo {}", "+81 3-1234-5678"),
    P(Kind.PHONE, "mobile {}", "+91 98765 43210"),
    P(Kind.PHONE, "Sydney {}", "+61 2 9876 5432"),
    P(Kind.PHONE, "UK {} (switchboard)", "+44 (0)20 7946 0958"),
    P(Kind.PHONE, "Call me at {}.", "(415) 555-2671"),
    P(Kind.PHONE, "cell: {}", "415-555-2671"),
    P(Kind.PHONE, "fax {}", "415.555.2671"),
    P(Kind.PHONE, "Toll free {}", "1-800-555-0199"),
    P(Kind.PHONE, "London {}", "020 7946 0958"),
    P(Kind.PHONE, "Appelez le {}", "06 12 34 56 78"),
    P(Kind.PHONE, "Telefon {}", "030 1234567"),
    P(Kind.PHONE, "携帯 {}", "090-1234-5678"),
    P(Kind.PHONE, "ring {}", "(02) 9876 5432"),
    P(Kind.PHONE, "São Paulo {}", "(11) 91234-5678"),
    P(Kind.PHONE, "mobile {}", "07700 900123"),
    P(Kind.CARD, "Visa {} exp 12/27", "4111 1111 1111 1111"),
    P(Kind.CARD, "card={}", "4111-1111-1111-1111"),
    P(Kind.CARD, "Mastercard {}.", "5555555555554444"),
    P(Kind.CARD, "Amex {}", "3782 822463 10005"),
    P(Kind.CARD, "Discover {}", "6011 1111 1111 1117"),
    P(Kind.CARD, "JCB {}", "3530 1113 3330 0000"),
    P(Kind.CARD, "Diners {}", "30569309025904"),
    P(Kind.CARD, "new Mastercard range {}", "2223 0031 2200 3222"),
    P(Kind.CARD, "UnionPay {}", "6200000000000005"),
    P(Kind.CARD, "card {} cvv 123", "4012 8888 8888 1881"),
    P(Kind.CARD, "Order 12 paid with {} today", "5105 1051 0510 5100"),
    P(Kind.SSN, "SSN {}", "123-45-6789"),
    P(Kind.SSN, "social security number: {}.", "078-05-1120"),
    P(Kind.SSN, "ssn={}", "536-90-4399"),
    P(Kind.SSN, "Employee SSN {} on file", "219-09-9999"),
    P(Kind.SSN, "({})", "001-01-0001"),
    P(Kind.IBAN, "IBAN: {}", "DE89 3704 0044 0532 0130 00"),
    P(Kind.IBAN, "Pay to {} by Friday.", "GB29 NWBK 6016 1331 9268 19"),
    P(Kind.IBAN, "RIB {}", "FR14 2004 1010 0505 0001 3M02 606"),
    P(Kind.IBAN, "rekening {}", "NL91ABNA0417164300"),
    P(Kind.IBAN, "cuenta {}", "ES91 2100 0418 4502 0005 1332"),
    P(Kind.IBAN, "Konto {}", "CH93 0076 2011 6238 5295 7"),
    P(Kind.IBAN, "conto {}", "IT60 X054 2811 1010 0000 0123 456"),
    P(Kind.IBAN, "konto {}", "NO93 8601 1117 947"),
    P(Kind.IBAN, "rachunek {}", "PL61 1090 1014 0000 0712 1981 2874"),
    P(Kind.IBAN, "iban={}&amount=10", "GB82WEST12345698765432"),
    P(Kind.IP, "client {} connected", "192.168.1.10"),
    P(Kind.IP, "dns {}", "8.8.8.8"),
    P(Kind.IP, "listening on {}:8080", "203.0.113.42"),
    P(Kind.IP, "netmask {}", "255.255.255.0"),
    P(Kind.IP, "route {}/24 via gw", "10.20.30.0"),
    P(Kind.IP, "ipv6 {} up", "2001:db8::8a2e:370:7334"),
    P(Kind.IP, "addr {}", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    P(Kind.IP, "link-local {}%eth0", "fe80::1ff:fe23:4567:890a"),
    P(Kind.IP, "https://[{}]:443/", "2001:db8::1"),
    P(Kind.IP, "mapped {}", "::ffff:192.0.2.128"),
    P(Kind.API_KEY, "OPENAI_API_KEY={}", token("sk-proj-", 64, _ALNUM + "-_")),
    P(Kind.API_KEY, "key: {}", token("sk-", 48)),
    P(Kind.API_KEY, 'x-api-key: "{}"', token("sk-ant-api03-", 95, _ALNUM + "-_")),
    P(Kind.API_KEY, "aws_access_key_id = {}", "AKIAIOSFODNN7EXAMPLE"),
    P(Kind.API_KEY, "temporary id {}", token("ASIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
    P(Kind.API_KEY, "GITHUB_TOKEN={}", token("ghp_", 36)),
    P(Kind.API_KEY, "token {}", token("github_pat_", 82, _ALNUM + "_")),
    P(Kind.API_KEY, "SLACK_BOT_TOKEN={}", token("xoxb-", 50, "0123456789-abcdefghijklmnopqrstuvwxyz")),
    P(Kind.API_KEY, "maps key {}", token("AIza", 35, _ALNUM + "-_")),
    P(Kind.API_KEY, "stripe {}", token("sk_" + "live_", 24)),
    P(Kind.API_KEY, "restricted {}", token("rk_" + "live_", 24)),
    P(Kind.API_KEY, "Authorization: Bearer {}", token("", 40, _ALNUM + "._-")),
    P(Kind.API_KEY, "HF_TOKEN={}", token("hf_", 34)),
    P(Kind.API_KEY, "gitlab {}", token("glpat-", 20)),
    P(Kind.JWT, "token={}", jwt(b'{"alg":"HS256","typ":"JWT"}')),
    P(Kind.JWT, "Authorization: Bearer {}", jwt(b'{"alg":"RS256","kid":"k1"}')),
    P(Kind.JWT, "unsigned {} ok", jwt(b'{"alg":"none"}', signature="")),
    P(Kind.JWT, "cookie session={}; Path=/", jwt(b'{"typ":"JWT","alg":"ES256"}')),
    P(Kind.PRIVATE_KEY, "key:\n{}\nthanks", pem("RSA PRIVATE KEY")),
    P(Kind.PRIVATE_KEY, "{}", pem("OPENSSH PRIVATE KEY")),
    P(Kind.PRIVATE_KEY, "id:\n{}", pem("EC PRIVATE KEY", lines=2)),
    P(Kind.PRIVATE_KEY, "{}\n", pem("ENCRYPTED PRIVATE KEY")),
    P(Kind.PRIVATE_KEY, "gpg:\n{}", pem("PGP PRIVATE KEY BLOCK")),
    P(Kind.PRIVATE_KEY, "pasted, cut off:\n{}", pem("PRIVATE KEY", lines=3, end=False).rstrip()),
]

N = NearMiss
NEAR_MISSES = [
    N(Kind.EMAIL, "Thanks @username for the review"),
    N(Kind.EMAIL, "ssh to user@localhost"),
    N(Kind.EMAIL, "the retina asset icon@2x.png"),
    N(Kind.EMAIL, "npm install lodash@4.17.21"),
    N(Kind.EMAIL, "write to name at example dot com"),
    N(Kind.EMAIL, "@app.route('/health')"),
    N(Kind.EMAIL, "foo@bar is not an address"),
    N(Kind.EMAIL, "a@b.c has a one-letter TLD"),
    N(Kind.PHONE, "Order ORD-2024-000123 shipped"),
    N(Kind.PHONE, "order #000123456 confirmed"),
    N(Kind.PHONE, "invoice INV-2023-0042-77"),
    N(Kind.PHONE, "ISBN 978-3-16-148410-0"),
    N(Kind.PHONE, "ISBN 0-306-40615-2"),
    N(Kind.PHONE, "logged at 2024-05-01 12:30:45"),
    N(Kind.PHONE, "on 01.05.2024 10:30 we met"),
    N(Kind.PHONE, "due 05/01/2024 08:15"),
    N(Kind.PHONE, "unix time 1714566645"),
    N(Kind.PHONE, "account 123456789012"),
    N(Kind.PHONE, "ext. 4567"),
    N(Kind.PHONE, "5,000,000 users and 1 234 567 sessions"),
    N(Kind.PHONE, "ZIP 94105-1234"),
    N(Kind.PHONE, "up +15% since 2023"),
    N(Kind.PHONE, "coordinates 51.5074, -0.1278"),
    N(Kind.PHONE, "price 1.234.567,89 EUR"),
    N(Kind.PHONE, "steps 1-2-3-4-5-6-7-8"),
    N(Kind.CARD, "card 4111 1111 1111 1112 fails Luhn"),
    N(Kind.CARD, "number 5555555555554445"),
    N(Kind.CARD, "1234 5678 9012 3456"),
    N(Kind.CARD, "9999 9999 9999 9995 has no issuer"),
    N(Kind.CARD, "tracking 1Z999AA10123456784"),
    N(Kind.CARD, "unix ms 1714566645123"),
    N(Kind.CARD, "ISBN-13: 9780306406157"),
    N(Kind.CARD, "serial 4111111111111111111111"),
    N(Kind.CARD, "values 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
    N(Kind.SSN, "000-12-3456"),
    N(Kind.SSN, "666-12-3456"),
    N(Kind.SSN, "912-34-5678"),
    N(Kind.SSN, "123-00-4567"),
    N(Kind.SSN, "123-45-0000"),
    N(Kind.SSN, "part no. 123-45-67890"),
    N(Kind.IBAN, "DE88 3704 0044 0532 0130 00 (bad checksum)"),
    N(Kind.IBAN, "GB28 NWBK 6016 1331 9268 19"),
    N(Kind.IBAN, "DE89 3704 0044 0532 0130 is too short"),
    N(Kind.IBAN, "ZZ89 3704 0044 0532 0130 00"),
    N(Kind.IBAN, "NL91ABNA04171643001 is too long"),
    N(Kind.IBAN, "COVID19 and HS256 and GPT4o"),
    N(Kind.IP, "v1.2.3.4"),
    N(Kind.IP, "version 1.2.3.4"),
    N(Kind.IP, "Release 2.10.0.1 is out"),
    N(Kind.IP, "build 10.0.19041.1"),
    N(Kind.IP, "999.1.1.1"),
    N(Kind.IP, "192.168.1.256"),
    N(Kind.IP, "1.2.3.4.5"),
    N(Kind.IP, "std::vector<int> v;"),
    N(Kind.IP, "a[1::2] and a[::2]"),
    N(Kind.IP, "MAC 00:1A:2B:3C:4D:5E"),
    N(Kind.IP, "at 12:30:45 sharp"),
    N(Kind.IP, "Foo::Bar::baz()"),
    N(Kind.IP, "ratio 3:2:1"),
    N(Kind.API_KEY, "demo key sk-sluice-demo"),
    N(Kind.API_KEY, "pip install sk-learn-pipeline-example"),
    N(Kind.API_KEY, "the prefix AKIA alone, or AKIAEXAMPLE"),
    N(Kind.API_KEY, "ghp_short and xoxb- and AIzaSy"),
    N(Kind.API_KEY, "Bearer of bad news"),
    N(Kind.API_KEY, "Authorization: Bearer YOUR_TOKEN_GOES_HERE_PLEASE"),
    N(Kind.API_KEY, "Authorization: Bearer $OPENAI_API_KEY"),
    N(Kind.API_KEY, "max_tokens_per_minute_per_tenant_limit"),
    N(Kind.API_KEY, "class AbstractSingletonProxyFactoryBean2"),
    N(Kind.JWT, "header only eyJhbGciOiJIUzI1NiJ9"),
    N(Kind.JWT, "no alg " + jwt(b'{"typ":"JWT","kid":"k1"}')),
    N(Kind.JWT, "not json eyJub3QganNvbiBhdCBhbGw.eyJzdWIiOiJ4In0.c2ln"),
    N(Kind.JWT, "a.b.c and www.example.com"),
    N(Kind.PRIVATE_KEY, pem("CERTIFICATE")),
    N(Kind.PRIVATE_KEY, pem("PUBLIC KEY")),
    N(Kind.PRIVATE_KEY, "the words PRIVATE KEY in a sentence"),
    N(Kind.IP, "UUID 550e8400-e29b-41d4-a716-446655440000"),
    N(Kind.PHONE, "UUID 123e4567-e89b-12d3-a456-426614174000"),
    N(Kind.PHONE, "nil UUID 00000000-0000-0000-0000-000000000000"),
    N(Kind.API_KEY, "md5 d41d8cd98f00b204e9800998ecf8427e"),
    N(Kind.CARD, "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    N(Kind.API_KEY, "commit 3f786850e387550fdab836ed7e6dc881de23001b"),
    N(Kind.PHONE, "short sha a1b2c3d and 2024-05-01T12:30:45+02:00"),
    N(Kind.PHONE, "2024-05-01T12:30:45.123Z"),
    N(Kind.PHONE, "Meeting in room 101 at 3:30, answer 42."),
    N(Kind.PHONE, "Σ = 1.234 и 5.678 — 日本 2024年5月1日"),
]
