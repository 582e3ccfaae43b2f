"""``/admin/tenants/{tenant_id}[/users/{user_id}]/spend``: read, replace and clear the spend
policy of a tenant or one of its users; ``POST /admin/tenants/{tenant_id}/spend/end-emergency``
ends the tenant's emergency mode for the rest of the UTC day (``budgets/spend.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from sluice.admin.schemas import EmergencyEndedOut, SpendOut
from sluice.admin.service import AdminService
from sluice.policies import SpendPolicy
from sluice.struct_schema import WIRE


def spend_routes(service: AdminService) -> APIRouter:
    """PUT replaces the scope's policy (fields left out are unset: a user's then follow its
    tenant's); GET reads it; DELETE removes it (and returns it)."""
    r = APIRouter()

    @r.put("/tenants/{tenant_id}/spend")
    async def set_tenant_spend(tenant_id: str, body: Annotated[SpendPolicy, WIRE, Body()]) -> SpendOut:
        return SpendOut.of(tenant_id, await service.set_spend_policy(tenant_id, body))

    @r.get("/tenants/{tenant_id}/spend")
    async def get_tenant_spend(tenant_id: str) -> SpendOut:
        return SpendOut.of(tenant_id, await service.spend_policy(tenant_id))

    @r.delete("/tenants/{tenant_id}/spend")
    async def clear_tenant_spend(tenant_id: str) -> SpendOut:
        return SpendOut.of(tenant_id, await service.clear_spend_policy(tenant_id))

    @r.post("/tenants/{tenant_id}/spend/end-emergency")
    async def end_emergency(tenant_id: str) -> EmergencyEndedOut:
        return EmergencyEndedOut(tenant_id=tenant_id, ended_for=await service.end_emergency(tenant_id))

    @r.put("/tenants/{tenant_id}/users/{user_id}/spend")
    async def set_user_spend(
        tenant_id: str, user_id: str, body: Annotated[SpendPolicy, WIRE, Body()]
    ) -> SpendOut:
        return SpendOut.of(tenant_id, await service.set_spend_policy(tenant_id, body, user_id=user_id))

    @r.get("/tenants/{tenant_id}/users/{user_id}/spend")
    async def get_user_spend(tenant_id: str, user_id: str) -> SpendOut:
        return SpendOut.of(tenant_id, await service.spend_policy(tenant_id, user_id=user_id))

    @r.delete("/tenants/{tenant_id}/users/{user_id}/spend")
    async def clear_user_spend(tenant_id: str, user_id: str) -> SpendOut:
        return SpendOut.of(tenant_id, await service.clear_spend_policy(tenant_id, user_id=user_id))

    return r
