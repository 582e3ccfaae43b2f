"""JWTs as credentials: verified strictly (pinned algorithms, signature, exp/nbf/iat, aud, iss),
then turned into a Principal from the tenant and user claims, with the store behind a short cache."""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import get_default_algorithms
from jwt.types import Options

from sluice.auth.jwks import FileJwks, JwksSource, PublicKey, UrlJwks, fits
from sluice.auth.principal import (
    Principal,
    ScopedLimits,
    allowed_models,
    cache_policy_of,
    guardrail_policy_of,
)
from sluice.errors import AuthenticationError
from sluice.settings import ConfigError, JwtSettings
from sluice.store.protocols import Store
from sluice.store.records import Tenant, User

LimitsFor = Callable[[str, str | None, str | None], Awaitable[tuple[ScopedLimits, ...]]]
"""``(tenant_id, user_id, key_id)`` to the limits that apply, broadest scope first."""

_CACHE_MAX = 100_000
"""Entries per cache before it is emptied: a flood of new tenants or users cannot grow it forever."""

_REFUSALS: dict[type[jwt.PyJWTError], str] = {
    jwt.InvalidSignatureError: "The token's signature does not verify.",
    jwt.InvalidAudienceError: "The token's audience (aud) is not accepted.",
    jwt.InvalidIssuerError: "The token's issuer (iss) is not accepted.",
    jwt.InvalidKeyError: "The token's signing key is not acceptable for its algorithm.",
    jwt.DecodeError: "The token is malformed.",
    jwt.PyJWTError: "The token is invalid.",
}


def _refusal(message: str, code: str = "invalid_token") -> AuthenticationError:
    return AuthenticationError(message, code=code)


def _translate(e: jwt.PyJWTError) -> AuthenticationError:
    """PyJWT's error, by type, as a safe 401: its text is never passed on."""
    if isinstance(e, jwt.MissingRequiredClaimError):
        return _refusal(f"The token has no '{e.claim}' claim.")
    cls = next(c for c in type(e).__mro__ if c in _REFUSALS)
    return _refusal(_REFUSALS[cls])


async def no_limits(tenant_id: str, user_id: str | None, key_id: str | None) -> tuple[ScopedLimits, ...]:
    return ()


def _load_public_key(value: str) -> PublicKey:
    """``public_key`` is PEM text or the path of a PEM file."""
    try:
        pem = value.encode() if value.lstrip().startswith("-----BEGIN") else Path(value).read_bytes()
        key = load_pem_public_key(pem)
    except (OSError, ValueError) as e:
        raise ConfigError("auth.jwt.public_key", [f"not a readable PEM public key: {e}"]) from None
    if not isinstance(key, PublicKey):
        raise ConfigError(
            "auth.jwt.public_key", [f"an RSA or EC public key is needed, not {type(key).__name__}"]
        )
    return key


def _check_key(material: bytes | PublicKey, algorithms: Sequence[str]) -> None:
    """Refuse at startup a key that cannot verify every configured algorithm, or is too weak for it."""
    for alg in algorithms:
        algorithm = get_default_algorithms()[alg]
        if not isinstance(material, bytes) and not fits(material, alg):
            raise ConfigError("auth.jwt.public_key", [f"a {type(material).__name__} cannot verify {alg}"])
        try:
            weakness = algorithm.check_key_length(algorithm.prepare_key(material))
        except jwt.InvalidKeyError as e:
            raise ConfigError("auth.jwt", [f"the key cannot verify {alg}: {e}"]) from None
        if weakness:
            raise ConfigError("auth.jwt", [weakness])


def _load_keys(settings: JwtSettings, clock: Callable[[], float]) -> bytes | PublicKey | JwksSource:
    """The one key (the HS* secret or a PEM public key) or the JWKS to pick keys from."""
    algorithms = list(settings.algorithms)
    given = {
        "public_key": settings.public_key,
        "jwks_file": settings.jwks_file,
        "jwks_url": settings.jwks_url,
    }
    sources = [name for name, value in given.items() if value]
    if algorithms[0].startswith("HS"):  # the settings refuse to mix HS* with public-key algorithms
        if sources:
            raise ConfigError(
                "auth.jwt", [f"{', '.join(sources)}: not used by HS* algorithms, which verify with secret"]
            )
        assert settings.secret is not None  # required for HS* by the settings
        material: bytes | PublicKey = settings.secret.get_secret_value().encode()
    else:
        if settings.secret is not None:
            raise ConfigError("auth.jwt.secret", ["only HS* algorithms use a secret"])
        if len(sources) > 1:
            raise ConfigError("auth.jwt", [f"set only one of {', '.join(sources)}"])
        if settings.jwks_file:
            return FileJwks(settings.jwks_file)
        if settings.jwks_url:
            return UrlJwks(settings.jwks_url, clock=clock)
        assert settings.public_key  # the settings require a key source for RS*/ES*/PS*
        material = _load_public_key(settings.public_key)
    _check_key(material, algorithms)
    return material


class JwtVerifier:
    """``principal(token)``: the token verified, then its tenant (which must exist and be enabled)
    and its user (created in the store on first sight). Built once; keys are loaded here."""

    def __init__(
        self,
        settings: JwtSettings,
        store: Store,
        *,
        limits_for: LimitsFor = no_limits,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._algorithms = list(settings.algorithms)
        self._store = store
        self._limits_for = limits_for
        self._cache_s = cache_s
        self._ttl_s = cache_s
        self._clock = clock
        self._keys = _load_keys(settings, clock)
        required = [
            "exp",
            "sub",
            *(["aud"] if settings.audience else []),
            *(["iss"] if settings.issuer else []),
        ]
        # Times are checked in _check_times against the injected clock (PyJWT reads the system clock).
        self._options: Options = {
            "require": required,
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
            "enforce_minimum_key_length": True,
        }
        self._tenants: dict[str, tuple[float, Tenant | None]] = {}
        self._epoch = 0
        """Bumped by ``forget_tenant``: a lookup that began before it is answered but not cached."""
        self._users: dict[tuple[str, str], str] = {}

    async def principal(self, token: str) -> Principal:
        """The caller the token names.

        Raises:
            AuthenticationError: the token does not verify, or its tenant is unknown or disabled.
            StoreUnavailableError: the store did not answer.
        """
        claims = await self._verified_claims(token)
        tenant_id = _string_claim(claims, self._settings.tenant_claim)
        external_id = _string_claim(claims, self._settings.user_claim)
        tenant = await self._tenant(tenant_id)
        if tenant is None:
            raise _refusal("The token's tenant is not known.", "unknown_tenant")
        if tenant.disabled:
            raise _refusal("The token's tenant is disabled.", "tenant_disabled")
        user_id = await self._user_id(tenant_id, external_id)
        limits = await self._limits_for(tenant_id, user_id, None)
        return Principal(
            key_name=f"jwt:{claims['sub']}",
            allowed_models=allowed_models(None, limits),
            tenant_id=tenant_id,
            user_id=user_id,
            limits=limits,
            cache_policy=cache_policy_of(tenant),
            log_payloads=tenant.log_payloads,
            guardrails=guardrail_policy_of(tenant),
        )

    def forget_tenant(self, tenant_id: str) -> None:
        """Drop the cached tenant, so a tenant the admin API just disabled stops at once here."""
        self._epoch += 1
        self._tenants.pop(tenant_id, None)

    def bound_staleness(self, max_s: float | None) -> None:
        """Cache tenants for at most ``max_s`` from now on (None: ``cache_s`` again); bounding drops them all."""
        self._ttl_s = self._cache_s if max_s is None else min(self._cache_s, max_s)
        if max_s is not None:
            self._epoch += 1
            self._tenants.clear()

    async def close(self) -> None:
        if not isinstance(self._keys, bytes | PublicKey):
            await self._keys.close()

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            alg = header.get("alg")
            # The pin is checked first, before any key is chosen: `none` and algorithm confusion stop here.
            if not isinstance(alg, str) or alg not in self._algorithms:
                raise _refusal("The token's algorithm is not accepted.")
            key = await self._key(alg, header.get("kid"))
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                options=self._options,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
            )
        except jwt.PyJWTError as e:
            raise _translate(e) from None
        self._check_times(claims)
        return claims

    async def _key(self, alg: str, kid: str | None) -> bytes | PublicKey:
        if isinstance(self._keys, bytes | PublicKey):
            return self._keys
        key = await self._keys.key(kid, alg)
        if key is None:
            raise _refusal("No signing key matches the token's kid.")
        return key

    def _check_times(self, claims: dict[str, Any]) -> None:
        now, leeway = self._clock(), self._settings.leeway_s
        exp, nbf, iat = (_numeric_date(claims, name) for name in ("exp", "nbf", "iat"))
        if exp is not None and exp <= now - leeway:
            raise _refusal("The token has expired.", "token_expired")
        if (nbf is not None and nbf > now + leeway) or (iat is not None and iat > now + leeway):
            raise _refusal("The token is not valid yet (nbf or iat in the future).")

    async def _tenant(self, tenant_id: str) -> Tenant | None:
        now = self._clock()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        epoch = self._epoch
        tenant = await self._store.get_tenant(tenant_id)
        if self._ttl_s > 0 and epoch == self._epoch:
            if len(self._tenants) >= _CACHE_MAX:
                self._tenants.clear()
            self._tenants[tenant_id] = (now + self._ttl_s, tenant)
        return tenant

    async def _user_id(self, tenant_id: str, external_id: str) -> str:
        """The store's id for the user; created on first sight. Users are never deleted, so the
        mapping is cached for good."""
        cached = self._users.get((tenant_id, external_id))
        if cached is not None:
            return cached
        user = await self._store.user_by_external_id(tenant_id, external_id)
        if user is None:  # an upsert: requests (or replicas) seeing the user at once get one row
            new = User(f"usr_{secrets.token_hex(8)}", tenant_id, external_id, int(self._clock()))
            user = await self._store.ensure_user(new)
        if len(self._users) >= _CACHE_MAX:
            self._users.clear()
        self._users[(tenant_id, external_id)] = user.id
        return user.id


def _string_claim(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None or value == "":
        raise _refusal(f"The token has no '{name}' claim.")
    if not isinstance(value, str):
        raise _refusal(f"The token's '{name}' claim is not a string.")
    return value


def _numeric_date(claims: dict[str, Any], name: str) -> int | float | None:
    """A NumericDate claim, when present; JSON ``true`` or ``Infinity`` is refused, not coerced.
    An int stays an int: Python compares it with a float exactly, however many digits it has."""
    value = claims.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        raise _refusal(f"The token's '{name}' claim is not a number.")
    return value
