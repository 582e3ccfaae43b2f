"""Key, tenant and plan changes reach every replica's auth caches: applied here at once and, on the
distributed backend, announced to the other replicas through Redis (``auth/redis.py``; which one
runs is chosen in ``sluice/backend.py``)."""

from __future__ import annotations

from typing import Protocol

from sluice.auth.jwt import JwtVerifier
from sluice.auth.resolver import KeyResolver


class AuthCaches:
    """This process's auth caches: the key resolver's and, with JWT, the verifier's tenants.
    The CLI has none: it only announces its changes."""

    def __init__(self, resolver: KeyResolver | None = None, jwt: JwtVerifier | None = None) -> None:
        self._resolver = resolver
        self._jwt = jwt

    def forget_key(self, secret_sha256: str) -> None:
        if self._resolver is not None:
            self._resolver.forget(secret_sha256)

    def forget_tenant(self, tenant_id: str) -> None:
        if self._resolver is not None:
            self._resolver.forget_tenant(tenant_id)
        if self._jwt is not None:
            self._jwt.forget_tenant(tenant_id)

    def forget_all(self) -> None:
        """A plan changed: every tenant's and user's limits may have (the JWT verifier caches
        tenants only, whose records a plan does not change)."""
        if self._resolver is not None:
            self._resolver.forget_all()

    def bound_staleness(self, max_s: float | None) -> None:
        """See ``KeyResolver.bound_staleness``: None restores the configured TTL."""
        if self._resolver is not None:
            self._resolver.bound_staleness(max_s)
        if self._jwt is not None:
            self._jwt.bound_staleness(max_s)


class Invalidation(Protocol):
    """Where the admin operations report a change; ``start`` and ``close`` bracket the app's life."""

    async def key_changed(self, secret_sha256: str) -> None: ...

    async def tenant_changed(self, tenant_id: str) -> None: ...

    async def plan_changed(self, name: str) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class LocalInvalidation:
    """The embedded backend's: one process, so applying the change here is all there is to do."""

    def __init__(self, caches: AuthCaches) -> None:
        self._caches = caches

    async def key_changed(self, secret_sha256: str) -> None:
        self._caches.forget_key(secret_sha256)

    async def tenant_changed(self, tenant_id: str) -> None:
        self._caches.forget_tenant(tenant_id)

    async def plan_changed(self, name: str) -> None:
        self._caches.forget_all()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass
