"""``/v1/messages/batches``: Anthropic's Message Batches API on the gateway's Anthropic surface.
A batch is stored as a batch of kind ``anthropic`` whose lines are Messages requests, created
``in_progress`` with its lines (every request checked first, as ``POST /v1/messages`` would), and
run by the batch worker like any batch line (``api/batch_lines.py``: through the whole pipeline as
its creator, charged once). Another owner's batch, and an OpenAI batch or background job, is the
same 404 as a missing one on every route; errors are in Anthropic's JSON."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.anthropic.errors import render_error
from sluice.api.anthropic.routes import error_response
from sluice.api.anthropic.translate import decode_messages_request, to_chat_request
from sluice.api.body import decode, read_body
from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.auth.principal import Principal, owner
from sluice.errors import ConflictError, InternalError, InvalidRequestError, NotFoundError, SluiceError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.validate import check_request
from sluice.providers.anthropic.wire import MessagesRequest
from sluice.store.protocols import Store
from sluice.store.records import BatchCaller, FinishedLine, NewBatchLine, StoredBatch
from sluice.types import encoder

MESSAGES = "/v1/messages"
"""The endpoint an Anthropic batch's lines are requests to."""
MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
"""Anthropic's caps on one batch (the gateway's ``batches.max_lines`` and ``max_input_bytes``
apply when smaller)."""
MAX_PAGE = 1000
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
ENDED = ("completed", "failed", "expired", "cancelled")


class _Request(msgspec.Struct, forbid_unknown_fields=True):
    custom_id: str
    params: msgspec.Raw


class _Create(msgspec.Struct, forbid_unknown_fields=True):
    requests: list[_Request]


_create_decoder = msgspec.json.Decoder(_Create)


class _Counts(msgspec.Struct):
    processing: int
    succeeded: int
    errored: int
    canceled: int
    expired: int


class MessageBatch(msgspec.Struct):
    id: str
    type: str
    processing_status: str
    request_counts: _Counts
    ended_at: str | None
    created_at: str
    expires_at: str
    cancel_initiated_at: str | None
    archived_at: str | None
    results_url: str | None


class _Page(msgspec.Struct):
    data: list[MessageBatch]
    has_more: bool
    first_id: str | None
    last_id: str | None


class _Deleted(msgspec.Struct):
    id: str
    type: str = "message_batch_deleted"


def check_message(body: bytes) -> MessagesRequest:
    """A batch request's ``params``, decoded and checked as ``POST /v1/messages`` would (a
    ``SluiceError`` when that route would refuse it); a batch's requests are not streamed."""
    wire = decode_messages_request(body)
    if wire.stream:
        raise InvalidRequestError("stream: a batch's requests are not streamed.", param="stream")
    check_request(to_chat_request(wire))
    return wire


def parse(body: bytes, max_requests: int) -> tuple[list[NewBatchLine], str | None]:
    """The batch's lines (each ``params`` as sent) and its one model, if it names one; the first
    problem as a 400 naming the request's index (CPU only: run in a thread)."""
    create = decode(body, _create_decoder)
    if not create.requests:
        raise InvalidRequestError("requests: a batch needs at least one request.", param="requests")
    if len(create.requests) > max_requests:
        raise InvalidRequestError(
            f"requests: {len(create.requests)} requests; a batch may hold at most {max_requests}.",
            param="requests",
        )
    seen: set[str] = set()
    models: set[str] = set()
    lines = []
    for i, r in enumerate(create.requests):
        if not CUSTOM_ID.fullmatch(r.custom_id):
            raise InvalidRequestError(
                f"requests.{i}.custom_id: 1 to 64 characters of letters, digits, '_' and '-'.",
                param=f"requests.{i}.custom_id",
            )
        if r.custom_id in seen:
            raise InvalidRequestError(
                f"requests.{i}.custom_id: '{r.custom_id}' is used by an earlier request; each must be unique.",
                param=f"requests.{i}.custom_id",
            )
        seen.add(r.custom_id)
        params = bytes(r.params)
        try:
            wire = check_message(params)
        except SluiceError as e:
            where = f"requests.{i}.params" + (f".{e.param}" if e.param else "")
            raise InvalidRequestError(f"{where}: {e.message}", param=where) from None
        models.add(wire.model)
        lines.append(NewBatchLine(r.custom_id, i + 1, "msgbatchreq_" + os.urandom(12).hex(), params.decode()))
    return lines, models.pop() if len(models) == 1 else None


def _time(ts: int | None) -> str | None:
    """RFC 3339, as Anthropic's timestamps are."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def wire(b: StoredBatch, base_url: str) -> MessageBatch:
    """The batch as Anthropic's ``MessageBatch``. Its counts move as lines finish (Anthropic's
    stay ``processing`` until the end); they always sum to the batch's requests."""
    ended = b.status in ENDED
    status = "ended" if ended else "canceling" if b.status == "cancelling" else "in_progress"
    counts = _Counts(
        b.total - b.completed - b.failed,
        b.completed,
        b.failed - b.expired - b.cancelled,
        b.cancelled,
        b.expired,
    )
    return MessageBatch(
        b.id,
        "message_batch",
        status,
        counts,
        _time(b.completed_at or b.expired_at or b.cancelled_at or b.failed_at),
        _time(b.created_at) or "",
        _time(b.expires_at) or "",
        _time(b.cancelling_at),
        None,
        f"{base_url}/v1/messages/batches/{b.id}/results" if ended else None,
    )


class _Succeeded(msgspec.Struct, tag="succeeded", tag_field="type"):
    message: msgspec.Raw


class _Errored(msgspec.Struct, tag="errored", tag_field="type"):
    error: msgspec.Raw


class _Canceled(msgspec.Struct, tag="canceled", tag_field="type"):
    pass


class _Expired(msgspec.Struct, tag="expired", tag_field="type"):
    pass


class _Result(msgspec.Struct):
    custom_id: str
    result: _Succeeded | _Errored | _Canceled | _Expired


def results_jsonl(lines: list[FinishedLine]) -> bytes:
    """The results file: one ``{custom_id, result}`` line per request, in request order."""
    out = []
    for f in lines:
        x = f.result
        result: _Succeeded | _Errored | _Canceled | _Expired
        if x.status == "completed":
            result = _Succeeded(msgspec.Raw((x.response or "null").encode()))
        elif x.error_code == "batch_expired":
            result = _Expired()
        elif x.error_code == "cancelled":
            result = _Canceled()
        elif x.status_code is not None and x.response:
            result = _Errored(msgspec.Raw(x.response.encode()))  # the request's own error JSON
        else:  # it never answered (out of attempts)
            error = InternalError(x.error_message or "The request did not finish.")
            result = _Errored(msgspec.Raw(render_error(error)[1]))
        out.append(encoder.encode(_Result(f.custom_id, result)) + b"\n")
    return b"".join(out)


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"No Message Batch found with id '{batch_id}'.", param="message_batch_id")


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class MessageBatchRoutes:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        store: Store,
        observer: Observer,
        *,
        window_s: float,
        max_requests: int,
        max_bytes: int,
        submitted: Callable[[StoredBatch], Awaitable[None]],
        wake: Callable[[], None],
    ) -> None:
        """``max_requests``, ``max_bytes``: the gateway's caps (``batches.max_lines``,
        ``max_input_bytes``), lowered to Anthropic's; ``submitted``: a batch was stored (the
        queue told, the worker woken); ``wake``: the worker has something to look at."""
        self._authenticate = authenticate
        self._store = store
        self._window_s = window_s
        self._max_requests = min(max_requests, MAX_REQUESTS)
        self._max_bytes = min(max_bytes, MAX_BYTES)
        self._submitted = submitted
        self._wake = wake
        self.observer = observer  # read by ``endpoint`` for model requests only: these are none

    async def _principal(self, request: Request) -> Principal:
        return await self._authenticate.principal(request.headers.get("x-api-key") or bearer(request))

    async def _batch(self, request: Request) -> tuple[str, StoredBatch]:
        who = owner(await self._principal(request))
        batch_id = request.path_params["batch_id"]
        found = await self._store.get_batch(who, batch_id)
        if found is None or found.kind != "anthropic":  # an OpenAI batch or a job is none of these
            raise _not_found(batch_id)
        return who, found

    @endpoint(error_response)
    async def create(self, request: Request, ex: Exchange) -> Response:
        principal = await self._principal(request)
        body = await read_body(request, self._max_bytes)
        lines, model = await asyncio.to_thread(parse, body, self._max_requests)
        now = int(time.time())
        p = principal
        batch = StoredBatch(
            owner(p),
            f"msgbatch_{time.time_ns() // 1000:014x}{os.urandom(8).hex()}",
            MESSAGES,
            "",
            "24h",
            "in_progress",
            BatchCaller(p.key_name, p.tenant_id, p.user_id, p.key_id),
            now,
            now + int(self._window_s),
            model=model,
            in_progress_at=now,
            total=len(lines),
            kind="anthropic",
        )
        await self._store.create_batch(batch, lines)
        await self._submitted(batch)
        return _json(wire(batch, _base_url(request)), ex)

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        _, found = await self._batch(request)
        return _json(wire(found, _base_url(request)), ex)

    @endpoint(error_response)
    async def list(self, request: Request, ex: Exchange) -> Response:
        """Newest first; ``after_id`` pages to older batches, ``before_id`` to newer ones."""
        who = owner(await self._principal(request))
        q = request.query_params
        raw_limit = q.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise InvalidRequestError(f"limit: an integer from 1 to {MAX_PAGE}.", param="limit")
        limit = int(raw_limit)
        after, before = q.get("after_id"), q.get("before_id")
        for name, ref in (("after_id", after), ("before_id", before)):
            if ref is not None:
                found = await self._store.get_batch(who, ref)
                if found is None or found.kind != "anthropic":
                    raise InvalidRequestError(f"{name}: no Message Batch with id '{ref}'.", param=name)
        rows = await self._store.list_batches(
            who, after=after, limit=limit + 1, kind="anthropic", before=before
        )
        has_more = len(rows) > limit
        if has_more:  # the one past the page: the oldest, or (before_id) the newest
            rows = rows[1:] if before is not None and after is None else rows[:limit]
        base = _base_url(request)
        page = [wire(b, base) for b in rows]
        return _json(_Page(page, has_more, page[0].id if page else None, page[-1].id if page else None), ex)

    @endpoint(error_response)
    async def cancel(self, request: Request, ex: Exchange) -> Response:
        """``canceling`` until the requests in flight finish; those never started end ``canceled``.
        A batch already canceling is answered as it is; an ended one is a 409."""
        who, found = await self._batch(request)
        if found.status in ENDED:
            raise ConflictError(f"Message Batch {found.id} has ended; it cannot be canceled.")
        if found.status != "cancelling":
            found = await self._store.cancel_batch_run(who, found.id, int(time.time())) or found
            self._wake()
        return _json(wire(found, _base_url(request)), ex)

    @endpoint(error_response)
    async def results(self, request: Request, ex: Exchange) -> Response:
        _, found = await self._batch(request)
        if found.status not in ENDED:
            raise ConflictError(
                f"Message Batch {found.id} has not ended; its results are ready once processing_status is 'ended'."
            )
        lines = await self._store.batch_results(found.id)
        data = await asyncio.to_thread(results_jsonl, lines)
        headers = {"x-request-id": ex.request_id, "request-id": ex.request_id}
        return Response(data, 200, headers, media_type="application/x-jsonl")

    @endpoint(error_response)
    async def delete(self, request: Request, ex: Exchange) -> Response:
        """Only an ended batch (cancel one in progress first, as Anthropic's API asks)."""
        who, found = await self._batch(request)
        if found.status not in ENDED or not await self._store.delete_batch(who, found.id):
            raise ConflictError(
                f"Message Batch {found.id} has not ended; cancel it and delete it once it has ended."
            )
        return _json(_Deleted(found.id), ex)


def _json(body: msgspec.Struct, ex: Exchange) -> Response:
    headers = {"x-request-id": ex.request_id, "request-id": ex.request_id}
    return Response(encoder.encode(body), 200, headers, media_type="application/json")
