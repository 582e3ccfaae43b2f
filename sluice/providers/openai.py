"""The ``openai`` provider: OpenAI and any OpenAI-compatible server (vLLM, Ollama, Groq, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import msgspec

from sluice.errors import UpstreamError
from sluice.providers.base import Target
from sluice.providers.http import CLIENT_ERRORS, connection_error, error_for_status, make_session, sse_events
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

    def __init__(self, settings: ProviderSettings, connect_timeout_s: float = 5.0) -> None:
        self._pool_size = settings.pool_size
        self._connect_timeout_s = connect_timeout_s
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop (aiohttp binds sessions to a loop).
        if self._session is None:
            self._session = make_session(self._pool_size, self._connect_timeout_s)
        return self._session

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

    async def _post(self, url: str, body: bytes, target: Target) -> aiohttp.ClientResponse:
        try:
            resp = await self.session.post(url, data=body, headers=self._headers(target))
        except CLIENT_ERRORS as e:
            raise connection_error(e, self.name) from e
        if resp.status >= 400:
            try:
                data = await resp.read()
            except CLIENT_ERRORS:
                data = b""
            finally:
                resp.release()
            raise error_for_status(resp.status, data, resp.headers, self.name)
        return resp

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        try:
            return await resp.read()
        except CLIENT_ERRORS as e:
            raise connection_error(e, self.name) from e
        finally:
            resp.release()

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        resp = await self._post(f"{target.base_url}/chat/completions", self._body(request, target), target)
        data = await self._read(resp)
        try:
            return chat_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise UpstreamError(f"{self.name} sent an invalid chat completion: {e}", upstream_status=resp.status) from e

    async def stream(self, request: ChatRequest, target: Target) -> AsyncIterator[ChunkBatch]:
        resp = await self._post(f"{target.base_url}/chat/completions", self._body(request, target), target)
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
            raise UpstreamError(f"{self.name} sent an invalid stream chunk: {e}", upstream_status=200) from e
        except CLIENT_ERRORS as e:
            raise connection_error(e, self.name) from e
        finally:
            if finished:
                resp.release()  # read to the end: the connection goes back to the pool
            else:
                # Dropping a half-read connection is how the upstream learns the client left
                # (or we gave up), so it stops generating.
                resp.close()

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        body = encoder.encode(msgspec.structs.replace(request, model=target.model, sluice=None))
        resp = await self._post(f"{target.base_url}/embeddings", body, target)
        data = await self._read(resp)
        try:
            return embedding_response_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise UpstreamError(f"{self.name} sent an invalid embedding response: {e}", upstream_status=resp.status) from e

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
