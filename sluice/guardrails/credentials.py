"""Credentials: API keys and tokens known by their provider's prefix, tokens made of several
dotted parts (Discord, SendGrid, Telegram), and secrets known by what stands before them (an
assignment to a name like ``aws_secret_access_key`` or ``AccountKey``, an Azure SAS signature, a
Slack or Discord webhook URL, an AWS session token's fixed start).

Each value holds an ASCII digit (``pii.may_hold``'s evidence): one without is a word or a
placeholder (``YOUR_API_KEY_HERE``), not a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A whole run of token characters ([A-Za-z0-9_-]) that is a key, by its provider's prefix.
PREFIXED = re.compile(
    r"""sk-[\w\-]{20,}                                       # OpenAI (sk-proj-, sk-svcacct-...), Anthropic (sk-ant-...)
    | (?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,} | whsec_[A-Za-z0-9]{24,}  # Stripe keys, webhook secrets
    | (?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}           # AWS access key ids
    | gh[pousr]_[A-Za-z0-9]{36,} | github_pat_\w{22,}           # GitHub
    | xox[abeoprs]-[A-Za-z0-9\-]{10,} | xapp-\d-[A-Za-z0-9\-]{20,}  # Slack tokens, app-level tokens
    | AIza[\w\-]{35} | GOCSPX-[\w\-]{28}                        # Google API keys, OAuth client secrets
    | gl(?:pat|dt|ptt|rt|soat|cbt|imt|ft|oas|agent)-[\w\-]{20,} | GR1348941[\w\-]{20,}  # GitLab
    | SK[0-9a-f]{32}                                            # Twilio API keys
    | hf_[A-Za-z0-9]{30,} | npm_[A-Za-z0-9]{36} | pypi-AgEIcHlwaS5vcmc[\w\-]{50,}  # Hugging Face, npm, PyPI
    | dop_v1_[a-f0-9]{64} | shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32} | lin_api_[A-Za-z0-9]{40}  # DigitalOcean, Shopify, Linear
    """,
    re.ASCII | re.VERBOSE,
)

# Tokens of several parts joined by "." or ":", found from the run of token characters in them.
_DISCORD = re.compile(r"[MNO][\w\-]{23,27}\.[\w\-]{6}\.[\w\-]{27,40}(?![\w\-])", re.ASCII)
_SENDGRID = re.compile(r"SG\.[\w\-]{16,32}\.[\w\-]{16,64}(?![\w\-])", re.ASCII)
_TELEGRAM = re.compile(r"(?<!\d)\d{8,10}:AA[\w\-]{33}(?![\w\-])", re.ASCII)
_SLACK_REFRESH = "xoxe."  # a refresh token: "xoxe.xoxp-1-..."


def dotted(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The token of several parts that the run ``text[start:end]`` of token characters belongs to."""
    if text.startswith(".", end) and (m := _DISCORD.match(text, start)) is not None:
        return m.span()
    if text.startswith("SG.", start - 3) and (m := _SENDGRID.match(text, start - 3)) is not None:
        return m.span()
    if (
        text.startswith(":AA", start - 1)
        and (m := _TELEGRAM.search(text, max(0, start - 11), end)) is not None
    ):
        return m.span()
    return None


def refresh_prefix(text: str, start: int) -> int:
    """Where a Slack token starting at ``start`` really starts: before ``xoxe.`` when it has it."""
    return (
        start - len(_SLACK_REFRESH) if text.startswith(_SLACK_REFRESH, start - len(_SLACK_REFRESH)) else start
    )


# --- secrets known by what stands before them -----------------------------------------------------

# A name that says a secret follows ("aws_secret_access_key", "AccountKey", "auth_token",
# "client_secret"), an assignment, and a value of 16 characters or more.
_ASSIGNED = re.compile(
    r"""(?:secret|token|key|passw(?:or)?d)[\w\-]{0,24}["']?[ \t]{0,3}[:=][ \t]{0,3}["']?
    (?P<value>[A-Za-z0-9+/_\-.~%]{16,}=*)""",
    re.ASCII | re.VERBOSE | re.IGNORECASE,
)
_ASSIGNED_SEEDS = (b"secret", b"token", b"key", b"passw")
_HAS_DIGIT = re.compile(r"\d", re.ASCII).search
_HAS_LETTER = re.compile(r"[A-Za-z]", re.ASCII).search
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_PLACEHOLDER_MARKS = ("xxxx", "****", "your", "example.com", "<", "${")


def _assigned(text: str, lower: bytes) -> Iterator[tuple[int, int]]:
    for seed in _ASSIGNED_SEEDS:
        i = lower.find(seed)
        while i != -1:
            m = _ASSIGNED.match(text, i)
            if m is not None:
                start, end = m.span("value")
                while text[end - 1] == ".":
                    end -= 1
                value = text[start:end]
                if (
                    end - start >= 16
                    and _HAS_DIGIT(value)
                    and _HAS_LETTER(value)
                    and not _UUID.fullmatch(value)
                    and not any(mark in value.lower() for mark in _PLACEHOLDER_MARKS)
                ):
                    yield start, end
            i = lower.find(seed, i + len(seed))


_SESSION_TOKEN = re.compile(r"(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9+/]{80,}=*", re.ASCII)
_SESSION_SEEDS = (b"IQoJb3JpZ2luX2Vj", b"FwoGZXIvYXdzE")  # the start of an AWS STS session token
_WEBHOOK = re.compile(
    r"""(?:https?://)?(?:
      hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]{20,}
    | (?:discord|discordapp)\.com/api/webhooks/\d+/[\w\-]{40,}
    )""",
    re.ASCII | re.VERBOSE,
)
_WEBHOOK_SEEDS = (b"hooks.slack.com/", b"discord.com/api/webhooks/", b"discordapp.com/api/webhooks/")
# An Azure shared access signature's "sig" after its other fields (sv, sp, se, sr...).
_SAS_SIG = re.compile(r"[?&;]sig=([A-Za-z0-9%+/]{30,}(?:%3D|=){0,2})", re.ASCII)
_SAS_FIELDS = re.compile(r"(?:^|[?&;\s])s[vpert]=", re.ASCII)


def by_context(text: str, ascii_text: bytes) -> Iterator[tuple[int, int]]:
    """Secrets found by what stands before them or by a fixed start, as spans of ``text``;
    ``ascii_text`` is ``text`` with one byte per character, where the seeds are looked for."""
    lower = ascii_text.lower()
    yield from _assigned(text, lower)
    for seed in _SESSION_SEEDS:
        i = ascii_text.find(seed)
        while i != -1:
            m = _SESSION_TOKEN.match(text, i)
            if m is not None:
                yield m.span()
            i = ascii_text.find(seed, i + len(seed))
    for seed in _WEBHOOK_SEEDS:
        i = lower.find(seed)
        while i != -1:
            begin = (
                i - 8
                if text.startswith("https://", i - 8)
                else i - 7
                if text.startswith("http://", i - 7)
                else i
            )
            m = _WEBHOOK.match(text, begin)
            if m is not None and _HAS_DIGIT(m.group()):
                yield m.span()
            i = lower.find(seed, i + len(seed))
    i = ascii_text.find(b"sig=")
    while i != -1:
        m = _SAS_SIG.match(text, i - 1) if i else None
        if m is not None and _SAS_FIELDS.search(text, max(0, i - 400), i):
            yield m.span(1)
        i = ascii_text.find(b"sig=", i + 4)
