"""``/admin/tenants/{tenant_id}/cache``: a tenant's cache policy (read, set, back to the config's),
its statistics (hits, savings, the shadow mode's evidence) and purges by model or key prefix.
The config's static keys cache under the tenant id ``-``, which has statistics and purges but
no stored policy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sluice.admin.policies import policy_routes
from sluice.admin.service import AdminService
from sluice.cache.service import ResponseCache
from sluice.errors import NotFoundError
from sluice.policies import CachePolicy

STATIC = "-"


class PurgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(None, min_length=1, description="Only entries of this model alias.")
    key_prefix: str | None = Field(
        None, min_length=1, description="Only entries made with this API key prefix."
    )


class PurgeOut(BaseModel):
    tenant_id: str
    purged: dict[str, int]
    """Entries removed from the exact cache and the semantic index."""


def cache_routes(service: AdminService, cache: ResponseCache | None, default: CachePolicy) -> APIRouter:
    r = policy_routes(service, "cache", CachePolicy, lambda tenant_id: default)

    @r.get("/tenants/{tenant_id}/cache/stats")
    async def stats(tenant_id: str) -> dict[str, Any]:
        await _known(tenant_id)
        return _enabled(cache).stats.report(tenant_id)

    @r.post("/tenants/{tenant_id}/cache/purge")
    async def purge(tenant_id: str, body: PurgeIn) -> PurgeOut:
        """Delete the tenant's cached answers (only those of a model or key prefix when given)."""
        await _known(tenant_id)
        return PurgeOut(
            tenant_id=tenant_id, purged=await _enabled(cache).purge(tenant_id, body.model, body.key_prefix)
        )

    async def _known(tenant_id: str) -> None:
        if tenant_id != STATIC:
            await service.tenant(tenant_id)

    return r


def _enabled(cache: ResponseCache | None) -> ResponseCache:
    if cache is None:
        raise NotFoundError("Response caching is off (cache.enabled: false).", code="cache_disabled")
    return cache
