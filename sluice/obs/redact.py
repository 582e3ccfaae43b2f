"""Secrets kept out of text that leaves the process (upstream error messages, log lines): every
configured secret, and anything shaped like a credential, becomes ``[REDACTED]``."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator

from pydantic import BaseModel, SecretStr

MASK = "[REDACTED]"

# Credential shapes, whoever's they are. The labelled forms keep their label (``Bearer``,
# ``x-api-key:``) so a message still says what was there; the bare ones go whole.
# Each pattern opens with a lookahead on the first characters its alternatives can start with:
# Python's re tries every alternative at every position otherwise (2-3x slower).
_LABELLED = re.compile(
    r"""(?=[BbXxAaPpSsTt])(?P<label>
        \b[Bb]earer[ \t]+(?=[\w\-.~+/]{16})
      | (?i:\b(?:x-)?api[-_]?key|\bauthorization|\bpassword|\bpasswd|\bsecret|\btoken|\baccess[-_]?key)
        ["']?[ \t]*[:=][ \t]*["']?(?:[Bb]earer[ \t]+|[Bb]asic[ \t]+)?
    )
    (?P<value>(?!\[REDACTED\])[^\s"',;&<>]{4,})
    """,
    re.ASCII | re.VERBOSE,
)
_USERINFO = re.compile(r"(?<=://)([^/\s:@]*):[^\s/@]+@")  # the password in scheme://user:pass@host
_SHAPES = re.compile(
    r"""(?=[-Aeghnprsx])(?:
      (?<![\w\-])sk-[\w\-*]{8,}                               # OpenAI, Anthropic (masked ones too)
    | (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}                  # Stripe
    | \bA(?:KIA|SIA)[A-Z0-9]{16}\b                                # AWS access key ids
    | \bgh[pousr]_[A-Za-z0-9]{20,} | \bgithub_pat_\w{20,}         # GitHub
    | \bxox[abeoprs]-[A-Za-z0-9\-]{10,}                           # Slack
    | \bAIza[\w\-]{30,}                                           # Google
    | \bhf_[A-Za-z0-9]{20,} | \bglpat-[\w\-]{20,} | \bnpm_[A-Za-z0-9]{30,}
    | \beyJ[\w\-]{8,}\.[\w\-]{2,}\.[\w\-]*                         # JWTs
    | -----BEGIN[A-Z0-9 ]*PRIVATE\ KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE\ KEY-----|\Z)
    )""",
    re.ASCII | re.VERBOSE | re.DOTALL,
)
# Header names whose values are credentials, for headers configured as plain strings.
_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|password|cookie|signature", re.IGNORECASE)


class Redactor:
    """Replaces the given secrets (exactly, and in their URL-encoded form) and every credential
    shape with ``[REDACTED]``. Built once at startup; ``redact`` runs on error paths and log lines,
    never per token."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants = {v for s in secrets if s for v in _variants(s)}
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._exact = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def redact(self, text: str) -> str:
        if self._exact is not None:
            text = self._exact.sub(MASK, text)
        text = _SHAPES.sub(MASK, text)
        text = _USERINFO.sub(rf"\1:{MASK}@", text)
        return _LABELLED.sub(lambda m: m["label"] + MASK, text)


def _variants(secret: str) -> Iterator[str]:
    yield secret
    quoted = urllib.parse.quote(secret, safe="")
    if quoted != secret:
        yield quoted
    # A DSN or URL: its password alone may be quoted by a driver's error.
    if "://" in secret:
        try:
            password = urllib.parse.urlsplit(secret).password
        except ValueError:
            password = None
        if password:
            yield password
            yield urllib.parse.unquote(password)


def secret_values(settings: BaseModel) -> list[str]:
    """Every secret in a settings tree: each ``SecretStr``, and the values of configured headers
    whose names say they carry a credential (``authorization``, ``api-key``, ``x-token``...)."""
    out: list[str] = []
    _collect(settings, out)
    return out


def _collect(value: object, out: list[str]) -> None:
    if isinstance(value, SecretStr):
        out.append(value.get_secret_value())
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect(getattr(value, name), out)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                if isinstance(k, str) and _CREDENTIAL_HEADER.search(k):
                    out.append(v)
            else:
                _collect(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, out)
