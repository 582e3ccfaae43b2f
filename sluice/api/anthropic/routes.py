"""``POST /v1/messages``: the Anthropic Messages API inbound, served by whatever provider
backs the alias, and ``POST /v1/messages/count_tokens`` (``count_tokens.py``). Translation lives
in ``translate.py``; errors render in Anthropic's shape."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sluice.api.anthropic.count_tokens import TokenCounter, to_chat
from sluice.api.anthropic.errors import render_error
from sluice.api.anthropic.stream import MessagesStreamEncoder
from sluice.api.anthropic.translate import decode_messages_request, to_chat_request, to_messages_response
from sluice.api.body import decode, read_body
from sluice.api.context import bearer, context, cost_comment, raw_headers, reply_headers
from sluice.api.endpoint import endpoint, relay
from sluice.api.render import error_headers
from sluice.api.sse import SSEResponse
from sluice.errors import SluiceError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.runner import Pipeline
from sluice.providers.anthropic.wire import TokenCount, count_tokens_request_decoder
from sluice.types import encoder


def error_response(err: SluiceError, rid: str) -> Response:
    """Any error on the Anthropic surface, in its JSON, with Anthropic's ``request-id`` header."""
    status, body = render_error(err)
    headers = {**error_headers(err, rid), "request-id": rid}
    return Response(body, status, headers, media_type="application/json")


class AnthropicRoutes:
    def __init__(
        self,
        pipeline: Pipeline,
        max_body_bytes: int,
        observer: Observer | None = None,
        *,
        counter: TokenCounter,
    ) -> None:
        self.observer = observer or Observer()
        self._pipeline = pipeline
        self._max_body = max_body_bytes
        self._counter = counter

    @endpoint(error_response, "messages")
    async def messages(self, request: Request, ex: Exchange) -> Response | SSEResponse:
        body = await read_body(request, self._max_body)
        wire = decode_messages_request(body)
        credential = request.headers.get("x-api-key") or bearer(request)
        ctx = ex.ctx = context(request, ex, credential, to_chat_request(wire))
        if wire.stream:
            chunks = await self._pipeline.stream(ctx)
            enc = MessagesStreamEncoder(wire.model, wire.stop_sequences, ctx.retrieval)
            frames = relay(
                chunks, ex, self.observer, enc.encode, lambda: cost_comment(ctx) + enc.finish(), enc.error
            )
            return SSEResponse(frames, raw_headers(_headers(ctx)))
        response = ex.response = await self._pipeline.chat(ctx)
        body = to_messages_response(response, wire.model, wire.stop_sequences, ctx.retrieval)
        return Response(body, 200, _headers(ctx), media_type="application/json")

    @endpoint(error_response, "count_tokens")
    async def count_tokens(self, request: Request, ex: Exchange) -> Response:
        """``{"input_tokens": N}``; ``x-sluice-token-count`` says whether N is the provider's
        exact count or the gateway's estimate. Observed as its own endpoint, with no usage."""
        body = await read_body(request, self._max_body)
        wire = decode(body, count_tokens_request_decoder)
        credential = request.headers.get("x-api-key") or bearer(request)
        ctx = ex.ctx = context(request, ex, credential, to_chat(wire))
        tokens, accuracy = await self._counter.count(ctx, wire)
        headers = {
            "x-request-id": ex.request_id,
            "request-id": ex.request_id,
            "x-sluice-token-count": accuracy,
            "x-sluice-overhead-ms": f"{ctx.overhead_ms():.3f}",
        }
        if ctx.deployment is not None:
            headers["x-sluice-model"] = ctx.deployment.name
        return Response(encoder.encode(TokenCount(tokens)), 200, headers, media_type="application/json")


def _headers(ctx: RequestContext) -> dict[str, str]:
    """The gateway's headers plus Anthropic's ``request-id`` (the SDK's ``_request_id``)."""
    headers = reply_headers(ctx)
    headers["request-id"] = ctx.request_id
    return headers
