"""Liveness and readiness for load balancers and orchestrators.

``/health/ready`` checks each dependency (the database, Redis when distributed, the object store
when files' bytes live there, the semantic cache's embedding model when on) concurrently, each with a short timeout, and lists each
deployment's circuit, and says whether vector store search is hybrid or full text only (and
why). The status code is the load balancer's answer: 503 only when no deployment
can take traffic; a dependency down makes the gateway "degraded" (200), because each feature
then follows its declared fail-open or fail-closed policy and static keys keep working.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.errors import StoreUnavailableError
from sluice.routing.breaker import State
from sluice.routing.router import Router
from sluice.types import encoder

CHECK_TIMEOUT_S = 2.0


class _Deployment(msgspec.Struct):
    name: str
    circuit: str


class _Dependency(msgspec.Struct, omit_defaults=True):
    status: str
    """``ok``, ``unavailable``, ``timeout`` or ``off``."""
    latency_ms: float | None = None
    detail: str | None = None


class _Ready(msgspec.Struct, omit_defaults=True):
    status: str
    deployments: list[_Deployment]
    database: _Dependency | None = None
    redis: _Dependency | None = None
    blob_store: _Dependency | None = None
    """The object store holding files' bytes (files.blob_store: s3); absent when they are in the database."""
    embedding: _Dependency | None = None
    cache: dict[str, str] | None = None
    knowledge: dict[str, str] | None = None


Ping = Callable[[], Awaitable[object]]


class HealthRoutes:
    def __init__(
        self,
        router: Router,
        redis_ping_ms: Callable[[], Awaitable[float]] | None,
        cache: Callable[[], dict[str, str]] | None = None,
        *,
        database: Ping | None = None,
        blob_store: Ping | None = None,
        embedding_ms: Callable[[float], Awaitable[float | None]] | None = None,
        knowledge: dict[str, str] | None = None,
    ) -> None:
        self._router = router
        self._redis_ping_ms = redis_ping_ms
        self._cache = cache
        self._database = database
        self._blob_store = blob_store
        self._embedding_ms = embedding_ms
        self._knowledge = knowledge

    async def live(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def ready(self, request: Request) -> Response:
        deployments = [_Deployment(d.name, d.breaker.state.value) for d in self._router.deployments]
        ok = any(d.circuit != State.OPEN.value for d in deployments)
        database, redis, blob_store, embedding = await asyncio.gather(
            _timed(self._database) if self._database is not None else _none(),
            _redis(self._redis_ping_ms) if self._redis_ping_ms is not None else _none(),
            _timed(self._blob_store) if self._blob_store is not None else _none(),
            _embedding(self._embedding_ms) if self._embedding_ms is not None else _none(),
        )
        cache = self._cache() if self._cache is not None else None
        degraded = any(
            d is not None and d.status not in ("ok", "off") for d in (database, redis, blob_store, embedding)
        )
        degraded = degraded or (cache is not None and cache["exact"] != "ok")
        status = "unavailable" if not ok else "degraded" if degraded else "ok"
        body = _Ready(status, deployments, database, redis, blob_store, embedding, cache, self._knowledge)
        return Response(encoder.encode(body), 200 if ok else 503, media_type="application/json")


async def _none() -> None:
    return None


async def _timed(ping: Ping) -> _Dependency:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await ping()
    except TimeoutError:
        return _Dependency("timeout")
    except StoreUnavailableError as e:
        return _Dependency("unavailable", detail=e.message)
    return _Dependency("ok", round((time.perf_counter() - started) * 1000, 3))


async def _redis(ping_ms: Callable[[], Awaitable[float]]) -> _Dependency:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return _Dependency("ok", round(await ping_ms(), 3))
    except TimeoutError:
        return _Dependency("timeout")
    except StoreUnavailableError:
        return _Dependency("unavailable")


async def _embedding(embedding_ms: Callable[[float], Awaitable[float | None]]) -> _Dependency:
    try:
        ms = await embedding_ms(CHECK_TIMEOUT_S)
    except TimeoutError:
        return _Dependency("timeout", detail="the model is loading or slow")
    except Exception as e:  # an upstream embedding model's failure, whatever its kind
        return _Dependency("unavailable", detail=type(e).__name__)
    return _Dependency("off") if ms is None else _Dependency("ok", round(ms, 3))
