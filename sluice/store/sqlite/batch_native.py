"""Forwarded batches' part of ``SqliteStore`` (``batch_native``): claims run in a ``BEGIN
IMMEDIATE`` transaction on the writer connection, as the batch queue's do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sluice.store.batch_rows import BATCH, FINISH_LINE, batch_row, encode_json
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
from sluice.store.records import LineResult, NativeBatch, NewBatchLine, StoredBatch
from sluice.store.sqlite.batches import _Connections, _transaction


class SqliteNativeBatches:
    async def add_native(self: _Connections, native: NativeBatch) -> None:
        n = native
        await self._write(INSERT, (n.batch_id, n.alias, n.deployment, n.discount, n.poll_at))

    async def claim_native(
        self: _Connections, now: float, lease_s: float
    ) -> tuple[StoredBatch, NativeBatch] | None:
        if not await self._all(CLAIMABLE, (now, now)):  # a read first: an idle poll takes no write lock
            return None
        async with _transaction(self) as db:
            rows = list(await db.execute_fetchall(CLAIMABLE, (now, now)))
            if not rows:
                return None
            batch_id = rows[0]["batch_id"]
            await db.execute(
                "UPDATE batch_native SET lease_until = ? WHERE batch_id = ?", (now + lease_s, batch_id)
            )
            native = list(
                await db.execute_fetchall(
                    f"SELECT {NATIVE} FROM batch_native WHERE batch_id = ?", (batch_id,)
                )
            )
            batch = list(await db.execute_fetchall(f"SELECT {BATCH} FROM batches WHERE id = ?", (batch_id,)))
        return batch_row(batch[0]), native_row(native[0])

    async def save_native(self: _Connections, claimed: NativeBatch, new: NativeBatch) -> bool:
        return await self._write(SAVE, (*native_values(new), claimed.batch_id, claimed.lease_until)) > 0

    async def native_lines(self: _Connections, batch_id: str) -> list[NewBatchLine]:
        rows = await self._all(OPEN_LINES, (batch_id,))
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
        async with _transaction(self) as db:
            cur = await db.execute(
                "UPDATE batch_native SET state = 'done', lease_until = NULL WHERE batch_id = ?"
                " AND lease_until = ?",
                (batch_id, claimed.lease_until),
            )
            if cur.rowcount == 0:
                return False
            await db.executemany(FINISH_LINE, [line_values(batch_id, c, x) for c, x in results])
            if ending == "failed":
                await db.execute(FAIL, (at, encode_json(errors), batch_id))
            elif ending is not None:
                sql, takes_at = ENDINGS[ending]
                await db.execute(sql, (at, batch_id) if takes_at else (batch_id,))
        return True
