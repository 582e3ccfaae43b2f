"""The pipeline: the stages every request runs, in order, then the routed upstream call.

    validate     checks a schema cannot express (the surface already parsed the body)  (DESIGN 1)
    authenticate API key or JWT -> principal                                           (DESIGN 2)
    resolve      model alias -> route; may this principal use it                      (DESIGN 5)
    guard        input guardrails: injection, plugins, PII and secrets (guard.py)      (DESIGN 4)
    cache plan   may this request be looked up or kept                                  (DESIGN 6)
    admission    output and input caps; RPM, TPM and in-flight per tenant, user, key  (DESIGN 3)
    budget       worst-case tokens and cost reserved per tenant, user, key; downgrade  (DESIGN 3)
    cache lookup exact, then semantic                                                  (DESIGN 6)
    route        deployments by strategy, timeouts, retries, breakers, fallbacks      (DESIGN 7)
    answer       output guardrails: schema, PII, content rules, restore (guard.py)     (DESIGN 8)
    settle       in ``finally``, once per admitted request: in-flight released, TPM corrected,
                 the cost priced and the budget reservation replaced by it                 (9)

Stages are built once at startup; each one reads and writes RequestContext fields or raises a
SluiceError. Admission and the input guardrails run after resolve, so an unknown model is a 404
and a refused prompt a 400 that cost no quota; prompts (DESIGN 5) plug in as they land.

With tracing on, the request is a root span with a child per stage run (and the router's per
upstream attempt), given once at construction; off, the stages run as they are and only the
client's ``traceparent`` is forwarded upstream.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import msgspec

from sluice.cache.replay import Recorder, replay
from sluice.errors import SluiceError
from sluice.obs.tracing import Forwarded
from sluice.pipeline.admission import AdmissionStage
from sluice.pipeline.budget import BudgetStage
from sluice.pipeline.cache import CacheStage
from sluice.pipeline.context import RequestContext
from sluice.pipeline.guard import Ask, answer_again, guarded, guarded_stream, structured, wants_schema
from sluice.routing.deployment import Deployment
from sluice.routing.router import Router, provider_name
from sluice.types import (
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    Usage,
)

if TYPE_CHECKING:
    from sluice.obs.tracing import RequestTrace, Tracing

Stage = Callable[[RequestContext], Awaitable[None]]
R = TypeVar("R", ChatResponse, EmbeddingResponse)


class Pipeline:
    """``stages`` run in order, then admission and budget: each prepares without touching a
    counter, then both commit. With ``together`` (counters on Redis) the two commits run
    concurrently, so their scripts leave in one pipelined round trip, and so do the two settles."""

    def __init__(
        self,
        stages: Sequence[Stage],
        router: Router,
        admission: AdmissionStage,
        budget: BudgetStage,
        *,
        together: bool = False,
        cache: CacheStage | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._stages = tuple(stages)
        self._router = router
        self._admission = admission
        self._budget = budget
        self._together = together
        self._cache = cache
        self._tracing = tracing
        self._admit = admission.commit
        self._reserve = budget.commit
        self._lookup = None if cache is None else cache.lookup
        if tracing is not None:
            self._trace_stages(tracing)

    def _trace_stages(self, tracing: Tracing) -> None:
        """Give each stage call a span, once: with tracing off the stages are called as they are."""
        self._stages = tuple(tracing.wrap(_stage_name(s), s) for s in self._stages)
        self._admit = tracing.wrap("admission", self._admit)
        self._reserve = tracing.wrap("budget", self._reserve)
        if self._lookup is not None:
            self._lookup = tracing.wrap("cache lookup", self._lookup)
        self._settle = tracing.wrap("settle", self._settle)  # type: ignore[method-assign]  # wrapped once, at startup

    def _trace(self, ctx: RequestContext) -> RequestTrace:
        """The request's root span; with tracing off, the client's traceparent forwarded upstream."""
        if self._tracing is None:
            assert ctx.traceparent is not None
            return Forwarded(ctx.traceparent, ctx.tracestate)
        operation = "chat" if isinstance(ctx.request, ChatRequest) else "embeddings"
        model = ctx.request.model
        return self._tracing.request(
            f"{operation} {model}",
            ctx.traceparent,
            ctx.tracestate,
            {
                "gen_ai.operation.name": operation,
                "gen_ai.request.model": model,
                "sluice.request_id": ctx.request_id,
            },
            functools.partial(_outcome, ctx),
        )

    async def _before(self, ctx: RequestContext) -> None:
        for stage in self._stages:
            await stage(ctx)
        if self._cache is not None:
            self._cache.plan(ctx)
        admit = self._admission.prepare(ctx)
        reserve = self._budget.prepare(ctx)
        try:
            if admit is not None and reserve is not None and self._together:
                results = await asyncio.gather(
                    self._admit(ctx, admit), self._reserve(ctx, reserve), return_exceptions=True
                )
                for r in results:
                    if isinstance(r, BaseException):
                        raise r
            else:
                if admit is not None:
                    await self._admit(ctx, admit)
                if reserve is not None:
                    await self._reserve(ctx, reserve)
        except SluiceError:
            await self._admission.settle(ctx, 0)  # refused: nothing will be sent upstream
            raise

    async def chat(self, ctx: RequestContext) -> ChatResponse:
        assert isinstance(ctx.request, ChatRequest)
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        response = hit = None
        try:
            await self._before(ctx)
            assert ctx.route is not None
            if ctx.cache is not None and self._lookup is not None:
                hit = await self._lookup(ctx)
                if hit is not None:
                    return hit if not ctx.guards_answer else guarded(hit, ctx)
            got, ctx.deployment = await self._router.chat(ctx.request, ctx.route, ctx.attempts)
            if wants_schema(ctx):
                got = await structured(ctx, got, self._ask(ctx))
            response = got  # only an answer the guardrails passed is kept in the cache
            if not ctx.guards_answer:
                return response
            out = guarded(response, ctx)
            if ctx.answer_blocked and ctx.on_reject is not None:
                second, out = await answer_again(ctx, response, self._router)
                response = second  # its usage is both calls'
            return out
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            raise
        finally:
            try:
                await self._settle(ctx, None if response is None else response.usage, hit=hit)
            finally:
                if trace is not None:
                    trace.end()
            if response is not None and ctx.cache is not None and self._cache is not None:
                self._cache.keep(ctx, response)

    def _ask(self, ctx: RequestContext) -> Ask:
        """Another call on the request's route (the structured-output repair), its attempts
        counted with the request's."""

        async def ask(request: ChatRequest) -> ChatResponse:
            assert ctx.route is not None
            response, ctx.deployment = await self._router.chat(request, ctx.route, ctx.attempts)
            return response

        return ask

    async def embed(self, ctx: RequestContext) -> EmbeddingResponse:
        assert isinstance(ctx.request, EmbeddingRequest)
        return await self._call(ctx, self._router.embed)

    async def stream(self, ctx: RequestContext) -> ChunkStream:
        """Returns once the first batch is in hand, so every failure until then is still an
        ordinary error response; the iterator's own failures arrive mid-stream. An admitted
        stream settles when it ends, fails or is closed; its root span ends with it."""
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        try:
            await self._before(ctx)
            assert isinstance(ctx.request, ChatRequest) and ctx.route is not None
            if ctx.cache is not None and self._lookup is not None:
                hit = await self._lookup(ctx)
                if hit is not None:
                    await self._settle(ctx, None, hit=hit)
                    chunks: ChunkStream = _replayed(
                        replay(hit, include_usage=ctx.request.includes_usage and not ctx.strips_usage)
                    )
                    if ctx.guards_answer:
                        chunks = guarded_stream(chunks, ctx)
                    return chunks if trace is None else trace.relay(chunks)
            chunks, ctx.deployment = await self._router.stream(ctx.request, ctx.route, ctx.attempts)
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            try:
                await self._settle(ctx, None)
            finally:
                if trace is not None:
                    trace.end()
            raise
        recorder = Recorder() if ctx.cache is not None else None
        if (
            ctx.admission is not None
            or ctx.budget is not None
            or ctx.request.includes_usage
            or recorder is not None
        ):
            chunks = self._metered(
                self._budget.meter(chunks, ctx) if ctx.budget is not None else chunks, ctx, recorder
            )
        # else nothing to settle, price or keep: the upstream's stream is relayed as it is
        if ctx.guards_answer:
            chunks = guarded_stream(chunks, ctx)  # after the cache's recorder: it keeps the provider's answer
        return chunks if trace is None else trace.relay(chunks)

    async def _metered(
        self, chunks: ChunkStream, ctx: RequestContext, recorder: Recorder | None
    ) -> AsyncGenerator[ChunkBatch, None]:
        """Relay a stream, reading its usage (and dropping the usage chunk the client did not ask
        for); settle once it ends, fails or is closed (a client disconnect); keep a stream that
        ended on its own in the cache."""
        completed = False
        try:
            async for batch in chunks:
                if recorder is not None:
                    recorder.add(batch)
                for c in batch:
                    if c.usage is not None:
                        ctx.stream_usage = c.usage
                if ctx.strips_usage and ctx.stream_usage is not None:
                    batch = [
                        c if c.usage is None else msgspec.structs.replace(c, usage=None)
                        for c in batch
                        if c.choices or c.usage is None
                    ]
                    if not batch:
                        continue
                yield batch
            completed = not ctx.stream_cut
        finally:
            try:
                await chunks.aclose()
            finally:
                await self._settle(ctx, ctx.stream_usage)
        if completed and recorder is not None and self._cache is not None:
            response = recorder.response()
            if response is not None:
                self._cache.keep(ctx, response)

    async def _call(self, ctx: RequestContext, call: Callable[..., Awaitable[tuple[R, Deployment]]]) -> R:
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        usage = None
        try:
            await self._before(ctx)
            assert ctx.route is not None
            response, ctx.deployment = await call(ctx.request, ctx.route, ctx.attempts)
            usage = response.usage
            return response
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            raise
        finally:
            try:
                await self._settle(ctx, usage)
            finally:
                if trace is not None:
                    trace.end()

    async def _settle(
        self, ctx: RequestContext, usage: Usage | EmbeddingUsage | None, *, hit: ChatResponse | None = None
    ) -> None:
        """Once per request, whatever happened (each stage settles only what it recorded). An
        answer from the cache (``hit``) used no tokens and costs nothing; what it saved is noted."""
        if usage is None:
            usage = ctx.usage_spent
        ctx.usage = usage
        tokens = None
        if hit is not None:
            tokens = 0
            if hit.usage is not None:
                u = hit.usage
                ctx.saved_tokens = u.prompt_tokens + u.completion_tokens
                ctx.saved_micros = self._budget.price(ctx).cost_micros(u.prompt_tokens, u.completion_tokens)
        if usage is not None:
            tokens = usage.prompt_tokens + (usage.completion_tokens if isinstance(usage, Usage) else 0)
        if self._together and ctx.admission is not None and ctx.budget is not None:
            await asyncio.gather(self._admission.settle(ctx, tokens), self._budget.settle(ctx, usage))
        else:
            await self._admission.settle(ctx, tokens)
            await self._budget.settle(ctx, usage)


async def _replayed(batch: ChunkBatch) -> AsyncGenerator[ChunkBatch, None]:
    yield batch


def _stage_name(stage: Stage) -> str:
    """A stage's span name: ``ValidateStage`` -> ``validate``; a plain function by its name."""
    name = getattr(stage, "__name__", None)
    return name if isinstance(name, str) else type(stage).__name__.removesuffix("Stage").lower()


def _outcome(ctx: RequestContext) -> dict[str, str | int]:
    """A root span's attributes known once the request is over (OpenTelemetry's gen-AI names
    where they fit)."""
    out: dict[str, str | int] = {}
    if ctx.principal is not None and ctx.principal.tenant_id is not None:
        out["sluice.tenant_id"] = ctx.principal.tenant_id
    d = ctx.deployment
    if d is not None:
        out["sluice.deployment"] = d.name
        out["gen_ai.response.model"] = d.target.model
        provider = provider_name(d)
        if provider is not None:
            out["gen_ai.provider.name"] = provider
    if ctx.attempts:
        out["sluice.attempts"] = len(ctx.attempts)
    if ctx.cache_status is not None:
        out["sluice.cache.status"] = ctx.cache_status
    if ctx.cost_micros is not None:
        out["sluice.cost_micros"] = ctx.cost_micros
    u = ctx.usage
    if u is not None:
        out["gen_ai.usage.input_tokens"] = u.prompt_tokens
        if isinstance(u, Usage):
            out["gen_ai.usage.output_tokens"] = u.completion_tokens
    return out
