"""Writes bench/data/pii_heldout.jsonl: the held-out PII and secrets evaluation set (issue 21).

Written once, before the recognisers of issue 21 were changed, and never tuned on: the
recognisers are tuned on tests/guardrails/pii_samples.py. The contexts are hand-written; the
national ids' check digits come from python-stdnum (an implementation independent of Sluice's),
the random parts from a seeded generator. Secret values are stored base64-encoded
(``value_b64``) so that no secret scanner mistakes the file for a leak.

    .venv/bin/python bench/data/make_pii_heldout.py
"""

from __future__ import annotations

import base64
import random
import string
from pathlib import Path

import msgspec
from stdnum.au import tfn
from stdnum.br import cpf
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale

rng = random.Random(21_2026)
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def rand(alphabet: str, n: int) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in s) or not any(c.isdigit() for c in alphabet):
            return s


def digits(n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def complete(stem: str, valid) -> str:  # type: ignore[no-untyped-def]
    """``stem`` with the check character that makes ``valid`` accept it."""
    for c in string.digits + "X":
        try:
            valid(stem + c)
        except Exception:  # stdnum's InvalidChecksum and friends
            continue
        return stem + c
    raise ValueError(stem)


def wrong(number: str) -> str:
    """``number`` with its last digit changed: a failing checksum."""
    last = number[-1]
    return number[:-1] + str((int(last) + 3) % 10) if last.isdigit() else number[:-1] + "0"


def luhn(stem: str) -> str:
    ds = [int(c) for c in reversed(stem)]
    total = sum(d if i % 2 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(ds))
    return stem + str(-total % 10)


def iban(country: str, bban: str) -> str:
    letters = {ord(c): str(i) for i, c in enumerate(string.ascii_uppercase, 10)}
    check = 98 - int((bban + country + "00").translate(letters)) % 97
    return f"{country}{check:02d}{bban}"


def spaced4(s: str) -> str:
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


ITEMS: list[dict[str, str]] = []


def pos(family: str, text: str, value: str) -> None:
    ITEMS.append({"category": "pii", "family": family, "text": text, "value": value})


def sec(family: str, text: str, value: str) -> None:
    ITEMS.append(
        {"category": "secret", "family": family, "text": text,
         "value_b64": base64.b64encode(value.encode()).decode()}
    )  # fmt: skip


def near(family: str, text: str) -> None:
    ITEMS.append({"category": "near_miss", "family": family, "text": text})


# --- SSNs ---------------------------------------------------------------------------------------
def ssn() -> str:
    while True:
        a, g, s = rng.randint(1, 899), rng.randint(1, 99), rng.randint(1, 9999)
        if a != 666:
            return f"{a:03d}{g:02d}{s:04d}"


for text, fmt in [
    ("My SSN is {} and I need the form by Monday.", "plain"),
    ("ssn: {}", "plain"),
    ("Social Security Number {} (verified)", "plain"),
    ("Please update the employee record, SSN {}, new address attached.", "space"),
    ("SSN# {}", "space"),
    ("The applicant's social security no. is {}.", "space"),
    ("Claimant SSN {} DOB 03/04/1981", "dash"),
    ('{{"name": "R. Diaz", "ssn": "{}"}}', "plain"),
    ("her social security number, {}, was on the W-2", "dash"),
    ("taxpayer SSN={}", "plain"),
    ("Enter SSN without dashes: {}", "plain"),
    ("SSN {} — spouse", "space"),
]:
    n = ssn()
    v = {"plain": n, "space": f"{n[:3]} {n[3:5]} {n[5:]}", "dash": f"{n[:3]}-{n[3:5]}-{n[5:]}"}[fmt]
    pos("ssn", text.replace("{{", "{").replace("}}", "}").replace("{}", "{}"), v)

# --- phones ---------------------------------------------------------------------------------------
for text, value in [
    ("Ruf mich an: {}", "+49 170 1234567"),
    ("Handy {} (abends)", "0170 1234567"),
    ("Büro München {}", "+49 89 2019 3456"),
    ("Mon numéro : {}", "+33 7 81 23 45 67"),
    ("Bureau {}", "01 42 68 53 00"),
    ("Chiamami al {}", "+39 347 123 4567"),
    ("ufficio {}", "+39 02 8736 4200"),
    ("Llámame al {}", "+34 612 34 56 78"),
    ("oficina {}", "+34 93 412 34 56"),
    ("My UK mobile is {}", "+44 7911 123456"),
    ("office line {}", "0161 496 0123"),
    ("US support {}", "+1 617-555-0142"),
    ("call {} any time", "(303) 555-0175"),
    ("Toronto office {}", "+1 416 555 0199"),
    ("携帯番号は {} です", "+81 90-2345-6789"),
    ("東京オフィス {}", "03-5321-1111"),
    ("手机 {}", "+86 139 1234 5678"),
    ("联系电话 {}", "138 1234 5678"),
    ("मेरा नंबर {} है", "+91 99876 54321"),
    ("Call our Bangalore desk on {}", "080 2345 6789"),
    ("WhatsApp: {}", "+55 11 98765-4321"),
    ("Telefone {}", "(21) 3456-7890"),
    ("Mob. {}", "+61 412 345 678"),
    ("Melbourne office {}", "(03) 9123 4567"),
    ("mobile {}", "0412 345 678"),
    ("Moscow mobile {}", "+7 916 123-45-67"),
    ("номер {}", "8 (495) 123-45-67"),
    ("Seoul mobile {}", "+82 10-1234-5678"),
    ("전화 {}", "010-1234-5678"),
    ("Mexico cel {}", "+52 1 55 1234 5678"),
    ("Tel. {}", "+31 6 12345678"),
    ("bel me op {}", "06-12345678"),
    ("ring {}", "+46 70 123 45 67"),
    ("Zürich mobile {}", "+41 79 123 45 67"),
    ("Wien {}", "+43 664 1234567"),
    ("Warsaw mobile {}", "+48 601 234 567"),
    ("Dublin mobile {}", "+353 87 123 4567"),
    ("Lisbon mobile {}", "+351 912 345 678"),
    ("Athens {}", "+30 21 0123 4567"),
    ("Istanbul mobile {}", "+90 532 123 45 67"),
    ("Johannesburg {}", "+27 82 123 4567"),
    ("Lagos office {}", "+234 1 234 5678"),
    ("Singapore mobile {}", "+65 9123 4567"),
    ("Bangkok {}", "+66 2 123 4567"),
    ("Hanoi mobile {}", "+84 91 234 56 78"),
    ("Riyadh {}", "+966 11 234 5678"),
    ("Karachi {}", "+92 21 3456 7890"),
    ("Bogotá celular {}", "+57 301 234 5678"),
    ("Santiago {}", "+56 9 8765 4321"),
    ("Lima {}", "+51 1 234 5678"),
    ("international format {}", "+442079460123"),
    ("From the US dial {}", "011 44 20 7946 0123"),
    ("fax: {}", "+49 (0)30 2345 6789"),
]:
    pos("phone", text, value)

# --- national ids ---------------------------------------------------------------------------------
NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


def nino() -> str:
    while True:
        p = rng.choice(NINO_FIRST) + rng.choice(NINO_SECOND)
        if p not in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            return p + digits(6, string.digits) + rng.choice("ABCD")


for text, spaced in [
    ("National Insurance number {}", False),
    ("NI number: {}", True),
    ("my NINO is {}, please add it to payroll", False),
    ("HMRC letter ref NI {}", True),
    ("Employee NI No. {} (starter form)", False),
    ("national insurance {}", True),
]:
    n = nino()
    pos("uk_nino", text, f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:8]} {n[8]}" if spaced else n)


def steuer_id() -> str:
    while True:
        try:
            return complete(digits(10), idnr.validate)
        except ValueError:
            continue


for text, spaced in [
    ("Steuer-ID: {}", False),
    ("Meine Steueridentifikationsnummer lautet {}.", True),
    ("IdNr {} laut Bescheid", False),
    ("steuerliche Identifikationsnummer {}", True),
    ("tax id (Germany) {}", False),
    ("Bitte die Steuer-IdNr. {} eintragen", False),
]:
    n = steuer_id()
    pos("de_steuer_id", text, f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}" if spaced else n)


def nir_number() -> str:
    stem = f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return stem + nir.calc_check_digits(stem)


for text, spaced in [
    ("Numéro de sécurité sociale : {}", True),
    ("NIR {}", False),
    ("n° SS {} (carte Vitale)", True),
    ("numéro INSEE {}", False),
    ("French social security number {}", True),
    ("sécu: {}", False),
]:
    n = nir_number()
    pos("fr_nir", text, f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}" if spaced else n)

for text in ["DNI {}", "Mi DNI es {} y vivo en Sevilla.", "NIF: {}", "documento {} (DNI)", "dni={}"]:
    stem = digits(8, string.digits)
    pos("es_dni", text, stem + dni.calc_check_digit(stem))
for text in ["NIE {}", "Mi NIE es {}.", "número de extranjero {}", "NIE: {}"]:
    stem = rng.choice("XYZ") + digits(7, string.digits)
    v = stem + nie.calc_check_digit(stem)
    pos("es_nie", text, v if text != "NIE: {}" else f"{v[0]}-{v[1:8]}-{v[8]}")


def cf() -> str:
    cons = "BCDFGHLMNPRSTVZ"
    stem = (
        "".join(rng.choice(cons) for _ in range(3)) + "".join(rng.choice(cons + "AEIOU") for _ in range(3))
        + f"{rng.randint(40, 99):02d}" + rng.choice("ABCDEHLMPRST") + f"{rng.choice([rng.randint(1, 28), rng.randint(41, 68)]):02d}"
        + rng.choice("ABCDEFGHILMZ") + f"{rng.randint(1, 999):03d}"
    )  # fmt: skip
    return stem + codicefiscale.calc_check_digit(stem)


for text in [
    "Codice fiscale: {}",
    "il mio codice fiscale è {}",
    "CF {} (tessera sanitaria)",
    "codice fiscale={}",
    "Italian tax code {}",
    "C.F. {}",
]:
    pos("it_codice_fiscale", text, cf())


def aadhaar_number() -> str:
    while True:
        try:
            return complete(digits(11, "23456789"), aadhaar.validate)
        except ValueError:
            continue


for text, spaced in [
    ("Aadhaar: {}", True),
    ("my aadhaar number is {}", True),
    ("UID {}", False),
    ("आधार संख्या {}", True),
    ("Aadhaar no. {} linked to PAN", False),
    ("Aadhar card {}", True),
]:
    n = aadhaar_number()
    pos("in_aadhaar", text, f"{n[:4]} {n[4:8]} {n[8:]}" if spaced else n)


def cpf_valid() -> str:
    while True:
        stem = digits(9, string.digits)
        for a in string.digits:
            for b in string.digits:
                try:
                    cpf.validate(stem + a + b)
                except Exception:
                    continue
                return stem + a + b


for text, fmt in [
    ("CPF: {}", True),
    ("meu CPF é {}", True),
    ("CPF {} (titular)", False),
    ("cpf={}", False),
    ("Número do CPF {}", True),
    ("Brazilian taxpayer id {}", True),
]:
    n = cpf_valid()
    pos("br_cpf", text, f"{n[:3]}.{n[3:6]}.{n[6:9]}-{n[9:]}" if fmt else n)


def sin_number() -> str:
    return luhn(digits(8, "1234567"))


for text, fmt in [
    ("SIN: {}", " "),
    ("Social Insurance Number {}", "-"),
    ("my SIN is {}", ""),
    ("NAS {} (numéro d'assurance sociale)", " "),
    ("Canadian SIN {}", "-"),
]:
    n = sin_number()
    pos("ca_sin", text, fmt.join((n[:3], n[3:6], n[6:])))


def tfn_number() -> str:
    while True:
        try:
            return complete(digits(8), tfn.validate)
        except ValueError:
            continue


for text, fmt in [
    ("TFN: {}", " "),
    ("Tax File Number {}", ""),
    ("my tax file number is {}", " "),
    ("ATO TFN {}", ""),
    ("tfn={}", ""),
]:
    n = tfn_number()
    pos("au_tfn", text, fmt.join((n[:3], n[3:6], n[6:])) if fmt else n)


def ric_number() -> str:
    region = rng.choice(["110101", "310104", "440305", "510107", "330106", "420102"])
    birth = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    stem = region + birth + f"{rng.randint(0, 999):03d}"
    return stem + ric.calc_check_digit(stem + "0")  # stdnum wants a place for the check digit


for text in [
    "身份证号 {}",
    "居民身份证：{}",  # noqa: RUF001 (Chinese punctuation)
    "ID card (PRC) {}",
    "公民身份号码 {}",
    "身份证 {} 已核验",
    "resident id {}",
]:
    pos("cn_resident_id", text, ric_number())

# --- IBANs, cards, emails, IPs ---------------------------------------------------------------------
for text, country, bban, sp in [
    ("Bitte überweisen Sie an {}", "DE", digits(18, string.digits), True),
    ("IBAN {}", "FR", digits(10, string.digits) + rand(UPPER_DIGITS, 11) + digits(2, string.digits), True),
    ("bank details: {}", "GB", "MIDL" + digits(14, string.digits), False),
    ("IBAN: {}", "ES", digits(20, string.digits), True),
    ("conto corrente {}", "IT", "X" + digits(10, string.digits) + digits(12, string.digits), True),
    ("rekening {}", "NL", "RABO" + digits(10, string.digits), True),
    ("Konto {}", "AT", digits(16, string.digits), False),
    ("IBAN BE: {}", "BE", digits(12, string.digits), True),
    ("iban={}", "PL", digits(24, string.digits), False),
    ("wire to {} today", "CH", digits(17, string.digits), True),
]:
    v = iban(country, bban)
    pos("iban", text, spaced4(v) if sp else v)

for text, stem in [
    ("Visa {}", "4" + digits(14, string.digits)),
    ("my card is {} exp 08/29", "5" + rng.choice("12345") + digits(13, string.digits)),
    ("Amex {}", "37" + digits(12, string.digits)),
    ("card number {}", "6011" + digits(11, string.digits)),
    ("charge {} please", "4" + digits(14, string.digits)),
    ("MC {}", "2221" + digits(11, string.digits)),
    ("JCB {}", "3530" + digits(11, string.digits)),
    ("cc={}", "4" + digits(14, string.digits)),
]:
    n = luhn(stem)
    if (len(n) == 16 and "Visa" in text) or text.startswith("charge"):
        n = spaced4(n)
    elif len(n) == 16 and text.startswith("MC"):
        n = "-".join(n[i : i + 4] for i in range(0, 16, 4))
    elif len(n) == 15 and "Amex" in text:
        n = f"{n[:4]} {n[4:10]} {n[10:]}"
    pos("card", text, n)

for text, v in [
    ("send it to {} please", "lena.schulz@posteo.de"),
    ("Contact: {}", "m.rossi@azienda.it"),
    ("<{}>", "devops-alerts@company.example"),
    ("email={}", "user.name+tag@gmail.com"),
    ("From: {}", "CEO@BIGCORP.COM"),
    ("cc {}, bcc legal", "akira.yamada@example.co.jp"),
    ("Her address is {}.", "priya_k@outlook.in"),
    ("owner: {}", "sre-team@sub.example.org"),
]:
    pos("email", text, v)

for text, v in [
    ("ssh admin@{} failed", "10.12.0.5"),
    ("upstream {}:443 timed out", "52.14.201.7"),
    ("blocked IP {}", "185.220.101.4"),
    ("X-Real-IP: {}", "198.51.100.77"),
    ("server at {} (IPv6)", "2a00:1450:4001:82b::200e"),
    ("client ip={}", "fd12:3456:789a:1::1"),
    ("gateway {}", "192.168.0.254"),
    ("ping {} -c 4", "9.9.9.9"),
]:
    pos("ip", text, v)

# --- secrets --------------------------------------------------------------------------------------
for text, v in [
    ("aws_access_key_id = {}", "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
    ("export AWS_ACCESS_KEY_ID={}", "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
    ('"AccessKeyId": "{}",', "ASIA" + rand(string.ascii_uppercase + "234567", 16)),
    ("use key {} for the deploy user", "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
    ("access key: {}", "AKIA" + rand(string.ascii_uppercase + "234567", 16)),
]:
    sec("aws_access_key_id", text, v)
for text in [
    "aws_secret_access_key = {}",
    "export AWS_SECRET_ACCESS_KEY={}",
    '"SecretAccessKey": "{}",',
    "AWS secret key: {}",
    "aws_secret_access_key={}",
    "secret_access_key: '{}'",
]:
    sec("aws_secret_key", text, rand(B64, 40))
for text in [
    "aws_session_token = {}",
    "export AWS_SESSION_TOKEN={}",
    '"SessionToken": "{}"',
    "x-amz-security-token: {}",
]:
    sec("aws_session_token", text, "IQoJb3JpZ2luX2Vj" + rand(B64, 300))
for text in ['"private_key": "{}",', "GOOGLE_PRIVATE_KEY={}"]:
    body = "\\n".join(rand(B64, 64) for _ in range(6))
    sec(
        "gcp_service_account",
        text,
        f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n".rstrip("\\n"),
    )
body = "\n".join(rand(B64, 64) for _ in range(5))
sec(
    "gcp_service_account",
    "key.json private key:\n{}\n",
    f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----",
)
for text in [
    "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={};EndpointSuffix=core.windows.net",
    'AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=logs01;AccountKey={}"',
    "AccountName=backup;AccountKey={};BlobEndpoint=https://backup.blob.core.windows.net/",
]:
    sec("azure_storage_key", text, rand(B64, 86) + "==")
for text in [
    "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={}",
]:
    sec("azure_storage_key", text, rand(B64, 43) + "=")
for text in [
    "https://acme.blob.core.windows.net/reports/q3.pdf?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig={}",
    "SAS token: sv=2021-08-06&ss=bfqt&srt=sco&sp=rwdlacupitfx&se=2025-12-31T23:59:59Z&spr=https&sig={}",
    "?sp=racwdl&st=2025-03-01T10:00:00Z&se=2025-03-02T10:00:00Z&spr=https&sv=2022-11-02&sr=c&sig={}",
]:
    sec("azure_sas", text, rand(ALNUM + "%", 44).replace("%", "%2B") + "%3D")
for text, v in [
    ("SLACK_BOT_TOKEN={}", f"xoxb-{digits(12)}-{digits(13)}-{rand(ALNUM, 24)}"),
    ("user token {}", f"xoxp-{digits(12)}-{digits(12)}-{digits(13)}-{rand(HEX, 32)}"),
    ("SLACK_APP_TOKEN={}", f"xapp-1-A{rand(UPPER_DIGITS, 10)}-{digits(13)}-{rand(HEX, 64)}"),
    ("slack token: {}", f"xoxb-{digits(11)}-{digits(13)}-{rand(ALNUM, 24)}"),
    ("refresh token {}", f"xoxe-1-{rand(ALNUM, 140)}"),
]:
    sec("slack_token", text, v)
for text in [
    "SLACK_WEBHOOK_URL={}",
    "curl -X POST -H 'Content-type: application/json' --data '{{\"text\":\"hi\"}}' {}",
    "webhook: {}",
    "post alerts to {} from the cron job",
]:
    sec(
        "slack_webhook",
        text.replace("{{", "{").replace("}}", "}"),
        f"https://hooks.slack.com/services/T{rand(UPPER_DIGITS, 8)}/B{rand(UPPER_DIGITS, 10)}/{rand(ALNUM, 24)}",
    )
for text in ["DISCORD_TOKEN={}", "bot.run('{}')", "discord bot token: {}"]:
    sec("discord_token", text, f"{rng.choice('MN')}{rand(ALNUM, 25)}.{rand(URLSAFE, 6)}.{rand(URLSAFE, 38)}")
for text in ["TELEGRAM_BOT_TOKEN={}", "bot = telebot.TeleBot('{}')", "telegram token {}"]:
    sec("telegram_token", text, f"{digits(10)}:AA{rand(URLSAFE, 33)}")
for text, v in [
    ("GH_TOKEN={}", "ghp_" + rand(ALNUM, 36)),
    ("oauth token {}", "gho_" + rand(ALNUM, 36)),
    ("fine-grained {}", "github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59)),
    ("app token ghs {}", "ghs_" + rand(ALNUM, 36)),
]:
    sec("github_token", text, v)
for text, v in [
    ("GITLAB_TOKEN={}", "glpat-" + rand(URLSAFE, 20)),
    ("deploy token {}", "gldt-" + rand(URLSAFE, 20)),
    ("CI_JOB... runner token {}", "glrt-" + rand(URLSAFE, 20)),
    ("trigger token {}", "glptt-" + rand(HEX, 40)),
]:
    sec("gitlab_token", text, v)
for text, v in [
    ("STRIPE_SECRET_KEY={}", "sk_" + "live_" + rand(ALNUM, 99)),
    ("stripe test key {}", "sk_" + "test_" + rand(ALNUM, 99)),
    ("STRIPE_WEBHOOK_SECRET={}", "whsec_" + rand(ALNUM, 32)),
    ("restricted key {}", "rk_" + "live_" + rand(ALNUM, 99)),
]:
    sec("stripe_key", text, v)
for text, v in [
    ("TWILIO_API_KEY={}", "SK" + rand(HEX, 32)),
    ("twilio api key sid {}", "SK" + rand(HEX, 32)),
    ("TWILIO_AUTH_TOKEN={}", rand(HEX, 32)),
]:
    sec("twilio_key", text, v)
for text in ["SENDGRID_API_KEY={}", "sendgrid key: {}", "sg.set_api_key('{}')"]:
    sec("sendgrid_key", text, f"SG.{rand(URLSAFE, 22)}.{rand(URLSAFE, 43)}")
for text, v in [
    ("OPENAI_API_KEY={}", "sk-proj-" + rand(URLSAFE, 156)),
    ("client = OpenAI(api_key='{}')", "sk-" + rand(ALNUM, 48)),
    ("service account key {}", "sk-svcacct-" + rand(URLSAFE, 120)),
    ("admin key {}", "sk-admin-" + rand(URLSAFE, 100)),
]:
    sec("openai_key", text, v)
for text, v in [
    ("ANTHROPIC_API_KEY={}", "sk-ant-api03-" + rand(URLSAFE, 93) + "AA"),
    ('anthropic.Anthropic(api_key="{}")', "sk-ant-api03-" + rand(URLSAFE, 93) + "AA"),
    ("admin key {}", "sk-ant-admin01-" + rand(URLSAFE, 93) + "AA"),
]:
    sec("anthropic_key", text, v)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


for text, header, claims in [
    (
        "Authorization: Bearer {}",
        b'{"alg":"RS256","typ":"JWT","kid":"abc123"}',
        b'{"sub":"42","exp":1900000000}',
    ),
    ("id_token={}", b'{"typ":"JWT","alg":"ES384"}', b'{"iss":"https://login.example.com","aud":"app"}'),
    ("jwt: {}", b'{"alg":"HS512"}', b'{"user_id":7,"role":"admin"}'),
    ("access_token cookie {}", b'{"alg":"EdDSA","typ":"at+jwt"}', b'{"scope":"read write"}'),
]:
    sec("jwt", text, f"{b64url(header)}.{b64url(claims)}.{rand(URLSAFE, 86)}")
for text, label in [
    ("id_rsa:\n{}", "RSA PRIVATE KEY"),
    ("here is the key\n{}\n", "OPENSSH PRIVATE KEY"),
    ("{}", "EC PRIVATE KEY"),
    ("tls.key: |\n{}", "PRIVATE KEY"),
]:
    body = "\n".join(rand(B64, 64) for _ in range(5))
    sec("pem_private_key", text, f"-----BEGIN {label}-----\n{body}\n-----END {label}-----")

# --- near misses ----------------------------------------------------------------------------------
for t in [
    "Order #123456789 shipped yesterday",
    "order number 2025031200456",
    "your order 114-3941689-8772232 is on its way",
    "Invoice 20250312-0042 is due",
    "ticket INC0012345 reopened",
    "booking code 987654321, seat 14C",
    "reference 98765432101 from the bank statement",
    "case number 2024-CV-001234",
    "customer id 100234567",
    "tracking 9400111899223856478321",
    "order id 4701234567890",
    "PO# 450001234 approved",
    "AWB 176-12345675",
    "claim 7700123456 was denied",
    "account no. 12345678 at branch 0042",
    "reservation 5551234567",
]:
    near("order_number", t)
for t in [
    "upgraded to 3.11.4 from 3.10.12",
    "kernel 5.15.0-105-generic",
    "tensorflow==2.15.0.post1",
    "Build 22621.3296 is installed",
    "version 10.0.17763.5576",
    "chrome 123.0.6312.122",
    "v2.4.1-rc.3+build.20250301",
    "libssl.so.1.1.1w",
    "API v1.12.0.0 deprecated",
    "gcc 13.2.0-23ubuntu4",
]:
    near("version", t)
for t in [
    "room 0203 on floor 02",
    "zip code 01234",
    "PIN 0000 is not allowed",
    "codes 0123 0456 0789 0012",
    "batch 0001-0002-0003",
    "lines 01 02 03 04 05 06 07 08",
    "employee id 00123456",
    "part 0815-4711-12",
    "ref 007 and 0042 and 00071",
    "serial 0123456789",
    "account 0012-3456-78",
    "bin 04 05 06 07 08 09 10",
    "station 0212 to 0299",
    "barcode 0 12345 67890 5",
    "item 012-345-6789-01",
    "test vector 00 11 22 33 44 55 66 77",
]:
    near("leading_zero", t)
for t in [
    "due on 2025-03-14, paid 14/03/2025",
    "meeting 12.03.2025 um 14:30",
    "born 1984-07-23",
    "20250314T093000Z",
    "from 03/14/2025 to 04/14/2025",
    "timestamp 1741944600",
    "2025年3月14日 10時30分",
    "Q1 2025 (Jan 1 – Mar 31)",  # noqa: RUF001 (an en dash, as people write it)
    "logged 14-Mar-2025 09:30:00.123",
    "epoch ms 1741944600123",
]:
    near("date", t)
for t in [
    "total $1,234,567.89",
    "€ 12.345.678,90 netto",
    "price 9 999 999 ₽",
    "costs USD 123456789",
    "£1,299.00 inc. VAT",
    "¥ 12,345,678",
    "revenue 4 523 117 EUR",
    "bid 0.00012345 BTC",
]:
    near("price", t)
for t in [
    "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
    "md5: 9e107d9d372bb6826bd81d3542a419d6",
    "commit 7a3b9f1e2c4d5e6f708192a3b4c5d6e7f8091a2b",
    "uuid 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "request_id=9b2c3d4e-5f60-4718-9a2b-3c4d5e6f7081",
    "sha256 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    'etag "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "object key 4f8d2a9c1b7e3f60a5d8c2e1b9f7a3d6.json",
    "container id e3b0c44298fc1c149afbf4c8996fb924",
    "ObjectId(507f1f77bcf86cd799439011)",
    "trace 0af7651916cd43dd8448eb211c80319c",
    "K8s pod web-7d4b9c8f6-x2kqz",
    "nonce 8f14e45fceea167a5a36dedd4bea2543",
    "blob sha 95d09f2b10159347eece71399a7e2e907ea3df4f",
]:
    near("hash_uuid", t)
for t in [
    "export OPENAI_API_KEY=<your key>",
    "AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}",
    "api_key: YOUR_API_KEY_HERE",
    "token = os.getenv('SLACK_BOT_TOKEN')",
    "set SENDGRID_API_KEY to the key from the dashboard",
    "password: ********",
    "Authorization: Bearer {{token}}",
    "the key starts with sk-proj- followed by random characters",
    "AccountKey=<storage-account-key>",
    "https://hooks.slack.com/services/YOUR/WEBHOOK/URL",
    "ghp_ prefixes a GitHub personal access token",
    "xoxb- tokens are bot tokens",
]:
    near("credential_mention", t)
for t in [
    "NI number format is two letters, six digits, a letter",
    "Steuer-ID hat 11 Ziffern",
    "ticket 12345678901 closed",
    "DNI sin letra: 12345678",
    "the 12-digit id 1234 5678 9012",
    "CPF 123.456.789-00 fails its check digits",
    "SIN 123 456 789",
    "TFN 123 456 789",
    "id 110101199003071234",
    "NIR 1 85 05 78 006 084 99",
    "codice fiscale RSSMRA85T10A562X",
    "Aadhaar 1234 5678 9012",
    "SSN field left blank: ___-__-____",
    "phone number of the form +XX XXX XXX",
    "ISIN US0378331005",
    "GTIN 00012345600012",
]:
    near("national_id_shape", t)


def main() -> None:
    out = Path(__file__).with_name("pii_heldout.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for item in ITEMS:
            f.write(msgspec.json.encode(item).decode() + "\n")
    cats: dict[str, int] = {}
    for item in ITEMS:
        cats[item["category"]] = cats.get(item["category"], 0) + 1
    print(out, cats)


if __name__ == "__main__":
    main()
