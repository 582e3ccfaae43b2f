"""The authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from sluice.policies import Budget, CachePolicy, GuardrailPolicy, Limits, ScopeKind, SpendPolicy
from sluice.store.records import Tenant


@dataclass(frozen=True, slots=True)
class ScopedLimits:
    kind: ScopeKind
    id: str
    limits: Limits
    budgets: tuple[Budget, ...] = ()
    """The scope's token and USD budgets, day before month."""
    spend: SpendPolicy | None = None
    """The scope's spend policy (a tenant's or a user's; None: none)."""
    emergency_ended: str | None = None
    """A tenant's: the UTC day (``d2026-12-07``) an operator ended its emergency mode for."""
    models: frozenset[str] | None = None
    """The model aliases the scope's plan allows (None: any)."""


@dataclass(frozen=True, slots=True)
class Principal:
    key_name: str
    """A label for logs and metrics; never the key itself."""
    allowed_models: frozenset[str] | None = None
    """Model aliases this caller may use; None means all."""
    tenant_id: str | None = None
    """None for the static keys of the config file, which belong to no tenant."""
    user_id: str | None = None
    key_id: str | None = None
    limits: tuple[ScopedLimits, ...] = ()
    """The limits that apply to this caller, broadest scope first (tenant, user, key)."""
    cache_policy: CachePolicy | None = None
    """The tenant's response-cache policy; None: the config's."""
    guardrails: GuardrailPolicy | None = None
    """The caller's guardrail policy; None: the config's."""
    log_payloads: bool | None = None
    """May this tenant's prompts and answers be logged (redacted); None: the config's default."""

    def may_use(self, alias: str) -> bool:
        return self.allowed_models is None or alias in self.allowed_models


def allowed_models(own: frozenset[str] | None, limits: tuple[ScopedLimits, ...]) -> frozenset[str] | None:
    """A key's own allowed models narrowed by the plans of its tenant and user (None: any)."""
    for s in limits:
        if s.models is not None:
            own = s.models if own is None else own & s.models
    return own


def owner(principal: Principal) -> str:
    """Whose stored responses, files and vector stores a caller sees: its tenant's
    (``tenant:<id>``), or its static key's (``key:<name>``)."""
    if principal.tenant_id is not None:
        return f"tenant:{principal.tenant_id}"
    return f"key:{principal.key_name}"


def cache_policy_of(tenant: Tenant) -> CachePolicy | None:
    """The tenant's own cache policy, as validated when it was set."""
    return None if tenant.cache_policy is None else msgspec.convert(tenant.cache_policy, CachePolicy)


def guardrail_policy_of(tenant: Tenant) -> GuardrailPolicy | None:
    """The tenant's own guardrail policy, as validated when it was set."""
    return (
        None if tenant.guardrail_policy is None else msgspec.convert(tenant.guardrail_policy, GuardrailPolicy)
    )
