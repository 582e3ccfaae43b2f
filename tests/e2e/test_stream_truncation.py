"""A truncated or malformed upstream stream never reads as a complete answer: the client's SDK
raises after the text that was relayed, no terminator follows, the request log says 502; before
the first byte the failure is retried or falls back like a JSON request's. The upstream is a real
aiohttp server on loopback speaking both wire formats; the clients are the real SDKs."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

KEY = "sk-truncation-test"
MSG = [{"role": "user", "content": "hi"}]
PARTS = ["Hello", " wor"]
"""What every cut stream sends before it breaks."""


def _sse(payload: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n".encode() if event else b""
    return (
        head + b"data: " + (payload if isinstance(payload, bytes) else msgspec.json.encode(payload)) + b"\n\n"
    )


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return _sse(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "up",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


def _openai_events(mode: str) -> tuple[list[bytes], list[bytes]]:
    """The events before the fault, and the ones after it (sent only by a stream that completes)."""
    head = [_openai_chunk({"role": "assistant", "content": ""})] + [
        _openai_chunk({"content": p}) for p in PARTS
    ]
    tail = [_openai_chunk({"content": "ld"}), _openai_chunk({}, "stop"), b"data: [DONE]\n\n"]
    if mode == "early-garbage":
        return [b"data: {not json\n\n"], []
    if mode == "empty":
        return [], [b"data: [DONE]\n\n"]
    if mode == "garbage":
        return [*head, b"this line is no SSE field\n\n"], tail
    return head, tail


def _anthropic_events(mode: str) -> tuple[list[bytes], list[bytes]]:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "up",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 0},
        },
    }
    head = [
        _sse(start, "message_start"),
        _sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
    ] + [
        _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
        for p in PARTS
    ]
    tail = [
        _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ld"}},
            "content_block_delta",
        ),
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    if mode == "early-garbage":
        return [b"event: message_start\ndata: {not json\n\n"], []
    if mode == "empty":
        return [_sse(start, "message_start")], tail[2:]
    if mode == "garbage":
        return head, tail
    return head, tail


_GARBAGE = {
    "/v1/chat/completions": b'data: {"id": oops}\n\n' + _openai_chunk({"content": "ld"}),
    "/v1/messages": b"event: content_block_delta\ndata: [1, 2\n\n",
}
"""The malformed event a ``garbage`` stream sends after its first chunks (a good one may follow)."""


class Upstream:
    """Both wire formats; the upstream model name picks the fault: ``ok``, ``empty`` (a
    complete answer without text), ``reset`` (a TCP
    reset after some chunks), ``eof`` (a clean close before the terminator), ``garbage`` (a
    malformed event mid-stream), ``early-reset`` and ``early-garbage`` (before any event)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def openai(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, _openai_events)

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._stream(request, _anthropic_events)

    async def _stream(self, request: web.Request, events: Any) -> web.StreamResponse:
        mode = msgspec.json.decode(await request.read())["model"]
        self.calls.append(f"{request.path}:{mode}")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        head, tail = events(mode)
        if mode == "early-reset":
            head = []
        for e in head:
            await resp.write(e)
        if mode not in ("ok", "empty"):
            await asyncio.sleep(0.2)  # the gateway has read (and relayed) what came before the fault
        if mode == "garbage":
            await resp.write(_GARBAGE[request.path])
        if mode in ("reset", "early-reset"):
            assert request.transport is not None
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
            request.transport.abort()
            return resp
        if mode in ("ok", "empty"):
            for e in tail:
                await resp.write(e)
        await resp.write_eof()  # "eof", "garbage": a clean end of the body, without the terminator
        return resp


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.openai, **{"/v1/messages": u.anthropic}) as base:
        yield u, base


MODES = ("ok", "empty", "reset", "eof", "garbage", "early-reset", "early-garbage")
PROVIDERS = ("oai", "ant")


def config(base: str, tmp: Path) -> dict[str, Any]:
    models: dict[str, Any] = {
        f"{p}-{mode}": {"deployments": [{"provider": p, "model": mode}]} for p in PROVIDERS for mode in MODES
    }
    for p in PROVIDERS:  # an early failure falls back across providers, as a JSON request's would
        other = "ant" if p == "oai" else "oai"
        for mode in ("early-reset", "early-garbage"):
            models[f"{p}-{mode}"]["fallbacks"] = [f"{other}-ok"]
    return {
        "auth": {"keys": [{"key": KEY, "name": "app"}]},
        "providers": {
            "oai": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"},
            "ant": {"type": "anthropic", "base_url": base, "api_key": "sk-up"},
        },
        "models": models,
        "routing": {"retries": {"max_attempts": 1}},
        "request_log": {"flush_ms": 20},
        "logging": {"level": "warning"},
        "state": {"sqlite_path": str(tmp / "gw.db")},
    }


@pytest.fixture
async def gw(upstream: tuple[Upstream, str], gateway: Any, tmp_path: Path) -> Proc:
    return gateway(config(upstream[1], tmp_path))


def logged(gw: Proc, request_id: str) -> sqlite3.Row:
    """The request's row in the request log (SQLite file), waiting for the batched writer."""
    path = gw.log_path.parent / "gw.db"

    def row() -> sqlite3.Row | None:
        with sqlite3.connect(path) as db:
            db.row_factory = sqlite3.Row
            return db.execute("SELECT * FROM request_log WHERE id = ?", (request_id,)).fetchone()

    return eventually(row, 10, f"a request-log row for {request_id}")


def openai_client(gw: Proc, rid: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{gw.base_url}/v1",
        api_key=KEY,
        max_retries=0,
        timeout=15,
        default_headers={"x-request-id": rid},
    )


def anthropic_client(gw: Proc, rid: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=gw.base_url, api_key=KEY, max_retries=0, timeout=15, default_headers={"x-request-id": rid}
    )


async def raw_stream(gw: Proc, path: str, body: dict[str, Any]) -> bytes:
    """The exact bytes of a stream, to check what follows the error event."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as c:
        headers = {"authorization": f"Bearer {KEY}"}
        async with c.post(gw.base_url + path, json={**body, "stream": True}, headers=headers) as r:
            assert r.status == 200
            return await r.read()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["reset", "eof", "garbage"])
async def test_openai_surface_raises_after_the_relayed_text(gw: Proc, provider: str, mode: str) -> None:
    rid = f"oai-surface-{provider}-{mode}"
    text = []
    async with openai_client(gw, rid) as c:
        stream = await c.chat.completions.create(model=f"{provider}-{mode}", messages=MSG, stream=True)
        with pytest.raises(openai.APIError) as e:
            async for chunk in stream:
                for ch in chunk.choices:
                    assert ch.finish_reason is None  # nothing may say the answer finished
                    text.append(ch.delta.content or "")
    assert "".join(text) == "".join(PARTS)
    code = "invalid_upstream_response" if mode == "garbage" else "upstream_stream_truncated"
    assert e.value.code == code and e.value.type == "upstream_error"
    body = await raw_stream(gw, "/v1/chat/completions", {"model": f"{provider}-{mode}", "messages": MSG})
    events = body.rstrip(b"\n").split(b"\n\n")
    assert events[-1].startswith(b'data: {"error":') and b"data: [DONE]" not in events
    row = logged(gw, rid)
    assert (row["status"], row["error_type"], row["stream"]) == (502, code, 1)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["reset", "eof", "garbage"])
async def test_anthropic_surface_raises_after_the_relayed_text(gw: Proc, provider: str, mode: str) -> None:
    rid = f"ant-surface-{provider}-{mode}"
    text = []
    events = []
    async with anthropic_client(gw, rid) as c:
        stream = await c.messages.create(model=f"{provider}-{mode}", max_tokens=50, messages=MSG, stream=True)
        with pytest.raises(anthropic.APIStatusError) as e:
            async for event in stream:
                events.append(event.type)
                if event.type == "content_block_delta":
                    text.append(event.delta.text)
    assert "".join(text) == "".join(PARTS)
    assert "message_stop" not in events and "message_delta" not in events
    code = "invalid_upstream_response" if mode == "garbage" else "upstream_stream_truncated"
    assert e.value.body["error"]["type"] == "api_error"
    body = await raw_stream(
        gw, "/v1/messages", {"model": f"{provider}-{mode}", "max_tokens": 50, "messages": MSG}
    )
    events = body.rstrip(b"\n").split(b"\n\n")
    assert events[-1].startswith(b"event: error\ndata: ") and not any(
        e.startswith(b"event: message_stop") for e in events
    )
    row = logged(gw, rid)
    assert (row["status"], row["error_type"], row["stream"]) == (502, code, 1)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_complete_streams_still_end_normally(gw: Proc, provider: str) -> None:
    async with openai_client(gw, f"ok-oai-{provider}") as c:
        chunks = [
            ch
            async for ch in await c.chat.completions.create(model=f"{provider}-ok", messages=MSG, stream=True)
        ]
    assert "".join(ch.delta.content or "" for c in chunks for ch in c.choices) == "Hello world"
    assert chunks[-1].choices[0].finish_reason == "stop"
    async with anthropic_client(gw, f"ok-ant-{provider}") as c:
        async with c.messages.stream(model=f"{provider}-ok", max_tokens=50, messages=MSG) as s:
            message = await s.get_final_message()
    assert message.stop_reason == "end_turn" and message.content[0].text == "Hello world"
    for rid in (f"ok-oai-{provider}", f"ok-ant-{provider}"):
        row = logged(gw, rid)
        assert (row["status"], row["error_type"]) == (200, None)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_complete_stream_without_text_is_not_an_error(gw: Proc, provider: str) -> None:
    body = await raw_stream(gw, "/v1/chat/completions", {"model": f"{provider}-empty", "messages": MSG})
    assert body.endswith(b"data: [DONE]\n\n") and b'"error"' not in body
    body = await raw_stream(
        gw, "/v1/messages", {"model": f"{provider}-empty", "max_tokens": 50, "messages": MSG}
    )
    assert (
        body.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        and b"event: error" not in body
    )


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["early-reset", "early-garbage"])
async def test_failure_before_the_first_event_falls_back(
    upstream: tuple[Upstream, str], gw: Proc, provider: str, mode: str
) -> None:
    u, _ = upstream
    other = "ant" if provider == "oai" else "oai"
    path = {"oai": "/v1/chat/completions", "ant": "/v1/messages"}
    async with openai_client(gw, f"fb-oai-{provider}-{mode}") as c:
        raw = await c.chat.completions.with_raw_response.create(
            model=f"{provider}-{mode}", messages=MSG, stream=True
        )
        chunks = [ch async for ch in raw.parse()]
    assert "".join(ch.delta.content or "" for c in chunks for ch in c.choices) == "Hello world"
    assert raw.headers["x-sluice-model"] == f"{other}/ok" and raw.headers["x-sluice-attempts"] == "2"
    async with anthropic_client(gw, f"fb-ant-{provider}-{mode}") as c:
        async with c.messages.stream(model=f"{provider}-{mode}", max_tokens=50, messages=MSG) as s:
            message = await s.get_final_message()
    assert message.content[0].text == "Hello world" and message.stop_reason == "end_turn"
    assert u.calls == [f"{path[provider]}:{mode}", f"{path[other]}:ok"] * 2
    for rid in (f"fb-oai-{provider}-{mode}", f"fb-ant-{provider}-{mode}"):
        row = logged(gw, rid)
        assert (row["status"], row["error_type"], row["attempts"], row["deployment"]) == (
            200,
            None,
            2,
            f"{other}/ok",
        )


def sim_gateway_config(sim: Proc, tmp: Path) -> dict[str, Any]:
    """The in-process sim (``cut_after``) and the sim server (``x-sim-cut-after``) breaking after
    three chunks; ``cut-first`` breaks before any chunk and falls back."""
    return {
        "auth": {"keys": [{"key": KEY, "name": "app"}]},
        "providers": {
            "cut": {"type": "sim", "sim": {"cut_after": 3}},
            "cut0": {"type": "sim", "sim": {"cut_after": 0}},
            "sim": {"type": "sim"},
            "simhttp": {"type": "openai", "base_url": f"{sim.base_url}/v1", "api_key": "sk-up"},
        },
        "models": {
            "sim-cut": {"deployments": [{"provider": "cut", "model": "sim-cut"}]},
            "server-cut": {
                "deployments": [{"provider": "simhttp", "model": "sim", "headers": {"x-sim-cut-after": "3"}}]
            },
            "cut-first": {"deployments": [{"provider": "cut0", "model": "sim-cut0"}], "fallbacks": ["whole"]},
            "whole": {"deployments": [{"provider": "sim", "model": "sim-whole"}]},
        },
        "routing": {"retries": {"max_attempts": 1}},
        "request_log": {"flush_ms": 20},
        "logging": {"level": "warning"},
        "state": {"sqlite_path": str(tmp / "gw.db")},
    }


@pytest.mark.parametrize("model", ["sim-cut", "server-cut"])
async def test_a_cut_sim_stream_raises_on_both_surfaces(
    sim_server: Proc, gateway: Any, tmp_path: Path, model: str
) -> None:
    gw = gateway(sim_gateway_config(sim_server, tmp_path))
    text = []
    async with openai_client(gw, f"sim-oai-{model}") as c:
        with pytest.raises(openai.APIError) as e:
            async for chunk in await c.chat.completions.create(model=model, messages=MSG, stream=True):
                text.extend(ch.delta.content or "" for ch in chunk.choices if ch.finish_reason is None)
    assert "".join(text) == "Simulated reply" and e.value.code == "upstream_stream_truncated"
    events = []
    async with anthropic_client(gw, f"sim-ant-{model}") as c:
        with pytest.raises(anthropic.APIStatusError):
            async for event in await c.messages.create(model=model, max_tokens=50, messages=MSG, stream=True):
                events.append(event.type)
    assert events[0] == "message_start" and "message_stop" not in events
    for rid in (f"sim-oai-{model}", f"sim-ant-{model}"):
        row = logged(gw, rid)
        assert (row["status"], row["error_type"]) == (502, "upstream_stream_truncated")


async def test_a_sim_stream_cut_before_its_first_chunk_falls_back(
    sim_server: Proc, gateway: Any, tmp_path: Path
) -> None:
    gw = gateway(sim_gateway_config(sim_server, tmp_path))
    async with openai_client(gw, "sim-first") as c:
        raw = await c.chat.completions.with_raw_response.create(model="cut-first", messages=MSG, stream=True)
        chunks = [ch async for ch in raw.parse()]
    assert "".join(ch.delta.content or "" for c in chunks for ch in c.choices) == "Simulated reply to: hi"
    assert raw.headers["x-sluice-model"] == "sim/sim-whole"
    row = logged(gw, "sim-first")
    assert (row["status"], row["error_type"], row["attempts"]) == (200, None, 2)


async def test_a_cut_stream_is_charged_what_was_relayed_and_counted_as_502(
    upstream: tuple[Upstream, str], gateway: Any, tmp_path: Path
) -> None:
    """A budgeted key pays for the text it got (estimated: the upstream sent no usage), and the
    metrics count the request as a 502 with its error code."""
    config_ = config(upstream[1], tmp_path)
    config_["auth"]["keys"] = [
        {"key": KEY, "name": "app", "budgets": [{"period": "month", "max_cost_micros": 10**9}]}
    ]
    config_["pricing"] = {"reset": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000}}
    gw = gateway(config_)
    async with openai_client(gw, "charged") as c:
        with pytest.raises(openai.APIError):
            async for _ in await c.chat.completions.create(model="oai-reset", messages=MSG, stream=True):
                pass
    row = logged(gw, "charged")
    assert row["status"] == 502 and row["output_tokens"] == 3  # "Hello", " wor": two chunks, nine characters
    assert row["cost_micros"] == row["input_tokens"] * 100 + 3 * 1000 > 0
    async with aiohttp.ClientSession() as s, s.get(gw.base_url + "/metrics") as r:
        metrics = await r.text()
    assert any(
        line.startswith("sluice_requests_total{")
        and 'status="502"' in line
        and 'error_type="upstream_stream_truncated"' in line
        and line.endswith(" 1.0")
        for line in metrics.splitlines()
    ), metrics
