"""The openai provider's stream reader against a real HTTP server on 127.0.0.1: when a stream is
complete, and how a cut or malformed one fails after relaying what came before."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from aiohttp import web

from sluice.errors import InvalidUpstreamResponseError, StreamTruncatedError
from sluice.providers.base import Target
from sluice.providers.openai import OpenAIProvider
from sluice.settings import ProviderSettings
from sluice.types import ChatRequest, Message
from tests.fixtures.aioserver import local_server


def chunk(index: int, content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + msgspec.json.encode(body) + b"\n\n"


class Server:
    def __init__(self) -> None:
        self.body = b""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not msgspec.json.decode(await request.read()).get("stream"):
            return web.Response(body=self.body, content_type="application/json")
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(self.body)
        await resp.write_eof()
        return resp


class Reader:
    """Reads a stream served with ``body``; ``seen`` keeps the contents relayed before it
    ended or raised."""

    def __init__(self, provider: OpenAIProvider, server: Server, base: str) -> None:
        self.provider, self.server, self.base = provider, server, base
        self.seen: list[str | None] = []

    async def __call__(self, body: bytes) -> list[str | None]:
        self.server.body = body
        self.seen = []
        request = ChatRequest(model="m", messages=[Message(role="user", content="hi")], stream=True)
        async for batch in await self.provider.stream(request, Target(model="m", base_url=f"{self.base}/v1")):
            self.seen.extend(c.choices[0].delta.content for c in batch)
        return self.seen


@pytest.fixture
async def reader() -> AsyncIterator[Reader]:
    server = Server()
    provider = OpenAIProvider(ProviderSettings(type="openai"))
    async with local_server("/v1/chat/completions", server.handle) as base:
        yield Reader(provider, server, base)
    await provider.close()


async def test_done_ends_a_stream(reader: Reader) -> None:
    assert await reader(chunk(0, "a") + chunk(0, None, "stop") + b"data: [DONE]\n\n") == ["a", None]


async def test_every_choice_finished_ends_a_stream_without_done(reader: Reader) -> None:
    """Some OpenAI-compatible servers omit [DONE]; a finish_reason on each choice is an end."""
    body = chunk(0, "a") + chunk(1, "b") + chunk(0, None, "stop") + chunk(1, None, "length")
    assert await reader(body) == ["a", "b", None, None]


@pytest.mark.parametrize(
    "body",
    [
        chunk(0, "a") + chunk(0, "b"),  # closed before any finish_reason
        chunk(0, "a") + chunk(1, "b") + chunk(0, None, "stop"),  # choice 1 never finished
        b"",  # closed before the first event
    ],
)
async def test_a_stream_closed_before_its_end_is_truncated(reader: Reader, body: bytes) -> None:
    with pytest.raises(StreamTruncatedError) as info:
        await reader(body)
    assert (info.value.code, info.value.status, info.value.is_retryable) == (
        "upstream_stream_truncated",
        502,
        True,
    )


async def test_a_malformed_chunk_fails_after_the_good_ones_of_its_read(reader: Reader) -> None:
    body = (
        chunk(0, "a") + b": a comment\n\nnot a field\n\n" + chunk(0, "b") + b"data: {oops\n\n" + chunk(0, "c")
    )
    with pytest.raises(InvalidUpstreamResponseError) as info:
        await reader(body)
    assert reader.seen == ["a", "b"]
    assert (info.value.code, info.value.status, info.value.is_retryable) == (
        "invalid_upstream_response",
        502,
        True,
    )


async def test_an_invalid_json_answer_is_a_retryable_invalid_upstream_response(reader: Reader) -> None:
    reader.server.body = b'{"id": "c", "choices": [oops'
    request = ChatRequest(model="m", messages=[Message(role="user", content="hi")])
    with pytest.raises(InvalidUpstreamResponseError) as info:
        await reader.provider.chat(request, Target(model="m", base_url=f"{reader.base}/v1"))
    assert (info.value.code, info.value.status, info.value.is_retryable) == (
        "invalid_upstream_response",
        502,
        True,
    )
