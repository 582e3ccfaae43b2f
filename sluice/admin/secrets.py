"""Minting credentials: a random secret shown once, its visible prefix and the digest stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

KEY_PREFIX = "sk-sl-"
ADMIN_PREFIX = "sk-sladm-"
VISIBLE = 6
"""Characters of the random part kept visible, to tell keys apart in lists and logs."""


@dataclass(frozen=True, slots=True)
class Minted:
    secret: str
    prefix: str
    secret_sha256: str


def mint(kind_prefix: str) -> Minted:
    """A new credential with 190 bits of randomness (32 base62 characters)."""
    random_part = secrets.token_urlsafe(32).replace("-", "").replace("_", "")[:32]
    secret = kind_prefix + random_part
    return Minted(secret, kind_prefix + random_part[:VISIBLE], hashlib.sha256(secret.encode()).hexdigest())


def new_id(kind: str) -> str:
    return f"{kind}_{secrets.token_hex(8)}"
