"""``POST /v1/messages``: the Anthropic Messages API inbound, served by whatever provider
backs the alias. Translation lives in ``translate.py``; errors render in Anthropic's shape."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from sluice.api.anthropic.errors import render_error
from sluice.api.anthropic.translate import (
    MessagesStreamEncoder,
    decode_messages_request,
    to_chat_request,
    to_messages_response,
)
from sluice.api.body import ClientGone, read_body
from sluice.api.context import bearer, raw_headers, reply_headers, request_id
from sluice.api.sse import SSEResponse
from sluice.errors import InternalError, SluiceError
from sluice.pipeline.context import RequestContext
from sluice.pipeline.runner import Pipeline
from sluice.types import ChunkBatch

log = logging.getLogger("sluice.api")


class AnthropicRoutes:
    def __init__(self, pipeline: Pipeline, max_body_bytes: int) -> None:
        self._pipeline = pipeline
        self._max_body = max_body_bytes

    async def messages(self, request: Request) -> Response | SSEResponse:
        rid = request_id(request)
        try:
            body = await read_body(request, self._max_body)
            wire = decode_messages_request(body)
            chat = to_chat_request(wire)
            credential = request.headers.get("x-api-key") or bearer(request)
            ctx = RequestContext(rid, credential, chat)
            if chat.stream:
                chunks = await self._pipeline.stream(ctx)
                encoder = MessagesStreamEncoder(wire.model)
                return SSEResponse(_events(chunks, encoder, rid), raw_headers(reply_headers(ctx)))
            response = await self._pipeline.chat(ctx)
            return Response(
                to_messages_response(response, wire.model), 200, reply_headers(ctx), media_type="application/json"
            )
        except SluiceError as e:
            return _error(e, rid)
        except ClientGone:
            return Response(status_code=499)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid})
            return _error(InternalError(f"Internal server error (request id {rid})."), rid)


def _error(err: SluiceError, rid: str) -> Response:
    status, body = render_error(err)
    headers = {"x-request-id": rid, "request-id": rid}
    if err.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(err.retry_after_s)))
    return Response(body, status, headers, media_type="application/json")


async def _events(chunks: AsyncIterator[ChunkBatch], encoder: MessagesStreamEncoder, rid: str) -> AsyncIterator[bytes]:
    try:
        async for batch in chunks:
            data = encoder.encode(batch)
            if data:
                yield data
        yield encoder.finish()
    except SluiceError as e:
        yield encoder.error(e)
    except Exception:
        log.exception("unhandled error mid-stream", extra={"request_id": rid})
        yield encoder.error(InternalError(f"Internal server error (request id {rid})."))
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
