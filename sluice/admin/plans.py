"""``/admin/plans[/{name}]``: list, read, create or replace, and delete plans (named tiers of
default limits, budgets, models and spend policy); ``/admin/tenants/{tenant_id}[/users/{user_id}]/plan``:
which plan a tenant or one of its users is on. A change applies at once on every replica."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from sluice.admin.schemas import ListOf, PlanAssign, PlanOfOut, PlanOut
from sluice.admin.service import AdminService
from sluice.policies import Plan
from sluice.struct_schema import WIRE


def plan_routes(service: AdminService) -> APIRouter:
    r = APIRouter()

    @r.get("/plans")
    async def list_plans() -> ListOf:
        return ListOf(data=[PlanOut(name=n, plan=p) for n, p in (await service.plans()).items()])

    @r.get("/plans/{name}")
    async def get_plan(name: str) -> PlanOut:
        return PlanOut(name=name, plan=await service.plan(name))

    @r.put("/plans/{name}")
    async def put_plan(name: str, body: Annotated[Plan, WIRE, Body()]) -> PlanOut:
        """Create or replace the plan: fields left out take their defaults (no limits, budgets or
        spend policy; every model)."""
        return PlanOut(name=name, plan=await service.put_plan(name, body))

    @r.delete("/plans/{name}")
    async def delete_plan(name: str) -> PlanOut:
        return PlanOut(name=name, plan=await service.delete_plan(name))

    @r.get("/tenants/{tenant_id}/plan")
    async def get_tenant_plan(tenant_id: str) -> PlanOfOut:
        return PlanOfOut.of(tenant_id, await service.plan_of(tenant_id))

    @r.put("/tenants/{tenant_id}/plan")
    async def set_tenant_plan(tenant_id: str, body: PlanAssign) -> PlanOfOut:
        return PlanOfOut.of(tenant_id, await service.set_plan_of(tenant_id, body.plan))

    @r.get("/tenants/{tenant_id}/users/{user_id}/plan")
    async def get_user_plan(tenant_id: str, user_id: str) -> PlanOfOut:
        return PlanOfOut.of(tenant_id, await service.plan_of(tenant_id, user_id=user_id))

    @r.put("/tenants/{tenant_id}/users/{user_id}/plan")
    async def set_user_plan(tenant_id: str, user_id: str, body: PlanAssign) -> PlanOfOut:
        return PlanOfOut.of(tenant_id, await service.set_plan_of(tenant_id, body.plan, user_id=user_id))

    return r
