"""OpenAI endpoints: decode into ``sluice.types``, run the pipeline, encode the answer."""

from __future__ import annotations

import time
from collections.abc import Mapping

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import decode, read_body
from sluice.api.context import bearer, context, cost_comment, raw_headers, reply_headers
from sluice.api.endpoint import endpoint, relay
from sluice.api.render import error_body, error_response
from sluice.api.sse import SSEResponse
from sluice.errors import NotFoundError, SluiceError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.runner import Pipeline
from sluice.types import ChunkBatch, chat_request_decoder, embedding_request_decoder, encoder

_DONE = b"data: [DONE]\n\n"


class _Model(msgspec.Struct):
    id: str
    object: str
    created: int
    owned_by: str


class _ModelList(msgspec.Struct):
    object: str
    data: list[_Model]


def _frame(batch: ChunkBatch) -> bytes:
    enc = encoder.encode
    return b"".join([b"data: " + enc(c) + b"\n\n" for c in batch])


def _error_event(err: SluiceError) -> bytes:
    return b"data: " + error_body(err) + b"\n\n"


class OpenAIRoutes:
    def __init__(
        self,
        pipeline: Pipeline,
        authenticate: AuthenticateStage,
        max_body_bytes: int,
        models: Mapping[str, str],
        observer: Observer | None = None,
    ) -> None:
        self.observer = observer or Observer()
        self._pipeline = pipeline
        self._authenticate = authenticate
        self._max_body = max_body_bytes
        self._models = models
        self._created = int(time.time())

    @endpoint(error_response, "chat")
    async def chat_completions(self, request: Request, ex: Exchange) -> Response | SSEResponse:
        body = await read_body(request, self._max_body)
        chat = decode(body, chat_request_decoder)
        ctx = ex.ctx = context(request, ex, bearer(request), chat)
        if chat.stream:
            chunks = await self._pipeline.stream(ctx)
            frames = relay(chunks, ex, self.observer, _frame, lambda: cost_comment(ctx) + _DONE, _error_event)
            return SSEResponse(frames, raw_headers(reply_headers(ctx)))
        response = ex.response = await self._pipeline.chat(ctx)
        return Response(encoder.encode(response), 200, reply_headers(ctx), media_type="application/json")

    @endpoint(error_response, "embeddings")
    async def embeddings(self, request: Request, ex: Exchange) -> Response:
        body = await read_body(request, self._max_body)
        ctx = ex.ctx = context(request, ex, bearer(request), decode(body, embedding_request_decoder))
        response = await self._pipeline.embed(ctx)
        return Response(encoder.encode(response), 200, reply_headers(ctx), media_type="application/json")

    @endpoint(error_response)
    async def models(self, request: Request, ex: Exchange) -> Response:
        """The aliases this key may use."""
        principal = await self._authenticate.principal(bearer(request))
        data = [
            _Model(alias, "model", self._created, owner)
            for alias, owner in self._models.items()
            if principal.may_use(alias)
        ]
        return Response(
            encoder.encode(_ModelList("list", data)), headers=_headers(ex), media_type="application/json"
        )

    @endpoint(error_response)
    async def model(self, request: Request, ex: Exchange) -> Response:
        """One alias, or 404 as for a model that does not exist (or that this key may not use)."""
        principal = await self._authenticate.principal(bearer(request))
        alias = request.path_params["model"]
        if alias not in self._models or not principal.may_use(alias):
            raise NotFoundError(
                f"The model `{alias}` does not exist or you do not have access to it.", param="model"
            )
        body = _Model(alias, "model", self._created, self._models[alias])
        return Response(encoder.encode(body), headers=_headers(ex), media_type="application/json")


def _headers(ex: Exchange) -> dict[str, str]:
    return {
        "x-request-id": ex.request_id,
        "x-sluice-overhead-ms": f"{(time.perf_counter() - ex.started) * 1000:.3f}",
    }
