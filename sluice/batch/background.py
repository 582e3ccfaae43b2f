"""Background requests: a Responses API request with ``background: true``, or a chat completion
with ``sluice.background``, is a batch of kind ``background`` with one line, run by the batch
worker like any batch line (through the whole pipeline as its caller, durable across restarts,
charged once). This module is what the worker needs besides: the job's status as its client sees
it, the events a finished batch or job sends (``ended``, the worker's hook), and the watch that
stops a cancelled job running in this process."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from sluice.batch import webhooks
from sluice.store.protocols import Store
from sluice.store.records import BackgroundJob, ClaimedLine, StoredBatch
from sluice.tasks import Loop

log = logging.getLogger("sluice.batch")

RESPONSES = "/v1/responses"


class _Status(msgspec.Struct):
    status: str = "completed"


_status_decoder = msgspec.json.Decoder(_Status)


def job_status(job: BackgroundJob) -> str:
    """``queued``, ``in_progress``, ``completed``, ``failed``, ``cancelled`` or ``expired``; a
    response's ``incomplete`` too (its answer's own status)."""
    r = job.result
    if r is None:
        if job.batch.status in ("cancelling", "cancelled"):
            return "cancelled"
        return "in_progress" if job.line_status == "running" else "queued"
    if r.error_code == "cancelled":
        return "cancelled"
    if r.error_code == "batch_expired":
        return "expired"
    if r.status != "completed":
        return "failed"
    if job.batch.endpoint == RESPONSES and r.response:
        with contextlib.suppress(msgspec.DecodeError):
            return _status_decoder.decode(r.response).status
    return "completed"


def tenant_of(owner: str) -> str | None:
    """The tenant an owner is (``tenant:<id>``); a static key of the config has none."""
    return owner.removeprefix("tenant:") if owner.startswith("tenant:") else None


class Events:
    """Events into the outbox, the sender woken."""

    def __init__(
        self, store: Store, wake: Callable[[], None], clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._wake = wake
        self._clock = clock

    async def emit(self, owner: str, event_type: str, subject_id: str) -> None:
        tenant = tenant_of(owner)
        if tenant is None:
            return
        now = self._clock()
        event_id, payload = webhooks.event(event_type, subject_id, int(now))
        if await self._store.enqueue_event(tenant, event_id, event_type, payload, now):
            self._wake()

    async def ended(self, batch: StoredBatch, status: str) -> None:
        """``sluice.batch.worker.Ended``: the batch (or background job) reached ``status``
        (``completed``, ``failed``, ``expired``, ``cancelled``)."""
        if batch.kind == "anthropic":  # Anthropic's Message Batches have no webhooks
            return
        if batch.kind == "batch":
            event_type = f"batch.{status}"
        else:
            job = await self._store.get_job(batch.owner, batch.id)
            seen = status if job is None else job_status(job)
            if batch.endpoint == RESPONSES:
                seen = {"expired": "failed", "queued": "failed", "in_progress": "failed"}.get(seen, seen)
                event_type = f"response.{seen}"
            else:
                event_type = f"sluice.job.{seen}"
        if event_type in webhooks.EVENTS:
            await self.emit(batch.owner, event_type, batch.id)


class Running(Protocol):
    """What the watch needs of the batch worker."""

    def running(self) -> Sequence[ClaimedLine]: ...

    def stop(self, batch_id: str) -> None: ...


class CancelWatch:
    """Every ``poll_s``, while background jobs run in this process: those cancelled (by any
    replica) are stopped, so a cancelled job stops spending tokens."""

    def __init__(self, store: Store, worker: Running, poll_s: float) -> None:
        self._store = store
        self._worker = worker
        self._loop = Loop(
            self.run_once, name="background-cancel-watch", wait_s=lambda: poll_s, log=log, first_wait=True
        )

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> None:
        ids = sorted({x.batch_id for x in self._worker.running() if x.kind == "background"})
        for job_id in await self._store.cancelled_jobs(ids):
            self._worker.stop(job_id)
