"""OpenAI endpoints: decode into ``sluice.types``, run the pipeline, encode the answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.background import BackgroundJobs
from sluice.api.body import decode, read_body
from sluice.api.context import bearer, context, cost_comment, raw_headers, reply_headers
from sluice.api.endpoint import CLIENT_GONE, endpoint, error_code, relay
from sluice.api.openai.completions import (
    CompletionRequest,
    CompletionStreamEncoder,
    completion_request_decoder,
    prompts,
    to_chat_request,
    to_completion,
)
from sluice.api.render import error_body, error_response
from sluice.api.sse import SSEResponse
from sluice.budgets.pricing import usd_text
from sluice.errors import InvalidRequestError, NotFoundError, SluiceError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.runner import Pipeline
from sluice.types import ChatResponse, ChunkBatch, chat_request_decoder, embedding_request_decoder, encoder

_DONE = b"data: [DONE]\n\n"
_NULL = msgspec.Raw(b"null")


class _Model(msgspec.Struct):
    id: str
    object: str
    created: int
    owned_by: str


class _ModelList(msgspec.Struct):
    object: str
    data: list[_Model]


def with_required_nulls(response: ChatResponse) -> ChatResponse:
    """OpenAI's schema requires ``logprobs`` on every choice and ``refusal`` on its message, null
    when there are none; a provider that leaves them out (the sim, vLLM, a translated Anthropic
    answer) gets them here, where the surface encodes the answer."""
    for choice in response.choices:
        if choice.logprobs is msgspec.UNSET:
            choice.logprobs = _NULL
        if choice.message.refusal is msgspec.UNSET:
            choice.message.refusal = None
    return response


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
        jobs: BackgroundJobs | None = None,
    ) -> None:
        self.observer = observer or Observer()
        self.jobs = jobs
        """Background chat completions (``sluice.background``); set by app.py."""
        self._pipeline = pipeline
        self._authenticate = authenticate
        self._max_body = max_body_bytes
        self._models = models
        self._created = int(time.time())

    @endpoint(error_response, "chat")
    async def chat_completions(self, request: Request, ex: Exchange) -> Response | SSEResponse:
        body = await read_body(request, self._max_body)
        chat = decode(body, chat_request_decoder)
        if chat.sluice is not None and chat.sluice.background and self.jobs is not None:
            ex.endpoint = "background-submit"  # the run is observed on its own, as background-chat
            return await self.jobs.chat(request, body, chat)
        ctx = ex.ctx = context(request, ex, bearer(request), chat)
        if chat.stream:
            chunks = await self._pipeline.stream(ctx)
            frames = relay(chunks, ex, self.observer, _frame, lambda: cost_comment(ctx) + _DONE, _error_event)
            return SSEResponse(frames, raw_headers(reply_headers(ctx)))
        response = ex.response = await self._pipeline.chat(ctx)
        body = encoder.encode(with_required_nulls(response))
        return Response(body, 200, reply_headers(ctx), media_type="application/json")

    @endpoint(error_response, "completions")
    async def completions(self, request: Request, ex: Exchange) -> Response | SSEResponse:
        """The legacy Completions API, served as one chat request per prompt (``completions.py``)."""
        body = await read_body(request, self._max_body)
        wire = decode(body, completion_request_decoder)
        texts = prompts(wire)
        credential = bearer(request)
        chat = to_chat_request(wire, texts[0])
        if chat.sluice is not None and chat.sluice.background:
            raise InvalidRequestError(
                "sluice.background: only chat completions run in the background.", param="sluice.background"
            )
        ctx = ex.ctx = context(request, ex, credential, chat)
        if wire.stream:
            chunks = await self._pipeline.stream(ctx)
            enc = CompletionStreamEncoder(texts[0])
            frames = relay(
                chunks, ex, self.observer, enc.encode, lambda: cost_comment(ctx) + _DONE, _error_event
            )
            return SSEResponse(frames, raw_headers(reply_headers(ctx)))
        if len(texts) == 1:
            responses = [await self._pipeline.chat(ctx)]
            headers = reply_headers(ctx)
        else:
            responses, headers = await self._each_prompt(request, ex, wire, texts)
        ex.response = responses[0]
        body = to_completion(responses, texts, wire.n or 1)
        return Response(body, 200, headers, media_type="application/json")

    async def _each_prompt(
        self, request: Request, ex: Exchange, wire: CompletionRequest, texts: list[str]
    ) -> tuple[list[ChatResponse], dict[str, str]]:
        """A list prompt: the pipeline once per prompt, concurrently. The first runs as the
        exchange itself; each other one is its own request (``<request id>-<i>``) in the request
        log and metrics. The headers are the first prompt's, with cost and attempts summed."""
        assert ex.ctx is not None
        exchanges = [ex] + [Exchange(f"{ex.request_id}-{i}", ex.endpoint) for i in range(1, len(texts))]
        credential = ex.ctx.credential
        for i, sub in enumerate(exchanges[1:], 1):
            sub.ctx = context(request, sub, credential, to_chat_request(wire, texts[i]))
            if self.observer.enabled:
                self.observer.begin(sub)

        async def one(sub: Exchange) -> ChatResponse:
            assert sub.ctx is not None
            if sub is ex:
                return await self._pipeline.chat(sub.ctx)
            try:
                sub.response = await self._pipeline.chat(sub.ctx)
            except SluiceError as e:
                await self.observer.finish(sub, e.status, error_code(e))
                raise
            except asyncio.CancelledError:
                await self.observer.finish(sub, 499, CLIENT_GONE)
                raise
            except BaseException:
                await self.observer.finish(sub, 500, "server_error")
                raise
            await self.observer.finish(sub, 200, None)
            return sub.response

        results = await asyncio.gather(*(one(sub) for sub in exchanges), return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException):
                raise r  # the first failed prompt, in prompt order, fails the request
        headers = reply_headers(ex.ctx)
        ctxs = [sub.ctx for sub in exchanges if sub.ctx is not None]
        headers["x-sluice-attempts"] = str(sum(len(c.attempts) for c in ctxs))
        costs = [c.cost_micros for c in ctxs]
        if all(c is not None for c in costs):
            headers["x-sluice-cost-usd"] = usd_text(sum(c or 0 for c in costs))
        return [r for r in results if not isinstance(r, BaseException)], headers

    @endpoint(error_response, "embeddings")
    async def embeddings(self, request: Request, ex: Exchange) -> Response:
        body = await read_body(request, self._max_body)
        emb = decode(body, embedding_request_decoder)
        if emb.sluice is not None and emb.sluice.background:
            raise InvalidRequestError(
                "sluice.background: only chat completions run in the background.", param="sluice.background"
            )
        ctx = ex.ctx = context(request, ex, bearer(request), emb)
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
