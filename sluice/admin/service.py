"""The control-plane operations, shared by the admin API and the CLI: checks that ids belong
to the tenant named, mints secrets, and tells the key cache when a key or its limits change."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from sluice.admin.secrets import ADMIN_PREFIX, KEY_PREFIX, mint, new_id
from sluice.auth.principal import ScopedLimits
from sluice.budgets.ledger import period_id
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.obs.record import RequestRecord
from sluice.policies import Budget, Limits, Plan, ScopeKind, SpendPolicy
from sluice.store.protocols import Store
from sluice.store.records import (
    AdminCredential,
    ApiKey,
    PolicyKind,
    SpendScope,
    StoredSpend,
    Tenant,
    UsageQuery,
    UsageRow,
    User,
)


class ScopedPlan(NamedTuple):
    kind: ScopeKind
    id: str
    plan: str | None


class ScopedSpend(NamedTuple):
    kind: ScopeKind
    id: str
    spend: StoredSpend | None


class ScopedBudgets(NamedTuple):
    kind: ScopeKind
    id: str
    budgets: list[Budget]


async def unheard(changed_id: str) -> None:
    """The default change callback: nothing caches keys or tenants."""


class AdminService:
    def __init__(
        self,
        store: Store,
        *,
        on_key_change: Callable[[str], Awaitable[None]] = unheard,
        on_tenant_change: Callable[[str], Awaitable[None]] = unheard,
        on_plan_change: Callable[[str], Awaitable[None]] = unheard,
        clock: Callable[[], float] = time.time,
        period_clock: Callable[[], float] | None = None,
    ) -> None:
        self._store = store
        self._period_clock = period_clock or clock
        """Names budget periods (``budgets.clock_offset_s``): the UTC day an operator ends
        emergency mode for."""
        self._on_key_change = on_key_change
        self._on_tenant_change = on_tenant_change
        self._on_plan_change = on_plan_change
        self._clock = clock

    @property
    def store(self) -> Store:
        """The store, for the operations of other admin modules (admin/prompts.py)."""
        return self._store

    def _now(self) -> int:
        return int(self._clock())

    async def tenant(self, tenant_id: str) -> Tenant:
        t = await self._store.get_tenant(tenant_id)
        if t is None:
            raise NotFoundError(f"No tenant `{tenant_id}`.", param="tenant_id", code="tenant_not_found")
        return t

    async def create_tenant(
        self, name: str, tenant_id: str | None = None, metadata: dict[str, Any] | None = None
    ) -> Tenant:
        return await self._store.create_tenant(
            Tenant(tenant_id or new_id("ten"), name, self._now(), False, metadata or {})
        )

    async def list_tenants(self) -> list[Tenant]:
        return await self._store.list_tenants()

    async def update_tenant(self, tenant_id: str, **changes: Any) -> Tenant:
        await self.tenant(tenant_id)
        updated = await self._store.update_tenant(tenant_id, **changes)
        assert updated is not None
        await self._on_tenant_change(tenant_id)
        return updated

    async def set_policy(self, tenant_id: str, kind: PolicyKind, policy: dict[str, Any] | None) -> Tenant:
        """Replace the tenant's cache or guardrail policy (None: back to the config's); applies at once."""
        await self.tenant(tenant_id)
        updated = await self._store.set_policy(tenant_id, kind, policy)
        assert updated is not None
        await self._on_tenant_change(tenant_id)
        return updated

    async def create_user(
        self, tenant_id: str, external_id: str, metadata: dict[str, Any] | None = None
    ) -> User:
        await self.tenant(tenant_id)
        return await self._store.create_user(
            User(new_id("usr"), tenant_id, external_id, self._now(), metadata or {})
        )

    async def list_users(self, tenant_id: str) -> list[User]:
        await self.tenant(tenant_id)
        return await self._store.list_users(tenant_id)

    async def create_key(
        self,
        tenant_id: str,
        name: str,
        *,
        user_id: str | None = None,
        allowed_models: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: int | None = None,
    ) -> tuple[ApiKey, str]:
        """The new key and its secret (returned once, never stored)."""
        await self.tenant(tenant_id)
        if user_id is not None and await self._store.get_user(tenant_id, user_id) is None:
            raise InvalidRequestError(f"No user `{user_id}` in tenant `{tenant_id}`.", param="user_id")
        m = mint(KEY_PREFIX)
        key = ApiKey(
            new_id("key"),
            tenant_id,
            name,
            m.prefix,
            m.secret_sha256,
            self._now(),
            user_id,
            allowed_models,
            metadata or {},
            expires_at,
            None,
        )
        return await self._store.create_key(key), m.secret

    async def key(self, tenant_id: str, key_id: str) -> ApiKey:
        k = await self._store.get_key(tenant_id, key_id)
        if k is None:
            raise NotFoundError(
                f"No key `{key_id}` in tenant `{tenant_id}`.", param="key_id", code="key_not_found"
            )
        return k

    async def list_keys(self, tenant_id: str) -> list[ApiKey]:
        await self.tenant(tenant_id)
        return await self._store.list_keys(tenant_id)

    async def update_key(self, tenant_id: str, key_id: str, **changes: Any) -> ApiKey:
        await self.key(tenant_id, key_id)
        k = await self._store.update_key(tenant_id, key_id, **changes)
        assert k is not None
        await self._on_key_change(k.secret_sha256)
        return k

    async def revoke_key(self, tenant_id: str, key_id: str) -> ApiKey:
        await self.key(tenant_id, key_id)
        k = await self._store.revoke_key(tenant_id, key_id, self._now())
        assert k is not None
        await self._on_key_change(k.secret_sha256)
        return k

    async def create_admin(self, name: str) -> tuple[AdminCredential, str]:
        m = mint(ADMIN_PREFIX)
        admin = AdminCredential(new_id("adm"), name, m.prefix, m.secret_sha256, self._now(), None)
        return await self._store.create_admin(admin), m.secret

    # Limits apply to the tenant itself, or to one of its users (user_id) or keys (key_id).

    async def limits(
        self, tenant_id: str, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedLimits:
        kind, scope_id = await self._scope(tenant_id, user_id, key_id)
        found = await self._store.get_limits(tenant_id, kind, scope_id)
        if found is None:
            raise NotFoundError(f"No limits set on {kind} `{scope_id}`.", code="limits_not_found")
        return ScopedLimits(kind, scope_id, found)

    async def set_limits(
        self, tenant_id: str, limits: Limits, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedLimits:
        """Replace the scope's limits: a field left None means no limit of that kind."""
        kind, scope_id = await self._scope(tenant_id, user_id, key_id)
        stored = await self._store.set_limits(tenant_id, kind, scope_id, limits, self._now())
        await self._on_tenant_change(tenant_id)
        return ScopedLimits(kind, scope_id, stored)

    async def clear_limits(
        self, tenant_id: str, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedLimits:
        """Remove the scope's limits and return them; a tenant falls back to the config's defaults."""
        removed = await self.limits(tenant_id, user_id=user_id, key_id=key_id)
        await self._store.delete_limits(tenant_id, removed.kind, removed.id)
        await self._on_tenant_change(tenant_id)
        return removed

    # Budgets apply to the same scopes as limits, one per period.

    async def budgets(
        self, tenant_id: str, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedBudgets:
        kind, scope_id = await self._scope(tenant_id, user_id, key_id)
        return ScopedBudgets(kind, scope_id, await self._store.get_budgets(tenant_id, kind, scope_id))

    async def set_budget(
        self, tenant_id: str, budget: Budget, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedBudgets:
        """Replace the scope's budget for ``budget.period``; returns every budget of the scope."""
        kind, scope_id = await self._scope(tenant_id, user_id, key_id)
        await self._store.set_budget(tenant_id, kind, scope_id, budget, self._now())
        await self._on_tenant_change(tenant_id)
        return ScopedBudgets(kind, scope_id, await self._store.get_budgets(tenant_id, kind, scope_id))

    async def clear_budgets(
        self, tenant_id: str, *, user_id: str | None = None, key_id: str | None = None
    ) -> ScopedBudgets:
        """Remove every budget of the scope and return them."""
        removed = await self.budgets(tenant_id, user_id=user_id, key_id=key_id)
        await self._store.delete_budgets(tenant_id, removed.kind, removed.id)
        await self._on_tenant_change(tenant_id)
        return removed

    # Spend policies: a tenant's (with its emergency mode) and a user's.

    async def spend_policy(self, tenant_id: str, *, user_id: str | None = None) -> ScopedSpend:
        kind, scope_id = await self._scope(tenant_id, user_id, None)
        spend_kind: SpendScope = "user" if kind == "user" else "tenant"
        return ScopedSpend(
            kind, scope_id, await self._store.get_spend_policy(tenant_id, spend_kind, scope_id)
        )

    async def set_spend_policy(
        self, tenant_id: str, policy: SpendPolicy, *, user_id: str | None = None
    ) -> ScopedSpend:
        """Replace the scope's spend policy. A user's may not carry the emergency fields (emergency
        mode is the tenant's)."""
        if user_id is not None:
            for name in ("emergency_at_micros", "emergency_to", "emergency_max_input_tokens"):
                if getattr(policy, name) is not None:
                    raise InvalidRequestError(
                        "Emergency mode is a tenant's: set it on the tenant's spend policy.",
                        param=name,
                        code="invalid_spend_policy",
                    )
        kind, scope_id = await self._scope(tenant_id, user_id, None)
        spend_kind: SpendScope = "user" if kind == "user" else "tenant"
        await self._store.set_spend_policy(tenant_id, spend_kind, scope_id, policy, self._now())
        await self._on_tenant_change(tenant_id)
        return await self.spend_policy(tenant_id, user_id=user_id)

    async def clear_spend_policy(self, tenant_id: str, *, user_id: str | None = None) -> ScopedSpend:
        """Remove the scope's spend policy and return it."""
        removed = await self.spend_policy(tenant_id, user_id=user_id)
        await self._store.delete_spend_policy(
            tenant_id, "user" if removed.kind == "user" else "tenant", removed.id
        )
        await self._on_tenant_change(tenant_id)
        return removed

    async def end_emergency(self, tenant_id: str) -> str:
        """End the tenant's emergency mode for the rest of the UTC day (it cannot start again
        that day); every replica applies it at once. Returns the day (``d2026-12-07``)."""
        await self.tenant(tenant_id)
        day = period_id("day", self._period_clock())
        if not await self._store.end_emergency(tenant_id, day, self._now()):
            raise NotFoundError(
                f"Tenant `{tenant_id}` has no spend policy.", param="tenant_id", code="spend_policy_not_found"
            )
        await self._on_tenant_change(tenant_id)
        return day

    # Plans: named tiers of default limits, budgets, models and spend policy.

    async def plans(self) -> dict[str, Plan]:
        return await self._store.list_plans()

    async def plan(self, name: str) -> Plan:
        plan = await self._store.get_plan(name)
        if plan is None:
            raise NotFoundError(f"No plan `{name}`.", param="name", code="plan_not_found")
        return plan

    async def put_plan(self, name: str, plan: Plan) -> Plan:
        """Create or replace the plan; every replica applies it to the tenants and users on it at once."""
        await self._store.put_plan(name, plan, self._now())
        await self._on_plan_change(name)
        return plan

    async def delete_plan(self, name: str) -> Plan:
        """Remove a plan no tenant or user is on (409 otherwise) and return it."""
        plan = await self.plan(name)
        await self._store.delete_plan(name)
        return plan

    async def plan_of(self, tenant_id: str, *, user_id: str | None = None) -> ScopedPlan:
        kind, scope_id = await self._scope(tenant_id, user_id, None)
        return ScopedPlan(kind, scope_id, await self._store.plan_of(tenant_id, user_id))

    async def set_plan_of(
        self, tenant_id: str, name: str | None, *, user_id: str | None = None
    ) -> ScopedPlan:
        """Put the tenant (or its user) on plan ``name`` (None: on none); applies at once everywhere."""
        kind, scope_id = await self._scope(tenant_id, user_id, None)
        if name is not None:
            await self.plan(name)
        await self._store.set_plan_of(tenant_id, user_id, name)
        await self._on_tenant_change(tenant_id)
        return ScopedPlan(kind, scope_id, name)

    # The request log: usage summed by the store, and the requests themselves.

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        return await self._store.usage(query)

    async def requests(
        self,
        tenant_id: str | None,
        *,
        since_ms: int | None,
        until_ms: int | None,
        limit: int,
        before_seq: int | None,
    ) -> list[tuple[int, RequestRecord]]:
        """Logged requests with their ``seq``, newest first (every tenant's when ``tenant_id`` is None)."""
        return await self._store.list_requests(
            tenant_id, since_ms=since_ms, until_ms=until_ms, limit=limit, before_seq=before_seq
        )

    async def _scope(self, tenant_id: str, user_id: str | None, key_id: str | None) -> tuple[ScopeKind, str]:
        await self.tenant(tenant_id)
        if user_id is not None and key_id is not None:
            raise InvalidRequestError(
                "Limits apply to one user or one key, not both.", param="key_id", code="ambiguous_scope"
            )
        if user_id is not None:
            if await self._store.get_user(tenant_id, user_id) is None:
                raise NotFoundError(
                    f"No user `{user_id}` in tenant `{tenant_id}`.", param="user_id", code="user_not_found"
                )
            return "user", user_id
        if key_id is not None:
            await self.key(tenant_id, key_id)
            return "key", key_id
        return "tenant", tenant_id
