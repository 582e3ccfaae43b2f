"""OpenAI endpoints: decode into ``sluice.types``, run the pipeline, encode the answer."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.body import ClientGone, decode, read_body
from sluice.api.context import bearer, raw_headers, reply_headers, request_id
from sluice.api.render import error_body, error_response
from sluice.api.sse import SSEResponse
from sluice.errors import InternalError, SluiceError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.context import RequestContext
from sluice.pipeline.runner import Pipeline
from sluice.types import ChunkBatch, chat_request_decoder, embedding_request_decoder, encoder

log = logging.getLogger("sluice.api")

_DONE = b"data: [DONE]\n\n"


class _Model(msgspec.Struct):
    id: str
    object: str
    created: int
    owned_by: str


class _ModelList(msgspec.Struct):
    object: str
    data: list[_Model]


class OpenAIRoutes:
    def __init__(
        self, pipeline: Pipeline, authenticate: AuthenticateStage, max_body_bytes: int, models: dict[str, str]
    ) -> None:
        self._pipeline = pipeline
        self._authenticate = authenticate
        self._max_body = max_body_bytes
        self._models = models
        self._created = int(time.time())

    async def chat_completions(self, request: Request) -> Response | SSEResponse:
        rid = request_id(request)
        try:
            body = await read_body(request, self._max_body)
            ctx = RequestContext(rid, bearer(request), decode(body, chat_request_decoder))
            if ctx.request.stream:  # type: ignore[union-attr]
                chunks = await self._pipeline.stream(ctx)
                return SSEResponse(_sse(chunks, rid), raw_headers(reply_headers(ctx)))
            response = await self._pipeline.chat(ctx)
            return Response(encoder.encode(response), 200, reply_headers(ctx), media_type="application/json")
        except SluiceError as e:
            return error_response(e, rid)
        except ClientGone:
            return Response(status_code=499)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid})
            return error_response(_internal(rid), rid)

    async def embeddings(self, request: Request) -> Response:
        rid = request_id(request)
        try:
            body = await read_body(request, self._max_body)
            ctx = RequestContext(rid, bearer(request), decode(body, embedding_request_decoder))
            response = await self._pipeline.embed(ctx)
            return Response(encoder.encode(response), 200, reply_headers(ctx), media_type="application/json")
        except SluiceError as e:
            return error_response(e, rid)
        except ClientGone:
            return Response(status_code=499)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid})
            return error_response(_internal(rid), rid)

    async def models(self, request: Request) -> Response:
        """The aliases this key may use."""
        rid = request_id(request)
        try:
            principal = self._authenticate.principal(bearer(request))
        except SluiceError as e:
            return error_response(e, rid)
        data = [
            _Model(alias, "model", self._created, owner)
            for alias, owner in self._models.items()
            if principal.may_use(alias)
        ]
        return Response(
            encoder.encode(_ModelList("list", data)), headers={"x-request-id": rid}, media_type="application/json"
        )


async def _sse(chunks: AsyncIterator[ChunkBatch], rid: str) -> AsyncIterator[bytes]:
    """OpenAI's SSE framing; a failure after the first byte becomes a final error event."""
    enc = encoder.encode
    try:
        async for batch in chunks:
            yield b"".join([b"data: " + enc(c) + b"\n\n" for c in batch])
        yield _DONE
    except SluiceError as e:
        yield b"data: " + error_body(e) + b"\n\n"
    except Exception:
        log.exception("unhandled error mid-stream", extra={"request_id": rid})
        yield b"data: " + error_body(_internal(rid)) + b"\n\n"
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def _internal(rid: str) -> InternalError:
    return InternalError(f"The server had an error processing your request (request id {rid}).")
