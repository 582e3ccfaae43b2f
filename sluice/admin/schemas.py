"""Admin API bodies: what clients send and what they get back (the OpenAPI docs come from here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from sluice.auth.principal import ScopedLimits
from sluice.policies import MAX_LIMIT, Budget, Limits, Plan, ScopeKind, SpendPolicy
from sluice.store.records import ApiKey, Tenant, User
from sluice.struct_schema import dump, model_of

if TYPE_CHECKING:
    from sluice.admin.service import ScopedBudgets, ScopedPlan, ScopedSpend

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

_Instant = Annotated[int, Field(ge=0, le=MAX_LIMIT)]
"""Unix seconds a 64-bit column holds."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantCreate(_In):
    id: str | None = Field(None, pattern=_ID, description="A slug; generated when omitted.")
    name: str = Field(min_length=1, max_length=200)
    metadata: dict[str, Any] = Field(default_factory=dict)


class TenantUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    disabled: bool | None = None
    metadata: dict[str, Any] | None = None
    log_payloads: bool | None = Field(
        None, description="Whether prompts and answers may be logged (overrides logging.payloads)."
    )


class UserCreate(_In):
    external_id: str = Field(
        min_length=1, max_length=200, description="Your id for the user (e.g. a JWT sub)."
    )
    metadata: dict[str, Any] = Field(default_factory=dict)


class KeyCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    user_id: str | None = None
    allowed_models: list[str] | None = Field(None, description="Aliases the key may use; all when omitted.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    expires_at: _Instant | None = Field(None, description="Unix seconds; the key stops working then.")


class KeyUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    allowed_models: list[str] | None = None
    metadata: dict[str, Any] | None = None
    expires_at: _Instant | None = None


class TenantOut(BaseModel):
    id: str
    name: str
    created_at: int
    disabled: bool
    metadata: dict[str, Any]
    log_payloads: bool | None
    """The tenant's policy on logging prompts and answers; null: the config's ``logging.payloads``."""

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls(
            id=t.id,
            name=t.name,
            created_at=t.created_at,
            disabled=t.disabled,
            metadata=t.metadata,
            log_payloads=t.log_payloads,
        )


class UserOut(BaseModel):
    id: str
    tenant_id: str
    external_id: str
    created_at: int
    metadata: dict[str, Any]

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            tenant_id=u.tenant_id,
            external_id=u.external_id,
            created_at=u.created_at,
            metadata=u.metadata,
        )


class KeyOut(BaseModel):
    """A key as listed: never the secret, never its hash."""

    id: str
    tenant_id: str
    name: str
    prefix: str
    user_id: str | None
    allowed_models: list[str] | None
    metadata: dict[str, Any]
    created_at: int
    expires_at: int | None
    revoked_at: int | None

    @classmethod
    def of(cls, k: ApiKey) -> KeyOut:
        return cls(
            id=k.id,
            tenant_id=k.tenant_id,
            name=k.name,
            prefix=k.prefix,
            user_id=k.user_id,
            allowed_models=k.allowed_models,
            metadata=k.metadata,
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The secret. Shown only in this response; store it now.")


class LimitsOut(model_of(Limits)):  # type: ignore[misc]  # a base made at import: the policy's fields, from its one definition
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    """The tenant's, user's or key's id."""

    @classmethod
    def of(cls, tenant_id: str, s: ScopedLimits) -> LimitsOut:
        return cls(tenant_id=tenant_id, scope=s.kind, scope_id=s.id, **dump(s.limits))


class BudgetsOut(BaseModel):
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    """The tenant's, user's or key's id."""
    data: list[Budget]
    """The scope's budgets, day before month."""

    @field_serializer("data")
    def _caps_set(self, data: list[Budget]) -> list[dict[str, Any]]:
        """A budget as set: the caps it has (an unset cap is left out, not null)."""
        return [{k: v for k, v in dump(b).items() if v is not None} for b in data]

    @classmethod
    def of(cls, tenant_id: str, s: ScopedBudgets) -> BudgetsOut:
        return cls(tenant_id=tenant_id, scope=s.kind, scope_id=s.id, data=s.budgets)


class ListOf(BaseModel):
    object: str = "list"
    data: list[Any]


class SpendOut(BaseModel):
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    """The tenant's or user's id."""
    policy: SpendPolicy | None
    """The scope's spend policy (None: none; a user follows its tenant's)."""
    emergency_ended: str | None = None
    """A tenant's: the UTC day (``d2026-12-07``) an operator ended its emergency mode for."""

    @field_serializer("policy")
    def _fields_set(self, policy: SpendPolicy | None) -> dict[str, Any] | None:
        """A policy as set: the fields it has (an unset one is left out, not null)."""
        return None if policy is None else {k: v for k, v in dump(policy).items() if v is not None}

    @classmethod
    def of(cls, tenant_id: str, s: ScopedSpend) -> SpendOut:
        stored = s.spend
        return cls(
            tenant_id=tenant_id,
            scope=s.kind,
            scope_id=s.id,
            policy=None if stored is None else stored.policy,
            emergency_ended=None if stored is None else stored.emergency_ended,
        )


class EmergencyEndedOut(BaseModel):
    tenant_id: str
    ended_for: str
    """The UTC day (``d2026-12-07``) the tenant's emergency mode is ended for."""


class PlanOut(BaseModel):
    name: str
    plan: Plan

    @field_serializer("plan")
    def _plan(self, plan: Plan) -> dict[str, Any]:
        return msgspec.to_builtins(plan)  # as set: fields at their defaults left out


class PlanOfOut(BaseModel):
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    plan: str | None
    """The plan's name (None: on no plan)."""

    @classmethod
    def of(cls, tenant_id: str, s: ScopedPlan) -> PlanOfOut:
        return cls(tenant_id=tenant_id, scope=s.kind, scope_id=s.id, plan=s.plan)


class PlanAssign(BaseModel):
    plan: str | None = Field(description="The plan's name; null: on no plan.")
