"""The ``openai`` provider: OpenAI and any OpenAI-compatible server (vLLM, Ollama, Groq, ...)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import msgspec

from sluice.errors import InvalidUpstreamResponseError, StreamTruncatedError
from sluice.obs.redact import Redactor
from sluice.providers.base import Target
from sluice.providers.http import CLIENT_ERRORS, UpstreamClient, sse_events, stream_cut
from sluice.providers.reasoning import effort_for
from sluice.settings import ProviderSettings
from sluice.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
    Message,
    chat_chunk_decoder,
    chat_response_decoder,
    embedding_response_decoder,
    encoder,
)

_DONE = b"[DONE]"


def for_openai(request: ChatRequest) -> ChatRequest:
    """The request without what only Anthropic takes: ``thinking`` becomes ``reasoning_effort``
    (unless the client set one); ``cache_control`` breakpoints (OpenAI caches prefixes by
    itself) and echoed ``thinking_blocks`` and ``reasoning_content`` are left out. The request
    is returned as is, without a copy, when it has none of them (the usual case)."""
    tools = request.tools or ()
    if (
        request.thinking is None
        and request.cache_control is None
        and not any(_anthropic_only(m) for m in request.messages)
        and not any(t.cache_control is not None for t in tools)
    ):
        return request
    effort = request.reasoning_effort
    if effort is None and request.thinking is not None:
        effort = effort_for(request.thinking)
    return msgspec.structs.replace(
        request,
        messages=[_plain(m) for m in request.messages if not _only_reasoning(m)],
        tools=[msgspec.structs.replace(t, cache_control=None) for t in tools] or request.tools,
        thinking=None,
        cache_control=None,
        reasoning_effort=effort,
    )


def _anthropic_only(m: Message) -> bool:
    if m.cache_control is not None or m.thinking_blocks is not None or m.reasoning_content is not None:
        return True
    return isinstance(m.content, list) and any(p.cache_control is not None for p in m.content)


def _only_reasoning(m: Message) -> bool:
    """An assistant turn that held nothing but thinking: nothing is left of it to send."""
    return m.role == "assistant" and not m.content and not m.tool_calls and m.thinking_blocks is not None


def _plain(m: Message) -> Message:
    if not _anthropic_only(m):
        return m
    content = m.content
    if isinstance(content, list):
        content = [msgspec.structs.replace(p, cache_control=None) for p in content]
    return msgspec.structs.replace(
        m, content=content, cache_control=None, thinking_blocks=None, reasoning_content=None
    )


class OpenAIProvider:
    name = "openai"

    def __init__(
        self, settings: ProviderSettings, connect_timeout_s: float = 5.0, redactor: Redactor | None = None
    ) -> None:
        self._redact = (redactor or Redactor()).redact  # a decode error may quote the body's values
        self._http = UpstreamClient(self.name, settings.pool_size, connect_timeout_s, redactor)

    @staticmethod
    def _headers(target: Target) -> dict[str, str]:
        h = {"content-type": "application/json", **target.headers}
        if target.api_key:
            h["authorization"] = f"Bearer {target.api_key}"
        return h

    @staticmethod
    def _body(request: ChatRequest, target: Target) -> bytes:
        # The alias becomes the upstream model; gateway options never leave the gateway.
        return encoder.encode(msgspec.structs.replace(for_openai(request), model=target.model, sluice=None))

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        resp = await self._http.post(
            f"{target.base_url}/chat/completions", self._body(request, target), self._headers(target)
        )
        data = await self._http.read(resp)
        try:
            return chat_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid chat completion: {self._redact(str(e))}"
            ) from e

    async def stream(self, request: ChatRequest, target: Target) -> ChunkStream:
        resp = await self._http.post(
            f"{target.base_url}/chat/completions", self._body(request, target), self._headers(target)
        )
        return self._chunks(resp)

    async def _chunks(self, resp: aiohttp.ClientResponse) -> AsyncGenerator[ChunkBatch, None]:
        """The stream's chunks, one batch per read. It is complete at ``data: [DONE]`` or, for
        servers that omit it, once every choice seen has its ``finish_reason``; anything else
        (a reset, an early close, a payload that is not a chunk) raises after the batch's good
        chunks, so the client gets what was sent and then an error, never a made-up end."""
        decode = chat_chunk_decoder.decode
        done = read_to_end = False
        open_choices: set[int] = set()
        finished: set[int] = set()
        try:
            async for payloads in sse_events(resp):
                if done:
                    continue  # read on to the end of the body, so the connection can be reused
                batch: list[ChatChunk] = []
                failure = None
                for p in payloads:
                    if p == _DONE:
                        done = True
                        break
                    try:
                        chunk = decode(p)
                    except msgspec.DecodeError as e:
                        failure = InvalidUpstreamResponseError(
                            f"{self.name} sent an invalid stream chunk: {self._redact(str(e))}"
                        )
                        break
                    for ch in chunk.choices:
                        (finished if ch.finish_reason else open_choices).add(ch.index)
                    batch.append(chunk)
                if batch:
                    yield batch
                if failure is not None:
                    raise failure
            read_to_end = True
        except CLIENT_ERRORS as e:
            if not done:  # after [DONE] the answer is whole; only the connection is lost
                raise stream_cut(e, self.name) from e
        finally:
            self._http.finish(resp, read_to_end=read_to_end)
        if not done and not (finished and open_choices <= finished):
            raise StreamTruncatedError(f"{self.name} stream ended before its [DONE]")

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        body = encoder.encode(msgspec.structs.replace(request, model=target.model, sluice=None))
        resp = await self._http.post(f"{target.base_url}/embeddings", body, self._headers(target))
        data = await self._http.read(resp)
        try:
            return embedding_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid embedding response: {self._redact(str(e))}"
            ) from e

    async def close(self) -> None:
        await self._http.close()
