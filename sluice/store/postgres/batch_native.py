"""Forwarded batches' part of ``PostgresStore`` (``batch_native``): a claim takes its row ``FOR
UPDATE SKIP LOCKED``, so two replicas never poll one batch at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.store.batch_rows import BATCH, FINISH_LINE, batch_row, encode_json, numbered
from sluice.store.native_rows import (
    CLAIMABLE,
    ENDINGS,
    FAIL,
    INSERT,
    NATIVE,
    OPEN_LINES,
    SAVE,
    line_values,
    native_row,
    native_values,
)
from sluice.store.postgres.batches import _changed, _Connections
from sluice.store.records import LineResult, NativeBatch, NewBatchLine, StoredBatch


class PostgresNativeBatches:
    async def add_native(self: _Connections, native: NativeBatch) -> None:
        n = native
        async with self._conn() as conn:
            await conn.execute(numbered(INSERT), n.batch_id, n.alias, n.deployment, n.discount, n.poll_at)

    async def claim_native(
        self: _Connections, now: float, lease_s: float
    ) -> tuple[StoredBatch, NativeBatch] | None:
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(numbered(CLAIMABLE) + " FOR UPDATE OF n SKIP LOCKED", now, now)
            if not rows:
                return None
            batch_id = rows[0]["batch_id"]
            native = await conn.fetch(
                f"UPDATE batch_native SET lease_until = $1 WHERE batch_id = $2 RETURNING {NATIVE}",
                now + lease_s,
                batch_id,
            )
            batch = await conn.fetch(f"SELECT {BATCH} FROM batches WHERE id = $1", batch_id)
        return batch_row(batch[0]), native_row(native[0])

    async def save_native(self: _Connections, claimed: NativeBatch, new: NativeBatch) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                numbered(SAVE), *native_values(new), claimed.batch_id, claimed.lease_until
            )
        return _changed(status)

    async def native_lines(self: _Connections, batch_id: str) -> list[NewBatchLine]:
        rows = await self._fetch(numbered(OPEN_LINES), batch_id)
        return [NewBatchLine(r["custom_id"], r["line_no"], r["id"], r["body"]) for r in rows]

    async def finish_native(
        self: _Connections,
        claimed: NativeBatch,
        results: Sequence[tuple[str, LineResult]],
        ending: str | None,
        errors: list[dict[str, Any]] | None,
        at: int,
    ) -> bool:
        batch_id = claimed.batch_id
        async with self._conn() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE batch_native SET state = 'done', lease_until = NULL WHERE batch_id = $1"
                " AND lease_until = $2",
                batch_id,
                claimed.lease_until,
            )
            if not _changed(status):
                return False
            if results:
                await conn.executemany(
                    numbered(FINISH_LINE), [line_values(batch_id, c, x) for c, x in results]
                )
            if ending == "failed":
                await conn.execute(numbered(FAIL), at, encode_json(errors), batch_id)
            elif ending is not None:
                sql, takes_at = ENDINGS[ending]
                await conn.execute(numbered(sql), *((at, batch_id) if takes_at else (batch_id,)))
        return True
