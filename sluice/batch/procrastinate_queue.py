"""The distributed deployment's batch queue, on procrastinate (PostgreSQL): the lines of a batch
that starts running become jobs, one per slice of ``SLICE_LINES`` lines, in procrastinate's own
tables beside the store's. A worker takes a job with procrastinate's fetch (a locked row, marked
``doing`` under this process's registered worker id, kept alive by its heartbeat), runs the slice's
lines through the ``BatchWorker`` (its per-process and per-owner caps, its yield to interactive
traffic), and finishes the job once every line of the slice has its result. A job of a process
that stopped heartbeating (SIGKILL, a lost host) is a stalled job: the next process to look hands
it back with procrastinate's ``get_stalled_jobs`` and ``retry_job``, and whoever takes it runs the
slice's lines that have no result yet. Jobs carry the owner as their procrastinate ``lock``: one
slice of an owner runs at a time in the whole deployment, so one owner's batch cannot fill every
worker, and the owner's ``tenant_concurrency`` holds deployment-wide.

Batch-level work (validating, writing the files) stays claimed from the store's rows
(``StoreBatchQueue``'s way); results are the store's, written once per line, whatever the queue.
docs/batches.md says why procrastinate and why slices."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from procrastinate import PsycopgConnector
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager
from procrastinate.schema import SchemaManager
from psycopg_pool import AsyncConnectionPool

from sluice.store.protocols import Store
from sluice.store.records import ClaimedLine, StoredBatch

log = logging.getLogger("sluice.batch")

QUEUE = "sluice-batches"
TASK = "sluice.batch.slice"
SLICE_LINES = 64
"""Lines per job: a job per line would be 50,000 rows and fetches for a full batch; a slice is
one fetch for many lines, and a crash hands back at most a slice, of which only the lines without
a result run again."""
_SCHEMA_LOCK = 0x5C0BA7C4
"""The advisory lock under which procrastinate's schema is applied (replicas starting at once)."""
_DEFER_LOCK = 0x5C0BA7C5
"""The advisory lock under which a batch's jobs are deferred (never twice for one batch)."""

_UNQUEUED = f"""
SELECT b.owner, b.id, b.kind FROM batches b
 WHERE b.status = 'in_progress' AND b.ending IS NULL AND (%(batch)s::text IS NULL OR b.id = %(batch)s)
   AND EXISTS (SELECT 1 FROM batch_lines l WHERE l.batch_id = b.id AND l.status IN ('pending', 'running'))
   AND NOT EXISTS (SELECT 1 FROM batch_native n WHERE n.batch_id = b.id)
   AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.queue_name = '{QUEUE}'
                   AND j.status IN ('todo', 'doing') AND j.args->>'batch_id' = b.id)
"""
"""Running batches with lines to run here (not forwarded to their provider) and no job: just
started, or their process died before it deferred them."""
_OPEN = "SELECT line_no FROM batch_lines WHERE batch_id = %s AND status IN ('pending', 'running') ORDER BY line_no"


@dataclass(slots=True)
class _Slice:
    job: Job
    batch: StoredBatch
    first: int
    last: int
    running: int = 0


_CONNECT_S = 5.0
"""How long the schema step waits for a connection before giving up (and trying again later)."""


class ProcrastinateBatchQueue:
    def __init__(
        self,
        store: Store,
        dsn: str,
        *,
        lease_s: float,
        tenant_concurrency: int,
        hold: int,
        heartbeat_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``hold``: most slices this process holds at once; ``heartbeat_s``: how often it says it
        is alive (a process silent for three of them is taken for dead, its jobs handed back)."""
        self._store = store
        self._dsn = dsn
        self._connector = PsycopgConnector()
        self._migrated = False
        self._jobs = JobManager(self._connector)
        self._lease_s = lease_s
        self._per_owner = tenant_concurrency
        self._hold = hold
        self._heartbeat_s = heartbeat_s
        self._clock = clock
        self._opened = False
        self._worker_id: int | None = None
        self._beat: asyncio.Task[None] | None = None
        self._held: dict[int, _Slice] = {}
        self._look_at = 0.0

    async def _open_pool(self) -> None:
        """The pool opened without waiting for a connection: a database down at startup must
        not hold the gateway's startup (it serves degraded, and the worker tries again)."""
        if not self._opened:
            pool = AsyncConnectionPool(
                self._dsn,
                min_size=1,
                max_size=4,
                open=False,
                check=AsyncConnectionPool.check_connection,
            )
            await pool.open(wait=False)
            await self._connector.open_async(pool)
            self._opened = True

    async def migrate(self) -> None:
        """procrastinate's schema, once: under an advisory lock, applied only where it is missing
        (its tables are left alone when present; a procrastinate upgrade brings its migrations).
        Waits at most ``_CONNECT_S`` for a connection; ``open`` tries again until it is done."""
        await self._open_pool()
        async with self._connector.pool.connection(timeout=_CONNECT_S) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            row = await (await conn.execute("SELECT to_regclass('procrastinate_jobs')")).fetchone()
            if row is None or row[0] is None:
                await conn.execute(SchemaManager.get_schema())
                log.info("procrastinate schema applied")
        self._migrated = True

    async def open(self) -> None:
        await self._open_pool()
        if not self._migrated:  # the database was away at startup
            await self.migrate()
        self._worker_id = await self._jobs.register_worker()
        self._beat = asyncio.create_task(self._heartbeat(), name="batch-queue-heartbeat")

    async def close(self) -> None:
        """Hand back the slices held (their lines given back by the worker), say goodbye."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None
        try:
            for s in list(self._held.values()):
                await self._jobs.retry_job(s.job)
            self._held.clear()
            if self._worker_id is not None:
                await self._jobs.unregister_worker(self._worker_id)
                self._worker_id = None
        finally:
            if self._opened:
                await self._connector.close_async()
                self._opened = False

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                assert self._worker_id is not None
                await self._jobs.update_heartbeat(self._worker_id)
            except Exception:  # the database away: the next beat tries again
                log.exception("batch queue heartbeat failed")

    async def started(self, batch: StoredBatch) -> None:
        await self._defer(batch.id)

    async def _defer(self, batch_id: str | None) -> None:
        """Jobs for the running batches that have none (one, or all), in one transaction under
        an advisory lock, so two processes never defer one batch's jobs twice."""
        async with self._connector.pool.connection() as conn, conn.transaction():
            got = await (
                await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (_DEFER_LOCK,))
            ).fetchone()
            if got is None or not got[0]:
                return  # another process is deferring; it sees the same batches
            batches = await (await conn.execute(_UNQUEUED, {"batch": batch_id})).fetchall()
            for owner, bid, kind in batches:
                numbers = [r[0] for r in await (await conn.execute(_OPEN, (bid,))).fetchall()]
                jobs = [
                    Job(
                        queue=QUEUE,
                        # A background request (one line) takes no owner's lock and goes first: it
                        # waits behind no batch of its owner's.
                        lock=owner if kind == "batch" else None,
                        priority=0 if kind == "batch" else 10,
                        queueing_lock=None,
                        task_name=TASK,
                        task_kwargs={
                            "owner": owner,
                            "batch_id": bid,
                            "first": part[0],
                            "last": part[-1],
                        },
                    )
                    for part in (numbers[i : i + SLICE_LINES] for i in range(0, len(numbers), SLICE_LINES))
                ]
                await self._jobs.batch_defer_jobs_async(jobs, connection=conn)
                log.info("batch %s queued: %d lines in %d jobs", bid, len(numbers), len(jobs))

    async def _look_after(self, now: float) -> None:
        """Every heartbeat: the jobs of processes gone silent handed back, and any running batch
        without jobs given some."""
        if now < self._look_at:
            return
        self._look_at = now + self._heartbeat_s
        for job in await self._jobs.get_stalled_jobs(
            queue=QUEUE, seconds_since_heartbeat=self._heartbeat_s * 3
        ):
            if job.id not in self._held:
                log.warning("batch job %s of a stalled worker handed back", job.id)
                await self._jobs.retry_job(job)
        await self._jobs.prune_stalled_workers(self._heartbeat_s * 3)
        await self._defer(None)

    async def next_batch(self, now: float) -> StoredBatch | None:
        await self._store.advance_batches(now)
        if self._worker_id is not None:
            await self._look_after(now)
        return await self._store.claim_batch(now, self._lease_s)

    async def release_batch(self, claimed: StoredBatch) -> None:
        await self._store.release_batch(claimed)

    async def next_lines(self, now: float, limit: int, busy: Mapping[str, int]) -> list[ClaimedLine]:
        for s in list(self._held.values()):
            lines = await self._claim(s, now, limit, busy)
            if lines:
                return lines
        while len(self._held) < self._hold and self._worker_id is not None:
            job = await self._jobs.fetch_job([QUEUE], self._worker_id)
            if job is None:
                return []
            assert job.id is not None
            args = job.task_kwargs
            batch = await self._store.get_batch(str(args["owner"]), str(args["batch_id"]))
            if batch is None:  # deleted with its owner
                await self._jobs.finish_job(job, Status.SUCCEEDED, delete_job=True)
                continue
            s = self._held[job.id] = _Slice(job, batch, int(str(args["first"])), int(str(args["last"])))
            lines = await self._claim(s, now, limit, busy)
            if lines:
                return lines
        return []

    async def _claim(self, s: _Slice, now: float, limit: int, busy: Mapping[str, int]) -> list[ClaimedLine]:
        room = min(limit, self._per_owner - busy.get(s.batch.owner, 0))
        if room <= 0:
            return []
        lines = await self._store.claim_lines(s.batch, now, self._lease_s, room, within=(s.first, s.last))
        s.running += len(lines)
        if not lines and s.running == 0:
            await self._settle(s, now)
        return lines

    async def _settle(self, s: _Slice, now: float) -> None:
        """A held slice with nothing to claim and nothing running here: done (every line has its
        result, or its batch takes no more), or handed back for when the leases of the lines
        another claim holds run out."""
        del self._held[s.job.id]  # type: ignore[arg-type]  # fetched jobs have ids
        left, lease = await self._store.open_lines(s.batch.id, s.first, s.last)
        batch = await self._store.get_batch(s.batch.owner, s.batch.id) if left else None
        if (
            batch is None
            or batch.status != "in_progress"
            or batch.ending is not None
            or batch.expires_at <= now
        ):
            await self._jobs.finish_job(s.job, Status.SUCCEEDED, delete_job=True)
            return
        at = max(now, lease or now)
        await self._jobs.retry_job(s.job, retry_at=dt.datetime.fromtimestamp(at, dt.UTC))

    async def finished(self, line: ClaimedLine) -> None:
        for s in self._held.values():
            if s.batch.id == line.batch_id and s.first <= line.line_no <= s.last:
                s.running -= 1
                return

    async def release_lines(self, lines: Sequence[ClaimedLine]) -> None:
        if lines:
            await self._store.release_lines(lines)
