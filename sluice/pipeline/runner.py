"""The pipeline: one ordered list of stages (``stage.py`` has their one shape), then the routed
upstream call. ``app.py`` builds the list; this module is the only code that runs it:

    validate      checks a schema cannot express (the surface already decoded the body)
    authenticate  API key or JWT -> principal
    prompt        a registry prompt: its version (label, pin or experiment arm) rendered in front
    resolve       model alias -> route; may this principal use it; the request's tokenizer
    retrieval     ``sluice.retrieval`` (or the Responses ``file_search`` tool): the caller's vector
                  stores searched, numbered passages put in the prompt; [n] in the answer -> citations
    guard         input guardrails: injection, plugins, PII and secrets; the answer policy read; a
                  retrieved passage it flags is dropped from the prompt
    answer guard  around the answer: PII redacted, content rules (retry or fallback), restore
    cache         may this request be looked up or kept; records the fresh answer, keeps it at settle
    quota         caps; RPM, TPM and in-flight; budgets reserved (one Redis round trip); settle
    cache lookup  exact, then semantic: a hit answers here
    structured    a JSON answer checked against the request's json_schema; one repair
    (route)       deployments by strategy, timeouts, retries, breakers, fallbacks (routing/router.py)

``before`` hooks run top to bottom; ``answer`` and ``stream`` hooks wrap the answer as layers, the
first stage outermost; ``settle`` hooks run bottom to top, once, in ``finally``.

The request is rewritten on the way in, in this order, and nowhere else: the prompt stage's
rendered messages, model and parameters (before resolve, which reads the model); the retrieval
stage's passages (before the guard, which reads them as data and drops a flagged one, and before
the cache key, so an answer is never served for other passages); the input guard's redaction
(before the cache key, so a key never holds what was redacted); the cache plan's key
(before the quota stage's rewrites, so the cap a tenant's limits set does not split its entries);
then, in the quota stage, admission's ``max_tokens`` clamp, the budgets' default ``max_tokens``,
and ``stream_options.include_usage`` asked for whichever stage needs a stream's usage (dropped
again before the client when it did not ask for it).

Model calls the gateway makes on its own behalf (``OwnCalls``: the semantic cache's judge and
embedding model, a knowledge base's embedding model for ingestion and retrieval queries) run through the stages marked
``internal`` (resolve and quota), under a principal named ``sluice:<purpose>``, and are observed
like a client's request: priced, traced, in the request log and the metrics.

With tracing on, the request is a root span with a child per ``before`` hook (the retrieval
stage's only when the request retrieves; the router's per upstream attempt) and one for the settle; off, the hooks run as they are and only the
client's ``traceparent`` is forwarded upstream.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import msgspec

from sluice.auth.principal import Principal
from sluice.cache.replay import replay
from sluice.errors import SluiceError
from sluice.obs.tracing import Forwarded
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.stage import Stage, overrides
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

Before = Callable[[RequestContext], Awaitable[ChatResponse | None]]
AnswerHook = Callable[..., Awaitable[ChatResponse]]
StreamHook = Callable[[RequestContext, ChunkStream], ChunkStream]
R = TypeVar("R", ChatResponse, EmbeddingResponse)


class _Path:
    """One list of stages, its hooks found once: each ``before`` with how many answer and stream
    hooks come before its stage (an early answer passes through only those)."""

    def __init__(self, stages: Sequence[Stage], tracing: Tracing | None) -> None:
        self.befores: list[tuple[int, int, Before]] = []
        self.answers: list[AnswerHook] = []
        self.streams: list[StreamHook] = []
        for s in stages:
            if overrides(s, "before"):
                hook: Before = s.before
                if tracing is not None and s.traced:
                    hook = tracing.wrap(s.name, hook)
                self.befores.append((len(self.answers), len(self.streams), hook))
            if overrides(s, "answer"):
                self.answers.append(s.answer)
            if overrides(s, "stream"):
                self.streams.append(s.stream)
        self.settles = [s.settle for s in reversed(stages) if overrides(s, "settle")]
        self.settle: Callable[[RequestContext], Awaitable[None]] = self._settle
        if tracing is not None:
            self.settle = tracing.wrap("settle", self._settle)

    async def before(self, ctx: RequestContext) -> tuple[int, int, ChatResponse | None]:
        for answers, streams, hook in self.befores:
            early = await hook(ctx)
            if early is not None:
                return answers, streams, early
        return len(self.answers), len(self.streams), None

    async def _settle(self, ctx: RequestContext) -> None:
        if ctx.settled:
            return
        ctx.settled = True
        ctx.usage = ctx.spent
        await self._settle_from(ctx, 0)

    async def _settle_from(self, ctx: RequestContext, i: int) -> None:
        """Each settle hook runs, whatever the ones before it raised."""
        if i == len(self.settles):
            return
        try:
            await self.settles[i](ctx)
        finally:
            await self._settle_from(ctx, i + 1)


class Pipeline:
    def __init__(self, stages: Sequence[Stage], router: Router, *, tracing: Tracing | None = None) -> None:
        self.stages = tuple(stages)
        self._router = router
        self._tracing = tracing
        self._client = _Path(self.stages, tracing)
        self._own = _Path([s for s in self.stages if s.internal], tracing)

    async def chat(self, ctx: RequestContext) -> ChatResponse:
        return await self._chat(self._client, ctx)

    async def embed(self, ctx: RequestContext) -> EmbeddingResponse:
        return await self._embed(self._client, ctx)

    async def own_chat(self, ctx: RequestContext) -> ChatResponse:
        """A chat call of the gateway's own (``OwnCalls``), through the internal stages only."""
        return await self._chat(self._own, ctx)

    async def own_embed(self, ctx: RequestContext) -> EmbeddingResponse:
        return await self._embed(self._own, ctx)

    async def stream(self, ctx: RequestContext) -> ChunkStream:
        """Returns once the first batch is in hand, so every failure until then is still an
        ordinary error response; the iterator's own failures arrive mid-stream. The request
        settles when the stream ends, fails or is closed; its root span ends with it."""
        path = self._client
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        try:
            _, at, hit = await path.before(ctx)
            assert isinstance(ctx.request, ChatRequest)
            if hit is None:
                assert ctx.route is not None
                chunks, ctx.deployment = await self._router.stream(
                    ctx.request, ctx.route, ctx.attempts, input_tokens=ctx.input_tokens
                )
                ctx.calls += 1
            else:
                r = ctx.request
                chunks = _replayed(replay(hit, include_usage=r.includes_usage and not ctx.strips_usage))
            for hook in reversed(path.streams[:at]):
                chunks = hook(ctx, chunks)
            if ctx.holds:
                chunks = self._finished(path, ctx, chunks)
            # else nothing to settle, price or keep: the upstream's stream is relayed as it is
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            try:
                await path.settle(ctx)
            finally:
                if trace is not None:
                    trace.end()
            raise
        return chunks if trace is None else trace.relay(chunks)

    async def _chat(self, path: _Path, ctx: RequestContext) -> ChatResponse:
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        try:
            at, _, hit = await path.before(ctx)
            if hit is None:
                assert isinstance(ctx.request, ChatRequest)
                response = await self._answer(path, ctx, 0, ctx.request)
            else:
                response = hit
                for i in range(at - 1, -1, -1):
                    response = await path.answers[i](
                        ctx, response, functools.partial(self._answer, path, ctx, i + 1)
                    )
            if ctx.calls > 1 and isinstance(ctx.spent, Usage):
                response = msgspec.structs.replace(response, usage=ctx.spent)  # every call's tokens
            return response
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            raise
        finally:
            try:
                await path.settle(ctx)
            finally:
                if trace is not None:
                    trace.end()

    async def _answer(
        self, path: _Path, ctx: RequestContext, i: int, request: ChatRequest, alias: str | None = None
    ) -> ChatResponse:
        """The answer to ``request`` through the answer hooks from the ``i``-th on, the model's
        call beneath them all; what a hook gets as ``ask`` is this, from the hook after it."""
        if i == len(path.answers):
            return await self._ask_model(ctx, request, alias)
        response = await self._answer(path, ctx, i + 1, request, alias)
        return await path.answers[i](ctx, response, functools.partial(self._answer, path, ctx, i + 1))

    async def _ask_model(self, ctx: RequestContext, request: ChatRequest, alias: str | None) -> ChatResponse:
        """One routed call: on the request's route, or on ``alias``'s for this caller (``Router.route``
        is the one check of the models a caller may use)."""
        if alias is None:
            route = ctx.route
            assert route is not None
        else:
            principal = ctx.principal
            route = self._router.route(alias, "chat", principal.allowed_models if principal else None)
        response, ctx.deployment = await self._router.chat(
            request, route, ctx.attempts, input_tokens=ctx.input_tokens
        )
        ctx.calls += 1
        ctx.spent = _sum(ctx.spent, response.usage)
        return response

    async def _embed(self, path: _Path, ctx: RequestContext) -> EmbeddingResponse:
        assert isinstance(ctx.request, EmbeddingRequest)
        trace = None if self._tracing is None and ctx.traceparent is None else self._trace(ctx)
        try:
            await path.before(ctx)
            assert ctx.route is not None
            response, ctx.deployment = await self._router.embed(
                ctx.request, ctx.route, ctx.attempts, input_tokens=ctx.input_tokens
            )
            ctx.calls += 1
            ctx.spent = response.usage
            return response
        except BaseException as e:
            if trace is not None:
                trace.fail(e)
            raise
        finally:
            try:
                await path.settle(ctx)
            finally:
                if trace is not None:
                    trace.end()

    async def _finished(
        self, path: _Path, ctx: RequestContext, chunks: ChunkStream
    ) -> AsyncGenerator[ChunkBatch, None]:
        """Relay a stream, reading its usage (and dropping the usage chunk the client did not ask
        for); settle once it ends, fails or is closed (a client disconnect)."""
        try:
            async for batch in chunks:
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
        finally:
            try:
                await chunks.aclose()
            finally:
                if ctx.hit is None:
                    ctx.spent = ctx.stream_usage
                await path.settle(ctx)

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


class OwnCalls:
    """The model calls the gateway makes on its own behalf, each under the principal
    ``sluice:<purpose>`` of the tenant it is made for (None: the gateway's own, as for an
    embedding batch that mixes tenants), through the pipeline's internal stages, and observed
    as a request of the endpoint ``<purpose>``. Bound to the pipeline once it is built (the
    stages that make such calls are built before it)."""

    def __init__(self, observer: Observer | None = None) -> None:
        self._observer = observer or Observer()
        self._pipeline: Pipeline | None = None

    def bind(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def chat(
        self,
        purpose: str,
        request: ChatRequest,
        tenant_id: str | None,
        *,
        principal: Principal | None = None,
        annotate: Callable[[RequestContext], None] | None = None,
    ) -> ChatResponse:
        """``principal``: who pays, when not ``sluice:<purpose>`` of ``tenant_id`` without limits
        (a shadow answer's scope, whose limits and budgets apply); ``annotate`` marks the request's
        context before it runs (a shadow answer's prompt and arm)."""
        assert self._pipeline is not None
        return await self._observed(
            purpose, request, tenant_id, self._pipeline.own_chat, principal=principal, annotate=annotate
        )

    async def embed(
        self, purpose: str, request: EmbeddingRequest, tenant_id: str | None
    ) -> EmbeddingResponse:
        assert self._pipeline is not None
        return await self._observed(purpose, request, tenant_id, self._pipeline.own_embed)

    async def _observed(
        self,
        purpose: str,
        request: ChatRequest | EmbeddingRequest,
        tenant_id: str | None,
        run: Callable[[RequestContext], Awaitable[R]],
        *,
        principal: Principal | None = None,
        annotate: Callable[[RequestContext], None] | None = None,
    ) -> R:
        principal = principal or Principal(f"sluice:{purpose}", tenant_id=tenant_id)
        ctx = RequestContext("req_" + os.urandom(12).hex(), None, request, principal=principal)
        if annotate is not None:
            annotate(ctx)
        ex = Exchange(ctx.request_id, purpose, ctx=ctx)
        observer = self._observer if self._observer.enabled else None
        if observer is not None:
            observer.begin(ex)
        status, error = 200, None
        try:
            return await run(ctx)
        except SluiceError as e:
            status, error = e.status, e.code or e.type
            raise
        except asyncio.CancelledError:
            status, error = 499, "cancelled"  # its caller stopped waiting (the judge's timeout)
            raise
        finally:
            if observer is not None:
                await observer.finish(ex, status, error)


async def _replayed(batch: ChunkBatch) -> AsyncGenerator[ChunkBatch, None]:
    yield batch


def _sum(a: Usage | EmbeddingUsage | None, b: Usage | EmbeddingUsage | None) -> Usage | EmbeddingUsage | None:
    if not isinstance(a, Usage) or not isinstance(b, Usage):
        return b if b is not None else a
    return Usage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
        total_tokens=a.total_tokens + b.total_tokens,
    )


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
    if ctx.prompt_version is not None:
        out["sluice.prompt"] = ctx.prompt_version
        if ctx.experiment is not None:
            out["sluice.experiment"] = ctx.experiment
    if ctx.cost_micros is not None:
        out["sluice.cost_micros"] = ctx.cost_micros
    u = ctx.usage
    if u is not None:
        out["gen_ai.usage.input_tokens"] = u.prompt_tokens
        if isinstance(u, Usage):
            out["gen_ai.usage.output_tokens"] = u.completion_tokens
    return out
