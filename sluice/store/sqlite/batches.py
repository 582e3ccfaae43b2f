"""Batches' part of ``SqliteStore``: ``batches`` and ``batch_lines`` (also the embedded batch
queue: claims run in a ``BEGIN IMMEDIATE`` transaction on the writer connection, so one process
at a time takes a row). Every client lookup names the owner."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Protocol

import aiosqlite

from sluice.store.batch_rows import (
    ADVANCE,
    BATCH,
    BATCH_PARAMS,
    CLAIM_LAPSED,
    CLAIM_PENDING,
    CLAIMABLE,
    COUNTS,
    DELETE_BATCH,
    END_AT,
    FINISH_LINE,
    LINE,
    LOG_ROW,
    NEW_LINE,
    OPEN_IN,
    PENDING,
    PENDING_ORDER,
    QUEUE_STATS,
    RENEW,
    RESULTS,
    TAKING,
    batch_row,
    batch_values,
    claimed_line,
    encode_json,
    finished_line,
    list_sql,
    log_values,
    queue_stats,
    result_values,
)
from sluice.store.native_rows import COUNTS as NATIVE_COUNTS
from sluice.store.records import (
    BatchQueueStats,
    ClaimedLine,
    FinishedLine,
    LineResult,
    NewBatchLine,
    StoredBatch,
)

_CLAIM_PENDING = CLAIM_PENDING.format(line=LINE, taking=TAKING)
_CLAIM_LAPSED = CLAIM_LAPSED.format(line=LINE, taking=TAKING)


class _Connections(Protocol):
    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    async def _write(self, sql: str, args: Iterable[Any] = ()) -> int: ...

    def _errors(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def writer(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]: ...


@contextlib.asynccontextmanager
async def _transaction(store: _Connections) -> AsyncIterator[aiosqlite.Connection]:
    async with store.writer() as db, store._errors():
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise


async def _with_counts(store: _Connections, rows: list[sqlite3.Row]) -> list[StoredBatch]:
    out = []
    for r in rows:
        counts = list((await store._all(COUNTS, (r["id"],)))[0])
        for native in await store._all(NATIVE_COUNTS, (r["id"],)):  # forwarded: the upstream's counts
            counts[0] += native["completed"]
            counts[1] += native["failed"]
        out.append(batch_row(r, tuple(counts)))
    return out


class SqliteBatches:
    async def create_batch(
        self: _Connections, batch: StoredBatch, lines: Sequence[NewBatchLine] = ()
    ) -> None:
        async with _transaction(self) as db:
            await db.execute(f"INSERT INTO batches ({BATCH}) VALUES ({BATCH_PARAMS})", batch_values(batch))
            await db.executemany(NEW_LINE, [(batch.id, x.custom_id, x.line_no, x.id, x.body) for x in lines])

    async def get_batch(self: _Connections, owner: str, batch_id: str) -> StoredBatch | None:
        rows = await self._all(f"SELECT {BATCH} FROM batches WHERE owner = ? AND id = ?", (owner, batch_id))
        found = await _with_counts(self, rows)
        return found[0] if found else None

    async def list_batches(
        self: _Connections,
        owner: str,
        *,
        after: str | None,
        limit: int,
        kind: str = "batch",
        before: str | None = None,
    ) -> list[StoredBatch]:
        sql, args = list_sql(owner, after, limit, kind, before)
        rows = await self._all(sql, args)
        return await _with_counts(self, rows if before is None or after is not None else rows[::-1])

    async def delete_batch(self: _Connections, owner: str, batch_id: str) -> bool:
        async with _transaction(self) as db:
            cur = await db.execute(DELETE_BATCH, (owner, batch_id))
            if cur.rowcount <= 0:
                return False
            await db.execute("DELETE FROM batch_lines WHERE batch_id = ?", (batch_id,))
        return True

    async def cancel_batch_run(self: _Connections, owner: str, batch_id: str, at: int) -> StoredBatch | None:
        await self._write(
            "UPDATE batches SET status = 'cancelling', cancelling_at = ? WHERE owner = ? AND id = ?"
            " AND status IN ('validating', 'in_progress')",
            (at, owner, batch_id),
        )
        rows = await self._all(f"SELECT {BATCH} FROM batches WHERE owner = ? AND id = ?", (owner, batch_id))
        found = await _with_counts(self, rows)
        return found[0] if found else None

    async def claim_batch(self: _Connections, now: float, lease_s: float) -> StoredBatch | None:
        if not await self._all(CLAIMABLE, (now, now)):  # a read first: an idle poll takes no write lock
            return None
        async with _transaction(self) as db:
            rows = list(await db.execute_fetchall(CLAIMABLE, (now, now)))
            if not rows:
                return None
            await db.execute(
                "UPDATE batches SET attempts = attempts + 1, lease_until = ? WHERE id = ?",
                (now + lease_s, rows[0]["id"]),
            )
            fresh = list(
                await db.execute_fetchall(f"SELECT {BATCH} FROM batches WHERE id = ?", (rows[0]["id"],))
            )
        return batch_row(fresh[0])

    async def release_batch(self: _Connections, claimed: StoredBatch) -> None:
        await self._write(
            "UPDATE batches SET lease_until = NULL WHERE id = ? AND lease_until = ?",
            (claimed.id, claimed.lease_until),
        )

    async def start_batch(
        self: _Connections, claimed: StoredBatch, lines: Sequence[NewBatchLine], model: str | None, at: int
    ) -> bool:
        async with _transaction(self) as db:
            cur = await db.execute(
                "UPDATE batches SET status = 'in_progress', in_progress_at = ?, model = ?, total = ?,"
                " lease_until = NULL WHERE id = ? AND status = 'validating' AND lease_until = ?",
                (at, model, len(lines), claimed.id, claimed.lease_until),
            )
            if cur.rowcount == 0:
                return False
            await db.executemany(
                NEW_LINE, [(claimed.id, x.custom_id, x.line_no, x.id, x.body) for x in lines]
            )
        return True

    async def fail_batch(
        self: _Connections, claimed: StoredBatch, errors: list[dict[str, Any]], at: int
    ) -> bool:
        return (
            await self._write(
                "UPDATE batches SET status = 'failed', failed_at = ?, errors = ?, lease_until = NULL"
                " WHERE id = ? AND status = 'validating' AND lease_until = ?",
                (at, encode_json(errors), claimed.id, claimed.lease_until),
            )
            > 0
        )

    async def advance_batches(self: _Connections, now: float) -> None:
        at = int(now)
        for sql, args in zip(ADVANCE, ((at,), (at,), (at, now), (now,)), strict=True):
            await self._write(sql, args)

    async def pending_batch(self: _Connections, now: float, skip_owners: Sequence[str]) -> StoredBatch | None:
        sql = PENDING
        args: list[Any] = [int(now), now]
        if skip_owners:
            sql += f" AND owner NOT IN ({', '.join('?' for _ in skip_owners)})"
            args += skip_owners
        rows = await self._all(sql + PENDING_ORDER, args)
        return batch_row(rows[0]) if rows else None

    async def claim_lines(
        self: _Connections,
        batch: StoredBatch,
        now: float,
        lease_s: float,
        limit: int,
        within: tuple[int, int] | None = None,
    ) -> list[ClaimedLine]:
        until = now + lease_s
        first, last = within or (0, 2**62)
        async with _transaction(self) as db:
            rows = list(await db.execute_fetchall(_CLAIM_PENDING, (batch.id, first, last, limit)))
            if len(rows) < limit:  # lines of a process whose lease ran out (it died): rare
                lapsed = await db.execute_fetchall(_CLAIM_LAPSED, (batch.id, now, first, last, limit))
                rows = sorted([*rows, *lapsed], key=lambda r: r["line_no"])[:limit]
            await db.executemany(
                "UPDATE batch_lines SET status = 'running', attempts = attempts + 1, lease_until = ?"
                " WHERE batch_id = ? AND custom_id = ?",
                [(until, batch.id, r["custom_id"]) for r in rows],
            )
        return [claimed_line(batch, r, until) for r in rows]

    async def release_lines(self: _Connections, lines: Sequence[ClaimedLine]) -> None:
        async with _transaction(self) as db:
            await db.executemany(
                "UPDATE batch_lines SET status = 'pending', lease_until = NULL WHERE batch_id = ?"
                " AND custom_id = ? AND status = 'running' AND lease_until = ?",
                [(x.batch_id, x.custom_id, x.lease_until) for x in lines],
            )

    async def finish_line(self: _Connections, line: ClaimedLine, result: LineResult) -> bool:
        row = log_values(result)
        async with _transaction(self) as db:
            cur = await db.execute(FINISH_LINE, result_values(line, result))
            if cur.rowcount <= 0:
                return False
            if row is not None:
                await db.execute(LOG_ROW, row)
        return True

    async def renew_lines(self: _Connections, lines: Sequence[ClaimedLine], until: float) -> list[bool]:
        held = []
        async with _transaction(self) as db:
            for x in lines:
                cur = await db.execute(RENEW, (until, x.batch_id, x.custom_id, x.lease_until))
                held.append(cur.rowcount > 0)
        return held

    async def open_lines(
        self: _Connections, batch_id: str, first: int, last: int
    ) -> tuple[int, float | None]:
        row = (await self._all(OPEN_IN, (batch_id, first, last)))[0]
        return int(row[0]), row[1]

    async def expire_lines(self: _Connections, batch_id: str, result: LineResult) -> int:
        return await self._write(
            "UPDATE batch_lines SET status = ?, lease_until = NULL, error_code = ?, error_message = ?"
            " WHERE batch_id = ? AND status IN ('pending', 'running')",
            (result.status, result.error_code, result.error_message, batch_id),
        )

    async def batch_results(self: _Connections, batch_id: str) -> list[FinishedLine]:
        return [finished_line(r) for r in await self._all(RESULTS, (batch_id,))]

    async def end_batch(
        self: _Connections,
        claimed: StoredBatch,
        status: str,
        output_file_id: str | None,
        error_file_id: str | None,
        at: int,
    ) -> bool:
        changed = await self._write(
            f"UPDATE batches SET status = ?, {END_AT[status]} = ?, output_file_id = ?, error_file_id = ?,"
            " lease_until = NULL WHERE id = ? AND lease_until = ?",
            (status, at, output_file_id, error_file_id, claimed.id, claimed.lease_until),
        )
        return changed > 0

    async def batch_queue_stats(self: _Connections) -> BatchQueueStats:
        return queue_stats([tuple(r) for r in await self._all(QUEUE_STATS)])
