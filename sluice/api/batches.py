"""``/v1/batches`` in OpenAI's shape: create (the caller's own input file of purpose ``batch``),
retrieve, list (newest first, paged by ``after``) and cancel. A batch belongs to an owner as files
do (a tenant, or a static key of the config); another owner's batch is the same 404 as a missing
one, on every route. The work happens off the request, in the batch worker (``sluice/batch``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.batch_lines import ENDPOINTS
from sluice.api.body import decode, read_body
from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.api.render import error_response
from sluice.auth.principal import owner
from sluice.errors import ConflictError, InvalidRequestError, NotFoundError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.store.protocols import Store
from sluice.store.records import BatchCaller, StoredBatch
from sluice.types import encoder

MAX_PAGE = 100
MAX_METADATA = 16
MAX_BODY_BYTES = 64 * 1024


class OutputExpiresAfter(msgspec.Struct, forbid_unknown_fields=True):
    anchor: Literal["created_at"]
    seconds: int


class BatchCreate(msgspec.Struct, forbid_unknown_fields=True):
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None = None
    output_expires_after: OutputExpiresAfter | None = None


_create_decoder = msgspec.json.Decoder(BatchCreate)


class _Counts(msgspec.Struct):
    total: int
    completed: int
    failed: int


class _InputDetails(msgspec.Struct):
    cached_tokens: int


class _OutputDetails(msgspec.Struct):
    reasoning_tokens: int


class _Usage(msgspec.Struct):
    input_tokens: int
    input_tokens_details: _InputDetails
    output_tokens: int
    output_tokens_details: _OutputDetails
    total_tokens: int


class _Errors(msgspec.Struct):
    data: list[dict[str, Any]]
    object: str = "list"


class OpenAIBatch(msgspec.Struct):
    id: str
    object: str
    endpoint: str
    model: str | None
    errors: _Errors | None
    input_file_id: str
    completion_window: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    in_progress_at: int | None
    expires_at: int
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    request_counts: _Counts
    usage: _Usage
    metadata: dict[str, str] | None


class BatchList(msgspec.Struct):
    data: list[OpenAIBatch]
    first_id: str | None
    last_id: str | None
    has_more: bool
    object: str = "list"


def wire(b: StoredBatch) -> OpenAIBatch:
    return OpenAIBatch(
        b.id,
        "batch",
        b.endpoint,
        b.model,
        None if b.errors is None else _Errors(b.errors),
        b.input_file_id,
        b.completion_window,
        b.status,
        b.output_file_id,
        b.error_file_id,
        b.created_at,
        b.in_progress_at,
        b.expires_at,
        b.finalizing_at,
        b.completed_at,
        b.failed_at,
        b.expired_at,
        b.cancelling_at,
        b.cancelled_at,
        _Counts(b.total, b.completed, b.failed),
        _Usage(
            b.input_tokens,
            _InputDetails(b.cached_tokens),
            b.output_tokens,
            _OutputDetails(0),
            b.input_tokens + b.output_tokens,
        ),
        b.metadata,
    )


def _new_id() -> str:
    """``batch_`` + the microsecond it was made + random: ids made in one second still list
    newest first (``created_at`` is whole seconds; the id breaks the tie)."""
    return f"batch_{time.time_ns() // 1000:014x}{os.urandom(5).hex()}"


def _not_found(batch_id: str) -> NotFoundError:
    return NotFoundError(f"No batch found with id '{batch_id}'.", param="batch_id", code="batch_not_found")


def _json(body: msgspec.Struct, ex: Exchange) -> Response:
    return Response(encoder.encode(body), 200, {"x-request-id": ex.request_id}, media_type="application/json")


def _check_metadata(metadata: dict[str, str] | None) -> None:
    if metadata is None:
        return
    if len(metadata) > MAX_METADATA:
        raise InvalidRequestError(f"metadata: at most {MAX_METADATA} pairs.", param="metadata")
    for k, v in metadata.items():
        if len(k) > 64:
            raise InvalidRequestError("metadata: keys of at most 64 characters.", param="metadata")
        if len(v) > 512:
            raise InvalidRequestError("metadata: values of at most 512 characters.", param="metadata")


class BatchRoutes:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        store: Store,
        observer: Observer,
        *,
        window_s: float,
        wake: Callable[[], None],
    ) -> None:
        self._authenticate = authenticate
        self._store = store
        self._window_s = window_s
        self._wake = wake
        self.observer = observer  # read by ``endpoint`` for model requests only: these are none

    async def _batch(self, request: Request) -> tuple[str, StoredBatch]:
        who = owner(await self._authenticate.principal(bearer(request)))
        batch_id = request.path_params["batch_id"]
        found = await self._store.get_batch(who, batch_id)
        if found is None or found.kind != "batch":  # a background request is no batch
            raise _not_found(batch_id)
        return who, found

    @endpoint(error_response)
    async def create(self, request: Request, ex: Exchange) -> Response:
        principal = await self._authenticate.principal(bearer(request))
        who = owner(principal)
        body = decode(await read_body(request, MAX_BODY_BYTES), _create_decoder)
        if body.endpoint not in ENDPOINTS:
            raise InvalidRequestError(
                f"endpoint: one of {', '.join(ENDPOINTS)} (the endpoints this gateway runs batches for).",
                param="endpoint",
            )
        if body.completion_window != "24h":
            raise InvalidRequestError(
                "completion_window: '24h' is the only window.", param="completion_window"
            )
        _check_metadata(body.metadata)
        oe = body.output_expires_after
        if oe is not None and not 3600 <= oe.seconds <= 2_592_000:
            raise InvalidRequestError(
                "output_expires_after.seconds: from 3600 (1 hour) to 2592000 (30 days).",
                param="output_expires_after.seconds",
            )
        file = await self._store.get_file(who, body.input_file_id)
        if file is None:
            raise NotFoundError(
                f"No such File object: {body.input_file_id}", param="input_file_id", code="file_not_found"
            )
        if file.purpose != "batch":
            raise InvalidRequestError(
                f"input_file_id: the file's purpose is '{file.purpose}'; a batch's input file must have purpose 'batch'.",
                param="input_file_id",
            )
        now = int(time.time())
        p = principal
        batch = StoredBatch(
            who,
            _new_id(),
            body.endpoint,
            file.id,
            body.completion_window,
            "validating",
            BatchCaller(p.key_name, p.tenant_id, p.user_id, p.key_id),
            now,
            now + int(self._window_s),
            metadata=body.metadata,
        )
        await self._store.create_batch(batch)
        self._wake()
        return _json(wire(batch), ex)

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        _, found = await self._batch(request)
        return _json(wire(found), ex)

    @endpoint(error_response)
    async def list(self, request: Request, ex: Exchange) -> Response:
        who = owner(await self._authenticate.principal(bearer(request)))
        q = request.query_params
        raw_limit = q.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
            raise InvalidRequestError(f"limit: an integer from 1 to {MAX_PAGE}.", param="limit")
        limit = int(raw_limit)
        after = q.get("after")
        if after is not None and await self._store.get_batch(who, after) is None:
            raise InvalidRequestError(f"after: no batch with id '{after}'.", param="after")
        found = await self._store.list_batches(who, after=after, limit=limit + 1)
        page = [wire(b) for b in found[:limit]]
        return _json(
            BatchList(page, page[0].id if page else None, page[-1].id if page else None, len(found) > limit),
            ex,
        )

    @endpoint(error_response)
    async def cancel(self, request: Request, ex: Exchange) -> Response:
        who, found = await self._batch(request)
        if found.status not in ("validating", "in_progress", "cancelling"):
            raise ConflictError(
                f"Cannot cancel a batch with status '{found.status}'.", code="batch_not_cancellable"
            )
        now = int(time.time())
        cancelled = await self._store.cancel_batch_run(who, found.id, now)
        if cancelled is None:
            raise _not_found(found.id)
        self._wake()
        return _json(wire(cancelled), ex)
