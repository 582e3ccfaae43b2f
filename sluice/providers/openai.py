"""The ``openai`` provider: OpenAI and any OpenAI-compatible server (vLLM, Ollama, Groq, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import msgspec

from sluice.errors import InvalidUpstreamResponseError
from sluice.obs.redact import Redactor
from sluice.providers.base import Target
from sluice.providers.http import CLIENT_ERRORS, UpstreamClient, connection_error, sse_events
from sluice.settings import ProviderSettings
from sluice.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    EmbeddingRequest,
    EmbeddingResponse,
    chat_chunk_decoder,
    chat_response_decoder,
    embedding_response_decoder,
    encoder,
)

_DONE = b"[DONE]"


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
        return encoder.encode(msgspec.structs.replace(request, model=target.model, sluice=None))

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        resp = await self._http.post(f"{target.base_url}/chat/completions", self._body(request, target), self._headers(target))
        data = await self._http.read(resp)
        try:
            return chat_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(f"{self.name} sent an invalid chat completion: {self._redact(str(e))}", upstream_status=resp.status) from e

    async def stream(self, request: ChatRequest, target: Target) -> AsyncIterator[ChunkBatch]:
        resp = await self._http.post(f"{target.base_url}/chat/completions", self._body(request, target), self._headers(target))
        return self._chunks(resp)

    async def _chunks(self, resp: aiohttp.ClientResponse) -> AsyncIterator[ChunkBatch]:
        decode = chat_chunk_decoder.decode
        finished = False
        try:
            async for payloads in sse_events(resp):
                batch: list[ChatChunk] = []
                for p in payloads:
                    if p == _DONE:
                        break
                    batch.append(decode(p))
                if batch:
                    yield batch
            finished = True
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(f"{self.name} sent an invalid stream chunk: {self._redact(str(e))}", upstream_status=200) from e
        except CLIENT_ERRORS as e:
            raise connection_error(e, self.name) from e
        finally:
            self._http.finish(resp, read_to_end=finished)

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        body = encoder.encode(msgspec.structs.replace(request, model=target.model, sluice=None))
        resp = await self._http.post(f"{target.base_url}/embeddings", body, self._headers(target))
        data = await self._http.read(resp)
        try:
            return embedding_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(f"{self.name} sent an invalid embedding response: {self._redact(str(e))}", upstream_status=resp.status) from e

    async def close(self) -> None:
        await self._http.close()
