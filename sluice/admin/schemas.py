"""Admin API bodies: what clients send and what they get back (the OpenAPI docs come from here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sluice.auth.principal import ScopedLimits

if TYPE_CHECKING:
    from sluice.admin.service import ScopedBudgets
from sluice.store.records import ApiKey, Budget, Limits, Period, ScopeKind, Tenant, User

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

MAX_LIMIT = 2**63 - 1
"""The largest limit a 64-bit column holds."""

_Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, strict=True)]
"""A whole number from 1; strict, so "10", 10.0 and true are refused rather than coerced."""

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
    log_payloads: bool | None = Field(None, description="Whether prompts and answers may be logged (overrides logging.payloads).")


class UserCreate(_In):
    external_id: str = Field(min_length=1, max_length=200, description="Your id for the user (e.g. a JWT sub).")
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


class LimitsIn(_In):
    """A scope's limits, replaced as a whole: a field left out or null means no limit of that kind."""

    rpm: _Limit | None = Field(None, description="Requests per minute (sliding window).")
    tpm: _Limit | None = Field(None, description="Tokens per minute, input and output (sliding window).")
    max_concurrent: _Limit | None = Field(None, description="Requests in flight at once.")
    max_tokens: _Limit | None = Field(None, description="Cap on a request's max_tokens (and the default when it sets none).")
    max_input_tokens: _Limit | None = Field(None, description="Cap on a request's input tokens.")

    def to_limits(self) -> Limits:
        return Limits(**self.model_dump())


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
            id=t.id, name=t.name, created_at=t.created_at, disabled=t.disabled, metadata=t.metadata,
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
        return cls(id=u.id, tenant_id=u.tenant_id, external_id=u.external_id, created_at=u.created_at, metadata=u.metadata)


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
            id=k.id, tenant_id=k.tenant_id, name=k.name, prefix=k.prefix, user_id=k.user_id,
            allowed_models=k.allowed_models, metadata=k.metadata, created_at=k.created_at,
            expires_at=k.expires_at, revoked_at=k.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The secret. Shown only in this response; store it now.")


class LimitsOut(BaseModel):
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    """The tenant's, user's or key's id."""
    rpm: int | None
    tpm: int | None
    max_concurrent: int | None
    max_tokens: int | None
    max_input_tokens: int | None

    @classmethod
    def of(cls, tenant_id: str, s: ScopedLimits) -> LimitsOut:
        return cls(tenant_id=tenant_id, scope=s.kind, scope_id=s.id, **msgspec.structs.asdict(s.limits))


class BudgetIn(_In):
    """One period's budget on a scope, replacing that period's: a cap left out or null means none."""

    period: Period = Field(description="The UTC day or month the budget applies to.")
    max_tokens: _Limit | None = Field(None, description="Input and output tokens per period.")
    max_cost_micros: _Limit | None = Field(None, description="Spend per period in micro-dollars (1 USD = 1,000,000).")
    on_exceed: Literal["reject", "downgrade"] = Field("reject", description="At the limit: refuse with 429, or use downgrade_to.")
    downgrade_to: str | None = Field(None, min_length=1, description="The cheaper model alias served at the limit.")

    @model_validator(mode="after")
    def _downgrade_names_an_alias(self) -> BudgetIn:
        if self.on_exceed == "downgrade" and self.downgrade_to is None:
            raise ValueError("on_exceed downgrade needs downgrade_to")
        return self

    def to_budget(self) -> Budget:
        return Budget(**self.model_dump())


class BudgetsOut(BaseModel):
    tenant_id: str
    scope: ScopeKind
    scope_id: str
    """The tenant's, user's or key's id."""
    data: list[dict[str, Any]]
    """The scope's budgets, day before month."""

    @classmethod
    def of(cls, tenant_id: str, s: ScopedBudgets) -> BudgetsOut:
        data = [{k: v for k, v in msgspec.structs.asdict(b).items() if v is not None} for b in s.budgets]
        return cls(tenant_id=tenant_id, scope=s.kind, scope_id=s.id, data=data)


class ListOf(BaseModel):
    object: str = "list"
    data: list[Any]
