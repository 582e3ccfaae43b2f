"""``/admin/tenants/{tenant_id}[/users/{user_id} | /keys/{key_id}]/budgets``: read, set (one
period at a time) and clear the token and USD budgets of a tenant, one of its users or keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from sluice.admin.schemas import BudgetsOut
from sluice.admin.service import AdminService
from sluice.policies import Budget
from sluice.struct_schema import WIRE


def budgets_routes(service: AdminService) -> APIRouter:
    """PUT replaces the budget of the body's period and returns all of the scope's; GET reads
    them; DELETE removes them all (and returns them)."""
    r = APIRouter()

    @r.put("/tenants/{tenant_id}/budgets")
    async def set_tenant_budget(tenant_id: str, body: Annotated[Budget, WIRE, Body()]) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.set_budget(tenant_id, body))

    @r.get("/tenants/{tenant_id}/budgets")
    async def get_tenant_budgets(tenant_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.budgets(tenant_id))

    @r.delete("/tenants/{tenant_id}/budgets")
    async def clear_tenant_budgets(tenant_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.clear_budgets(tenant_id))

    @r.put("/tenants/{tenant_id}/users/{user_id}/budgets")
    async def set_user_budget(
        tenant_id: str, user_id: str, body: Annotated[Budget, WIRE, Body()]
    ) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.set_budget(tenant_id, body, user_id=user_id))

    @r.get("/tenants/{tenant_id}/users/{user_id}/budgets")
    async def get_user_budgets(tenant_id: str, user_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.budgets(tenant_id, user_id=user_id))

    @r.delete("/tenants/{tenant_id}/users/{user_id}/budgets")
    async def clear_user_budgets(tenant_id: str, user_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.clear_budgets(tenant_id, user_id=user_id))

    @r.put("/tenants/{tenant_id}/keys/{key_id}/budgets")
    async def set_key_budget(
        tenant_id: str, key_id: str, body: Annotated[Budget, WIRE, Body()]
    ) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.set_budget(tenant_id, body, key_id=key_id))

    @r.get("/tenants/{tenant_id}/keys/{key_id}/budgets")
    async def get_key_budgets(tenant_id: str, key_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.budgets(tenant_id, key_id=key_id))

    @r.delete("/tenants/{tenant_id}/keys/{key_id}/budgets")
    async def clear_key_budgets(tenant_id: str, key_id: str) -> BudgetsOut:
        return BudgetsOut.of(tenant_id, await service.clear_budgets(tenant_id, key_id=key_id))

    return r
