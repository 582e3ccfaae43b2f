"""The ``anthropic`` provider: the Anthropic Messages API over one pooled aiohttp session."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable

import aiohttp
import msgspec

from sluice.errors import (
    InvalidRequestError,
    InvalidUpstreamResponseError,
    SluiceError,
    StreamTruncatedError,
)
from sluice.obs.redact import Redactor
from sluice.providers.anthropic.request import to_messages_request
from sluice.providers.anthropic.response import StreamTranslator, to_chat_response
from sluice.providers.anthropic.wire import CountTokensRequest, message_decoder, token_count_decoder
from sluice.providers.base import Target
from sluice.providers.http import CLIENT_ERRORS, UpstreamClient, sse_events, stream_cut
from sluice.settings import ProviderSettings
from sluice.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ChunkBatch,
    ChunkStream,
    EmbeddingRequest,
    EmbeddingResponse,
    encoder,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


class AnthropicProvider:
    name = "anthropic"

    def __init__(
        self,
        settings: ProviderSettings,
        connect_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        redactor: Redactor | None = None,
    ) -> None:
        self._redactor = redactor or Redactor()
        self._http = UpstreamClient(self.name, settings.pool_size, connect_timeout_s, self._redactor)
        self._clock = clock
        self._base_url = settings.base_url or DEFAULT_BASE_URL
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._headers = dict(settings.headers)

    def _url(self, target: Target, path: str = "/v1/messages") -> str:
        return f"{(target.base_url or self._base_url).rstrip('/')}{path}"

    def _request_headers(self, target: Target) -> dict[str, str]:
        h = {
            "content-type": "application/json",
            "anthropic-version": API_VERSION,
            **self._headers,
            **target.headers,
        }
        api_key = target.api_key or self._api_key
        if api_key:
            h["x-api-key"] = api_key
        return h

    async def _post(self, request: ChatRequest, target: Target, *, stream: bool) -> aiohttp.ClientResponse:
        wire = to_messages_request(request, target.model)
        wire.stream = stream  # the method called decides, whatever the request's flag says
        return await self._http.post(self._url(target), encoder.encode(wire), self._request_headers(target))

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        resp = await self._post(request, target, stream=False)
        data = await self._http.read(resp)
        try:
            msg = message_decoder.decode(data)
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid message: {self._redactor.redact(str(e))}"
            ) from e
        return to_chat_response(msg, int(self._clock()))

    async def stream(self, request: ChatRequest, target: Target) -> ChunkStream:
        resp = await self._post(request, target, stream=True)
        batches = self._batches(
            resp, StreamTranslator(int(self._clock()), request.includes_usage, self._redactor)
        )
        # Anthropic may accept a stream and fail it at once (an ``overloaded_error`` event);
        # reading the first batch here turns that into an error the router can retry.
        try:
            first = await anext(batches, None)
        except BaseException:
            await batches.aclose()
            raise
        return _Stream(first, batches)

    async def _batches(
        self, resp: aiohttp.ClientResponse, translator: StreamTranslator
    ) -> AsyncGenerator[ChunkBatch, None]:
        read_to_end = False
        try:
            async for payloads in sse_events(resp):
                if translator.is_done:
                    continue  # read on to the end of the body, so the connection can be reused
                batch: list[ChatChunk] = []
                failure = None
                try:
                    translator.feed(payloads, batch)
                except SluiceError as e:
                    failure = e
                if batch:
                    yield batch  # what came before a failure in the same read still reaches the client
                if failure is not None:
                    raise failure
            read_to_end = True
        except CLIENT_ERRORS as e:
            if not translator.is_done:  # after message_stop the answer is whole; only the connection is lost
                raise stream_cut(e, self.name) from e
        finally:
            self._http.finish(resp, read_to_end=read_to_end)
        if not translator.is_done:
            raise StreamTruncatedError(f"{self.name} stream ended before message_stop")

    async def count_tokens(self, request: CountTokensRequest, target: Target) -> int:
        """Anthropic's own count of a request's input tokens (``/v1/messages/count_tokens``),
        for the deployment's model. The caller bounds the time, as the router does for a call."""
        body = encoder.encode(msgspec.structs.replace(request, model=target.model))
        url = self._url(target, "/v1/messages/count_tokens")
        resp = await self._http.post(url, body, self._request_headers(target))
        data = await self._http.read(resp)
        try:
            return token_count_decoder.decode(data).input_tokens
        except msgspec.DecodeError as e:
            raise InvalidUpstreamResponseError(
                f"{self.name} sent an invalid token count: {self._redactor.redact(str(e))}"
            ) from e

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        raise InvalidRequestError("anthropic deployments do not serve embeddings", param="model")

    async def close(self) -> None:
        await self._http.close()


class _Stream:
    """What ``stream`` returns: the batch already read, then the rest; ``aclose`` releases
    the connection even if iteration never started."""

    def __init__(self, first: ChunkBatch | None, rest: AsyncGenerator[ChunkBatch, None]) -> None:
        self._first = first
        self._rest = rest

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> ChunkBatch:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await anext(self._rest)

    async def aclose(self) -> None:
        await self._rest.aclose()
