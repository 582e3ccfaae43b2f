"""The end of every request: what the surface saw (``Exchange``) and what the pipeline left in
its RequestContext become one RequestRecord, which goes to the metrics, the request line and the
request log. Each sink is optional; with all three off, finishing a request costs nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from sluice.obs.access import AccessLog
from sluice.obs.metrics import Metrics
from sluice.obs.record import RequestRecord
from sluice.pipeline.context import RequestContext
from sluice.store.log_writer import RequestLogWriter
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, Usage

Redact = Callable[[str], str]


@dataclass(slots=True)
class Exchange:
    """One data-plane request as its surface handles it, from arrival to the last byte."""

    request_id: str
    endpoint: str
    """``chat``, ``embeddings`` or ``messages``."""
    started: float = field(default_factory=time.perf_counter)
    arrived_ms: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    ctx: RequestContext | None = None
    """Set by the handler once the body is decoded."""
    first_byte: float | None = None
    """When a stream's first chunk was sent."""
    response: ChatResponse | None = None
    """A JSON answer, as sent."""
    answer: list[str] | None = None
    """A stream's text as it was sent, kept only when the answer may be logged."""
    stream: bool = False
    finished: bool = False

    def keep_text(self, batch: ChunkBatch) -> None:
        parts = self.answer
        if parts is None:
            return
        for c in batch:
            for choice in c.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)


class Observer:
    def __init__(
        self,
        *,
        metrics: Metrics | None = None,
        access: AccessLog | None = None,
        writer: RequestLogWriter | None = None,
        payloads: bool = False,
        redact: Redact | None = None,
        tap: Callable[[int, float], None] | None = None,
    ) -> None:
        """``tap``: also told every request's status and latency in seconds (the alerts' traffic
        counts), without a record being made for it."""
        self._tap = tap
        self._sinks = metrics is not None or access is not None or writer is not None
        self._metrics = metrics
        self._access = access
        self._writer = writer
        self._payloads = payloads
        self._redact = redact
        self.enabled = metrics is not None or access is not None or writer is not None or tap is not None

    def begin(self, ex: Exchange) -> None:
        if self._metrics is not None:
            self._metrics.started()

    def payloads_allowed(self, ctx: RequestContext) -> bool:
        """May this request's prompt and answer be logged: the tenant's policy, else the config's."""
        if self._redact is None or ctx.principal is None:
            return False
        own = ctx.principal.log_payloads
        return self._payloads if own is None else own

    def watch_stream(self, ex: Exchange) -> None:
        """A stream is starting: keep its text if its answer may be logged."""
        ex.stream = True
        if ex.ctx is not None and self.enabled and self.payloads_allowed(ex.ctx):
            ex.answer = []

    async def finish(self, ex: Exchange, status: int, error: str | None) -> None:
        """Once per exchange (later calls do nothing)."""
        record = self.finish_held(ex, status, error)
        if record is not None and self._writer is not None:
            await self._writer.put(record)

    def finish_held(self, ex: Exchange, status: int, error: str | None) -> RequestRecord | None:
        """As ``finish``, but the request-log record is handed back for the caller to write (a
        batch line's, in the transaction that stores its result); None without a request log."""
        if ex.finished:
            return None
        ex.finished = True
        if self._tap is not None:
            self._tap(status, time.perf_counter() - ex.started)
        if not self._sinks:
            return None
        record = self.record(ex, status, error)
        if self._metrics is not None:
            self._metrics.ended()
            self._metrics.observe(record, ex.ctx.attempts if ex.ctx is not None else ())
            if record.prompt_name is not None:
                self._metrics.prompt(record)
            if ex.ctx is not None and ex.ctx.guardrails is not None:
                for stage, category, action in ex.ctx.guardrails:
                    self._metrics.guardrail(stage, category, action)
        if self._access is not None:
            self._access.write(record)
        return record if self._writer is not None else None

    def record(self, ex: Exchange, status: int, error: str | None) -> RequestRecord:
        now = time.perf_counter()
        latency_ms = (now - ex.started) * 1000
        ttft_ms = (ex.first_byte - ex.started) * 1000 if ex.first_byte is not None else None
        ctx = ex.ctx
        if ctx is None:
            return RequestRecord(
                ex.request_id,
                ex.arrived_ms,
                ex.endpoint,
                status,
                latency_ms,
                error_type=error,
                stream=ex.stream,
                overhead_ms=latency_ms,
            )
        upstream_s = 0.0
        for a in ctx.attempts:
            upstream_s += a.latency_s
        input_tokens = output_tokens = cached_tokens = 0
        u = ctx.usage
        if u is not None:
            input_tokens = u.prompt_tokens
            if isinstance(u, Usage):
                output_tokens = u.completion_tokens
                if u.prompt_tokens_details is not None:
                    cached_tokens = u.prompt_tokens_details.cached_tokens
        model = ctx.request.model
        prompt = answer = None
        if ex.answer is not None or self.payloads_allowed(ctx):
            prompt, answer = self._texts(ctx, ex)
        p = ctx.principal
        tenant_id = user_id = key_id = key_name = None
        if p is not None:
            tenant_id, user_id, key_id, key_name = p.tenant_id, p.user_id, p.key_id, p.key_name
        d = ctx.deployment
        attempts = ctx.attempts
        upstream_ms = upstream_s * 1000
        return RequestRecord(  # positional, in field order: a third cheaper than keywords
            ex.request_id,
            ex.arrived_ms,
            ex.endpoint,
            status,
            latency_ms,
            tenant_id,
            user_id,
            key_id,
            key_name,
            model,
            d.name if d is not None else None,
            error,
            ex.stream,
            ttft_ms,
            upstream_ms,
            latency_ms - upstream_ms if latency_ms > upstream_ms else 0.0,
            input_tokens,
            output_tokens,
            cached_tokens,
            ctx.cost_micros or 0,
            ctx.cache_status,
            ctx.saved_tokens,
            ctx.saved_micros,
            len(attempts),
            d is not None
            and bool(attempts)
            and attempts[-1].alias != (ctx.choice.alias if ctx.choice else model),
            _guardrails(ctx.guardrails),
            prompt,
            answer,
            ctx.prompt,
            ctx.prompt_number,
            ctx.experiment,
            ctx.arm,
            *_retrieval(ctx),
            ctx.choice.header if ctx.choice is not None else None,
            ctx.spend,
            ctx.spend_event,
        )

    def _texts(self, ctx: RequestContext, ex: Exchange) -> tuple[str | None, str | None]:
        redact = self._redact
        assert redact is not None
        request = ctx.request
        prompt = None
        if isinstance(request, ChatRequest):
            parts = []
            for m in request.messages:
                if isinstance(m.content, str):
                    parts.append(f"{m.role}: {m.content}")
                elif m.content:
                    parts.append(f"{m.role}: " + " ".join(p.text for p in m.content if p.text))
            prompt = redact("\n".join(parts))
        answer = None
        if ex.answer is not None:
            answer = redact("".join(ex.answer))
        elif ex.response is not None and ex.response.choices:
            answer = redact(ex.response.choices[0].message.content or "")
        return prompt, answer


def _retrieval(ctx: RequestContext) -> tuple[float | None, str | None]:
    """The record's ``retrieval_ms`` and ``retrieval``."""
    r = ctx.retrieval
    if r is None:
        return None, None
    report = r.report()
    logged = {
        "results": [{k: x[k] for k in ("file_id", "vector_store_id", "score")} for x in report["results"]],
        "dropped": [{k: x[k] for k in ("file_id", "vector_store_id", "category")} for x in report["dropped"]],
    }
    return r.seconds * 1000, msgspec.json.encode(logged).decode()


def _guardrails(acted: list[tuple[str, str, str]] | None) -> str | None:
    """The record's ``guardrail``: ``action:category`` for each that acted, log included."""
    return None if acted is None else ",".join(f"{action}:{category}" for _, category, action in acted)
