"""Batches' part of ``PostgresStore``: ``batches`` and ``batch_lines`` (also the embedded batch
queue: a claim takes rows ``FOR UPDATE SKIP LOCKED``, so two replicas never take the same one).
Every client lookup names the owner."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from asyncpg.pool import PoolConnectionProxy

from sluice.store.batch_rows import (
    ADVANCE,
    BATCH,
    BATCH_PARAMS,
    CLAIMABLE,
    COUNTS,
    DELETE_BATCH,
    END_AT,
    FINISH_LINE,
    LINE,
    LOG_ROW,
    OPEN_IN,
    OPEN_LINES,
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
    numbered,
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


class _Connections(Protocol):
    def _conn(self) -> contextlib.AbstractAsyncContextManager[PoolConnectionProxy]: ...

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...


def _changed(status: str) -> bool:
    return not status.endswith(" 0")


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def _with_counts(conn: PoolConnectionProxy, rows: list[Any]) -> list[StoredBatch]:
    out = []
    for r in rows:
        counts = list((await conn.fetch(numbered(COUNTS), r["id"]))[0])
        for native in await conn.fetch(numbered(NATIVE_COUNTS), r["id"]):  # forwarded: the upstream's counts
            counts[0] += native["completed"]
            counts[1] += native["failed"]
        out.append(batch_row(r, tuple(counts)))
    return out


class PostgresBatches:
    async def create_batch(
        self: _Connections, batch: StoredBatch, lines: Sequence[NewBatchLine] = ()
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                numbered(f"INSERT INTO batches ({BATCH}) VALUES ({BATCH_PARAMS})"), *batch_values(batch)
            )
            if lines:
                await conn.copy_records_to_table(
                    "batch_lines",
                    records=[(batch.id, x.custom_id, x.line_no, x.id, x.body, "pending") for x in lines],
                    columns=["batch_id", "custom_id", "line_no", "id", "body", "status"],
                )

    async def get_batch(self: _Connections, owner: str, batch_id: str) -> StoredBatch | None:
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {BATCH} FROM batches WHERE owner = $1 AND id = $2", owner, batch_id
            )
            found = await _with_counts(conn, rows)
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
        async with self._conn() as conn:
            rows = await conn.fetch(numbered(sql), *args)
            return await _with_counts(conn, rows if before is None or after is not None else rows[::-1])

    async def delete_batch(self: _Connections, owner: str, batch_id: str) -> bool:
        async with self._conn() as conn, conn.transaction():
            if not _changed(await conn.execute(numbered(DELETE_BATCH), owner, batch_id)):
                return False
            await conn.execute("DELETE FROM batch_lines WHERE batch_id = $1", batch_id)
        return True

    async def cancel_batch_run(self: _Connections, owner: str, batch_id: str, at: int) -> StoredBatch | None:
        async with self._conn() as conn:
            await conn.execute(
                "UPDATE batches SET status = 'cancelling', cancelling_at = $1 WHERE owner = $2 AND id = $3"
                " AND status IN ('validating', 'in_progress')",
                at,
                owner,
                batch_id,
            )
            rows = await conn.fetch(
                f"SELECT {BATCH} FROM batches WHERE owner = $1 AND id = $2", owner, batch_id
            )
            found = await _with_counts(conn, rows)
        return found[0] if found else None

    async def claim_batch(self: _Connections, now: float, lease_s: float) -> StoredBatch | None:
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(numbered(CLAIMABLE) + " FOR UPDATE SKIP LOCKED", now, now)
            if not rows:
                return None
            fresh = await conn.fetch(
                f"UPDATE batches SET attempts = attempts + 1, lease_until = $1 WHERE id = $2 RETURNING {BATCH}",
                now + lease_s,
                rows[0]["id"],
            )
        return batch_row(fresh[0])

    async def release_batch(self: _Connections, claimed: StoredBatch) -> None:
        async with self._conn() as conn:
            await conn.execute(
                "UPDATE batches SET lease_until = NULL WHERE id = $1 AND lease_until = $2",
                claimed.id,
                claimed.lease_until,
            )

    async def start_batch(
        self: _Connections, claimed: StoredBatch, lines: Sequence[NewBatchLine], model: str | None, at: int
    ) -> bool:
        async with self._conn() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE batches SET status = 'in_progress', in_progress_at = $1, model = $2, total = $3,"
                " lease_until = NULL WHERE id = $4 AND status = 'validating' AND lease_until = $5",
                at,
                model,
                len(lines),
                claimed.id,
                claimed.lease_until,
            )
            if not _changed(status):
                return False
            await conn.copy_records_to_table(
                "batch_lines",
                records=[(claimed.id, x.custom_id, x.line_no, x.id, x.body, "pending") for x in lines],
                columns=["batch_id", "custom_id", "line_no", "id", "body", "status"],
            )
        return True

    async def fail_batch(
        self: _Connections, claimed: StoredBatch, errors: list[dict[str, Any]], at: int
    ) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE batches SET status = 'failed', failed_at = $1, errors = $2, lease_until = NULL"
                " WHERE id = $3 AND status = 'validating' AND lease_until = $4",
                at,
                encode_json(errors),
                claimed.id,
                claimed.lease_until,
            )
        return _changed(status)

    async def advance_batches(self: _Connections, now: float) -> None:
        at = int(now)
        async with self._conn() as conn:
            for sql, args in zip(ADVANCE, ((at,), (at,), (at, now), (now,)), strict=True):
                await conn.execute(numbered(sql), *args)

    async def pending_batch(self: _Connections, now: float, skip_owners: Sequence[str]) -> StoredBatch | None:
        sql = numbered(PENDING) + " AND NOT (owner = ANY($3::text[]))" + PENDING_ORDER
        rows = await self._fetch(sql, int(now), now, list(skip_owners))
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
        first, last = within or (0, 2**31 - 1)  # line_no is an INTEGER column
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT {LINE} FROM batch_lines WHERE batch_id = $1 AND {numbered(OPEN_LINES, 2)}"
                f" AND line_no BETWEEN $3 AND $4 AND {TAKING} ORDER BY line_no LIMIT $5 FOR UPDATE SKIP LOCKED",
                batch.id,
                now,
                first,
                last,
                limit,
            )
            await conn.execute(
                "UPDATE batch_lines SET status = 'running', attempts = attempts + 1, lease_until = $1"
                " WHERE batch_id = $2 AND custom_id = ANY($3::text[])",
                until,
                batch.id,
                [r["custom_id"] for r in rows],
            )
        return [claimed_line(batch, r, until) for r in rows]

    async def release_lines(self: _Connections, lines: Sequence[ClaimedLine]) -> None:
        async with self._conn() as conn:
            await conn.executemany(
                "UPDATE batch_lines SET status = 'pending', lease_until = NULL WHERE batch_id = $1"
                " AND custom_id = $2 AND status = 'running' AND lease_until = $3",
                [(x.batch_id, x.custom_id, x.lease_until) for x in lines],
            )

    async def finish_line(self: _Connections, line: ClaimedLine, result: LineResult) -> bool:
        row = log_values(result)
        async with self._conn() as conn, conn.transaction():
            if not _changed(await conn.execute(numbered(FINISH_LINE), *result_values(line, result))):
                return False
            if row is not None:
                await conn.execute(numbered(LOG_ROW), *row)
        return True

    async def renew_lines(self: _Connections, lines: Sequence[ClaimedLine], until: float) -> list[bool]:
        held = []
        async with self._conn() as conn, conn.transaction():
            for x in lines:
                status = await conn.execute(numbered(RENEW), until, x.batch_id, x.custom_id, x.lease_until)
                held.append(_changed(status))
        return held

    async def open_lines(
        self: _Connections, batch_id: str, first: int, last: int
    ) -> tuple[int, float | None]:
        row = (await self._fetch(numbered(OPEN_IN), batch_id, first, last))[0]
        return int(row[0]), row[1]

    async def expire_lines(self: _Connections, batch_id: str, result: LineResult) -> int:
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE batch_lines SET status = $1, lease_until = NULL, error_code = $2, error_message = $3"
                " WHERE batch_id = $4 AND status IN ('pending', 'running')",
                result.status,
                result.error_code,
                result.error_message,
                batch_id,
            )
        return _count(status)

    async def batch_results(self: _Connections, batch_id: str) -> list[FinishedLine]:
        return [finished_line(r) for r in await self._fetch(numbered(RESULTS), batch_id)]

    async def end_batch(
        self: _Connections,
        claimed: StoredBatch,
        status: str,
        output_file_id: str | None,
        error_file_id: str | None,
        at: int,
    ) -> bool:
        async with self._conn() as conn:
            changed = await conn.execute(
                f"UPDATE batches SET status = $1, {END_AT[status]} = $2, output_file_id = $3,"
                " error_file_id = $4, lease_until = NULL WHERE id = $5 AND lease_until = $6",
                status,
                at,
                output_file_id,
                error_file_id,
                claimed.id,
                claimed.lease_until,
            )
        return _changed(changed)

    async def batch_queue_stats(self: _Connections) -> BatchQueueStats:
        return queue_stats([tuple(r) for r in await self._fetch(QUEUE_STATS)])
