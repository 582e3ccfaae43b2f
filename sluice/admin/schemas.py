"""Admin API bodies: what clients send and what they get back (the OpenAPI docs come from here)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sluice.store.records import ApiKey, Tenant, User

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


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


class UserCreate(_In):
    external_id: str = Field(min_length=1, max_length=200, description="Your id for the user (e.g. a JWT sub).")
    metadata: dict[str, Any] = Field(default_factory=dict)


class KeyCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    user_id: str | None = None
    allowed_models: list[str] | None = Field(None, description="Aliases the key may use; all when omitted.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    expires_at: int | None = Field(None, description="Unix seconds; the key stops working then.")


class KeyUpdate(_In):
    name: str | None = Field(None, min_length=1, max_length=200)
    allowed_models: list[str] | None = None
    metadata: dict[str, Any] | None = None
    expires_at: int | None = None


class TenantOut(BaseModel):
    id: str
    name: str
    created_at: int
    disabled: bool
    metadata: dict[str, Any]

    @classmethod
    def of(cls, t: Tenant) -> TenantOut:
        return cls(id=t.id, name=t.name, created_at=t.created_at, disabled=t.disabled, metadata=t.metadata)


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


class ListOf(BaseModel):
    object: str = "list"
    data: list[Any]
