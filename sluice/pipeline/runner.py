"""The pipeline: the stages every request runs, in order, then the routed upstream call.

    1. validate     checks a schema cannot express (the surface already parsed the body)
    2. authenticate API key -> principal
    5. resolve      model alias -> route; may this principal use it
    7. route        deployments by strategy, timeouts, retries, breakers, fallbacks

Stages are built once at startup; each one reads and writes RequestContext fields or raises a
SluiceError. Stage numbers follow DESIGN.md's request pipeline; the missing numbers (admission,
guardrails, prompts, cache, settle) plug in here as their features land.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from sluice.pipeline.context import RequestContext
from sluice.routing.router import Router
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, EmbeddingRequest, EmbeddingResponse

Stage = Callable[[RequestContext], Awaitable[None]]


class Pipeline:
    def __init__(self, stages: Sequence[Stage], router: Router) -> None:
        self._stages = tuple(stages)
        self._router = router

    async def _before(self, ctx: RequestContext) -> None:
        for stage in self._stages:
            await stage(ctx)

    async def chat(self, ctx: RequestContext) -> ChatResponse:
        await self._before(ctx)
        assert isinstance(ctx.request, ChatRequest) and ctx.route is not None
        response, ctx.deployment = await self._router.chat(ctx.request, ctx.route, ctx.attempts)
        return response

    async def stream(self, ctx: RequestContext) -> AsyncIterator[ChunkBatch]:
        """Returns once the first batch is in hand, so every failure until then is still an
        ordinary error response; the iterator's own failures arrive mid-stream."""
        await self._before(ctx)
        assert isinstance(ctx.request, ChatRequest) and ctx.route is not None
        chunks, ctx.deployment = await self._router.stream(ctx.request, ctx.route, ctx.attempts)
        return chunks

    async def embed(self, ctx: RequestContext) -> EmbeddingResponse:
        await self._before(ctx)
        assert isinstance(ctx.request, EmbeddingRequest) and ctx.route is not None
        response, ctx.deployment = await self._router.embed(ctx.request, ctx.route, ctx.attempts)
        return response
