"""From a presented key to a Principal: the config's static keys, then the store's virtual keys
behind a short in-process cache, so the hot path does no database query per request."""

from __future__ import annotations

import time
from collections.abc import Callable

from sluice.auth.keys import KeyRing, digest
from sluice.auth.principal import Principal
from sluice.store.protocols import Store
from sluice.store.records import ApiKey


class KeyResolver:
    """``lookup`` answers from the static ring, then the cache, then the store. A store key is
    re-checked against expiry on every hit, and ``forget`` drops a revoked key at once."""

    def __init__(
        self, static: KeyRing, store: Store, cache_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._static = static
        self._store = store
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def lookup(self, key: str) -> Principal | None:
        d = digest(key)
        static = self._static.lookup_digest(d)
        if static is not None:
            return static
        now = self._clock()
        hex_digest = d.hex()
        hit = self._cache.get(hex_digest)
        if hit is not None and hit[0] > now:
            record = hit[1]
        else:
            record = await self._store.key_by_secret_sha256(hex_digest)
            if self._cache_s > 0:
                if len(self._cache) > 100_000:
                    self._cache.clear()  # bounded: a flood of unknown keys cannot grow it forever
                self._cache[hex_digest] = (now + self._cache_s, record)
        if record is None or not record.is_usable(int(now)):
            return None
        return Principal(
            key_name=f"{record.prefix}...",
            allowed_models=frozenset(record.allowed_models) if record.allowed_models is not None else None,
            tenant_id=record.tenant_id,
            user_id=record.user_id,
            key_id=record.id,
        )

    def forget(self, secret_sha256: str) -> None:
        self._cache.pop(secret_sha256, None)
