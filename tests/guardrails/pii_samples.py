"""A labelled sample set for the PII detector: positives (a text, the kind and the exact value
that must be found in it) and near misses (texts that resemble a kind, in which nothing may be
found). Secrets are assembled at import from a seeded generator, so that no secret scanner
mistakes this file for a leak.
"""

from __future__ import annotations

import base64
import random
import string
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


def jwt(
    header: bytes, signature: str | None = None, claims: bytes = b'{"sub":"1234567890","name":"Ada"}'
) -> str:
    payload = b64url(claims)
    return f"{b64url(header)}.{payload}.{token('', 43, _ALNUM + '-_') if signature is None else signature}"


def pem(label: str, lines: int = 4, end: bool = True) -> str:
    body = "\n".join(token("", 64, _ALNUM + "+/") for _ in range(lines))
    block = f"-----BEGIN {label}-----\n{body}\n"
    return block + (f"-----END {label}-----" if end else "")


def luhn(number: str) -> str:
    """``number`` (digits with spaces or dashes) with its Luhn check digit appended."""
    digits = [int(c) for c in reversed(number) if c.isdigit()]
    total = sum(d if i % 2 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return number + str(-total % 10)


_IBAN_DIGITS = {ord(c): str(i) for i, c in enumerate(string.ascii_uppercase, 10)}


def iban(country: str, bban: str, spaced: bool = True) -> str:
    """The IBAN of ``bban`` in ``country`` with its mod-97 check digits, in print format or compact."""
    check = 98 - int((bban + country + "00").translate(_IBAN_DIGITS)) % 97
    compact = f"{country}{check:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if spaced else compact


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
    # --- grown for the per-family eval (bench/pii_eval.py) ---
    P(
        Kind.EMAIL,
        "Hi team, please add {} to the billing distribution list.",
        "maria.garcia@northwind-traders.com",
    ),
    P(Kind.EMAIL, 'From: "Priya Natarajan" <{}>', "priya.n@infosys.example.in"),
    P(Kind.EMAIL, '{"user": {"email": "{}", "role": "admin"}}', "k.oconnor@fastmail.fm"),
    P(
        Kind.EMAIL,
        "If the export fails again, escalate to {}, who owns the pipeline.",
        "data-platform@corp.example.com",
    ),
    P(Kind.EMAIL, "My Gmail is {} if Slack is down.", "tom.h.1987@gmail.com"),
    P(Kind.EMAIL, "Refund request from {} (order 5561)", "chen_wei2020@qq.com"),
    P(Kind.EMAIL, "git config user.email {}", "dev+github@lukasz.dev"),
    P(Kind.EMAIL, "Author: Sam Lee <{}>\nDate: Tue May 7", "sam.lee@users.noreply.github.com"),
    P(Kind.EMAIL, "Please summarise the complaint sent by {} yesterday.", "angry.customer@hotmail.co.uk"),
    P(Kind.EMAIL, "EMAIL;TYPE=work:{}", "r.santos@empresa.com.br"),
    P(Kind.EMAIL, "The reviewer ({}) asked for another round.", "editor@journal.photography"),
    P(Kind.EMAIL, "contact_email = '{}'", "security@startup.ai"),
    P(Kind.EMAIL, "Forwarded message from {}:", "noreply@accounts.example-bank.com"),
    P(Kind.EMAIL, "Send the NDA to {}; she signs for legal.", "ELLEN.PARK@LAWFIRM.COM"),
    P(Kind.EMAIL, "Student {} missed the deadline.", "s1234567@student.uni-example.edu"),
    P(Kind.EMAIL, "Kontakt: {}", "anna.kowalska@firma.pl"),
    P(Kind.EMAIL, "Owner:{}", "j.smith@example.org"),
    P(Kind.EMAIL, "To unsubscribe, mail {}.", "unsubscribe-7781@lists.example.net"),
    P(Kind.EMAIL, "The ticket was opened by {} at 09:14.", "o'brien@example.ie"),
    P(Kind.EMAIL, "Escribe a {} para soporte.", "soporte.tecnico@tienda.es"),
    P(Kind.EMAIL, "Reach the author at {}", "firstname.lastname@subdomain.department.university.ac.uk"),
    P(Kind.EMAIL, "| Alice Wong | {} | Sales |", "alice.wong@acme.co"),
    P(Kind.EMAIL, "phone and email: 555-0100, {}", "bob@example.com"),
    P(Kind.EMAIL, "Can you draft a reply to {} about the delay?", "purchasing@wholesale-foods.com.au"),
    P(Kind.PHONE, "Our Madrid desk answers on {}.", "+34 912 345 678"),
    P(Kind.PHONE, "Ring the Rome office: {}", "+39 06 6982 1234"),
    P(Kind.PHONE, "Amsterdam HQ {}", "+31 20 123 4567"),
    P(Kind.PHONE, "Zürich reception {}", "+41 44 668 18 00"),
    P(Kind.PHONE, "Stockholm support {}", "+46 8 123 456 78"),
    P(Kind.PHONE, "Oslo: {}", "+47 22 12 34 56"),
    P(Kind.PHONE, "Copenhagen {}", "+45 32 12 34 56"),
    P(Kind.PHONE, "Warszawa, tel. {}", "+48 22 123 45 67"),
    P(Kind.PHONE, "Dublin {}", "+353 1 234 5678"),
    P(Kind.PHONE, "Lisboa {}", "+351 21 123 4567"),
    P(Kind.PHONE, "Vienna {}", "+43 1 234567890"),
    P(Kind.PHONE, "Brussels {}", "+32 2 123 45 67"),
    P(Kind.PHONE, "Mexico City {}", "+52 55 1234 5678"),
    P(Kind.PHONE, "Buenos Aires celular {}", "+54 9 11 1234-5678"),
    P(Kind.PHONE, "Beijing mobile {}", "+86 138 0013 8000"),
    P(Kind.PHONE, "Seoul {}", "+82 2-312-3456"),
    P(Kind.PHONE, "Singapore {}", "+65 6123 4567"),
    P(Kind.PHONE, "Hong Kong {}", "+852 2123 4567"),
    P(Kind.PHONE, "Auckland {}", "+64 9 123 4567"),
    P(Kind.PHONE, "Cape Town {}", "+27 21 123 4567"),
    P(Kind.PHONE, "Lagos {}", "+234 803 123 4567"),
    P(Kind.PHONE, "Nairobi M-Pesa number {}", "+254 712 345678"),
    P(Kind.PHONE, "Cairo {}", "+20 2 2345 6789"),
    P(Kind.PHONE, "Tel Aviv {}", "+972 3-123-4567"),
    P(Kind.PHONE, "Dubai {}", "+971 4 123 4567"),
    P(Kind.PHONE, "Istanbul {}", "+90 212 123 45 67"),
    P(Kind.PHONE, "Moscow {}", "+7 495 123-45-67"),
    P(Kind.PHONE, "Kyiv {}", "+380 44 123 4567"),
    P(Kind.PHONE, "Paris standard {}", "+33 1.23.45.67.89"),
    P(Kind.PHONE, "From abroad dial {}", "0044 20 7946 0958"),
    P(Kind.PHONE, "Manila {}", "+63 2 8123 4567"),
    P(Kind.PHONE, "Jakarta {}", "+62 21 2345 6789"),
    P(Kind.PHONE, "New York: {}", "+1 212 555 0143"),
    P(Kind.PHONE, "Text me on {} after 6pm", "(646) 555-0187"),
    P(Kind.PHONE, "Customer callback number: {}.", "312-555-0199"),
    P(Kind.PHONE, "Bitte rufen Sie {} an.", "089 12345678"),
    P(Kind.PHONE, "Numero verde {}", "02 1234 5678"),
    P(Kind.PHONE, "My landline is {} (Leeds).", "0113 496 0000"),
    P(Kind.CARD, "Please charge the deposit to my Visa {}, expiry 09/26.", luhn("4539 1488 0343 646")),
    P(Kind.CARD, "CC# {}", luhn("4916-3385-0608-283")),
    P(Kind.CARD, "The old 13-digit Visa {} was declined.", luhn("422222222222")),
    P(Kind.CARD, "Visa ending 19 digits: {}", luhn("4556 7375 8689 9855 44")),
    P(Kind.CARD, "Mastercard {} CVC 321", luhn("5425 2334 3010 910")),
    P(Kind.CARD, "payment_method: card {}", luhn("520082828282821")),
    P(Kind.CARD, "Mastercard (2-series) {}", luhn("2720 9927 8341 062")),
    P(Kind.CARD, "Amex corporate {}", luhn("3714 496353 9843")),
    P(Kind.CARD, "AMEX: {}", luhn("34000000000000")),
    P(Kind.CARD, "Diners Club International {}", luhn("3622 720627 166")),
    P(Kind.CARD, "Carte Blanche {}", luhn("3000 000000 000")),
    P(Kind.CARD, "JCB card no. {}", luhn("3566-0020-2036-050")),
    P(Kind.CARD, "Discover {} exp 11/25", luhn("6011 0009 9013 942")),
    P(Kind.CARD, "Discover (65) {}", luhn("6500 0000 0000 000")),
    P(Kind.CARD, "银联卡 {}", luhn("6222 0212 3456 7890 12")),
    P(Kind.CARD, "Maestro {}", luhn("6759 6498 2643 860")),
    P(Kind.CARD, "Mir {}", luhn("2200 1234 5678 901")),
    P(Kind.CARD, "I paid with {} but got charged twice", luhn("402400719896430")),
    P(Kind.CARD, "card number:{}", luhn("510510510510510")),
    P(Kind.CARD, "numéro de carte {}", luhn("4970 1012 3456 789")),
    P(Kind.CARD, "Tarjeta {} vence 03/28", luhn("4000 0566 5566 555")),
    P(Kind.CARD, '"pan": "{}"', luhn("424242424242424")),
    P(Kind.CARD, "Kreditkarte {}", luhn("5232 1234 5678 901")),
    P(Kind.SSN, "Applicant SSN: {}", "234-56-7890"),
    P(Kind.SSN, "Her social is {}, please verify.", "457-55-5462"),
    P(Kind.SSN, "W-2 employee SSN {} box a", "321-54-9876"),
    P(Kind.SSN, "SSN {}; DOB 1984-03-12", "612-34-8765"),
    P(Kind.SSN, '"ssn": "{}"', "409-52-2002"),
    P(Kind.SSN, "taxpayer id {} on the 1040", "545-12-3456"),
    P(Kind.SSN, "Social Security No. {}", "702-11-2468"),
    P(Kind.SSN, "My SSN is {} and my card was stolen", "188-22-4411"),
    P(Kind.SSN, "SSN:{}", "899-01-1234"),
    P(Kind.SSN, "patient ssn {}, insurer Aetna", "050-72-9311"),
    P(Kind.SSN, "ssn {}", "123 45 6789"),
    P(Kind.IBAN, "Überweisung an {} (Sparkasse)", iban("DE", "500105175407324931")),
    P(Kind.IBAN, "BE IBAN {}", iban("BE", "539007547034")),
    P(Kind.IBAN, "IBAN AT: {}", iban("AT", "1904300234573201")),
    P(Kind.IBAN, "Swedish account {}", iban("SE", "50000000058398257466")),
    P(Kind.IBAN, "Danish IBAN {}", iban("DK", "00400440116243")),
    P(Kind.IBAN, "Finnish {}", iban("FI", "21234560000785")),
    P(Kind.IBAN, "Bank of Ireland {}", iban("IE", "BOFI90001712345678")),
    P(Kind.IBAN, "NIB {}", iban("PT", "000201231234567890154")),
    P(Kind.IBAN, "Luxembourg {}", iban("LU", "0019400644750000")),
    P(Kind.IBAN, "účet {}", iban("CZ", "08000000192000145399")),
    P(Kind.IBAN, "Slovak {}", iban("SK", "12000000198742637541")),
    P(Kind.IBAN, "számlaszám {}", iban("HU", "117730161111101800000000")),
    P(Kind.IBAN, "cont {}", iban("RO", "AAAA1B31007593840000")),
    P(Kind.IBAN, "λογαριασμός {}", iban("GR", "01101250000000012300695")),
    P(Kind.IBAN, "Croatian {}", iban("HR", "10010051863000160")),
    P(Kind.IBAN, "Slovenian {}", iban("SI", "263300012039086")),
    P(Kind.IBAN, "Lithuanian {}", iban("LT", "1000011101001000")),
    P(Kind.IBAN, "Latvian {}", iban("LV", "BANK0000435195001")),
    P(Kind.IBAN, "Estonian {}", iban("EE", "2200221020145685")),
    P(Kind.IBAN, "Bulgarian {}", iban("BG", "BNBG96611020345678")),
    P(Kind.IBAN, "Turkish {}", iban("TR", "0006100519786457841326")),
    P(Kind.IBAN, "Saudi {}", iban("SA", "80000000608010167519")),
    P(Kind.IBAN, "UAE account {}", iban("AE", "0331234567890123456")),
    P(Kind.IBAN, "Israeli {}", iban("IL", "0108000000099999999")),
    P(Kind.IBAN, "Brazil {}", iban("BR", "00360305000010009795493P1")),
    P(Kind.IBAN, "Malta {}", iban("MT", "MALT011000012345MTLCAST001S")),
    P(Kind.IBAN, "Iceland {}", iban("IS", "0159260076545510730339")),
    P(Kind.IBAN, "Monaco {}", iban("MC", "11222000010123456789030")),
    P(Kind.IBAN, "Qatar {}", iban("QA", "DOHB00001234567890ABCDEFG")),
    P(Kind.IBAN, "Kuwait {}", iban("KW", "CBKU0000000000001234560101")),
    P(Kind.IBAN, "Payee IBAN (no spaces): {}", iban("FR", "30006000011234567890189", spaced=False)),
    P(Kind.IBAN, "iban:{}", iban("IT", "X0542811101000000123456", spaced=False)),
    P(Kind.IBAN, "sort code moved, new IBAN {}.", iban("GB", "BARC20000055779911", spaced=False)),
    P(Kind.IBAN, '"iban": "{}",', iban("ES", "21000418450200051332", spaced=False)),
    P(Kind.IBAN, "Please wire EUR 4,200 to {} before the 15th.", iban("NL", "INGB0001234567")),
    P(Kind.IP, "Failed password for root from {} port 52144 ssh2", "198.51.100.23"),
    P(Kind.IP, "GET / HTTP/1.1 X-Forwarded-For: {}", "203.0.113.195"),
    P(Kind.IP, "curl http://{}:9200/_cat/indices", "172.16.4.21"),
    P(Kind.IP, "The VPN gateway is {}, use it from home.", "100.64.12.7"),
    P(Kind.IP, "nameserver {}", "1.1.1.1"),
    P(Kind.IP, "allow from {}/16", "172.31.0.0"),
    P(Kind.IP, "my home IP is {} according to whatismyip", "81.2.69.160"),
    P(Kind.IP, "inet {} netmask 0xffffff00", "10.0.2.15"),
    P(Kind.IP, '"client_ip": "{}"', "93.184.216.34"),
    P(Kind.IP, "ping {} timed out", "192.0.2.1"),
    P(Kind.IP, "Cloudflare DNS over IPv6: {}", "2606:4700:4700::1111"),
    P(Kind.IP, "AAAA record {}", "2a00:1450:4001:82b::200e"),
    P(Kind.IP, "ULA prefix {}/48 for the lab", "fd12:3456:789a::"),
    P(Kind.IP, "inet6 {} scope global", "2001:db8:0:1:1:1:1:1"),
    P(Kind.IP, "ssh admin@[{}]", "2001:db8:85a3::8a2e:370:7334"),
    P(Kind.IP, "connection from {} refused", "2604:a880:800:10::3c:6001"),
    P(Kind.IP, "proxy_pass http://[{}]:8080;", "fd00:ec2::254"),
    P(Kind.IP, "dual-stack peer {} (IPv4-mapped)", "::ffff:10.1.2.3"),
    P(Kind.API_KEY, "export OPENAI_API_KEY={}", token("sk-proj-", 120, _ALNUM + "-_")),
    P(Kind.API_KEY, 'client = OpenAI(api_key="{}")', token("sk-svcacct-", 100, _ALNUM + "-_")),
    P(Kind.API_KEY, "ANTHROPIC_API_KEY={}", token("sk-ant-api03-", 95, _ALNUM + "-_")),
    P(Kind.API_KEY, "admin key {} leaked in the log", token("sk-ant-admin01-", 90, _ALNUM + "-_")),
    P(
        Kind.API_KEY,
        "aws_secret_access_key pairs with {}",
        token("AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    ),
    P(Kind.API_KEY, "OAuth app token {}", token("gho_", 36)),
    P(Kind.API_KEY, "server-to-server {}", token("ghs_", 36)),
    P(Kind.API_KEY, "user-to-server {}", token("ghu_", 36)),
    P(Kind.API_KEY, "refresh {}", token("ghr_", 76)),
    P(Kind.API_KEY, "git clone https://{}@github.com/acme/api.git", token("ghp_", 36)),
    P(Kind.API_KEY, "SLACK_USER_TOKEN={}", token("xoxp-", 70, "0123456789-abcdefghijklmnopqrstuvwxyz")),
    P(Kind.API_KEY, 'firebase apiKey: "{}",', token("AIzaSy", 33, _ALNUM + "-_")),
    P(Kind.API_KEY, "STRIPE_SECRET_KEY={}", token("sk_" + "test_", 99)),
    P(Kind.API_KEY, "restricted test key {}", token("rk_" + "test_", 24)),
    P(Kind.API_KEY, "huggingface-cli login --token {}", token("hf_", 34)),
    P(Kind.API_KEY, "//registry.npmjs.org/:_authToken={}", token("npm_", 36)),
    P(Kind.API_KEY, "curl -H 'Authorization: Bearer {}' https://api.example.com", token("", 32, _ALNUM)),
    P(Kind.API_KEY, "GITLAB_TOKEN: {}", token("glpat-", 20, _ALNUM + "-_")),
    P(
        Kind.API_KEY,
        "SENDGRID_API_KEY={}",
        token("SG.", 22, _ALNUM + "-_") + "." + token("", 43, _ALNUM + "-_"),
    ),
    P(Kind.JWT, "Authorization: Bearer {}", jwt(b'{"alg":"HS512","typ":"JWT"}')),
    P(
        Kind.JWT,
        "id_token={}&state=af0ifjsldkj",
        jwt(
            b'{"alg":"RS256","typ":"JWT","kid":"1e9gdk7"}',
            claims=b'{"iss":"https://accounts.example.com","aud":"s6BhdRkqt3","exp":1311281970}',
        ),
    ),
    P(Kind.JWT, "This token ({}) expired, why?", jwt(b'{"alg":"PS256"}')),
    P(Kind.JWT, '{"access_token": "{}", "token_type": "Bearer"}', jwt(b'{"alg":"EdDSA","typ":"JWT"}')),
    P(
        Kind.JWT,
        "wss://chat.example.com/socket?token={}",
        jwt(b'{"typ":"JWT","alg":"HS256"}', claims=b'{"room":42,"exp":1714570000}'),
    ),
    P(Kind.JWT, "decode this: {}", jwt(b'{"alg":"ES384","kid":"2024-05"}')),
    P(Kind.JWT, "set-cookie: auth={}; HttpOnly", jwt(b'{"alg":"RS512"}')),
    P(
        Kind.JWT,
        "supabase anon key {}",
        jwt(b'{"alg":"HS256","typ":"JWT"}', claims=b'{"role":"anon","iss":"supabase"}'),
    ),
    P(
        Kind.PRIVATE_KEY,
        "Here is our deploy key, why does ssh reject it?\n{}",
        pem("OPENSSH PRIVATE KEY", lines=6),
    ),
    P(Kind.PRIVATE_KEY, "DSA key from 2009:\n{}", pem("DSA PRIVATE KEY")),
    P(
        Kind.PRIVATE_KEY,
        '{"type": "service_account", "private_key": "{}\\n"}',
        pem("PRIVATE KEY", lines=8).replace("\n", "\\n"),
    ),
    P(Kind.PRIVATE_KEY, "tls.key: |\n  {}", pem("PRIVATE KEY", lines=5).replace("\n", "\n  ")),
    P(Kind.PRIVATE_KEY, "windows line endings:\r\n{}", pem("RSA PRIVATE KEY").replace("\n", "\r\n")),
    P(
        Kind.PRIVATE_KEY,
        "legacy encrypted:\n{}",
        pem("RSA PRIVATE KEY").replace(
            "\n", "\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n", 1
        ),
    ),
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
    # --- grown for the per-family eval (bench/pii_eval.py) ---
    N(Kind.PHONE, "Your order #112-4567890-1234567 has shipped."),
    N(Kind.PHONE, "Order no. 2024051700342, placed May 17"),
    N(Kind.PHONE, "PO 4500012345 was approved by finance."),
    N(Kind.PHONE, "Shopify order #1042 and #1043 were merged"),
    N(Kind.PHONE, "Sales order SO-88213-B is on hold."),
    N(Kind.PHONE, "Return authorisation RMA 2024-05-117 issued"),
    N(Kind.PHONE, "Booking reference 7Y3KQP, ticket 125-2176543210"),
    N(Kind.PHONE, "Invoice INV-000481 is overdue by 14 days."),
    N(Kind.PHONE, "invoice number 2024/0815/17"),
    N(Kind.PHONE, "Rechnung Nr. RE-2024-10023 vom 03.04.2024"),
    N(Kind.PHONE, "Facture F2024-00127 du 12/03/2024"),
    N(Kind.PHONE, "Credit note CN-2023-12-0009 attached."),
    N(Kind.PHONE, "Receipt 0042-000318-2205 for the coffee"),
    N(Kind.PHONE, "ISBN 978-0-596-52068-7 (Learning Python)"),
    N(Kind.PHONE, "ISBN-13 978 1 4919 5017 0"),
    N(Kind.PHONE, "ISBN 0-13-110362-8, the K&R book"),
    N(Kind.PHONE, "ISBN-10: 0201633612"),
    N(Kind.CARD, "EAN 9780262033848 on the back cover"),
    N(Kind.PHONE, "ISSN 0028-0836 (Nature)"),
    N(Kind.PHONE, "DOI 10.1038/s41586-020-2649-2"),
    N(Kind.PHONE, "arXiv:2307.09288v2"),
    N(Kind.PHONE, "PMID 31452104"),
    N(Kind.IP, "Upgraded Django from 4.2.11 to 5.0.6 last night."),
    N(Kind.IP, "node v20.12.2, npm 10.5.0"),
    N(Kind.IP, "Chrome/124.0.6367.91 Safari/537.36"),
    N(Kind.IP, "Windows 10.0.22631.3447 is the current build."),
    N(Kind.IP, "pip install torch==2.3.0+cu121"),
    N(Kind.IP, "the kernel is 6.8.0-31-generic"),
    N(Kind.IP, "Firmware ver 3.10.2.7 fixes the bug"),
    N(Kind.IP, "Bumped protobuf to 4.25.3.1 in requirements.txt"),
    N(Kind.IP, "Microsoft.NETCore.App 8.0.4.24180"),
    N(Kind.IP, "Xcode 15.3 (15E204a), iOS 17.4.1"),
    N(Kind.IP, 'package.json: "react": "^18.2.0"'),
    N(Kind.IP, "semver 1.0.0-alpha.1+build.5"),
    N(Kind.IP, "Section 4.2.1.3 of the spec covers this."),
    N(Kind.IP, "see clause 12.3.4.5(b)"),
    N(Kind.IP, "OID 1.3.6.1.4.1.311.21.8"),
    N(Kind.IP, "SNMP oid 1.3.6.1.2.1.1.3.0"),
    N(Kind.PHONE, "The job ran 2024-05-17T08:42:13Z and finished at 08:44."),
    N(Kind.PHONE, "Timestamp: 2024-05-17 08:42:13.456789+00:00"),
    N(Kind.PHONE, "Date: Fri, 17 May 2024 08:42:13 +0000"),
    N(Kind.PHONE, '[17/May/2024:08:42:13 +0200] "GET / HTTP/1.1" 200 512'),
    N(Kind.PHONE, "2024/05/17 08:42:13 [error] 1234#1234: upstream timed out"),
    N(Kind.PHONE, "From 17.05.2024 to 31.05.2024 the office is closed."),
    N(Kind.PHONE, "Meeting moved to 05-17-2024 at 3 pm"),
    N(Kind.PHONE, "created_at=1715935333 updated_at=1715935399"),
    N(Kind.PHONE, "expires 1715935333000 (ms since epoch)"),
    N(Kind.PHONE, "Snowflake id 1241384935123456789"),
    N(Kind.PHONE, "nanoseconds 1715935333123456789"),
    N(Kind.PHONE, "duration 00:12:34.567"),
    N(Kind.PHONE, "cron 0 30 2 * * 1-5"),
    N(Kind.PHONE, "fiscal quarter 2024-Q2, week 2024-W20"),
    N(Kind.PHONE, "20240517-084213 is the backup folder"),
    N(Kind.PHONE, "log file app-2024.05.17-08.42.log"),
    N(Kind.PHONE, "trace id 4bf92f3577b34da6a3ce929d0e0e4736"),
    N(Kind.PHONE, "X-Request-ID: 7c9e6679-7425-40de-944b-e07fc1f90ae7"),
    N(Kind.PHONE, "ULID 01HXZ3QZ9G8W5K2M7N4P6R8T0V"),
    N(Kind.IP, "GUID {21EC2020-3AEA-1069-A2DD-08002B30309D}"),
    N(Kind.API_KEY, "merged in 9fceb02d0ae598e95dc970b74767f19372d61af8"),
    N(Kind.PHONE, "fixed in a94a8fe (cherry-picked to 1.8)"),
    N(Kind.API_KEY, "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    N(Kind.API_KEY, "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    N(
        Kind.API_KEY,
        "docker pull nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
    ),
    N(
        Kind.API_KEY,
        "integrity sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
    ),
    N(Kind.API_KEY, 'etag W/"5e8f1c2a9b7d3f4e6a1b2c3d4e5f6a7b"'),
    N(Kind.API_KEY, "blake3 af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
    N(Kind.CARD, "UPS tracking 1Z 999 AA1 01 2345 6784"),
    N(Kind.CARD, "FedEx tracking 7489 2317 4052"),
    N(Kind.CARD, "USPS 9400 1000 0000 0000 0000 00"),
    N(Kind.CARD, "DHL waybill 1234567890, Royal Mail RB123456785GB"),
    N(Kind.CARD, "Parcel 00340434161094042557 (SSCC)"),
    N(Kind.CARD, "VIN 1HGCM82633A004352"),
    N(Kind.CARD, "IMEI 490154203237518"),
    N(Kind.CARD, "ICCID 8944110068256270054"),
    N(Kind.CARD, "Visa 4111 1111 1111 1110 (typo, fails Luhn)"),
    N(Kind.CARD, "card 5425 2334 3010 9904"),
    N(Kind.CARD, "Amex 3782 822463 10006"),
    N(Kind.CARD, "number 6011 0009 9013 9425 was rejected, invalid"),
    N(Kind.CARD, "4242 4242 4242 4241"),
    N(Kind.CARD, "Only the last four: **** **** **** 4242"),
    N(Kind.CARD, "card ending in 1111, expiring 12/27"),
    N(Kind.CARD, "masked 411111******1111"),
    N(Kind.CARD, "BIN 411111 belongs to Visa"),
    N(Kind.CARD, "account 0000 1234 5678 9012 3456"),
    N(Kind.CARD, "serial number 8012 3456 7890 1234"),
    N(Kind.CARD, "Gift card 7777 0123 4567 8901 2345"),
    N(Kind.CARD, "routing 021000021, account 1234567890123"),
    N(Kind.CARD, "1234567812345678"),
    N(Kind.CARD, "population 7,888,000,000 and 1,000,000,000,000 stars"),
    N(Kind.CARD, "pi is 3.14159265358979323846"),
    N(Kind.CARD, "balance 1234567890.12 USD"),
    N(Kind.SSN, "Part number 123-456-7890-A"),
    N(Kind.SSN, "case 24-cv-01234 filed in S.D.N.Y."),
    N(Kind.SSN, "EIN 12-3456789 for the company"),
    N(Kind.SSN, "987-65-4321 is from the range reserved for advertisements"),
    N(Kind.SSN, "the SSN 000-00-0000 placeholder in the form"),
    N(Kind.SSN, "example SSN XXX-XX-1234"),
    N(Kind.SSN, "test id 666-45-6789"),
    N(Kind.SSN, "phone extension 123-45"),
    N(Kind.SSN, "range 100-200-3000"),
    N(Kind.SSN, "CAS number 7732-18-5 (water)"),
    N(Kind.SSN, "ZIP+4 98052-6399"),
    N(Kind.SSN, "lot 2024-05-0137"),
    N(Kind.IBAN, "IBAN DE89 3704 0044 0532 0130 01 (last digit mistyped)"),
    N(Kind.IBAN, "FR14 2004 1010 0505 0001 3M02 607"),
    N(Kind.IBAN, "GB29NWBK60161331926818"),
    N(Kind.IBAN, "ES91 2100 0418 4502 0005 1333"),
    N(Kind.IBAN, "NL19ABNA0417164300"),
    N(Kind.IBAN, "CH93 0076 2011 6238 5295 8"),
    N(Kind.IBAN, "IT61 X054 2811 1010 0000 0123 456"),
    N(Kind.IBAN, "BE68 5390 0754 7035"),
    N(Kind.IBAN, "the template reads DE00 0000 0000 0000 0000 00"),
    N(Kind.IBAN, "IBAN format: CCkk BBBB BBBB BBBB BBBB BB"),
    N(Kind.IBAN, "SWIFT/BIC DEUTDEFF500 and COBADEFFXXX"),
    N(Kind.IBAN, "AWS region eu-west-1, instance m5.2xlarge, AZ use1-az4"),
    N(Kind.IBAN, "model GPT4 vs LLAMA3 and ES2022 target"),
    N(Kind.IBAN, "license plate AB12 CDE and postcode SW1A 1AA"),
    N(Kind.IBAN, "Part DE12ABCDEFGHIJKLMNOPQR in the catalogue"),
    N(Kind.PHONE, "SKU 4006381333931 (EAN-13)"),
    N(Kind.PHONE, "UPC 036000291452"),
    N(Kind.PHONE, "Model number KD-55X85K, part 1-004-567-11"),
    N(Kind.PHONE, "Product code 100-2345-678"),
    N(Kind.PHONE, "Cisco PID WS-C2960X-48FPD-L"),
    N(Kind.PHONE, "NDC 0777-3105-02"),
    N(Kind.PHONE, "HS code 8471.30.0100"),
    N(Kind.PHONE, "Catalog #C-2031-0045-12"),
    N(Kind.PHONE, "Dimensions 120 x 80 x 45 cm, 12.5 kg"),
    N(Kind.PHONE, "scores 98 87 76 65 54 43 32 21"),
    N(Kind.PHONE, "Lottery numbers 04 12 23 31 42 49"),
    N(Kind.PHONE, "Use port 8080, then 8443, then 9090."),
    N(Kind.PHONE, "row 1024 col 768 of matrix 2048 x 2048"),
    N(Kind.PHONE, "temperature range -40 to +85 C"),
    N(Kind.PHONE, "+1 for this proposal, +100 from me"),
    N(Kind.PHONE, "revenue grew from $1.2M to $3.4M (+183%)"),
    N(Kind.PHONE, "Bible verse John 3:16, Psalm 23:1-6"),
    N(Kind.PHONE, "Score was 3-2 after extra time; 2-1-0 record"),
    N(Kind.PHONE, "Room 0345, building 12, floor 04"),
    N(Kind.PHONE, "PIN reset code 0042 1337 expired"),
    N(Kind.PHONE, "US patent 10,123,456 B2"),
    N(Kind.PHONE, "Flight LH 400 on 2024-06-01, seat 42K"),
    N(Kind.EMAIL, "Follow us @acme_support on X"),
    N(Kind.EMAIL, "postgres://app@db:5432/app"),
    N(Kind.EMAIL, "git@github.com:acme/api.git"),
    N(Kind.EMAIL, "@Override public String toString()"),
    N(Kind.EMAIL, "pip install requests@git+https://github.com/psf/requests"),
    N(Kind.EMAIL, "docker image python:3.12@sha256 pinned"),
    N(Kind.EMAIL, "decorator @pytest.mark.parametrize"),
    N(Kind.EMAIL, "Excel formula =SUM(A1:A10)@B2"),
    N(Kind.EMAIL, "user[at]example[dot]com"),
    N(Kind.EMAIL, "admin@ (blank domain) in the form"),
    N(Kind.EMAIL, "logo@3x.jpeg and banner@2x.webp"),
    N(Kind.EMAIL, "@types/node@20.12.7"),
    N(Kind.EMAIL, "matrix handle @alice:matrix.org"),
    N(Kind.EMAIL, "foo..bar@example.com has a double dot"),
    N(Kind.EMAIL, "ssh pi@raspberrypi"),
    N(Kind.IP, "time 23:59:59.999"),
    N(Kind.IP, "Rust path std::collections::HashMap"),
    N(Kind.IP, "ratio 16:9 or 4:3, aspect 21:9"),
    N(Kind.IP, "dict slicing x[::-1] and y[2::3]"),
    N(Kind.IP, "Perl package Foo::Bar::Baz"),
    N(Kind.IP, "Bluetooth MAC a4:83:e7:1c:2d:3f"),
    N(Kind.IP, "YAML key: value: nested"),
    N(Kind.IP, "Ethernet 00-1A-2B-3C-4D-5E"),
    N(Kind.IP, "CSS color #fe80ab and #abcdef"),
    N(Kind.IP, "score 256.1.1.1 is not an address"),
    N(Kind.IP, "10.0.0 is an incomplete address"),
    N(Kind.IP, "values 1.5, 2.5, 3.5, 4.5"),
    N(Kind.IP, "lat/long 40.7128.74.0060"),
    N(Kind.API_KEY, "OPENAI_API_KEY=sk-...your-key-here"),
    N(Kind.API_KEY, "Set ANTHROPIC_API_KEY to your key (starts with sk-ant-)"),
    N(Kind.API_KEY, "placeholder sk_live_XXXXXXXXXXXXXXXXXXXXXXXX"),
    N(Kind.API_KEY, "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}"),
    N(Kind.API_KEY, 'api_key = os.environ["OPENAI_API_KEY"]'),
    N(Kind.API_KEY, "Authorization: Bearer <token>"),
    N(Kind.API_KEY, "the bearer token is stored in the keychain"),
    N(Kind.API_KEY, "skeleton-loader-component-wrapper-v2"),
    N(Kind.API_KEY, "CONSTANT_NAME_THAT_IS_VERY_LONG_INDEED"),
    N(Kind.API_KEY, "base64 aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q="),
    N(Kind.API_KEY, "S3 bucket arn:aws:s3:::acme-prod-logs-2024"),
    N(Kind.API_KEY, "instance i-0abcd1234efgh5678, vpc-0a1b2c3d4e5f67890"),
    N(Kind.API_KEY, "Stripe customer cus_NffrFeUfNV2Hib and pi_3MtwBwLkdIwHu7ix28a3tqPa"),
    N(Kind.API_KEY, "OpenAI file file-BK7bzQj3FfZFXr7DbL6xJwfo and chatcmpl-8abcDEF123"),
    N(Kind.API_KEY, "Slack channel C024BE91L, user U0G9QF9C6"),
    N(Kind.JWT, 'the string eyJ is base64 for {"'),
    N(Kind.JWT, "JWT structure: header.payload.signature"),
    N(Kind.JWT, "version 1.2.3 and file.tar.gz and a.b.c.d"),
    N(Kind.JWT, "eyJhbGciOiJIUzI1NiJ9 alone has no payload"),
    N(
        Kind.PRIVATE_KEY,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuQ7eo3fXkMzC2Bh3b8X5Vg7Ww2n2ZsGq8U4vL9cFa1 ops@laptop",
    ),
    N(Kind.PRIVATE_KEY, pem("CERTIFICATE REQUEST")),
    N(Kind.PRIVATE_KEY, "Generate one with: openssl genpkey -algorithm ed25519 -out private.pem"),
    N(Kind.PRIVATE_KEY, "-----BEGIN PGP PUBLIC KEY BLOCK----- was pasted"),
]

# --- issue 21's families, the set the recognisers are tuned on (bench/data/pii_heldout.jsonl is
# the held-out one): national ids with their check digits, more phone formats, SSNs without
# dashes, and the credential forms of the clouds and chat platforms ------------------------------


def _check_digit(stem: str, valid: object) -> str:
    """``stem`` and the character that python-stdnum's ``valid`` (an ``is_valid``) accepts after it."""
    for c in string.digits + "X":
        if valid(stem + c):  # type: ignore[operator]
            return stem + c
    raise ValueError(stem)


def _ids() -> list[Positive]:
    from stdnum.au import tfn
    from stdnum.br import cpf
    from stdnum.ca import sin
    from stdnum.cn import ric
    from stdnum.de import idnr
    from stdnum.es import dni, nie
    from stdnum.fr import nir
    from stdnum.in_ import aadhaar
    from stdnum.it import codicefiscale

    def digits(n: int, first: str = "123456789") -> str:
        return _rng.choice(first) + "".join(_rng.choice(string.digits) for _ in range(n - 1))

    def some(make: object, valid: object) -> str:
        while True:
            try:
                return _check_digit(make(), valid)  # type: ignore[operator]
            except ValueError:
                continue

    steuer = [some(lambda: digits(10), idnr.is_valid) for _ in range(3)]
    aad = [some(lambda: digits(11, "23456789"), aadhaar.is_valid) for _ in range(3)]
    cpfs = [some(lambda: _check_digit(digits(9, string.digits), lambda s: True)[:9] + digits(1, string.digits), cpf.is_valid) for _ in range(3)]  # fmt: skip
    sins = [some(lambda: digits(8, "1234567"), sin.is_valid) for _ in range(3)]
    tfns = [some(lambda: digits(8), tfn.is_valid) for _ in range(3)]
    nirs = [s + nir.calc_check_digits(s) for s in ("2690549588157", "1840375120005", "2991299012345")]
    rics = [
        s + ric.calc_check_digit(s + "0")
        for s in ("44030519870215301", "11010519491231002", "51010720010909123")
    ]
    dnis = [s + dni.calc_check_digit(s) for s in ("48293715", "02345678", "71234590")]
    nies = [s + nie.calc_check_digit(s) for s in ("X1234567", "Y7654321", "Z0246813")]
    cfs = [
        s + codicefiscale.calc_check_digit(s)
        for s in ("BNCGNN75C41H501", "VRDLGU80A01F205", "MNTCRL92T63L219")
    ]
    n = Kind.NATIONAL_ID
    return [
        P(n, "Steuer-ID {} (Lohnsteuerkarte)", steuer[0]),
        P(n, "IdNr. {}", f"{steuer[1][:2]} {steuer[1][2:5]} {steuer[1][5:8]} {steuer[1][8:]}"),
        P(n, "seine steuerliche Identifikationsnummer ist {}", steuer[2]),
        P(n, "Aadhaar card no {}", f"{aad[0][:4]} {aad[0][4:8]} {aad[0][8:]}"),
        P(n, "UIDAI number: {}", aad[1]),
        P(n, "KYC docs: {} and PAN", f"{aad[2][:4]} {aad[2][4:8]} {aad[2][8:]}"),
        P(n, "CPF do cliente: {}", f"{cpfs[0][:3]}.{cpfs[0][3:6]}.{cpfs[0][6:9]}-{cpfs[0][9:]}"),
        P(n, "cpf {}", cpfs[1]),
        P(n, "Inscrição {}", f"{cpfs[2][:3]}.{cpfs[2][3:6]}.{cpfs[2][6:9]}-{cpfs[2][9:]}"),
        P(n, "SIN number {}", f"{sins[0][:3]} {sins[0][3:6]} {sins[0][6:]}"),
        P(n, "social insurance no. {}", sins[1]),
        P(n, "NAS: {}", f"{sins[2][:3]}-{sins[2][3:6]}-{sins[2][6:]}"),
        P(n, "TFN {}", f"{tfns[0][:3]} {tfns[0][3:6]} {tfns[0][6:]}"),
        P(n, "tax file no. {}", tfns[1]),
        P(n, "Your TFN is {}.", tfns[2]),
        P(n, "sécurité sociale {}", nirs[0]),
        P(
            n,
            "NIR : {}",
            " ".join(
                (
                    nirs[1][0],
                    nirs[1][1:3],
                    nirs[1][3:5],
                    nirs[1][5:7],
                    nirs[1][7:10],
                    nirs[1][10:13],
                    nirs[1][13:],
                )
            ),
        ),
        P(n, "assuré n° {}", nirs[2]),
        P(n, "身份证 {}", rics[0]),
        P(n, "ID {} verified", rics[1]),
        P(n, "公民身份号码：{}", rics[2]),  # noqa: RUF001 (Chinese punctuation)
        P(n, "DNI: {}", dnis[0]),
        P(n, "con DNI {}", dnis[1][:8] + "-" + dnis[1][8]),
        P(n, "NIF {}", dnis[2]),
        P(n, "NIE {}", nies[0]),
        P(n, "tarjeta de residencia {}", nies[1]),
        P(n, "NIE: {}", nies[2]),
        P(n, "CF: {}", cfs[0]),
        P(n, "codice fiscale {}", cfs[1]),
        P(n, "C.F.: {}", cfs[2]),
        P(n, "NINO: {}", "AB123456C"),
        P(n, "NI No. {}", "JG 10 37 59 D"),
        P(n, "national insurance number {}", "PE456789B"),
    ]


POSITIVES += _ids()
POSITIVES += [
    P(Kind.SSN, "SSN {} on the I-9", "412 56 7890"),
    P(Kind.SSN, "social security number {}", "301589274"),
    P(Kind.SSN, "ssn#{}", "287654321"),
    P(Kind.PHONE, "Frankfurt mobil {}", "0151 23456789"),
    P(Kind.PHONE, "Shanghai {}", "139 8765 4321"),
    P(Kind.PHONE, "Санкт-Петербург {}", "8 (812) 234-56-78"),
    P(Kind.PHONE, "from the US, {}", "011 33 1 42 68 53 00"),
    P(Kind.PHONE, "Busan {}", "051-123-4567"),
    P(Kind.PHONE, "Perth {}", "+61 8 9123 4567"),
    P(Kind.PHONE, "Utrecht {}", "030-1234567"),
    P(Kind.API_KEY, "aws_secret_access_key={}", token("", 40, _ALNUM + "/+")),
    P(Kind.API_KEY, "AWS_SESSION_TOKEN={}", token("FwoGZXIvYXdzE", 200, _ALNUM + "/+")),
    P(Kind.API_KEY, "AccountName=devstore;AccountKey={};", token("", 86, _ALNUM + "/+") + "=="),
    P(Kind.API_KEY, "?sv=2023-01-03&sr=b&sp=r&sig={}", token("", 43, _ALNUM + "%") + "%3D"),
    P(Kind.API_KEY, "app token {}", token("xapp-1-A0", 80, "0123456789ABCDEF-")),
    P(
        Kind.API_KEY,
        "notify {}",
        "https://hooks.slack.com/services/"
        + token("T0", 8, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        + "/"
        + token("B0", 9, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        + "/"
        + token("", 24),
    ),
    P(
        Kind.API_KEY,
        "client.run({})",
        token("MTI", 23) + "." + token("", 6) + "." + token("", 38, _ALNUM + "-_"),
    ),
    P(Kind.API_KEY, "bot token {}", "7123456789:AA" + token("", 33, _ALNUM + "-_")),
    P(Kind.API_KEY, "mail key {}", "SG." + token("", 22, _ALNUM + "-_") + "." + token("", 43, _ALNUM + "-_")),
    P(Kind.API_KEY, "whsec {}", token("whsec_", 32)),
    P(Kind.API_KEY, "twilio {}", token("SK", 32, "0123456789abcdef")),
    P(Kind.API_KEY, "gitlab deploy {}", token("gldt-", 20)),
    P(Kind.API_KEY, '"client_secret": "{}"', token("GOCSPX-", 28, _ALNUM + "-_")),
    P(Kind.API_KEY, "auth_token: {}", token("", 32, "0123456789abcdef")),
    P(
        Kind.PRIVATE_KEY,
        '{{"type": "service_account", "private_key": "{}"}}'.replace("{{", "{").replace("}}", "}"),
        pem("PRIVATE KEY").replace("\n", "\\n"),
    ),
]
NEAR_MISSES += [
    N(Kind.NATIONAL_ID, "ticket 30 123 456 789 reopened"),
    N(Kind.NATIONAL_ID, "tracking 4321 8765 2109"),
    N(Kind.NATIONAL_ID, "product 123.456.789-10 in stock"),
    N(Kind.NATIONAL_ID, "order 100200300400500"),
    N(Kind.NATIONAL_ID, "batch 440305198702153010 printed"),
    N(Kind.NATIONAL_ID, "part 12345678A"),
    N(Kind.NATIONAL_ID, "model AB123456Z"),
    N(Kind.NATIONAL_ID, "RSSMRA85T10A562A is a made-up code"),
    N(Kind.NATIONAL_ID, "id 987654321 in the CRM"),
    N(Kind.NATIONAL_ID, "widget 123 456 782 (part)"),
    N(Kind.NATIONAL_ID, "account 23456789012"),
    N(Kind.SSN, "order 123456789 and SKU 22"),
    N(Kind.PHONE, "Receipt 0042-000318-2206 for lunch"),
    N(Kind.PHONE, "draw 05 11 19 27 33 41"),
    N(Kind.PHONE, "NDC 0591-0405-01"),
    N(Kind.PHONE, "product 1391-2345-6789"),
    N(Kind.API_KEY, "secret_key = None  # set in production"),
    N(Kind.API_KEY, "idempotency key: 6f1c2b3a-4d5e-4f60-8a9b-0c1d2e3f4a5b"),
    N(Kind.API_KEY, "token: YOUR_TOKEN_HERE"),
    N(Kind.API_KEY, "AccountKey=<your-account-key>"),
    N(Kind.API_KEY, "https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX"),
    N(Kind.API_KEY, "signature sig= is appended by the SDK"),
    N(Kind.API_KEY, "keyboard shortcut: Ctrl+Shift+P"),
]
