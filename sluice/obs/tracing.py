"""OpenTelemetry tracing: a span per request, per pipeline stage and per upstream attempt, and
the W3C trace headers each upstream request carries (``TRACE_HEADERS``). OpenTelemetry is
imported only by ``build_tracing`` with tracing on: a gateway with it off never loads the SDK."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from sluice.errors import SluiceError
from sluice.types import ClosingIterator

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span
    from opentelemetry.util.types import AttributeValue

    from sluice.settings import TracingSettings

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
Attributes = Mapping[str, "AttributeValue"]

TRACE_HEADERS: ContextVar[Mapping[str, str] | None] = ContextVar("sluice_trace_headers", default=None)
"""The W3C ``traceparent`` (and ``tracestate``) the upstream requests made now carry: the attempt
span's while tracing, else the client's as sent; None: no header. Set and reset around the call
by whoever knows (the router per attempt, the pipeline per request); ``providers/http.py`` reads it."""


def build_tracing(settings: TracingSettings, *, exporter: SpanExporter | None = None) -> Tracing | None:
    """The gateway's tracing, or None when it is off. Spans go to ``exporter`` as they end (tests
    pass an in-memory one), else in batches to the OTLP/HTTP endpoint, else nowhere."""
    if not settings.enabled:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
        resource=Resource.create({"service.name": settings.service_name}),
        shutdown_on_exit=False,  # close() flushes; no atexit hook per provider
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otlp_endpoint is not None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    return Tracing(provider)


class Tracing:
    """Our own TracerProvider (never the global one), its tracer and the W3C propagator."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import context, trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        self._provider = provider
        self._tracer = provider.get_tracer("sluice")
        self._propagator = TraceContextTextMapPropagator()
        self._attach = context.attach
        self._detach = context.detach
        self._in_context = trace.set_span_in_context
        self._kind = trace.SpanKind
        self._error = trace.StatusCode.ERROR

    def request(
        self,
        name: str,
        traceparent: str | None,
        tracestate: str | None,
        attributes: Attributes,
        finish: Callable[[], Attributes],
    ) -> RequestSpan:
        """Start a request's root span, a child of the client's ``traceparent`` when it sent a
        valid one, and make it current. ``finish`` gives the attributes known at the end."""
        # An explicit parent, never whatever span happens to be current: no header, a new trace.
        carrier = {} if traceparent is None else {"traceparent": traceparent}
        if traceparent is not None and tracestate is not None:
            carrier["tracestate"] = tracestate
        parent = self._propagator.extract(carrier)
        span = self._tracer.start_span(name, context=parent, kind=self._kind.SERVER, attributes=attributes)
        return RequestSpan(self, span, finish)

    @contextlib.contextmanager
    def span(self, name: str, attributes: Attributes | None = None) -> Iterator[Span]:
        """A child of the current span, current itself while the block runs."""
        span = self._tracer.start_span(name, attributes=attributes)
        token = self._attach(self._in_context(span))
        try:
            yield span
        except BaseException as e:
            self.failed(span, e)
            raise
        finally:
            self._detach(token)
            span.end()

    def wrap(self, name: str, call: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """``call`` with a span around each call (made once, at startup)."""

        async def traced(*args: P.args, **kwargs: P.kwargs) -> R:
            with self.span(name):
                return await call(*args, **kwargs)

        return traced

    def attempt(self, name: str, attributes: Attributes) -> AttemptSpan:
        """Start an upstream call's span (a child of the current one) and have the upstream
        request carry its traceparent until ``AttemptSpan.end``."""
        span = self._tracer.start_span(name, kind=self._kind.CLIENT, attributes=attributes)
        headers: dict[str, str] = {}
        self._propagator.inject(headers, self._in_context(span))
        return AttemptSpan(self, span, TRACE_HEADERS.set(headers))

    def failed(self, span: Span, e: BaseException) -> None:
        """Note why a span's work stopped: a SluiceError's code and safe message, an unexpected
        exception's type; a cancellation (the client left) is not an error of ours."""
        if isinstance(e, (asyncio.CancelledError, GeneratorExit)):
            span.set_attribute("sluice.cancelled", True)
        elif isinstance(e, SluiceError):
            span.set_attribute("error.type", e.code or e.type)
            span.set_status(self._error, e.message)
        else:
            span.set_attribute("error.type", type(e).__qualname__)
            span.set_status(self._error)

    async def close(self) -> None:
        """Export what is still queued, then stop (the exporter's HTTP is blocking: off the loop)."""
        await asyncio.to_thread(self._provider.shutdown)


class RequestSpan:
    """A request's root span: current while the pipeline works on the request and, for a stream,
    while each batch is read; it ends with the request (a stream: with the stream)."""

    __slots__ = ("_context", "_finish", "_span", "_token", "_tracing")

    def __init__(self, tracing: Tracing, span: Span, finish: Callable[[], Attributes]) -> None:
        self._tracing = tracing
        self._span = span
        self._finish = finish
        self._context = tracing._in_context(span)
        self._token = self._enter()

    def fail(self, e: BaseException) -> None:
        self._tracing.failed(self._span, e)

    def end(self) -> None:
        self._tracing._detach(self._token)
        self._close()

    def relay(self, chunks: ClosingIterator[T]) -> ClosingIterator[T]:
        """The stream, with this span current while it is read and ended when it ends."""
        self._tracing._detach(self._token)
        return _TracedStream(chunks, self)

    def _enter(self) -> Token[Context]:
        return self._tracing._attach(self._context)

    def _leave(self, token: Token[Context]) -> None:
        self._tracing._detach(token)

    def _close(self, *, cancelled: bool = False) -> None:
        if cancelled:
            self._span.set_attribute("sluice.cancelled", True)
        self._span.set_attributes(self._finish())
        self._span.end()


class _TracedStream(AsyncIterator[T]):
    """Streams are read by the response, maybe in another task: the root span is made current
    around each step, so what runs then (the meter, settle) nests under it. A class, not a
    generator, so that closing it before its first batch still ends the span."""

    def __init__(self, chunks: ClosingIterator[T], root: RequestSpan) -> None:
        self._chunks = chunks
        self._root: RequestSpan | None = root
        """None once the span has ended."""

    async def __anext__(self) -> T:
        root = self._root
        if root is None:
            raise StopAsyncIteration
        token = root._enter()
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            self._end()
            raise
        except BaseException as e:
            root.fail(e)
            self._end()
            raise
        finally:
            root._leave(token)

    async def aclose(self) -> None:
        root = self._root
        if root is None:  # ended: the stream was read to its end, or failed
            await self._chunks.aclose()
            return
        token = root._enter()
        try:
            await self._chunks.aclose()
        finally:
            self._end(cancelled=True)  # closed before its end: the client left
            root._leave(token)

    def _end(self, *, cancelled: bool = False) -> None:
        if self._root is not None:
            self._root._close(cancelled=cancelled)
            self._root = None


class AttemptSpan:
    """One upstream call's span; ``end`` restores the trace headers that were in place before."""

    __slots__ = ("_span", "_token", "_tracing")

    def __init__(self, tracing: Tracing, span: Span, token: Token[Mapping[str, str] | None]) -> None:
        self._tracing = tracing
        self._span = span
        self._token = token

    def end(self, error: str | None, latency_s: float) -> None:
        TRACE_HEADERS.reset(self._token)
        span = self._span
        span.set_attribute("sluice.latency_ms", round(latency_s * 1000, 3))
        if error is not None:
            span.set_attribute("error.type", error)
            span.set_status(self._tracing._error)
        span.end()


class RequestTrace(Protocol):
    """What the pipeline holds for a request's trace: its root span, or ``Forwarded``."""

    def fail(self, e: BaseException) -> None: ...

    def end(self) -> None: ...

    def relay(self, chunks: ClosingIterator[T]) -> ClosingIterator[T]: ...


class Forwarded:
    """Tracing off: the client's ``traceparent`` goes upstream as sent, while the pipeline works
    on the request (until ``end``, or until a stream's ``relay``: its upstream call is made)."""

    __slots__ = ("_token",)

    def __init__(self, traceparent: str, tracestate: str | None = None) -> None:
        headers = {"traceparent": traceparent}
        if tracestate is not None:
            headers["tracestate"] = tracestate
        self._token = TRACE_HEADERS.set(headers)

    def fail(self, e: BaseException) -> None:
        pass

    def end(self) -> None:
        TRACE_HEADERS.reset(self._token)

    def relay(self, chunks: ClosingIterator[T]) -> ClosingIterator[T]:
        self.end()
        return chunks
