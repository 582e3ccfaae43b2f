"""JSON Web Key Sets: the public keys a JWT may be signed with, chosen by ``kid``, from a
document read once at startup or from a URL fetched when needed (never more than once a minute)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK, PyJWTError

from sluice.providers.http import CLIENT_ERRORS, make_session
from sluice.settings import ConfigError

log = logging.getLogger("sluice.auth")

PublicKey = RSAPublicKey | EllipticCurvePublicKey

REFETCH_S = 60.0
"""Least time between two fetches of a JWKS URL, so tokens with made-up kids cannot flood the issuer."""
RETRY_S = 5.0
"""After a failed fetch, the next try waits this long (not a whole minute: a blip must not lock users out)."""
MAX_AGE_S = 900.0
"""A fetched set older than this is fetched again on next use, so a key the issuer withdrew stops verifying."""
FETCH_TIMEOUT_S = 3.0


def fits(key: PublicKey, alg: str) -> bool:
    """Whether ``key`` is of the kind ``alg`` verifies with (RS*/PS*: RSA, ES*: EC; PyJWT checks the curve)."""
    return isinstance(key, EllipticCurvePublicKey) if alg.startswith("ES") else isinstance(key, RSAPublicKey)


@dataclass(frozen=True, slots=True)
class Jwk:
    kid: str | None
    alg: str | None
    """The algorithm the set names for this key; None lets any algorithm of the key's kind use it."""
    key: PublicKey


def select(keys: Sequence[Jwk], kid: str | None, alg: str) -> PublicKey | None:
    """The key for a token's ``kid`` and ``alg``; a token without a kid needs a set with one such key."""
    found = [
        k.key for k in keys if (kid is None or k.kid == kid) and k.alg in (None, alg) and fits(k.key, alg)
    ]
    return found[0] if len(found) == 1 else None


class _Document(msgspec.Struct):
    keys: list[dict[str, Any]]


def parse_jwks(document: bytes) -> list[Jwk]:
    """The signature-verifying public keys of a JWKS document; other members are skipped.

    Raises:
        ValueError: the document is not a JWKS.
    """
    try:
        members = msgspec.json.decode(document, type=_Document).keys
    except msgspec.DecodeError as e:
        raise ValueError(f"not a JWKS document: {e}") from None
    keys = []
    for member in members:
        if member.get("use", "sig") != "sig":
            continue
        try:
            key = PyJWK(member).key
        except PyJWTError:
            continue  # a key type PyJWT cannot use (and so no token can be verified with)
        kid, alg = member.get("kid"), member.get("alg")
        if isinstance(key, PublicKey) and isinstance(kid, str | None) and isinstance(alg, str | None):
            keys.append(Jwk(kid, alg, key))
    return keys


class JwksSource(Protocol):
    async def key(self, kid: str | None, alg: str) -> PublicKey | None:
        """The key a token with this ``kid`` and ``alg`` must verify with; None when there is none."""
        ...

    async def close(self) -> None: ...


class FileJwks:
    """A JWKS document on disk, read once when built."""

    def __init__(self, path: str) -> None:
        try:
            self._keys = parse_jwks(Path(path).read_bytes())
        except (OSError, ValueError) as e:
            raise ConfigError("auth.jwt.jwks_file", [f"{path}: {e}"]) from None
        if not self._keys:
            raise ConfigError("auth.jwt.jwks_file", [f"{path}: no RSA or EC signing keys"])

    async def key(self, kid: str | None, alg: str) -> PublicKey | None:
        return select(self._keys, kid, alg)

    async def close(self) -> None:
        return None


class UrlJwks:
    """A JWKS URL: fetched on first need, again for an unknown kid (at most every ``REFETCH_S``)
    and once the copy is ``MAX_AGE_S`` old. A failed fetch is logged and keeps the keys held."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self._url = url
        self._clock = clock
        self._keys: list[Jwk] = []
        self._fetched_at = float("-inf")
        self._next_fetch_at = float("-inf")
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def key(self, kid: str | None, alg: str) -> PublicKey | None:
        found = select(self._keys, kid, alg)
        if found is not None and self._clock() < self._fetched_at + MAX_AGE_S:
            return found
        async with self._lock:  # one fetch at a time; waiters then use its result
            if self._clock() >= self._next_fetch_at:
                await self._fetch()
        return select(self._keys, kid, alg)

    async def _fetch(self) -> None:
        if self._session is None:  # made on first use, inside the running loop it binds to
            self._session = make_session(2, FETCH_TIMEOUT_S)
        started = self._clock()
        self._next_fetch_at = started + RETRY_S
        try:
            async with self._session.get(
                self._url, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
            ) as resp:
                if resp.status != 200:
                    log.warning("JWKS fetch failed", extra={"url": self._url, "status": resp.status})
                    return
                keys = parse_jwks(await resp.read())
        except (*CLIENT_ERRORS, ValueError) as e:
            log.warning("JWKS fetch failed", extra={"url": self._url, "error": f"{type(e).__name__}: {e}"})
            return
        self._keys = keys
        self._fetched_at = started
        self._next_fetch_at = started + REFETCH_S

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
