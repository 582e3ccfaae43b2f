"""A batched writer: records queue in memory and reach the store in batches, one transaction
per batch, from one background task; the request path only appends. The request log's records
(``log_writer.RequestLogWriter``) and stored Responses (``api/responses/conversations.py``) go
this way.

The queue is bounded (``queue_max``). When it is full (the database has been down for a while)
the declared policy applies: ``drop`` counts the new record as dropped and moves on, ``wait``
makes the finishing request wait for room. A write the database is down for keeps its batch at
the head of the queue, retried with backoff; a batch refused for what is in it is written one
record at a time, and the records refused are dropped, counted and logged. ``close`` writes everything still queued before it returns,
so a clean shutdown loses nothing unless the database stays down past the deadline (then how
many records were lost is logged as an error). ``flush`` has what is queued written now, by the
background task, and returns once the queue is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Literal, TypeVar

from sluice.errors import StoreUnavailableError

log = logging.getLogger("sluice.store")

RETRY_MIN_S = 0.5
RETRY_MAX_S = 5.0

T = TypeVar("T")


class BatchWriter(Generic[T]):
    """``write`` stores one batch in one transaction (``StoreUnavailableError`` when the database
    is down); ``label`` names the writer in logs and ``ident`` a record."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[None]],
        *,
        label: str,
        ident: Callable[[T], str],
        queue_max: int,
        when_full: Literal["drop", "wait"],
        batch_max: int,
        flush_s: float,
        on_queue: Callable[[int], None] = lambda n: None,
        on_written: Callable[[int], None] = lambda n: None,
        on_dropped: Callable[[], None] = lambda: None,
        retry_min_s: float = RETRY_MIN_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self._write = write
        self._label = label
        self._ident = ident
        self._max = queue_max
        self._wait = when_full == "wait"
        self._batch_max = batch_max
        self._flush_s = flush_s
        self._on_queue = on_queue
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._queue: deque[T] = deque()
        self._ready = asyncio.Event()
        """Set when a batch is full, or a record has waited ``flush_s``."""
        self._room = asyncio.Event()
        self._flushing = False
        self._empty = asyncio.Event()
        """Set when a write leaves the queue empty (cleared by ``flush``, which waits for it)."""
        self._closing = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"{self._label}-writer")

    async def put(self, record: T) -> None:
        """Queue one record (returns at once unless the queue is full and the policy is wait)."""
        while len(self._queue) >= self._max:
            if not self._wait or self._closing:
                self.dropped += 1
                self._on_dropped()
                return
            self._room.clear()
            await self._room.wait()
        self._queue.append(record)
        n = len(self._queue)
        self._on_queue(n)
        if n >= self._batch_max:
            self._ready.set()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._flush_s, self._ready.set)

    async def _loop(self) -> None:
        backoff = self._retry_min_s
        while not self._closing:
            await self._ready.wait()
            if self._closing:
                return
            try:
                await self._write_batch()
                backoff = self._retry_min_s
            except StoreUnavailableError as e:
                log.warning(
                    "%s: %s; retrying in %.1fs (%d records queued)",
                    self._label,
                    e.message,
                    backoff,
                    len(self._queue),
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff):
                        await self._stop.wait()
                backoff = min(backoff * 2, self._retry_max_s)
                self._ready.set()

    async def _write_batch(self) -> None:
        """Write up to ``batch_max`` records from the head of the queue; they leave it only once
        stored. Re-arms the trigger for what is left."""
        self._ready.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        q = self._queue
        batch = [q[i] for i in range(min(len(q), self._batch_max))]
        if not batch:
            return
        try:
            await self._write(batch)
            written = len(batch)
        except StoreUnavailableError:
            raise  # the database is down: the batch stays queued and is retried
        except Exception:
            written = await self._one_by_one(batch)
        for _ in batch:
            q.popleft()
        self._on_written(written)
        self._on_queue(len(q))
        self._room.set()
        if not q:
            self._flushing = False
            self._empty.set()
        elif len(q) >= self._batch_max or self._flushing:
            self._ready.set()
        else:
            self._timer = asyncio.get_running_loop().call_later(self._flush_s, self._ready.set)

    async def _one_by_one(self, batch: list[T]) -> int:
        """A batch the database refused for what is in it (not an outage): store its records
        one at a time and drop, counted and logged, those it refuses, so one bad record can
        never hold up the queue."""
        written = 0
        for r in batch:
            try:
                await self._write([r])
                written += 1
            except StoreUnavailableError:
                raise
            except Exception:
                log.exception("%s: record %s refused by the database; dropped", self._label, self._ident(r))
                self.dropped += 1
                self._on_dropped()
        return written

    async def flush(self) -> None:
        """Have the background task write everything queued now, without waiting ``flush_s``, and
        return once the queue is empty (while the database is down, once it is back: bound the wait
        with a timeout). Needs a started writer; records put meanwhile are written too."""
        if not self._queue:
            return
        self._flushing = True
        self._empty.clear()
        self._ready.set()
        await self._empty.wait()

    async def close(self, deadline_s: float = 10.0) -> None:
        """Stop the loop (never mid-write) and write what is queued, retrying until the deadline."""
        self._closing = True
        self._stop.set()
        self._ready.set()
        self._room.set()
        if self._task is not None:
            await self._task
            self._task = None
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        while self._queue:
            try:
                await self._write_batch()
            except StoreUnavailableError as e:
                if loop.time() >= end:
                    log.error("%s: %d records lost at shutdown: %s", self._label, len(self._queue), e.message)
                    return
                await asyncio.sleep(min(self._retry_min_s, max(0.0, end - loop.time())))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
