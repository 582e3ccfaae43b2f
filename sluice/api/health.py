"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.errors import StoreUnavailableError
from sluice.routing.breaker import State
from sluice.routing.router import Router
from sluice.types import encoder


class _Deployment(msgspec.Struct):
    name: str
    circuit: str


class _Dependency(msgspec.Struct, omit_defaults=True):
    status: str
    latency_ms: float | None = None


class _Ready(msgspec.Struct, omit_defaults=True):
    status: str
    deployments: list[_Deployment]
    redis: _Dependency | None = None
    cache: dict[str, str] | None = None


class HealthRoutes:
    def __init__(
        self,
        router: Router,
        redis_ping_ms: Callable[[], Awaitable[float]] | None,
        cache: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self._router = router
        self._redis_ping_ms = redis_ping_ms
        self._cache = cache

    async def live(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def ready(self, request: Request) -> Response:
        """Ready while at least one deployment's circuit is not open; lists each circuit. Redis
        down (distributed) is "degraded", still 200: limits then follow ``limits.fail_open``, and
        the cache is bypassed. ``cache`` says whether the semantic layer is on, and why not."""
        deployments = [_Deployment(d.name, d.breaker.state.value) for d in self._router.deployments]
        ok = any(d.circuit != State.OPEN.value for d in deployments)
        redis = await _ping(self._redis_ping_ms) if self._redis_ping_ms is not None else None
        cache = self._cache() if self._cache is not None else None
        degraded = (redis is not None and redis.status != "ok") or (cache is not None and cache["exact"] != "ok")
        status = "unavailable" if not ok else "degraded" if degraded else "ok"
        body = _Ready(status, deployments, redis, cache)
        return Response(encoder.encode(body), 200 if ok else 503, media_type="application/json")


async def _ping(ping_ms: Callable[[], Awaitable[float]]) -> _Dependency:
    try:
        return _Dependency("ok", round(await ping_ms(), 3))
    except StoreUnavailableError:
        return _Dependency("unavailable")
