"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.routing.breaker import State
from sluice.routing.router import Router
from sluice.types import encoder


class _Deployment(msgspec.Struct):
    name: str
    circuit: str


class _Ready(msgspec.Struct):
    status: str
    deployments: list[_Deployment]


class HealthRoutes:
    def __init__(self, router: Router) -> None:
        self._router = router

    async def live(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def ready(self, request: Request) -> Response:
        """Ready while at least one deployment's circuit is not open; lists each circuit."""
        deployments = [_Deployment(d.name, d.breaker.state.value) for d in self._router.deployments]
        ok = any(d.circuit != State.OPEN.value for d in deployments)
        body = _Ready("ok" if ok else "unavailable", deployments)
        return Response(encoder.encode(body), 200 if ok else 503, media_type="application/json")
