"""``/v1/responses``: create (JSON or SSE, or ``background: true``: a job the batch worker runs,
``responses/background.py``), retrieve, cancel (a background one), delete and list a stored
response's input items. A create runs the same pipeline as chat (keys, limits, budgets, cache, guardrails,
routing, the request log as ``responses``); translation lives in ``translate.py``."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from msgspec import Raw
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.background import BackgroundJobs
from sluice.api.body import read_body
from sluice.api.context import bearer, context, cost_comment, raw_headers, reply_headers
from sluice.api.endpoint import endpoint, relay
from sluice.api.render import error_response
from sluice.api.responses.background import shown
from sluice.api.responses.conversations import Conversation, Conversations, history, item_id, with_ids
from sluice.api.responses.stream import ResponsesStreamEncoder
from sluice.api.responses.translate import (
    decode_items,
    decode_request,
    file_search_tool,
    input_items,
    new_response_id,
    shell,
    to_chat_request,
    to_response,
)
from sluice.api.responses.wire import CreateResponse, DeletedResponse, ItemList
from sluice.api.sse import SSEResponse
from sluice.auth.principal import owner
from sluice.batch.background import RESPONSES
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.runner import Pipeline
from sluice.pipeline.validate import check_request
from sluice.store.records import BackgroundJob
from sluice.types import ChatRequest, ChunkBatch, ChunkStream, encoder

MAX_ITEMS_PAGE = 100


def _not_found(response_id: str, param: str | None = None) -> NotFoundError:
    return NotFoundError(
        f"Response with id '{response_id}' not found.",
        param=param,
        code="previous_response_not_found" if param == "previous_response_id" else "response_not_found",
    )


class ResponsesRoutes:
    def __init__(
        self,
        pipeline: Pipeline,
        authenticate: AuthenticateStage,
        conversations: Conversations,
        max_body_bytes: int,
        observer: Observer | None = None,
        jobs: BackgroundJobs | None = None,
    ) -> None:
        self.observer = observer or Observer()
        self._jobs = jobs
        self._pipeline = pipeline
        self._authenticate = authenticate
        self._conversations = conversations
        self._max_body = max_body_bytes

    @endpoint(error_response, "responses")
    async def create(self, request: Request, ex: Exchange) -> Response | SSEResponse:
        body = await read_body(request, self._max_body)
        req = decode_request(body)
        items = input_items(req)
        credential = bearer(request)
        earlier: list[Raw] = []
        if req.previous_response_id is not None:
            principal = await self._authenticate.principal(credential)
            found = await self._conversations.load(owner(principal), req.previous_response_id)
            if found is None:
                raise _not_found(req.previous_response_id, "previous_response_id")
            earlier = history(found)
        chat = to_chat_request(req, [*decode_items(earlier), *items])
        if req.background:
            ex.endpoint = "background-submit"  # the run is observed on its own, as background-responses
            return await self._background(credential, body, req, chat)
        ctx = ex.ctx = context(request, ex, credential, chat)
        searched = file_search_tool(req)
        if searched is not None:
            ctx.retrieval_param = f"tools[{searched[0]}]"
        results = "file_search_call.results" in (req.include or ())
        now = time.time()
        base = shell(req, new_response_id(int(now * 1000)), int(now))
        stored = [*earlier, *with_ids(items)] if req.store is not False else None
        if chat.stream:
            chunks = await self._pipeline.stream(ctx)
            enc = ResponsesStreamEncoder(
                base, ctx.retrieval, search_call=searched is not None, results=results
            )
            if stored is not None:
                chunks = self._saved(chunks, enc, ctx, stored)
            frames = relay(
                chunks, ex, self.observer, enc.encode, lambda: cost_comment(ctx) + enc.finish(), enc.error
            )
            return SSEResponse(frames, raw_headers(reply_headers(ctx)))
        response = ex.response = await self._pipeline.chat(ctx)
        answer = to_response(response, base, ctx.retrieval, search_call=searched is not None, results=results)
        if stored is not None and ctx.principal is not None:
            await self._conversations.save(owner(ctx.principal), answer, stored)
        return Response(encoder.encode(answer), 200, reply_headers(ctx), media_type="application/json")

    async def _saved(
        self, chunks: ChunkStream, enc: ResponsesStreamEncoder, ctx: RequestContext, items: list[Raw]
    ) -> AsyncGenerator[ChunkBatch, None]:
        """The stream, and once the upstream finished it (every batch framed), the answer stored
        before the client gets ``response.completed``."""
        try:
            async for batch in chunks:
                yield batch
            enc.finish()
            if enc.final is not None and ctx.principal is not None:
                await self._conversations.save(owner(ctx.principal), enc.final, items)
        finally:
            await chunks.aclose()

    async def _background(
        self, credential: str | None, body: bytes, req: CreateResponse, chat: ChatRequest
    ) -> Response:
        """``background: true``: checked as a request would be, stored as a job, answered at once
        with the response ``queued``."""
        if req.store is False:
            raise InvalidRequestError(
                "background: a background response must be stored (store: true).", param="store"
            )
        if req.stream:
            raise InvalidRequestError(
                "stream: background responses are not streamed by this gateway; poll GET /v1/responses/{id}.",
                param="stream",
            )
        if self._jobs is None:
            raise InvalidRequestError("background: background responses are off here.", param="background")
        check_request(chat)
        principal = await self._authenticate.principal(credential)
        now = int(time.time())
        response_id = new_response_id(now * 1000)
        await self._jobs.submit(principal, RESPONSES, response_id, body, req.model, now)
        queued = shell(req, response_id, now)
        queued.status, queued.background = "queued", True
        return Response(
            encoder.encode(queued), 200, {"x-request-id": response_id}, media_type="application/json"
        )

    async def _job(self, who: str, response_id: str) -> BackgroundJob | None:
        return None if self._jobs is None else await self._jobs.store.get_job(who, response_id)

    @endpoint(error_response)
    async def cancel(self, request: Request, ex: Exchange) -> Response:
        """Cancel a background response, queued or in progress; one that finished is answered as it
        is (idempotent, as OpenAI's); a response that was not background is a 400, as OpenAI's."""
        who = owner(await self._authenticate.principal(bearer(request)))
        response_id = request.path_params["response_id"]
        job = await self._job(who, response_id)
        if job is None:
            if await self._conversations.load(who, response_id) is not None:
                raise InvalidRequestError(
                    "Cannot cancel a synchronous response: only background responses can be cancelled.",
                    code="invalid_request_error",
                )
            raise _not_found(response_id)
        if job.result is None and self._jobs is not None:
            if await self._jobs.store.cancel_job(who, response_id, int(time.time())):
                job = await self._job(who, response_id) or job
        return await self._shown(who, job, ex)

    async def _shown(self, who: str, job: BackgroundJob, ex: Exchange) -> Response:
        if job.result is not None and job.result.status == "completed":
            found = await self._conversations.load(who, job.batch.id)
            if found is None:  # deleted
                raise _not_found(job.batch.id)
            return Response(bytes(found.response), 200, _headers(ex), media_type="application/json")
        return Response(encoder.encode(shown(job)), 200, _headers(ex), media_type="application/json")

    async def _load(self, request: Request) -> tuple[str, Conversation]:
        principal = await self._authenticate.principal(bearer(request))
        response_id = request.path_params["response_id"]
        found = await self._conversations.load(owner(principal), response_id)
        if found is None:
            raise _not_found(response_id)
        return response_id, found

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        if request.query_params.get("stream", "false").lower() == "true":
            raise InvalidRequestError(
                "stream: replaying a stored response as a stream is not supported.", param="stream"
            )
        principal = await self._authenticate.principal(bearer(request))
        who, response_id = owner(principal), request.path_params["response_id"]
        found = await self._conversations.load(who, response_id)
        if found is not None:
            return Response(bytes(found.response), 200, _headers(ex), media_type="application/json")
        job = await self._job(who, response_id)  # a background response not (yet) answered
        if job is None:
            raise _not_found(response_id)
        return await self._shown(who, job, ex)

    @endpoint(error_response)
    async def delete(self, request: Request, ex: Exchange) -> Response:
        principal = await self._authenticate.principal(bearer(request))
        response_id = request.path_params["response_id"]
        if not await self._conversations.delete(owner(principal), response_id):
            raise _not_found(response_id)
        return Response(
            encoder.encode(DeletedResponse(response_id)), 200, _headers(ex), media_type="application/json"
        )

    @endpoint(error_response)
    async def input_items(self, request: Request, ex: Exchange) -> Response:
        limit, order, after = _page(request)
        _, found = await self._load(request)
        items = found.items if order == "asc" else found.items[::-1]
        ids = [item_id(i) for i in items]
        start = 0
        if after is not None:
            if after not in ids:
                raise InvalidRequestError(
                    f"after: no input item with id '{after}' in this response.", param="after"
                )
            start = ids.index(after) + 1
        page = items[start : start + limit]
        page_ids = ids[start : start + limit]
        body = ItemList(
            data=page,
            first_id=page_ids[0] if page_ids else None,
            last_id=page_ids[-1] if page_ids else None,
            has_more=start + limit < len(items),
        )
        return Response(encoder.encode(body), 200, _headers(ex), media_type="application/json")


def _page(request: Request) -> tuple[int, str, str | None]:
    q = request.query_params
    raw_limit = q.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_ITEMS_PAGE:
        raise InvalidRequestError(f"limit: an integer from 1 to {MAX_ITEMS_PAGE}.", param="limit")
    order = q.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequestError("order: 'asc' or 'desc'.", param="order")
    return int(raw_limit), order, q.get("after")


def _headers(ex: Exchange) -> dict[str, str]:
    return {
        "x-request-id": ex.request_id,
        "x-sluice-overhead-ms": f"{(time.perf_counter() - ex.started) * 1000:.3f}",
    }
