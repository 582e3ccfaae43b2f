"""``/admin/tenants/{tenant_id}/<policy>``: read, replace or clear (back to the config's) one of a
tenant's JSON policies: its response cache's (``cache``) or its guardrails' (``guardrails``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from sluice.admin.service import AdminService
from sluice.store.records import PolicyKind


class PolicyOut(BaseModel):
    tenant_id: str
    source: str
    """``tenant`` (its own policy) or ``config`` (the config's)."""
    policy: dict[str, Any]


def policy_routes(
    service: AdminService, kind: PolicyKind, values: type[BaseModel], config: Callable[[str], BaseModel]
) -> APIRouter:
    """``values`` is the policy's settings model: what a PUT body is validated against;
    ``config(tenant_id)`` the config's policy for a tenant without its own."""
    r = APIRouter()
    path = f"/tenants/{{tenant_id}}/{kind}"

    @r.get(path)
    async def get_policy(tenant_id: str) -> PolicyOut:
        own = (await service.tenant(tenant_id)).policy(kind)
        if own is None:
            return PolicyOut(tenant_id=tenant_id, source="config", policy=config(tenant_id).model_dump())
        return PolicyOut(tenant_id=tenant_id, source="tenant", policy=values(**own).model_dump())

    async def set_policy(tenant_id: str, body: Any) -> PolicyOut:
        """Replace the tenant's policy; fields left out take their defaults (not the config's)."""
        await service.set_policy(tenant_id, kind, body.model_dump(exclude_defaults=True))
        return PolicyOut(tenant_id=tenant_id, source="tenant", policy=body.model_dump())

    set_policy.__annotations__["body"] = values  # FastAPI validates the body against the policy's model
    r.put(path)(set_policy)

    @r.delete(path)
    async def clear_policy(tenant_id: str) -> PolicyOut:
        await service.set_policy(tenant_id, kind, None)
        return PolicyOut(tenant_id=tenant_id, source="config", policy=config(tenant_id).model_dump())

    return r
