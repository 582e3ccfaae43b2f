"""Observer.record: each RequestRecord field gets what the request did (the record is built
positionally, for speed, so a field out of order would show here)."""

from __future__ import annotations

import msgspec

from sluice.auth.principal import Principal
from sluice.knowledge.search import Found
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.retrieval import Retrieval
from sluice.routing.auto import Choice
from sluice.routing.router import Attempt
from sluice.store.records import ChunkHit
from sluice.types import ChatRequest, PromptTokensDetails, Usage


def test_every_field_of_the_record() -> None:
    ex = Exchange("req_1", "chat")
    ex.arrived_ms, ex.started, ex.first_byte, ex.stream = 1_700_000_000_123, 100.0, 100.05, True
    request = msgspec.convert({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, ChatRequest)
    ctx = ex.ctx = RequestContext("req_1", "sk", request, started=100.0)
    ctx.principal = Principal("sk-abc...", tenant_id="acme", user_id="usr_1", key_id="key_1")
    ctx.attempts += [Attempt("m", "up/a", "503", 0.02), Attempt("m-fallback", "up/b", None, 0.03)]
    ctx.deployment = type("D", (), {"name": "up/b"})()  # only its name is read
    ctx.usage = Usage(
        prompt_tokens=10,
        completion_tokens=5,
        total_tokens=15,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=4),
    )
    ctx.cost_micros, ctx.cache_status = 42, "miss"
    ctx.saved_tokens, ctx.saved_micros = 0, 0
    ctx.prompt, ctx.prompt_number, ctx.experiment, ctx.arm = "support", 3, "exp_1", 3
    ctx.spend, ctx.spend_event = "emergency", "spend.emergency_started"
    kept = Found(ChunkHit("file-1", 0, "text", "a.md", {}), 0.5, "vs_1")
    poisoned = Found(ChunkHit("file-2", 0, "text", "b.md", {}), 0.4, "vs_1")
    ctx.retrieval = Retrieval(
        "the user's question", [kept], dropped=[(poisoned, "injection")], seconds=0.0125
    )
    ctx.choice = Choice("strong", "m", "tools")  # an auto alias chose the tier `m`; its fallback answered
    r = Observer().record(ex, 200, None)
    got = msgspec.structs.asdict(r)
    latency = got.pop("latency_ms")
    assert latency > 0
    assert got == {
        "id": "req_1",
        "ts_ms": 1_700_000_000_123,
        "endpoint": "chat",
        "status": 200,
        "tenant_id": "acme",
        "user_id": "usr_1",
        "key_id": "key_1",
        "key_prefix": "sk-abc...",
        "model": "m",
        "deployment": "up/b",
        "error_type": None,
        "stream": True,
        "ttft_ms": got["ttft_ms"],
        "upstream_ms": got["upstream_ms"],
        "overhead_ms": got["overhead_ms"],
        "input_tokens": 10,
        "output_tokens": 5,
        "cached_tokens": 4,
        "cost_micros": 42,
        "cache": "miss",
        "saved_tokens": 0,
        "saved_micros": 0,
        "attempts": 2,
        "fallback": True,
        "guardrail": None,
        "prompt": None,
        "answer": None,
        "prompt_name": "support",
        "prompt_version": 3,
        "experiment": "exp_1",
        "arm": 3,
        "retrieval_ms": 12.5,
        # Never the query: that is the prompt's text, logged only where payloads may be.
        "retrieval": '{"results":[{"file_id":"file-1","vector_store_id":"vs_1","score":0.5}],'
        '"dropped":[{"file_id":"file-2","vector_store_id":"vs_1","category":"injection"}]}',
        "route": "strong; reason=tools",
        "spend": "emergency",
        "spend_event": "spend.emergency_started",
    }
    assert abs(got["ttft_ms"] - 50) < 1e-6 and abs(got["upstream_ms"] - 50) < 1e-6
    assert abs(got["overhead_ms"] - (latency - 50)) < 1e-6


def test_a_request_refused_before_its_body_was_read() -> None:
    r = Observer().record(Exchange("req_2", "messages"), 413, "request_too_large")
    assert (r.status, r.error_type, r.tenant_id, r.model, r.attempts) == (
        413,
        "request_too_large",
        None,
        None,
        0,
    )
    assert r.overhead_ms == r.latency_ms
