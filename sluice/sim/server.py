"""The standalone sim server: an OpenAI-compatible HTTP API over ``sim/model.py``, a mock
upstream for tests and benchmarks. ``x-sim-<field>`` headers override ``SimSettings`` per
request; ``/sim/stats`` and ``/sim/reset`` expose and zero its counters."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
import pydantic
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from sluice.errors import InvalidRequestError
from sluice.settings import SimSettings
from sluice.sim import model
from sluice.sim.behaviour import Failure, FaultInjector, pace, pause_ms
from sluice.types import (
    ChatChunk,
    ErrorBody,
    ErrorDetail,
    chat_request_decoder,
    embedding_request_decoder,
    encoder,
)

_HEADER_PREFIX = "x-sim-"
_MODELS = encoder.encode(
    {"object": "list", "data": [{"id": "sim", "object": "model", "created": 0, "owned_by": "sluice-sim"}]}
)
_HEALTH = encoder.encode({"status": "ok", "simulated": True})


class SimStats(msgspec.Struct):
    """Counters of the simulated API (``/v1/*``); health and ``/sim/*`` calls are not counted."""

    requests: int = 0
    by_path: dict[str, int] = {}
    failures_injected: int = 0
    streams_started: int = 0
    streams_completed: int = 0
    streams_cancelled: int = 0


def build_app(settings: SimSettings) -> Starlette:
    """The ASGI app; its counters and ``fail_first`` count live in the app, not the module."""
    api = _SimApi(settings)
    return Starlette(
        routes=[
            Route("/v1/chat/completions", api.chat, methods=["POST"]),
            Route("/v1/embeddings", api.embeddings, methods=["POST"]),
            Route("/v1/models", api.models, methods=["GET"]),
            Route("/health", api.health, methods=["GET"]),
            Route("/sim/stats", api.get_stats, methods=["GET"]),
            Route("/sim/reset", api.reset, methods=["POST"]),
        ]
    )


def run(host: str, port: int, settings: SimSettings) -> None:
    """Serve until interrupted (blocking)."""
    uvicorn.run(
        build_app(settings),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # Outlive the clients' keep-alive (aiohttp: 60 s), so a pooled connection is never
        # closed under a request that is being sent on it.
        timeout_keep_alive=75,
        # A hung request ends only when its client leaves: do not let it hold up shutdown.
        timeout_graceful_shutdown=1,
    )


class _SimApi:
    def __init__(self, settings: SimSettings) -> None:
        self._settings = settings
        self._faults = FaultInjector(random.Random(settings.seed))
        self._stats = SimStats()

    async def chat(self, request: Request) -> Response:
        self._count(request)
        try:
            sim, rng = self._behaviour(request.headers)
            body = chat_request_decoder.decode(await request.body())
            if not body.messages:  # the gateway's prompts fill an empty list; an upstream requires one
                raise InvalidRequestError(
                    "Invalid value for 'messages': Expected `array` of length >= 1.", param="messages"
                )
            created = int(time.time())
            answer = (
                model.stream_chunks(body, body.model, created, sim.chunks)
                if body.stream
                else model.complete(body, body.model, created)
            )
        except (msgspec.DecodeError, InvalidRequestError) as e:
            return _bad_request(e)
        refusal = await self._refusal(request, sim, rng)
        if refusal is not None:
            return refusal
        if isinstance(answer, list):
            return _EventStream(self._events(answer, sim))
        await pause_ms(sim.latency_ms)
        return Response(encoder.encode(answer), media_type="application/json")

    async def embeddings(self, request: Request) -> Response:
        self._count(request)
        try:
            sim, rng = self._behaviour(request.headers)
            body = embedding_request_decoder.decode(await request.body())
            response = model.embed(body, body.model, sim.embedding_dim)
        except (msgspec.DecodeError, InvalidRequestError) as e:
            return _bad_request(e)
        refusal = await self._refusal(request, sim, rng)
        if refusal is not None:
            return refusal
        await pause_ms(sim.latency_ms)
        return Response(encoder.encode(response), media_type="application/json")

    async def models(self, request: Request) -> Response:
        self._count(request)
        return Response(_MODELS, media_type="application/json")

    async def health(self, request: Request) -> Response:
        return Response(_HEALTH, media_type="application/json")

    async def get_stats(self, request: Request) -> Response:
        return Response(encoder.encode(self._stats), media_type="application/json")

    async def reset(self, request: Request) -> Response:
        self._stats = SimStats()
        self._faults.reset()
        return Response(encoder.encode(self._stats), media_type="application/json")

    def _count(self, request: Request) -> None:
        stats = self._stats
        stats.requests += 1
        path = request.scope["path"]
        stats.by_path[path] = stats.by_path.get(path, 0) + 1

    def _behaviour(self, headers: Headers) -> tuple[SimSettings, random.Random | None]:
        """The settings with this request's ``x-sim-*`` overrides, and the generator for its
        failure draw: its own when it sets ``x-sim-seed``, else the server's (None)."""
        updates: dict[str, Any] = {
            k.removeprefix(_HEADER_PREFIX).replace("-", "_"): v
            for k, v in headers.items()
            if k.startswith(_HEADER_PREFIX)
        }
        if not updates:
            return self._settings, None
        if "error_status" in updates:
            updates["error_status"] = updates["error_status"].split(",")
        try:
            sim = SimSettings.model_validate({**self._settings.model_dump(), **updates})
        except pydantic.ValidationError as e:
            problems = "; ".join(
                f"{_HEADER_PREFIX}{str(err['loc'][0]).replace('_', '-')}: {err['msg']}" for err in e.errors()
            )
            raise InvalidRequestError(f"Invalid sim header: {problems}") from None
        return sim, random.Random(sim.seed) if "seed" in updates else None

    async def _refusal(
        self, request: Request, sim: SimSettings, rng: random.Random | None
    ) -> Response | None:
        """The injected failure's response; for a hang, only after the client has gone."""
        decision = self._faults.decide(sim, rng)
        if decision is None:
            return None
        if decision == "hang":
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response(status_code=499)  # nginx's "client closed request": never delivered
        self._stats.failures_injected += 1
        return _failure_response(decision)

    async def _events(self, chunks: list[ChatChunk], sim: SimSettings) -> AsyncGenerator[bytes, None]:
        self._stats.streams_started += 1
        is_complete = False
        try:
            async for batch in pace(chunks, sim):
                yield b"".join(b"data: " + encoder.encode(c) + b"\n\n" for c in batch)
            yield b"data: [DONE]\n\n"
            is_complete = True
        finally:
            if is_complete:
                self._stats.streams_completed += 1
            else:
                self._stats.streams_cancelled += 1


class _EventStream(StreamingResponse):
    """An SSE response that closes its generator as soon as the response ends, so the
    generator's ``finally`` runs now (a client that left counts as cancelled at once), not
    whenever the garbage collector finalizes it."""

    def __init__(self, events: AsyncGenerator[bytes, None]) -> None:
        super().__init__(events, media_type="text/event-stream", headers={"cache-control": "no-cache"})
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()


def _failure_response(failure: Failure) -> Response:
    if failure.status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    elif failure.status < 500:
        kind, code = "invalid_request_error", None
    else:
        kind, code = "server_error", None
    headers = {} if failure.retry_after_s is None else {"retry-after": f"{failure.retry_after_s:.15g}"}
    return _error_response(failure.status, ErrorDetail(failure.message, kind, None, code), headers)


def _bad_request(error: msgspec.DecodeError | InvalidRequestError) -> Response:
    if isinstance(error, InvalidRequestError):
        detail = ErrorDetail(error.message, error.type, error.param, error.code)
    else:
        detail = ErrorDetail(f"Invalid request body: {error}", "invalid_request_error", None, None)
    return _error_response(400, detail)


def _error_response(status: int, detail: ErrorDetail, headers: dict[str, str] | None = None) -> Response:
    return Response(
        encoder.encode(ErrorBody(detail)), status_code=status, headers=headers, media_type="application/json"
    )
