"""From a presented key to a Principal: the config's static keys, then the store's virtual keys
behind a short in-process cache, so the hot path does no database query per request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from sluice.auth.keys import KeyRing, digest
from sluice.auth.principal import (
    Principal,
    ScopedLimits,
    allowed_models,
    cache_policy_of,
    guardrail_policy_of,
)
from sluice.policies import Budget, Limits, Plan, ScopeKind
from sluice.store.protocols import Store
from sluice.store.records import ApiKey, BatchCaller, StoredSpend

_K = TypeVar("_K")
_V = TypeVar("_V")

_MAX_ENTRIES = 100_000
"""Per cache: a flood of unknown keys cannot grow it forever."""

_UNLIMITED = Limits()


class _KeyEntry(NamedTuple):
    until: float
    key: ApiKey | None
    principal: Principal | None
    """None when the key is unknown or its tenant is missing or disabled."""


_Scope = tuple[str, str | None, str | None]
"""(tenant id, user id, key id)."""


class KeyResolver:
    """``lookup`` answers from the static ring, then the cache, then the store; the Principal of a
    store key carries its tenant's, user's and key's limits, fetched and cached with the key.
    A store key is re-checked against expiry on every hit; ``forget`` and ``forget_tenant`` drop
    entries the admin API just changed, so revocation, disabling and new limits apply at once
    in every process told of the change (``auth/invalidation.py``)."""

    def __init__(
        self,
        static: KeyRing,
        store: Store,
        cache_s: float,
        clock: Callable[[], float] = time.time,
        *,
        default_tenant_limits: Limits = _UNLIMITED,
    ) -> None:
        self._static = static
        self._store = store
        self._cache_s = cache_s
        self._ttl_s = cache_s
        self._clock = clock
        self._default_tenant_limits = default_tenant_limits
        self._keys: dict[str, _KeyEntry] = {}
        self._limits: dict[_Scope, tuple[float, tuple[ScopedLimits, ...]]] = {}
        self._epoch = 0
        """Bumped by every forget: a fetch that began before one is answered but not cached."""

    async def lookup(self, key: str) -> Principal | None:
        d = digest(key)
        static = self._static.lookup_digest(d)
        if static is not None:
            return static
        now = self._clock()
        hex_digest = d.hex()
        entry = self._keys.get(hex_digest)
        if entry is None or entry.until <= now:
            entry = await self._fetch_key(hex_digest, now)
        if entry.key is None or entry.principal is None or not entry.key.is_usable(int(now)):
            return None
        return entry.principal

    async def principal_of(self, caller: BatchCaller) -> Principal | None:
        """The caller a batch stored, as it is now (from the store, not the cache: a batch line
        is not on the hot path): None once its key is revoked or expired, its tenant disabled or
        gone, or its static key no longer in the config. A JWT's caller is its tenant and user
        (the token's own expiry was checked when the batch was made)."""
        if caller.tenant_id is None:
            return self._static.by_name(caller.key_name)
        tenant = await self._store.get_tenant(caller.tenant_id)
        if tenant is None or tenant.disabled:
            return None
        allowed: frozenset[str] | None = None
        if caller.key_id is not None:
            record = await self._store.get_key(caller.tenant_id, caller.key_id)
            if record is None or not record.is_usable(int(self._clock())):
                return None
            allowed = frozenset(record.allowed_models) if record.allowed_models is not None else None
        limits = await self._load_limits(caller.tenant_id, caller.user_id, caller.key_id)
        return Principal(
            key_name=caller.key_name,
            allowed_models=allowed_models(allowed, limits),
            tenant_id=caller.tenant_id,
            user_id=caller.user_id,
            key_id=caller.key_id,
            limits=limits,
            cache_policy=cache_policy_of(tenant),
            log_payloads=tenant.log_payloads,
            guardrails=guardrail_policy_of(tenant),
        )

    async def limits_for(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> tuple[ScopedLimits, ...]:
        """The limits of a caller ``lookup`` does not resolve (a JWT's tenant and user), cached for ``cache_s``."""
        now = self._clock()
        scope = (tenant_id, user_id, key_id)
        entry = self._limits.get(scope)
        if entry is None or entry[0] <= now:
            epoch = self._epoch
            entry = (now + self._ttl_s, await self._load_limits(tenant_id, user_id, key_id))
            self._remember(self._limits, scope, entry, epoch)
        return entry[1]

    async def _fetch_key(self, hex_digest: str, now: float) -> _KeyEntry:
        epoch = self._epoch
        record = await self._store.key_by_secret_sha256(hex_digest)
        tenant = await self._store.get_tenant(record.tenant_id) if record is not None else None
        principal = None
        if record is not None and tenant is not None and not tenant.disabled:
            limits = await self._load_limits(record.tenant_id, record.user_id, record.id)
            own = frozenset(record.allowed_models) if record.allowed_models is not None else None
            principal = Principal(
                key_name=f"{record.prefix}...",
                allowed_models=allowed_models(own, limits),
                tenant_id=record.tenant_id,
                user_id=record.user_id,
                key_id=record.id,
                limits=limits,
                cache_policy=cache_policy_of(tenant),
                log_payloads=tenant.log_payloads,
                guardrails=guardrail_policy_of(tenant),
            )
        entry = _KeyEntry(now + self._ttl_s, record, principal)
        self._remember(self._keys, hex_digest, entry, epoch)
        return entry

    async def _load_limits(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> tuple[ScopedLimits, ...]:
        """Four queries: the tenant's own limits (else its plan's, else the config defaults), the
        user's, the key's, their budgets, the tenant's and user's spend policies and plans;
        broadest first, leaving out a scope that limits nothing. A scope's own limits, budgets and
        spend policy override its plan's field by field (budgets period by period)."""
        found = await self._store.limits_for(tenant_id, user_id, key_id)
        budgets = await self._store.budgets_for(tenant_id, user_id, key_id)
        spend = await self._store.spend_policies_for(tenant_id, user_id)
        plans = await self._store.plans_for(tenant_id, user_id)
        tenant_spend, tenant_plan = spend.get("tenant"), plans.get("tenant")
        scoped = [
            _scope(
                "tenant",
                tenant_id,
                found.get("tenant"),
                tuple(budgets.get("tenant", ())),
                tenant_spend,
                tenant_plan,
                self._default_tenant_limits,
            )
        ]
        user_spend, user_plan = spend.get("user"), plans.get("user")
        has_user = "user" in found or "user" in budgets or user_spend is not None or user_plan is not None
        if user_id is not None and has_user:
            scoped.append(
                _scope(
                    "user", user_id, found.get("user"), tuple(budgets.get("user", ())), user_spend, user_plan
                )
            )
        if key_id is not None and ("key" in found or "key" in budgets):
            scoped.append(
                ScopedLimits("key", key_id, found.get("key", _UNLIMITED), tuple(budgets.get("key", ())))
            )
        return tuple(
            s
            for s in scoped
            if s.limits != _UNLIMITED or s.budgets or s.spend is not None or s.models is not None
        )

    def _remember(self, cache: dict[_K, _V], key: _K, value: _V, epoch: int) -> None:
        if self._ttl_s > 0 and epoch == self._epoch:
            if len(cache) >= _MAX_ENTRIES:
                cache.clear()
            cache[key] = value

    def forget(self, secret_sha256: str) -> None:
        self._epoch += 1
        self._keys.pop(secret_sha256, None)

    def forget_tenant(self, tenant_id: str) -> None:
        """Drop what is cached for the tenant: its keys (with their limits) and its callers' limits."""
        self._epoch += 1
        for d in [d for d, e in self._keys.items() if e.key is not None and e.key.tenant_id == tenant_id]:
            del self._keys[d]
        for scope in [s for s in self._limits if s[0] == tenant_id]:
            del self._limits[scope]

    def forget_all(self) -> None:
        """Drop every entry (a plan changed: any tenant may be on it)."""
        self._epoch += 1
        self._keys.clear()
        self._limits.clear()

    def bound_staleness(self, max_s: float | None) -> None:
        """Cache entries for at most ``max_s`` from now on (None: ``cache_s`` again). Bounding drops
        every entry: changes made while this process could not hear of them are unknown."""
        self._ttl_s = self._cache_s if max_s is None else min(self._cache_s, max_s)
        if max_s is not None:
            self._epoch += 1
            self._keys.clear()
            self._limits.clear()


def _scope(
    kind: ScopeKind,
    scope_id: str,
    own: Limits | None,
    budgets: tuple[Budget, ...],
    spend: StoredSpend | None,
    plan: Plan | None,
    default: Limits = _UNLIMITED,
) -> ScopedLimits:
    """A tenant's or user's scope: its own over its plan's (and the config's defaults for a
    tenant on no plan with no limits of its own)."""
    own_spend = spend.policy if spend is not None else None
    if plan is None:
        return ScopedLimits(
            kind,
            scope_id,
            own if own is not None else default,
            budgets,
            own_spend,
            spend.emergency_ended if spend is not None else None,
        )
    return ScopedLimits(
        kind,
        scope_id,
        plan.limits_under(own),
        plan.budgets_under(budgets),
        own_spend.over(plan.spend) if own_spend is not None else plan.spend,
        spend.emergency_ended if spend is not None else None,
        frozenset(plan.models) if plan.models is not None else None,
    )
