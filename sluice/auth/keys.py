"""API keys: held only as SHA-256 digests, looked up in constant time per request."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sluice.auth.principal import Principal, ScopedLimits
from sluice.policies import Limits
from sluice.settings import ApiKeySettings


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _principal(k: ApiKeySettings) -> Principal:
    limits = k.limits or Limits()
    budgets = tuple(sorted(k.budgets, key=lambda b: b.period))  # day before month
    return Principal(
        k.name,
        frozenset(k.models) if k.models is not None else None,
        limits=(ScopedLimits("key", k.name, limits, budgets),) if limits != Limits() or budgets else (),
        guardrails=k.guardrails,
    )


class KeyRing:
    """The keys from the config. The plaintext is hashed at startup and then dropped."""

    def __init__(self, keys: Iterable[ApiKeySettings]) -> None:
        self._by_digest = {digest(k.key.get_secret_value()): _principal(k) for k in keys}
        self._by_name = {p.key_name: p for p in self._by_digest.values()}

    def __len__(self) -> int:
        return len(self._by_digest)

    def lookup(self, key: str) -> Principal | None:
        return self._by_digest.get(digest(key))

    def lookup_digest(self, key_digest: bytes) -> Principal | None:
        return self._by_digest.get(key_digest)

    def by_name(self, name: str) -> Principal | None:
        """The key named ``name`` in the config (a batch made with it runs as it while it is there)."""
        return self._by_name.get(name)
