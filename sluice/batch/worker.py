"""The batch worker: one asyncio task per gateway process, started in app.py's lifespan. It
validates new batches off the request path, runs their lines (each through the whole pipeline
as the batch's creator, by the surface's ``Run``) within the process's and each owner's
concurrency, and only while interactive traffic is light, then writes the result files. All its
work is claimed from a ``BatchQueue`` with a lease; each line's result is stored once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import msgspec

from sluice.batch import results
from sluice.batch.lines import Check, error, parse
from sluice.batch.native import NativeBatches
from sluice.batch.pacing import Pacer
from sluice.batch.queue import BatchQueue
from sluice.store.protocols import FileBlobs, Store
from sluice.store.records import ClaimedLine, LineResult, StoredBatch
from sluice.tasks import Loop

log = logging.getLogger("sluice.batch")

Run = Callable[[ClaimedLine], Awaitable[LineResult]]
"""Run one line through the pipeline as its batch's creator: its result (an error answer too)."""
Ended = Callable[[StoredBatch, str], Awaitable[None]]
"""A batch (or background job) reached its last status: ``completed``, ``failed``, ``expired`` or
``cancelled`` (its webhook events: ``sluice.batch.background.Events.ended``). Called before the
status is stored, so a crash in between calls it again (events are idempotent)."""

EXPIRED = LineResult(
    "failed",
    error_code="batch_expired",
    error_message="This request could not be executed before the completion window expired.",
)

CANCELLED = LineResult(
    "failed", error_code="cancelled", error_message="The batch was cancelled before this request ran."
)
"""An Anthropic Message Batch's lines never run when it ends cancelled (its results list them as
``canceled``; an OpenAI batch's are in neither file)."""


@dataclass(frozen=True, slots=True)
class BatchLimits:
    concurrency: int = 16
    yield_in_flight: int = 32
    attempts: int = 3
    poll_s: float = 1.0
    max_lines: int = 50_000
    max_input_bytes: int = 200 * 1024 * 1024
    lease_s: float = 900.0
    """A running line's lease is renewed once half of it is spent, so a slow line is never claimed twice."""
    yield_rate: float = 20.0
    """Lines started a second while interactive requests keep arriving (``pacing.py``; 0: no pacing)."""
    yield_quiet_s: float = 1.0


class BatchWorker:
    def __init__(
        self,
        queue: BatchQueue,
        store: Store,
        blobs: FileBlobs,
        check: Check,
        run: Run,
        limits: BatchLimits,
        *,
        interactive: Callable[[], int],
        started: Callable[[], int] = lambda: 0,
        native: NativeBatches | None = None,
        on_lines: Callable[[str, int], None] = lambda outcome, n: None,
        on_ended: Callable[[str], None] = lambda status: None,
        clock: Callable[[], float] = time.time,
        ended: Ended | None = None,
    ) -> None:
        """``interactive``: how many interactive requests are in flight in this process now;
        ``started``: how many it has started so far (lines are paced while that count moves);
        ``native``: the batches forwarded to a provider's own batch API (``native.py``);
        ``on_lines(outcome, n)``: ``n`` lines got their first result here (the metrics);
        ``on_ended(status)``: this process moved a batch to its last status."""
        self._queue, self._store, self._blobs = queue, store, blobs
        self._check, self._run_line = check, run
        self._limits = limits
        self._interactive, self._started = interactive, started
        self._pacer = Pacer(limits.yield_rate, limits.yield_quiet_s)
        self._paused = False
        self._on_lines, self._on_ended = on_lines, on_ended
        self._clock = clock
        self._native = native
        self._loop = Loop(self.run_once, name="batch-worker", wait_s=self._wait_s, log=log)
        self._lines: dict[asyncio.Task[None], ClaimedLine] = {}
        self._busy: dict[str, int] = {}
        self._open = False
        self._ended = ended
        self._stopping: set[asyncio.Task[None]] = set()

    def running(self) -> list[ClaimedLine]:
        """The lines in flight in this process."""
        return list(self._lines.values())

    def stop(self, batch_id: str) -> None:
        """Stop the lines of a cancelled background job running here: its result is the cancel's."""
        for task, line in self._lines.items():
            if line.batch_id == batch_id and task not in self._stopping:
                self._stopping.add(task)
                task.cancel()

    async def _tell(self, batch: StoredBatch, status: str) -> None:
        if self._ended is None:
            return
        try:
            await self._ended(batch, status)
        except Exception:  # the store away: the batch still ends; its event is lost
            log.exception("batch %s: %s not announced", batch.id, status)

    def wake(self) -> None:
        """New work: look now rather than at the next poll."""
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        """Stop: lines in flight are cancelled and given back, to run again at the next start."""
        await self._loop.stop()
        running = dict(self._lines)
        for t in running:
            t.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        try:
            await self._queue.release_lines(list(running.values()))
        except Exception:  # the store away: the leases run out instead
            log.exception("could not give back %d batch lines", len(running))
        if self._open:
            self._open = False
            try:
                await self._queue.close()
            except Exception:  # the database away: its jobs are handed back as stalled ones
                log.exception("could not close the batch queue")

    async def drain(self, timeout_s: float) -> None:
        """Take no new line, let those in flight finish for up to ``timeout_s`` (a SIGTERM);
        ``close`` gives back what is left."""
        await self._loop.stop()
        if self._lines:
            await asyncio.wait(list(self._lines), timeout=timeout_s)

    def _wait_s(self) -> float:
        """The poll; held back by the pacer, look again when it lets a line start."""
        if self._paused:
            return min(self._limits.poll_s, self._pacer.wait_s())
        return self._limits.poll_s

    async def run_once(self) -> bool:
        """One step: a batch validated or written out, or lines started; whether there was work."""
        if not self._open:
            await self._queue.open()
            self._open = True
        now = self._clock()
        batch = await self._queue.next_batch(now)
        if batch is not None:
            try:
                if batch.status == "validating":
                    await self._validate(batch)
                else:
                    await self._finish(batch)
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._queue.release_batch(batch)
                raise
            return True
        if self._native is not None and await self._native.step(now):  # forwarded batches: native.py
            return True
        return await self._start_lines(now)

    async def _start_lines(self, now: float) -> bool:
        started = self._paused = False
        limits = self._limits
        while len(self._lines) < limits.concurrency and self._interactive() < limits.yield_in_flight:
            room = self._pacer.grant(self._started(), limits.concurrency - len(self._lines))
            if not room:
                self._paused = True
                break
            lines = await self._queue.next_lines(now, room, self._busy)
            if not lines:
                self._pacer.unused()
                break
            for line in lines:
                self._busy[line.owner] = self._busy.get(line.owner, 0) + 1
                task = asyncio.create_task(self._line(line), name=f"batch-line-{line.id}")
                self._lines[task] = line
                task.add_done_callback(self._done)
            started = True
        return started

    def _done(self, task: asyncio.Task[None]) -> None:
        line = self._lines.pop(task)
        self._stopping.discard(task)
        left = self._busy[line.owner] - 1
        if left:
            self._busy[line.owner] = left
        else:
            del self._busy[line.owner]
        self._loop.wake()

    async def _line(self, line: ClaimedLine) -> None:
        try:
            if line.attempts > self._limits.attempts:
                result = LineResult(
                    "failed",
                    error_code="server_error",
                    error_message=f"The request did not finish in {self._limits.attempts} attempts.",
                )
            else:
                result = await self._renewing(line)
            if await self._store.finish_line(line, result):
                self._on_lines(result.status, 1)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is None or me not in self._stopping:
                raise
            self._stopping.discard(me)
            me.uncancel()  # stopped by ``stop``: the line is over, its claim let go below
        except Exception:  # kept running under its lease: claimed again once it runs out
            log.exception("batch line %s of %s failed", line.custom_id, line.batch_id)
        try:
            await self._queue.finished(line)
        except Exception:
            log.exception("batch queue: line %s of %s not marked over", line.custom_id, line.batch_id)

    async def _renewing(self, line: ClaimedLine) -> LineResult:
        """The line run, its lease renewed each time half of it is spent (``close`` gives back
        the line with its latest lease, kept in ``_lines``)."""
        me = asyncio.current_task()
        run = asyncio.ensure_future(self._run_line(line))
        lease_s = self._limits.lease_s
        renew_at = line.lease_until - lease_s / 2
        try:
            while True:
                done, _ = await asyncio.wait({run}, timeout=max(0.0, renew_at - self._clock()))
                if done:
                    return run.result()
                until = self._clock() + lease_s
                try:
                    held = (await self._store.renew_lines([line], until))[0]
                except Exception:  # the store away: try again soon
                    log.exception("batch line %s: lease not renewed", line.custom_id)
                    renew_at = self._clock() + lease_s / 8
                    continue
                if held:
                    line = msgspec.structs.replace(line, lease_until=until)
                    if me is not None and me in self._lines:
                        self._lines[me] = line
                # else claimed again meanwhile (this process stalled): its result is still written once
                renew_at = until - lease_s / 2
        finally:
            if not run.done():
                run.cancel()
                await asyncio.gather(run, return_exceptions=True)

    async def _validate(self, batch: StoredBatch) -> None:
        at = int(self._clock())
        if batch.attempts > self._limits.attempts:
            problems = [
                error("server_error", f"Validation did not finish in {self._limits.attempts} attempts.")
            ]
            if await self._store.fail_batch(batch, problems, at):
                await self._tell(batch, "failed")
            return
        meta = await self._store.get_file(batch.owner, batch.input_file_id)
        if meta is None:
            problems = [error("invalid_file", "The input file was deleted.", "input_file_id")]
        elif meta.bytes > self._limits.max_input_bytes:
            problems = [
                error(
                    "file_too_large",
                    f"The input file has {meta.bytes} bytes; a batch's may have {self._limits.max_input_bytes}.",
                    "input_file_id",
                )
            ]
        else:
            data = b"".join([p async for p in self._blobs.read_blob(batch.owner, batch.input_file_id)])
            parsed = await asyncio.to_thread(parse, data, batch.endpoint, self._check, self._limits.max_lines)
            problems = parsed.errors
            if not problems:
                if self._native is not None:  # forwarded to its provider: native.py
                    await self._native.prepare(batch, parsed.model)
                if not await self._store.start_batch(batch, parsed.lines, parsed.model, int(self._clock())):
                    await self._queue.release_batch(batch)  # cancelled meanwhile
                    return
                await self._queue.started(batch)
                return
        if await self._store.fail_batch(batch, problems, at):
            self._on_ended("failed")
            await self._tell(batch, "failed")
        else:
            await self._queue.release_batch(batch)

    async def _finish(self, batch: StoredBatch) -> None:
        assert batch.ending is not None
        if batch.ending == "expired":
            expired = await self._store.expire_lines(batch.id, EXPIRED)
            if expired:
                self._on_lines(EXPIRED.status, expired)
        elif batch.ending == "cancelled" and batch.kind == "anthropic":
            cancelled = await self._store.expire_lines(batch.id, CANCELLED)
            if cancelled:
                self._on_lines(CANCELLED.status, cancelled)
        out_id = err_id = None
        if batch.kind == "batch":  # a background job's result is its line's, read by its own route
            done = await self._store.batch_results(batch.id)
            output, errors = await asyncio.to_thread(results.encode, done)
            if output:
                out_id = await results.keep(self._store, self._blobs, batch.owner, batch.id, "output", output)
            if errors:
                err_id = await results.keep(self._store, self._blobs, batch.owner, batch.id, "error", errors)
        await self._tell(batch, batch.ending)
        if await self._store.end_batch(batch, batch.ending, out_id, err_id, int(self._clock())):
            self._on_ended(batch.ending)
