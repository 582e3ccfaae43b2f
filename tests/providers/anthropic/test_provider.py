"""The anthropic provider against a real HTTP server on 127.0.0.1 replaying recorded Anthropic
payloads (tests/fixtures/anthropic/); the server records what the provider sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web

from sluice.errors import (
    InvalidRequestError,
    InvalidUpstreamResponseError,
    StreamTruncatedError,
    UpstreamError,
)
from sluice.providers.anthropic import AnthropicProvider
from sluice.providers.base import Target
from sluice.settings import ProviderSettings
from sluice.types import ChatChunk, ChatRequest, EmbeddingRequest, Message, StreamOptions, encoder
from tests.fixtures.aioserver import local_server
from tests.fixtures.procs import free_port

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "anthropic"
NOW = 1_700_000_000


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    parts: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    gate: asyncio.Event | None = None
    """When set, the server sends ``parts[0]``, waits for the gate, then the rest."""
    hold_open: bool = False
    """After the parts, keep writing SSE comments until the client goes away."""


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    peer: tuple[str, int]


class ReplayServer:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self.client_left = asyncio.Event()
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        headers = {k.lower(): v for k, v in request.headers.items()}
        peer = request.transport.get_extra_info("peername") if request.transport else ("", 0)
        self.requests.append(Recorded(request.path, headers, body, peer))
        reply = self.replies.pop(0)
        if reply.content_type == "application/json":
            return web.Response(
                status=reply.status,
                body=reply.parts[0],
                headers=reply.headers,
                content_type="application/json",
            )
        resp = web.StreamResponse(
            status=reply.status, headers={"content-type": reply.content_type, **reply.headers}
        )
        await resp.prepare(request)
        for i, part in enumerate(reply.parts):
            if i == 1 and reply.gate is not None:
                await reply.gate.wait()
            await resp.write(part)
        if reply.hold_open:
            try:
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    await resp.write(b": keep-alive\n\n")
            except ConnectionError:
                self.client_left.set()
                return resp
        await resp.write_eof()
        return resp


@pytest.fixture
async def upstream() -> AsyncIterator[ReplayServer]:
    server = ReplayServer()
    async with local_server("/v1/messages", server.handle) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
async def provider() -> AsyncIterator[AnthropicProvider]:
    settings = ProviderSettings(
        type="anthropic", api_key="sk-ant-settings", headers={"anthropic-beta": "b1", "x-org": "o"}
    )
    p = AnthropicProvider(settings, clock=lambda: NOW)
    yield p
    await p.close()


def target(server: ReplayServer, **kw: Any) -> Target:
    return Target(model="claude-sonnet-4-5", base_url=server.base_url, **kw)


def chat_request(**kw: Any) -> ChatRequest:
    return ChatRequest(
        model="smart",
        messages=[
            Message(role="system", content="Be brief."),
            Message(role="user", content="Weather in SF?"),
        ],
        **kw,
    )


def sse(name: str, **kw: Any) -> Reply:
    return Reply(parts=[fixture(name)], content_type="text/event-stream", **kw)


def flat(batches: list[list[ChatChunk]]) -> list[dict[str, Any]]:
    return [msgspec.json.decode(encoder.encode(c)) for batch in batches for c in batch]


# --- non-streaming -----------------------------------------------------------------------


async def test_chat_sends_translated_request_and_headers(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(Reply(parts=[fixture("message_tool_use.json")]))
    t = target(upstream, api_key="sk-ant-target", headers={"x-org": "target-org"})
    await provider.chat(chat_request(temperature=1.5, max_completion_tokens=300, stop="END", user="u-1"), t)

    sent = upstream.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-target"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["anthropic-beta"] == "b1"
    assert sent.headers["x-org"] == "target-org"
    assert "authorization" not in sent.headers
    assert sent.body == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Weather in SF?"}]}],
        "max_tokens": 300,
        "system": "Be brief.",
        "stop_sequences": ["END"],
        "temperature": 1.0,
        "metadata": {"user_id": "u-1"},
    }


async def test_chat_uses_settings_key_and_default_max_tokens(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(Reply(parts=[fixture("message_tool_use.json")]))
    await provider.chat(chat_request(), target(upstream))
    sent = upstream.requests[0]
    assert sent.headers["x-api-key"] == "sk-ant-settings"
    assert sent.body["max_tokens"] == 4096


async def test_chat_translates_the_response(upstream: ReplayServer, provider: AnthropicProvider) -> None:
    upstream.replies.append(Reply(parts=[fixture("message_tool_use.json")]))
    resp = await provider.chat(chat_request(), target(upstream))
    assert msgspec.json.decode(encoder.encode(resp)) == {
        "id": "msg_01Aq9w938a90dw8q",
        "object": "chat.completion",
        "created": NOW,
        "model": "claude-sonnet-4-5-20250929",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "I'll check the weather in San Francisco.",
                    "tool_calls": [
                        {
                            "id": "toolu_01A09q90qw90lq917835lq9",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"location": "San Francisco, CA", "unit": "celsius"}',
                            },
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 1516,
            "completion_tokens": 89,
            "total_tokens": 1605,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0, "cache_write_tokens": 20},
        },
    }


@pytest.mark.parametrize(
    ("status", "name", "headers", "retry_after_s", "retryable"),
    [
        (429, "error_429.json", {"retry-after": "7"}, 7.0, True),
        (529, "error_529.json", {}, None, True),
    ],
)
async def test_upstream_error_statuses(
    upstream: ReplayServer,
    provider: AnthropicProvider,
    status: int,
    name: str,
    headers: dict[str, str],
    retry_after_s: float | None,
    retryable: bool,
) -> None:
    upstream.replies.append(Reply(status=status, parts=[fixture(name)], headers=headers))
    with pytest.raises(UpstreamError) as info:
        await provider.chat(chat_request(), target(upstream))
    err = info.value
    assert err.upstream_status == status
    assert err.retry_after_s == retry_after_s
    assert err.is_retryable is retryable
    assert err.message.startswith(f"anthropic returned HTTP {status}: ")
    assert msgspec.json.decode(fixture(name))["error"]["message"] in err.message


async def test_upstream_400_is_the_clients_error(upstream: ReplayServer, provider: AnthropicProvider) -> None:
    upstream.replies.append(Reply(status=400, parts=[fixture("error_400.json")]))
    with pytest.raises(InvalidRequestError) as info:
        await provider.chat(chat_request(), target(upstream))
    assert (info.value.status, info.value.code) == (400, "upstream_rejected")
    assert info.value.message.startswith("anthropic rejected the request: ")
    assert "roles must alternate" in info.value.message


async def test_error_429_before_a_stream_raises_from_stream(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(
        Reply(status=429, parts=[fixture("error_429.json")], headers={"retry-after": "2"})
    )
    with pytest.raises(UpstreamError) as info:
        await provider.stream(chat_request(stream=True), target(upstream))
    assert (info.value.upstream_status, info.value.retry_after_s) == (429, 2.0)


async def test_unreachable_upstream(provider: AnthropicProvider) -> None:
    t = Target(model="claude", base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(UpstreamError) as info:
        await provider.chat(chat_request(), t)
    assert info.value.upstream_status is None
    assert info.value.is_retryable


async def test_request_errors_raise_before_any_call(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await provider.chat(chat_request(n=2), target(upstream))
    assert (info.value.message, info.value.param) == ("n > 1 is not supported by anthropic deployments", "n")
    assert upstream.requests == []


async def test_embed_is_not_served(provider: AnthropicProvider) -> None:
    with pytest.raises(InvalidRequestError) as info:
        await provider.embed(EmbeddingRequest(model="e", input="x"), Target(model="claude"))
    assert info.value.message == "anthropic deployments do not serve embeddings"


# --- streaming ---------------------------------------------------------------------------


async def test_stream_with_text_and_tool_use(upstream: ReplayServer, provider: AnthropicProvider) -> None:
    upstream.replies.append(sse("stream_tool_use.sse"))
    request = chat_request(stream=True, stream_options=StreamOptions(include_usage=True))
    stream = await provider.stream(request, target(upstream))
    batches = [batch async for batch in stream]

    assert upstream.requests[0].body["stream"] is True
    head = {"id": "msg_014p7gG3wDgGV9EUtLvnow3U", "object": "chat.completion.chunk", "created": NOW,
            "model": "claude-sonnet-4-5-20250929"}  # fmt: skip

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    call = {"index": 0, "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function",
            "function": {"name": "get_weather", "arguments": ""}}  # fmt: skip
    assert flat(batches) == [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Okay, let me check"}),
        chunk({"content": " the weather."}),
        chunk({"tool_calls": [call]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "San Francisco, CA"}'}}]}),
        chunk({}, "tool_calls"),
        {
            **head,
            "choices": [],
            "usage": {
                "prompt_tokens": 600,
                "completion_tokens": 89,
                "total_tokens": 689,
                "prompt_tokens_details": {"cached_tokens": 128, "audio_tokens": 0},
            },
        },
    ]


async def test_stream_reassembles_events_split_across_reads(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    body = fixture("stream_tool_use.sse")
    upstream.replies.append(
        Reply(parts=[body[i : i + 37] for i in range(0, len(body), 37)], content_type="text/event-stream")
    )
    stream = await provider.stream(chat_request(), target(upstream))  # stream() streams, whatever the flag
    chunks = flat([batch async for batch in stream])
    assert upstream.requests[0].body["stream"] is True
    assert len(chunks) == 7  # no usage chunk: the request did not ask for it
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_error_event_before_content_raises_from_stream(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(sse("stream_overloaded.sse"))
    with pytest.raises(UpstreamError) as info:
        await provider.stream(chat_request(stream=True), target(upstream))
    assert info.value.upstream_status == 529
    assert info.value.is_retryable
    assert info.value.message == "anthropic returned HTTP 529: overloaded_error in the stream: Overloaded"


async def test_error_event_mid_stream_raises_while_iterating(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    gate = asyncio.Event()
    upstream.replies.append(
        Reply(
            parts=[fixture("stream_partial.sse"), fixture("stream_overloaded.sse")],
            content_type="text/event-stream",
            gate=gate,
        )
    )
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    first = await anext(stream)
    assert [c.choices[0].delta.content for c in first] == ["", "Hello"]
    gate.set()
    with pytest.raises(UpstreamError) as info:
        await anext(stream)
    assert info.value.upstream_status == 529


async def test_stream_cut_before_message_stop_raises(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(sse("stream_partial.sse"))
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    with pytest.raises(StreamTruncatedError) as info:
        async for _ in stream:
            pass
    assert info.value.message == "anthropic stream ended before message_stop"
    assert (info.value.code, info.value.status, info.value.is_retryable) == (
        "upstream_stream_truncated",
        502,
        True,
    )


async def test_malformed_event_raises_after_the_good_ones_of_its_read(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(
        Reply(
            parts=[fixture("stream_partial.sse") + b"event: content_block_delta\ndata: {oops\n\n"],
            content_type="text/event-stream",
        )
    )
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    first = await anext(stream)
    assert [c.choices[0].delta.content for c in first] == ["", "Hello"]
    with pytest.raises(InvalidUpstreamResponseError) as info:
        await anext(stream)
    assert info.value.code == "invalid_upstream_response" and info.value.is_retryable


async def test_closing_the_stream_drops_the_upstream_connection(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(sse("stream_partial.sse", hold_open=True))
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(upstream.client_left.wait(), timeout=5)


async def test_closing_an_unread_stream_drops_the_upstream_connection(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies.append(sse("stream_partial.sse", hold_open=True))
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(upstream.client_left.wait(), timeout=5)


async def test_connection_is_reused_after_a_complete_stream(
    upstream: ReplayServer, provider: AnthropicProvider
) -> None:
    upstream.replies += [sse("stream_tool_use.sse"), Reply(parts=[fixture("message_tool_use.json")])]
    stream = await provider.stream(chat_request(stream=True), target(upstream))
    _ = [batch async for batch in stream]
    await provider.chat(chat_request(), target(upstream))
    assert upstream.requests[0].peer == upstream.requests[1].peer  # the same keep-alive connection
