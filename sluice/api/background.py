"""Background requests' HTTP edge: a request submitted as a job (a batch of kind ``background``
with one line, run by the batch worker through the whole pipeline as its caller), and
``/v1/sluice/jobs/{id}`` for chat completions sent with ``"sluice": {"background": true}``: 202 with
the job, then ``GET`` to poll (the chat completion in ``response.body`` once done) and ``POST
.../cancel``. Jobs belong to their owner as batches do: another owner's id is the same 404 as a
missing one. The Responses API's ``background: true`` uses ``submit`` too (responses/routes.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from sluice.api.context import bearer
from sluice.api.endpoint import endpoint
from sluice.api.render import error_response
from sluice.auth.principal import Principal, owner
from sluice.batch.background import job_status
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.pipeline.authenticate import AuthenticateStage
from sluice.pipeline.observe import Exchange, Observer
from sluice.pipeline.validate import check_request
from sluice.store.protocols import Store
from sluice.store.records import BackgroundJob, BatchCaller, NewBatchLine, StoredBatch
from sluice.types import ChatRequest, encoder

CHAT = "/v1/chat/completions"


class JobResponse(msgspec.Struct):
    status_code: int
    request_id: str | None
    body: msgspec.Raw


class JobError(msgspec.Struct):
    code: str | None
    message: str | None


class JobObject(msgspec.Struct):
    id: str
    status: str
    """``queued``, ``in_progress``, ``completed``, ``failed``, ``cancelled``, ``expired``."""
    created_at: int
    endpoint: str
    model: str | None
    expires_at: int
    completed_at: int | None
    response: JobResponse | None
    """The answer (or the surface's error JSON with its status) once the request ran."""
    error: JobError | None
    """Why it never ran (cancelled, expired)."""
    object: str = "sluice.job"


def job_object(job: BackgroundJob) -> JobObject:
    b, r = job.batch, job.result
    response = error = None
    if r is not None and r.status_code is not None:
        response = JobResponse(r.status_code, r.request_id, msgspec.Raw((r.response or "null").encode()))
    elif r is not None:
        error = JobError(r.error_code, r.error_message)
    return JobObject(
        b.id,
        job_status(job),
        b.created_at,
        b.endpoint,
        b.model,
        b.expires_at,
        b.completed_at or b.cancelled_at or b.expired_at,
        response,
        error,
    )


def _not_found(job_id: str) -> NotFoundError:
    return NotFoundError(f"No job found with id '{job_id}'.", param="job_id", code="job_not_found")


class BackgroundJobs:
    def __init__(
        self,
        authenticate: AuthenticateStage,
        store: Store,
        observer: Observer,
        *,
        window_s: float,
        submitted: Callable[[StoredBatch], Awaitable[None]],
    ) -> None:
        """``submitted``: a job was stored (the worker woken, the queue told)."""
        self._authenticate = authenticate
        self._store = store
        self._window_s = window_s
        self._submitted = submitted
        self.observer = observer  # read by ``endpoint`` for model requests only: these are none

    @property
    def store(self) -> Store:
        return self._store

    async def submit(
        self, principal: Principal, endpoint: str, job_id: str, body: bytes, model: str, created_at: int
    ) -> StoredBatch:
        """Store the request as a job of ``principal``'s, to run as them. The line's ``custom_id``
        is the job's ``created_at`` (a response object carries it)."""
        p = principal
        batch = StoredBatch(
            owner(p),
            job_id,
            endpoint,
            "",
            "background",
            "in_progress",
            BatchCaller(p.key_name, p.tenant_id, p.user_id, p.key_id),
            created_at,
            created_at + int(self._window_s),
            model=model,
            in_progress_at=created_at,
            total=1,
            kind="background",
        )
        await self._store.create_job(batch, NewBatchLine(str(created_at), 1, job_id, body.decode()))
        await self._submitted(batch)
        return batch

    async def chat(self, request: Request, body: bytes, chat: ChatRequest) -> Response:
        """A chat completion with ``sluice.background``: checked as the route would, then a job."""
        if chat.stream:
            raise InvalidRequestError(
                "stream: a background request is not streamed; poll GET /v1/sluice/jobs/{id}.", param="stream"
            )
        check_request(chat)
        principal = await self._authenticate.principal(bearer(request))
        now = int(time.time())
        job_id = f"job_{time.time_ns() // 1000:014x}{os.urandom(8).hex()}"
        batch = await self.submit(principal, CHAT, job_id, body, chat.model, now)
        job = BackgroundJob(batch, "pending", body.decode())
        return Response(
            encoder.encode(job_object(job)), 202, {"x-request-id": job_id}, media_type="application/json"
        )

    async def _job(self, request: Request) -> tuple[str, BackgroundJob]:
        who = owner(await self._authenticate.principal(bearer(request)))
        job_id = request.path_params["job_id"]
        found = await self._store.get_job(who, job_id)
        if found is None or found.batch.endpoint != CHAT:
            raise _not_found(job_id)
        return who, found

    @endpoint(error_response)
    async def retrieve(self, request: Request, ex: Exchange) -> Response:
        _, job = await self._job(request)
        return _json(job_object(job), ex)

    @endpoint(error_response)
    async def cancel(self, request: Request, ex: Exchange) -> Response:
        """Cancel a queued or running job (a running one stops within the worker's poll); one
        that finished is answered as it is (cancelling is idempotent, as OpenAI's is)."""
        who, job = await self._job(request)
        if job.result is None and await self._store.cancel_job(who, job.batch.id, int(time.time())):
            job = await self._store.get_job(who, job.batch.id) or job
        return _json(job_object(job), ex)


def _json(body: msgspec.Struct, ex: Exchange) -> Response:
    return Response(encoder.encode(body), 200, {"x-request-id": ex.request_id}, media_type="application/json")
