"""The pipeline: the stages every request runs, in order, then the routed upstream call.

    validate     checks a schema cannot express (the surface already parsed the body)  (DESIGN 1)
    authenticate API key or JWT -> principal                                           (DESIGN 2)
    resolve      model alias -> route; may this principal use it                      (DESIGN 5)
    admission    output and input caps; RPM, TPM and in-flight per tenant, user, key  (DESIGN 3)
    budget       worst-case tokens and cost reserved per tenant, user, key; downgrade  (DESIGN 3)
    route        deployments by strategy, timeouts, retries, breakers, fallbacks      (DESIGN 7)
    settle       in ``finally``, once per admitted request: in-flight released, TPM corrected,
                 the cost priced and the budget reservation replaced by it                 (9)

Stages are built once at startup; each one reads and writes RequestContext fields or raises a
SluiceError. Stage numbers follow DESIGN.md's request pipeline (admission runs after resolve, so
an unknown model is a 404 that costs no quota); the missing numbers (guardrails, prompts, cache)
plug in here as their features land.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from sluice.pipeline.admission import AdmissionStage
from sluice.pipeline.budget import BudgetStage
from sluice.pipeline.context import RequestContext
from sluice.routing.deployment import Deployment
from sluice.routing.router import Router
from sluice.types import (
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    Usage,
)

Stage = Callable[[RequestContext], Awaitable[None]]
R = TypeVar("R", ChatResponse, EmbeddingResponse)


class Pipeline:
    def __init__(self, stages: Sequence[Stage], router: Router, admission: AdmissionStage, budget: BudgetStage) -> None:
        self._stages = tuple(stages)
        self._router = router
        self._admission = admission
        self._budget = budget

    async def _before(self, ctx: RequestContext) -> None:
        for stage in self._stages:
            await stage(ctx)

    async def chat(self, ctx: RequestContext) -> ChatResponse:
        assert isinstance(ctx.request, ChatRequest)
        return await self._call(ctx, self._router.chat)

    async def embed(self, ctx: RequestContext) -> EmbeddingResponse:
        assert isinstance(ctx.request, EmbeddingRequest)
        return await self._call(ctx, self._router.embed)

    async def stream(self, ctx: RequestContext) -> AsyncIterator[ChunkBatch]:
        """Returns once the first batch is in hand, so every failure until then is still an
        ordinary error response; the iterator's own failures arrive mid-stream. An admitted
        stream settles when it ends, fails or is closed."""
        try:
            await self._before(ctx)
            assert isinstance(ctx.request, ChatRequest) and ctx.route is not None
            chunks, ctx.deployment = await self._router.stream(ctx.request, ctx.route, ctx.attempts)
        except BaseException:
            await self._settle(ctx, None)
            raise
        if ctx.budget is not None:
            chunks = self._budget.metered(chunks, ctx)
        return chunks if ctx.admission is None and not ctx.strips_usage else self._admission.metered(chunks, ctx)

    async def _call(self, ctx: RequestContext, call: Callable[..., Awaitable[tuple[R, Deployment]]]) -> R:
        usage = None
        try:
            await self._before(ctx)
            assert ctx.route is not None
            response, ctx.deployment = await call(ctx.request, ctx.route, ctx.attempts)
            usage = response.usage  # type: ignore[attr-defined]
            return response
        finally:
            await self._settle(ctx, usage)

    async def _settle(self, ctx: RequestContext, usage: Usage | EmbeddingUsage | None) -> None:
        """Once per request, whatever happened (each stage settles only what it recorded)."""
        tokens = None
        if usage is not None:
            tokens = usage.prompt_tokens + (usage.completion_tokens if isinstance(usage, Usage) else 0)
        await self._admission.settle(ctx, tokens)
        await self._budget.settle(ctx, usage)
