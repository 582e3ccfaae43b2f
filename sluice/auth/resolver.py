"""From a presented key to a Principal: the config's static keys, then the store's virtual keys
behind a short in-process cache, so the hot path does no database query per request."""

from __future__ import annotations

import time
from collections.abc import Callable

from sluice.auth.keys import KeyRing, digest
from sluice.auth.principal import Principal
from sluice.store.protocols import Store
from sluice.store.records import ApiKey

_Entry = tuple[float, ApiKey | None, bool]
"""(cached until, the key or None, whether its tenant is disabled)."""


class KeyResolver:
    """``lookup`` answers from the static ring, then the cache, then the store. A store key is
    re-checked against expiry on every hit; ``forget`` and ``forget_tenant`` drop entries the
    admin API just changed, so revocation and disabling apply at once in this process."""

    def __init__(
        self, static: KeyRing, store: Store, cache_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._static = static
        self._store = store
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, _Entry] = {}

    async def lookup(self, key: str) -> Principal | None:
        d = digest(key)
        static = self._static.lookup_digest(d)
        if static is not None:
            return static
        now = self._clock()
        hex_digest = d.hex()
        entry = self._cache.get(hex_digest)
        if entry is None or entry[0] <= now:
            entry = await self._fetch(hex_digest, now)
        _, record, tenant_disabled = entry
        if record is None or tenant_disabled or not record.is_usable(int(now)):
            return None
        return Principal(
            key_name=f"{record.prefix}...",
            allowed_models=frozenset(record.allowed_models) if record.allowed_models is not None else None,
            tenant_id=record.tenant_id,
            user_id=record.user_id,
            key_id=record.id,
        )

    async def _fetch(self, hex_digest: str, now: float) -> _Entry:
        record = await self._store.key_by_secret_sha256(hex_digest)
        tenant = await self._store.get_tenant(record.tenant_id) if record is not None else None
        entry = (now + self._cache_s, record, tenant is None or tenant.disabled)
        if self._cache_s > 0:
            if len(self._cache) > 100_000:
                self._cache.clear()  # bounded: a flood of unknown keys cannot grow it forever
            self._cache[hex_digest] = entry
        return entry

    def forget(self, secret_sha256: str) -> None:
        self._cache.pop(secret_sha256, None)

    def forget_tenant(self, tenant_id: str) -> None:
        for d in [d for d, (_, key, _) in self._cache.items() if key is not None and key.tenant_id == tenant_id]:
            del self._cache[d]
