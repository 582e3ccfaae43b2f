"""Where a batch's work waits and how a worker takes it: ``BatchQueue``, the seam; ``StoreBatchQueue``,
the embedded one on the store's own rows (SQLite, or PostgreSQL): work is claimed with a lease,
so a process that dies leaves it to the next claim once the lease runs out. The distributed
deployment's is ``procrastinate_queue.ProcrastinateBatchQueue`` (docs/batches.md says why);
backend.py chooses. Results never go through the queue: they are the store's, written once per line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sluice.store.protocols import Store
from sluice.store.records import ClaimedLine, StoredBatch


class BatchQueue(Protocol):
    async def migrate(self) -> None:
        """The queue's own schema, where it has one (the gateway's migrate step; idempotent)."""
        ...

    async def open(self) -> None:
        """Before a worker takes work: connect, say this process is alive."""
        ...

    async def close(self) -> None:
        """After the worker stopped (its lines given back): hand back what is held, disconnect."""
        ...

    async def started(self, batch: StoredBatch) -> None:
        """A validated batch's lines are stored and it runs: queue them."""
        ...

    async def finished(self, line: ClaimedLine) -> None:
        """A line handed out by ``next_lines`` is over here (its result stored, or not)."""
        ...

    async def next_batch(self, now: float) -> StoredBatch | None:
        """A batch with work of its own, claimed: to validate (``validating``), or, once it
        takes no more lines, to write out (``ending`` set). None when there is none."""
        ...

    async def release_batch(self, claimed: StoredBatch) -> None:
        """Give a claimed batch back (its state moved meanwhile: cancelled while validated)."""
        ...

    async def next_lines(self, now: float, limit: int, busy: Mapping[str, int]) -> list[ClaimedLine]:
        """Up to ``limit`` lines to run, claimed, all of one owner's batch, never taking an owner
        past its concurrency (``busy``: the lines each owner has in flight here)."""
        ...

    async def release_lines(self, lines: Sequence[ClaimedLine]) -> None:
        """Give claimed lines back unrun (a shutdown), so another claim takes them at once."""
        ...


class StoreBatchQueue:
    def __init__(self, store: Store, lease_s: float, tenant_concurrency: int) -> None:
        self._store = store
        self._lease_s = lease_s
        self._per_owner = tenant_concurrency

    async def migrate(self) -> None:
        """The store's migrations hold the queue's tables."""

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def started(self, batch: StoredBatch) -> None:
        """The lines are rows of the store already: nothing to queue."""

    async def finished(self, line: ClaimedLine) -> None:
        pass

    async def next_batch(self, now: float) -> StoredBatch | None:
        await self._store.advance_batches(now)
        return await self._store.claim_batch(now, self._lease_s)

    async def release_batch(self, claimed: StoredBatch) -> None:
        await self._store.release_batch(claimed)

    async def next_lines(self, now: float, limit: int, busy: Mapping[str, int]) -> list[ClaimedLine]:
        full = [owner for owner, n in busy.items() if n >= self._per_owner]
        batch = await self._store.pending_batch(now, full)
        if batch is None:
            return []
        n = min(limit, self._per_owner - busy.get(batch.owner, 0))
        return await self._store.claim_lines(batch, now, self._lease_s, n)

    async def release_lines(self, lines: Sequence[ClaimedLine]) -> None:
        if lines:
            await self._store.release_lines(lines)
