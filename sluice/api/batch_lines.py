"""A batch line as the OpenAI surface sees it: its body checked as the endpoint's own route
would (decoded into the surface's types, then the validate stage's checks), and run through
the whole pipeline as the batch's creator (``ctx.caller``: authenticate looks them up again),
observed as a request of the endpoint ``batch-<name>`` (priced, logged, in the usage)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from sluice.api.anthropic.batches import check_message
from sluice.api.anthropic.errors import render_error
from sluice.api.anthropic.translate import to_chat_request as messages_to_chat
from sluice.api.anthropic.translate import to_messages_response
from sluice.api.body import decode
from sluice.api.endpoint import error_code, internal_error
from sluice.api.openai.completions import completion_request_decoder, prompts, to_chat_request, to_completion
from sluice.api.openai.routes import with_required_nulls
from sluice.api.render import error_body
from sluice.errors import InvalidRequestError, SluiceError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.runner import Pipeline
from sluice.pipeline.validate import check_request
from sluice.store.records import ClaimedLine, LineResult
from sluice.types import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    Usage,
    chat_request_decoder,
    embedding_request_decoder,
    encoder,
)

log = logging.getLogger("sluice.batch")

ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/embeddings": "embeddings", "/v1/completions": "completions"}
"""The endpoints a batch may name, as far as the gateway serves them (``/v1/responses`` not yet)."""
BACKGROUND = {"/v1/chat/completions": "chat", "/v1/responses": "responses"}
"""The endpoints a background request may be: observed as ``background-<name>``."""


class ResponsesLines(Protocol):
    """``api/responses/background.ResponseLines``: a background response's chat request, and
    what makes (and stores) its response object from the answer."""

    async def prepare(
        self, line: ClaimedLine
    ) -> tuple[ChatRequest, Callable[[ChatResponse], Awaitable[bytes]]]: ...


def _request(endpoint: str, body: bytes) -> tuple[ChatRequest | EmbeddingRequest, list[str] | None]:
    """The line's request, decoded and checked as its route would; a completion's prompts too."""
    texts = None
    req: ChatRequest | EmbeddingRequest
    if endpoint == "/v1/embeddings":
        req = decode(body, embedding_request_decoder)
    elif endpoint == "/v1/completions":
        wire = decode(body, completion_request_decoder)
        if wire.stream:
            raise InvalidRequestError("stream: a batch's requests are not streamed.", param="stream")
        texts = prompts(wire)
        if len(texts) != 1:
            raise InvalidRequestError("prompt: one prompt per batch request.", param="prompt")
        req = to_chat_request(wire, texts[0])
    else:
        req = decode(body, chat_request_decoder)
        if req.stream:
            raise InvalidRequestError("stream: a batch's requests are not streamed.", param="stream")
    check_request(req)
    return req, texts


def check(endpoint: str, body: bytes) -> str:
    """``sluice.batch.lines.Check`` for this surface: the line's model."""
    return _request(endpoint, body)[0].model


class LineRunner:
    def __init__(
        self, pipeline: Pipeline, observer: Observer, responses: ResponsesLines | None = None
    ) -> None:
        self._pipeline = pipeline
        self._observer = observer
        self._responses = responses

    async def run(self, line: ClaimedLine) -> LineResult:
        """``sluice.batch.worker.Run``: the line's answer, or its error answer in this surface's JSON,
        with its request-log row (``LineResult.log``): the store writes it with the result, once.
        The budget is charged once per (batch, ``custom_id``): ``ctx.charge_key``."""
        rid = "req_" + os.urandom(12).hex()
        if line.kind == "background":
            ex = Exchange(rid, "background-" + BACKGROUND[line.endpoint])
        elif line.kind == "anthropic":
            ex = Exchange(rid, "batch-messages")
        else:
            ex = Exchange(rid, "batch-" + ENDPOINTS[line.endpoint])
        if self._observer.enabled:
            self._observer.begin(ex)
        try:
            result, code = await self._run(line, ex)
        except BaseException:  # cancelled (a shutdown): the line runs again, and is logged then
            self._observer.finish_held(ex, 499, "cancelled")
            raise
        record = self._observer.finish_held(ex, result.status_code or 500, code)
        return result if record is None else msgspec.structs.replace(result, log=record)

    async def _run(self, line: ClaimedLine, ex: Exchange) -> tuple[LineResult, str | None]:
        rid = ex.request_id
        if line.kind == "anthropic":
            return await self._message(line, ex)
        try:
            if line.endpoint == "/v1/responses" and self._responses is not None:
                chat, done = await self._responses.prepare(line)
                ctx = ex.ctx = RequestContext(rid, None, chat, caller=line.caller)
                ctx.charge_key = f"{line.batch_id}:{line.custom_id}"
                ex.response = await self._pipeline.chat(ctx)
                return _answered(200, rid, await done(ex.response), ctx), None
            req, texts = _request(line.endpoint, line.body.encode())
            ctx = ex.ctx = RequestContext(rid, None, req, caller=line.caller)
            ctx.charge_key = f"{line.batch_id}:{line.custom_id}"
            if isinstance(req, EmbeddingRequest):
                body = encoder.encode(await self._pipeline.embed(ctx))
            else:
                response = ex.response = await self._pipeline.chat(ctx)
                if texts is None:
                    body = encoder.encode(with_required_nulls(response))
                else:
                    wire = decode(line.body.encode(), completion_request_decoder)
                    body = to_completion([response], texts, wire.n or 1)
            return _answered(200, rid, body, ctx), None
        except SluiceError as e:
            return _answered(e.status, rid, error_body(e), ex.ctx), error_code(e)
        except Exception:
            log.exception("batch line failed", extra={"request_id": rid})
            return _answered(500, rid, error_body(internal_error(rid)), ex.ctx), "server_error"

    async def _message(self, line: ClaimedLine, ex: Exchange) -> tuple[LineResult, str | None]:
        """A line of an Anthropic Message Batch: translated as ``POST /v1/messages`` translates
        it, its answer an Anthropic Message, its error Anthropic's error JSON."""
        rid = ex.request_id
        try:
            wire = check_message(line.body.encode())
            ctx = ex.ctx = RequestContext(rid, None, messages_to_chat(wire), caller=line.caller)
            ctx.charge_key = f"{line.batch_id}:{line.custom_id}"
            response = ex.response = await self._pipeline.chat(ctx)
            body = to_messages_response(response, wire.model, wire.stop_sequences, ctx.retrieval)
            return _answered(200, rid, body, ctx), None
        except SluiceError as e:
            return _answered(e.status, rid, render_error(e)[1], ex.ctx), error_code(e)
        except Exception:
            log.exception("batch line failed", extra={"request_id": rid})
            return _answered(500, rid, render_error(internal_error(rid))[1], ex.ctx), "server_error"


def _answered(status: int, rid: str, body: bytes, ctx: RequestContext | None) -> LineResult:
    input_tokens = output_tokens = cached = 0
    u = ctx.usage if ctx is not None else None
    if u is not None:
        input_tokens = u.prompt_tokens
        if isinstance(u, Usage):
            output_tokens = u.completion_tokens
            if u.prompt_tokens_details is not None:
                cached = u.prompt_tokens_details.cached_tokens
    return LineResult(
        "completed" if status < 400 else "failed",
        status,
        rid,
        body.decode(),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_tokens=cached,
    )
