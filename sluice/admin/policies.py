"""``/admin/tenants/{tenant_id}/<policy>``: read, replace or clear (back to the config's) one of a
tenant's JSON policies: its response cache's (``cache``) or its guardrails' (``guardrails``)."""

# No ``from __future__ import annotations``: the routes' annotations name the policy passed in,
# which FastAPI must see as a type, not as a name to look up in this module.

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

import msgspec
from fastapi import APIRouter, Body
from pydantic import BaseModel, Field, create_model

from sluice.admin.service import AdminService
from sluice.policies import CachePolicy, GuardrailPolicy
from sluice.store.records import PolicyKind
from sluice.struct_schema import WIRE

P = TypeVar("P", CachePolicy, GuardrailPolicy)
PolicySource = Literal["tenant", "config"]


def policy_routes(
    service: AdminService, kind: PolicyKind, policy: type[P], config: Callable[[str], P]
) -> APIRouter:
    """GET, PUT and DELETE of one kind of policy: ``policy`` is its type (a PUT body is one),
    ``config(tenant_id)`` the config's policy for a tenant without its own."""
    r = APIRouter()
    path = f"/tenants/{{tenant_id}}/{kind}"
    out: type[BaseModel] = create_model(
        f"{policy.__name__}Out",
        tenant_id=(str, ...),
        source=(PolicySource, Field(description="The tenant's own policy, or the config's.")),
        policy=(policy, ...),
    )

    @r.get(path, response_model=out)
    async def get_policy(tenant_id: str) -> BaseModel:
        own = (await service.tenant(tenant_id)).policy(kind)
        if own is None:
            return out(tenant_id=tenant_id, source="config", policy=config(tenant_id))
        return out(tenant_id=tenant_id, source="tenant", policy=msgspec.convert(own, policy))

    @r.put(path, response_model=out)
    async def set_policy(tenant_id: str, body: Annotated[policy, WIRE, Body()]) -> BaseModel:  # type: ignore[valid-type]  # FastAPI reads the class passed in
        """Replace the tenant's policy; fields left out take their defaults (not the config's)."""
        await service.set_policy(tenant_id, kind, msgspec.to_builtins(body))  # defaults left out, as stored
        return out(tenant_id=tenant_id, source="tenant", policy=body)

    @r.delete(path, response_model=out)
    async def clear_policy(tenant_id: str) -> BaseModel:
        await service.set_policy(tenant_id, kind, None)
        return out(tenant_id=tenant_id, source="config", policy=config(tenant_id))

    return r
