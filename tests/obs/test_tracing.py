"""Tracing: the pipeline as app.py composes it (real stages and router, the openai provider) in
front of an OpenAI-compatible upstream on 127.0.0.1 that records the headers it receives, spans
captured by an in-memory exporter; a gateway exporting over OTLP/HTTP to a collector on
127.0.0.1; and a gateway with tracing off, which never loads the SDK."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from sluice.app import build_providers
from sluice.auth.keys import KeyRing
from sluice.auth.resolver import KeyResolver
from sluice.backend import build_backend
from sluice.cache.build import build_cache
from sluice.cache.service import ResponseCache
from sluice.errors import AuthenticationError
from sluice.knowledge.chunk import AUTO
from sluice.knowledge.search import Searcher
from sluice.obs.tracing import TRACE_HEADERS, build_tracing
from sluice.pipeline.admission import Admission
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.budget import Budgets, deployment_prices
from sluice.pipeline.cache import CacheLookupStage, CacheStage
from sluice.pipeline.context import RequestContext
from sluice.pipeline.quota import QuotaStage
from sluice.pipeline.resolve import ResolveStage
from sluice.pipeline.retrieval import RetrievalStage
from sluice.pipeline.runner import OwnCalls, Pipeline
from sluice.pipeline.stage import Stage
from sluice.pipeline.validate import ValidateStage
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.store.records import FileQuota, StoredChunk, StoredFile, VectorStore, VectorStoreFile
from sluice.types import ChatRequest
from tests.fixtures.aioserver import local_server
from tests.fixtures.procs import REPO, Proc

METERED = "sk-trace-metered"
"""A static key with a rate limit and a token budget: admission and budget run."""
PLAIN = "sk-trace-plain"
"""A static key without limits: nothing to meter, a stream is relayed as the upstream sends it."""
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
USAGE = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}


def _completion() -> bytes:
    message = {"role": "assistant", "content": "Hi there"}
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "up-model",
        "usage": USAGE,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }
    return msgspec.json.encode(body)


def _chunks(usage: bool) -> list[bytes]:
    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "up-model",
            "choices": choices,
            **extra,
        }
        return b"data: " + msgspec.json.encode(body) + b"\n\n"

    out = [chunk([{"index": 0, "delta": {"content": w}, "finish_reason": None}]) for w in ("Hi", " there")]
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if usage:
        out.append(chunk([], usage=USAGE))
    return [*out, b"data: [DONE]\n\n"]


class Upstream:
    """``POST /v1/chat/completions``: a JSON answer or an SSE stream (with usage when asked);
    each status in ``failures`` answers one request first. Records every request's headers."""

    def __init__(self) -> None:
        self.base_url = ""
        self.failures: list[int] = []
        self.headers: list[dict[str, str]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        if self.failures:
            error = msgspec.json.encode({"error": {"message": "overloaded"}})
            return web.Response(status=self.failures.pop(0), body=error, content_type="application/json")
        if not body.get("stream"):
            return web.Response(body=_completion(), content_type="application/json")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        for part in _chunks(usage=bool(body.get("stream_options", {}).get("include_usage"))):
            await resp.write(part)
        return resp

    def traceparents(self) -> list[str | None]:
        return [h.get("traceparent") for h in self.headers]


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.handle) as base_url:
        u.base_url = base_url
        yield u


def settings(upstream_url: str, tmp_path: Path, *, enabled: bool, **extra: Any) -> Settings:
    return Settings(
        auth={
            "keys": [
                {
                    "key": METERED,
                    "name": "metered",
                    "limits": {"rpm": 1000},
                    "budgets": [{"period": "day", "max_tokens": 1_000_000}],
                },
                {"key": PLAIN, "name": "plain"},
            ]
        },
        providers={"up": {"type": "openai", "base_url": f"{upstream_url}/v1", "api_key": "sk-upstream"}},
        models={"m": {"deployments": [{"provider": "up", "model": "up-model"}]}},
        routing={"retries": {"max_attempts": 2, "backoff_base_s": 0.001, "backoff_max_s": 0.002}},
        state={"sqlite_path": str(tmp_path / "trace.db")},
        tracing={"enabled": enabled},
        **extra,
    )


@contextlib.asynccontextmanager
async def pipeline(s: Settings, exporter: InMemorySpanExporter | None) -> AsyncIterator[Pipeline]:
    """The pipeline as ``build_app`` composes it; tracing into ``exporter`` (None: tracing off)."""
    async with pipeline_and_cache(s, exporter) as (p, _):
        yield p


@contextlib.asynccontextmanager
async def pipeline_and_cache(
    s: Settings, exporter: InMemorySpanExporter | None
) -> AsyncIterator[tuple[Pipeline, ResponseCache | None]]:
    """``pipeline``, and its cache stage (None: caching off)."""
    tracing = build_tracing(s.tracing, exporter=exporter)
    providers = build_providers(s)
    routes = build_routes(s, providers)
    router = Router(routes, tracing=tracing)
    backend = build_backend(s.state)
    store = backend.store
    await store.migrate()
    own = OwnCalls()
    cache = build_cache(s, backend.exact_cache, backend.semantic_index, own)
    if cache is not None:
        await cache.start()
    budget = Budgets(
        backend.budgets, deployment_prices(s, routes), router.route, default_max_tokens=64, fail_open=False
    )
    stages: list[Stage] = [
        ValidateStage(),
        AuthenticateStage(KeyResolver(KeyRing(s.auth.keys), store, 60), None),
        ResolveStage(router),
        RetrievalStage(Searcher(store, None, max_scan_chunks=100, cache_bytes=10**6), tracing),
        *([CacheStage(cache)] if cache is not None else []),
        QuotaStage(Admission(backend.limits, fail_open=False), budget),
        *([CacheLookupStage(cache)] if cache is not None else []),
    ]
    pipeline = Pipeline(stages, router, tracing=tracing)
    own.bind(pipeline)
    owner, text = "key:metered", "Vacation is 25 days a year."  # a store of the metered key, one chunk
    if await store.get_vector_store(owner, "vs_trace") is None:
        await store.create_vector_store(VectorStore(owner, "vs_trace", "kb", 1, 1))
        await store.add_file(
            StoredFile(owner, "file-1", 1, 1, "kb.md", "assistants"), FileQuota(10**9, 10**6)
        )
        await store.attach_files(
            [VectorStoreFile(owner, "vs_trace", "file-1", 1, "in_progress", AUTO.wire(), {})]
        )
        claimed = await store.claim_ingestion(60.0, 10)
        assert claimed is not None
        assert await store.finish_ingestion(claimed, [StoredChunk(0, 0, len(text), text, None)], None)
    try:
        yield pipeline, cache
    finally:
        if cache is not None:
            await cache.close()
        for p in providers.values():
            await p.close()
        await backend.close()
        if tracing is not None:
            await tracing.close()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(
    upstream: Upstream, tmp_path: Path, exporter: InMemorySpanExporter
) -> AsyncIterator[Pipeline]:
    async with pipeline(settings(upstream.base_url, tmp_path, enabled=True), exporter) as p:
        yield p


def ctx(key: str = METERED, traceparent: str | None = TRACEPARENT, **body: Any) -> RequestContext:
    request = msgspec.convert(
        {"model": "m", "messages": [{"role": "user", "content": "hello"}], **body}, ChatRequest
    )
    c = RequestContext("req_trace", key, request)
    c.traceparent = traceparent
    return c


# --- reading the span tree ------------------------------------------------------------------


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    """In the order they started."""
    sid = parent.context.span_id
    return sorted(
        (s for s in spans if s.parent is not None and s.parent.span_id == sid),
        key=lambda s: s.start_time or 0,
    )


def names(spans: Sequence[ReadableSpan]) -> list[str]:
    return [s.name for s in spans]


def request_tree(
    exporter: InMemorySpanExporter, root_name: str = "chat m"
) -> tuple[list[ReadableSpan], ReadableSpan]:
    """Every span, checked to form one tree in the client's trace under the client's span."""
    spans = list(exporter.get_finished_spans())
    root = one(spans, root_name)
    assert root.kind is SpanKind.SERVER
    assert root.parent is not None and root.parent.is_remote and f"{root.parent.span_id:016x}" == CLIENT_SPAN
    ids = {s.context.span_id for s in spans}
    for s in spans:
        assert f"{s.context.trace_id:032x}" == CLIENT_TRACE, s.name
        assert s is root or (s.parent is not None and s.parent.span_id in ids), s.name
    return spans, root


def traceparent(span: ReadableSpan) -> str:
    c = span.context
    return f"00-{c.trace_id:032x}-{c.span_id:016x}-{int(c.trace_flags):02x}"


# --- tracing on --------------------------------------------------------------------------------


async def test_a_json_request_is_a_root_span_with_a_child_per_stage_and_attempt(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    await traced.chat(ctx(max_tokens=50))
    spans, root = request_tree(exporter)
    stages = children(spans, root)
    assert names(stages) == ["validate", "authenticate", "resolve", "quota", "route", "settle"]
    [attempt] = children(spans, stages[4])
    assert attempt.name == "chat up-model" and attempt.kind is SpanKind.CLIENT
    assert attempt.status.status_code is StatusCode.UNSET
    assert {k: v for k, v in (attempt.attributes or {}).items() if k != "sluice.latency_ms"} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "up-model",
        "sluice.alias": "m",
        "sluice.deployment": "up/up-model",
        "sluice.attempt": 1,
    }
    assert root.attributes is not None
    assert dict(root.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m",
        "gen_ai.response.model": "up-model",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 9,
        "gen_ai.usage.output_tokens": 2,
        "sluice.request_id": "req_trace",
        "sluice.deployment": "up/up-model",
        "sluice.attempts": 1,
        "sluice.cost_micros": root.attributes["sluice.cost_micros"],
    }
    assert upstream.traceparents() == [traceparent(attempt)]  # the client's trace, our attempt's span


async def test_retrieval_has_a_span_only_when_the_request_retrieves(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    asked = ctx(
        max_tokens=50,
        messages=[{"role": "user", "content": "vacation days?"}],
        sluice={"retrieval": {"vector_store_ids": ["vs_trace"]}},
    )
    await traced.chat(asked)
    assert asked.retrieval is not None and [p.hit.file_id for p in asked.retrieval.passages] == ["file-1"]
    spans, root = request_tree(exporter)
    stages = children(spans, root)
    assert names(stages) == ["validate", "authenticate", "resolve", "retrieval", "quota", "route", "settle"]
    # Other requests have none (the other tests' span lists).


async def test_a_retry_is_a_failed_attempt_span_then_a_successful_one(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    upstream.failures = [503]
    await traced.chat(ctx(key=PLAIN))
    spans, root = request_tree(exporter)
    assert names(children(spans, root)) == ["validate", "authenticate", "resolve", "quota", "route", "settle"]
    failed, ok = children(spans, one(spans, "route"))
    assert (failed.attributes or {})["sluice.attempt"] == 1 and (ok.attributes or {})["sluice.attempt"] == 2
    assert failed.status.status_code is StatusCode.ERROR and (failed.attributes or {})["error.type"] == "503"
    assert ok.status.status_code is StatusCode.UNSET and "error.type" not in (ok.attributes or {})
    assert (root.attributes or {})["sluice.attempts"] == 2
    assert upstream.traceparents() == [traceparent(failed), traceparent(ok)]


async def test_a_stream_root_span_ends_when_the_stream_ends(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    chunks = await traced.stream(ctx(stream=True, max_tokens=50))
    assert "chat m" not in names(exporter.get_finished_spans())  # still running
    text = [c.choices[0].delta.content or "" async for batch in chunks for c in batch if c.choices]
    assert "".join(text) == "Hi there"
    spans, root = request_tree(exporter)
    assert names(children(spans, root)) == [
        "validate",
        "authenticate",
        "resolve",
        "quota",
        "route",
        "settle",
    ]
    assert names(children(spans, one(spans, "route"))) == ["chat up-model"]
    assert (root.attributes or {})[
        "gen_ai.usage.output_tokens"
    ] == 2  # read from the stream, settled at its end
    assert upstream.traceparents() == [traceparent(one(spans, "chat up-model"))]


async def test_a_stream_relayed_unmetered_still_ends_its_root_span(
    traced: Pipeline, exporter: InMemorySpanExporter
) -> None:
    chunks = await traced.stream(
        ctx(key=PLAIN, stream=True)
    )  # no limits, budgets, cache or usage: nothing to settle
    assert "chat m" not in names(exporter.get_finished_spans())
    assert len([b async for b in chunks]) >= 1
    spans, root = request_tree(exporter)
    assert names(children(spans, root)) == ["validate", "authenticate", "resolve", "quota", "route"]
    assert root.status.status_code is StatusCode.UNSET and "sluice.cancelled" not in (root.attributes or {})


async def test_a_stream_closed_early_ends_its_root_span_as_cancelled(
    traced: Pipeline, exporter: InMemorySpanExporter
) -> None:
    chunks = await traced.stream(ctx(stream=True, max_tokens=50))
    await anext(chunks)
    await chunks.aclose()  # type: ignore[attr-defined]  # the client went away
    spans, root = request_tree(exporter)
    assert (root.attributes or {})["sluice.cancelled"] is True and root.status.status_code is StatusCode.UNSET
    assert "settle" in names(children(spans, root))  # settled under the root, though the stream was cut


async def test_a_refused_request_records_its_error_code_on_the_root_span(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(AuthenticationError):
        await traced.chat(ctx(key="sk-not-a-key"))
    spans, root = request_tree(exporter)
    assert names(children(spans, root)) == ["validate", "authenticate", "settle"]
    for span in (root, one(spans, "authenticate")):
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})["error.type"] == "invalid_api_key"
    assert upstream.headers == []


async def test_without_a_client_traceparent_the_request_starts_a_trace(
    traced: Pipeline, upstream: Upstream, exporter: InMemorySpanExporter
) -> None:
    await traced.chat(ctx(key=PLAIN, traceparent=None))
    root = one(exporter.get_finished_spans(), "chat m")
    attempt = one(exporter.get_finished_spans(), "chat up-model")
    assert root.parent is None and attempt.context.trace_id == root.context.trace_id
    assert upstream.traceparents() == [traceparent(attempt)]
    assert TRACE_HEADERS.get() is None  # nothing left behind for the next request


async def test_a_cache_hit_has_a_lookup_span_and_no_route(
    upstream: Upstream, tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    s = settings(upstream.base_url, tmp_path, enabled=True, cache={"enabled": True})
    async with pipeline_and_cache(s, exporter) as (p, cache):
        await p.chat(ctx(key=PLAIN, temperature=0))
        assert cache is not None
        await asyncio.wait_for(cache.drain(), 5)  # the answer is kept in the background
        exporter.clear()
        asked = len(upstream.headers)
        hit = ctx(key=PLAIN, temperature=0)
        await p.chat(hit)
        assert hit.cache_status == "hit"
    spans, root = request_tree(exporter)
    assert names(children(spans, root)) == [
        "validate",
        "authenticate",
        "resolve",
        "quota",
        "cache lookup",
        "settle",
    ]
    assert (root.attributes or {})["sluice.cache.status"] == "hit"
    assert len(upstream.headers) == asked


# --- tracing off ------------------------------------------------------------------------------


async def test_tracing_off_forwards_the_client_traceparent_as_sent(
    upstream: Upstream, tmp_path: Path
) -> None:
    async with pipeline(settings(upstream.base_url, tmp_path, enabled=False), None) as p:
        await p.chat(ctx())
        chunks = await p.stream(ctx(key=PLAIN, stream=True))
        assert TRACE_HEADERS.get() is None  # only while the upstream call is made
        assert len([b async for b in chunks]) >= 1
        await p.chat(ctx(traceparent=None))
    assert upstream.traceparents() == [TRACEPARENT, TRACEPARENT, None]


def test_a_gateway_with_tracing_off_never_imports_the_tracing_sdk(tmp_path: Path) -> None:
    # (FastAPI imports OpenTelemetry's API, which is small; the SDK and redis-py must stay out.)
    code = (
        "import sys\n"
        "from sluice.app import build_app\n"
        "from sluice.settings import Settings\n"
        f"build_app(Settings(state={{'sqlite_path': {str(tmp_path / 'off.db')!r}}}))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter', 'redis'))))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# --- a gateway exporting over OTLP ------------------------------------------------------------


async def test_a_gateway_exports_its_spans_over_otlp_by_the_time_it_stops(
    upstream: Upstream, tmp_path: Path, gateway: Any
) -> None:
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: web.Request) -> web.Response:
        received.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(content_type="application/x-protobuf")

    async with local_server("/v1/traces", collect) as collector:
        config = {
            "auth": {"keys": [{"key": PLAIN, "name": "plain"}]},
            "providers": {
                "up": {"type": "openai", "base_url": f"{upstream.base_url}/v1", "api_key": "sk-upstream"}
            },
            "models": {"m": {"deployments": [{"provider": "up", "model": "up-model"}]}},
            "tracing": {
                "enabled": True,
                "otlp_endpoint": f"{collector}/v1/traces",
                "service_name": "sluice-test",
            },
            "logging": {"level": "warning"},
        }
        gw: Proc = await asyncio.to_thread(gateway, config)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
            headers = {"authorization": f"Bearer {PLAIN}", "traceparent": TRACEPARENT}
            async with http.post(f"{gw.base_url}/v1/chat/completions", json=body, headers=headers) as r:
                assert r.status == 200, await r.text()
        assert await asyncio.to_thread(gw.stop) == -signal.SIGTERM  # a graceful stop (as uvicorn exits)

    resource_spans = [rs for req in received for rs in req.resource_spans]
    service = {a.key: a.value.string_value for rs in resource_spans for a in rs.resource.attributes}[
        "service.name"
    ]
    spans = {s.name: s for rs in resource_spans for ss in rs.scope_spans for s in ss.spans}
    assert service == "sluice-test"
    assert {"chat m", "validate", "authenticate", "resolve", "route", "chat up-model"} <= set(spans)
    root = spans["chat m"]
    assert root.trace_id.hex() == CLIENT_TRACE and root.parent_span_id.hex() == CLIENT_SPAN
    attempt = spans["chat up-model"]
    assert upstream.traceparents() == [f"00-{CLIENT_TRACE}-{attempt.span_id.hex()}-01"]


async def test_the_client_tracestate_travels_with_its_traceparent(upstream: Upstream, tmp_path: Path) -> None:
    for enabled in (False, True):
        c = ctx()
        c.tracestate = "vendor=opaque"
        exporter = InMemorySpanExporter() if enabled else None
        async with pipeline(settings(upstream.base_url, tmp_path, enabled=enabled), exporter) as p:
            await p.chat(c)
    assert [h.get("tracestate") for h in upstream.headers] == ["vendor=opaque", "vendor=opaque"]
    assert upstream.traceparents()[0] == TRACEPARENT and CLIENT_TRACE in upstream.traceparents()[1]
