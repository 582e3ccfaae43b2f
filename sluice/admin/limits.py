"""``/admin/tenants/{tenant_id}[/users/{user_id} | /keys/{key_id}]/limits``: read, replace and
clear the limits of a tenant, one of its users or one of its keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from sluice.admin.schemas import LimitsOut
from sluice.admin.service import AdminService
from sluice.policies import Limits
from sluice.struct_schema import WIRE


def limits_routes(service: AdminService) -> APIRouter:
    """PUT replaces a scope's limits, GET reads them, DELETE removes them (and returns them)."""
    r = APIRouter()

    @r.put("/tenants/{tenant_id}/limits")
    async def set_tenant_limits(tenant_id: str, body: Annotated[Limits, WIRE, Body()]) -> LimitsOut:
        """A field left out or null means no limit; a tenant with no limits of its own gets limits.defaults."""
        return LimitsOut.of(tenant_id, await service.set_limits(tenant_id, body))

    @r.get("/tenants/{tenant_id}/limits")
    async def get_tenant_limits(tenant_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.limits(tenant_id))

    @r.delete("/tenants/{tenant_id}/limits")
    async def clear_tenant_limits(tenant_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.clear_limits(tenant_id))

    @r.put("/tenants/{tenant_id}/users/{user_id}/limits")
    async def set_user_limits(
        tenant_id: str, user_id: str, body: Annotated[Limits, WIRE, Body()]
    ) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.set_limits(tenant_id, body, user_id=user_id))

    @r.get("/tenants/{tenant_id}/users/{user_id}/limits")
    async def get_user_limits(tenant_id: str, user_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.limits(tenant_id, user_id=user_id))

    @r.delete("/tenants/{tenant_id}/users/{user_id}/limits")
    async def clear_user_limits(tenant_id: str, user_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.clear_limits(tenant_id, user_id=user_id))

    @r.put("/tenants/{tenant_id}/keys/{key_id}/limits")
    async def set_key_limits(tenant_id: str, key_id: str, body: Annotated[Limits, WIRE, Body()]) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.set_limits(tenant_id, body, key_id=key_id))

    @r.get("/tenants/{tenant_id}/keys/{key_id}/limits")
    async def get_key_limits(tenant_id: str, key_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.limits(tenant_id, key_id=key_id))

    @r.delete("/tenants/{tenant_id}/keys/{key_id}/limits")
    async def clear_key_limits(tenant_id: str, key_id: str) -> LimitsOut:
        return LimitsOut.of(tenant_id, await service.clear_limits(tenant_id, key_id=key_id))

    return r
