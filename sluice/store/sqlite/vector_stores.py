"""Vector stores' part of ``SqliteStore``: ``vector_stores``, ``vector_store_files`` (also the
ingestion queue, claimed in a ``BEGIN IMMEDIATE`` transaction, so one process at a time) and
``chunks`` with their FTS5 index ``chunk_text``. Every query names the owner."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

import aiosqlite
import msgspec

from sluice.store.records import ChunkHit, StoredChunk, VectorStore, VectorStoreFile
from sluice.store.vector_rows import (
    FILE,
    STORE,
    counts,
    encode_json,
    file_row,
    file_values,
    fts_query,
    hit_row,
    store_row,
    store_values,
)

_COUNTS = (
    "SELECT status, COUNT(*), COALESCE(SUM(usage_bytes), 0) FROM vector_store_files"
    " WHERE owner = ? AND store_id = ? GROUP BY status"
)


class _Connections(Protocol):
    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    async def _write(self, sql: str, args: Iterable[Any] = ()) -> int: ...

    def _errors(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def writer(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]: ...


_HIT = (
    "SELECT c.file_id, c.idx, c.text, c.embedding, f.filename, v.attributes FROM chunks c"
    " JOIN vector_store_files v ON v.owner = c.owner AND v.store_id = c.store_id AND v.file_id = c.file_id"
    " JOIN files f ON f.owner = c.owner AND f.id = c.file_id"
)


async def drop_chunks(db: aiosqlite.Connection, where: str, args: Sequence[Any]) -> None:
    """Delete chunks (``where`` on ``chunks``' columns) with their full-text entries."""
    await db.execute(
        f"INSERT INTO chunk_text (chunk_text, rowid, text) SELECT 'delete', rowid, text FROM chunks WHERE {where}",
        args,
    )
    await db.execute(f"DELETE FROM chunks WHERE {where}", args)


class SqliteVectorStores:
    async def create_vector_store(
        self: _Connections, vs: VectorStore, *, max_stores: int | None = None
    ) -> bool:
        insert = f"INSERT INTO vector_stores ({STORE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        if max_stores is None:
            await self._write(insert, store_values(vs))
            return True
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")  # the count and the insert as one, across processes too
            try:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT COUNT(*) FROM vector_stores WHERE owner = ?", (vs.owner,)
                    )
                )
                room = rows[0][0] < max_stores
                if room:
                    await db.execute(insert, store_values(vs))
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return room

    async def get_vector_store(self: _Connections, owner: str, store_id: str) -> VectorStore | None:
        rows = await self._all(
            f"SELECT {STORE} FROM vector_stores WHERE owner = ? AND id = ?", (owner, store_id)
        )
        if not rows:
            return None
        found, used = counts(tuple(r) for r in await self._all(_COUNTS, (owner, store_id)))
        return store_row(rows[0], found, used)

    async def list_vector_stores(
        self: _Connections, owner: str, *, order: Literal["asc", "desc"], after: str | None, limit: int
    ) -> list[VectorStore]:
        sql = f"SELECT {STORE} FROM vector_stores WHERE owner = ?"
        args: list[Any] = [owner]
        if after is not None:
            sql += (
                f" AND (created_at, id) {'>' if order == 'asc' else '<'}"
                " (SELECT created_at, id FROM vector_stores WHERE owner = ? AND id = ?)"
            )
            args += [owner, after]
        direction = "ASC" if order == "asc" else "DESC"
        sql += f" ORDER BY created_at {direction}, id {direction} LIMIT ?"
        args.append(limit)
        out = []
        for r in await self._all(sql, args):
            found, used = counts(tuple(c) for c in await self._all(_COUNTS, (owner, r["id"])))
            out.append(store_row(r, found, used))
        return out

    async def update_vector_store(self: _Connections, vs: VectorStore) -> bool:
        v = store_values(vs)
        changed = await self._write(
            "UPDATE vector_stores SET name = ?, last_active_at = ?, metadata = ?, expires_after = ?,"
            " expires_at = ? WHERE owner = ? AND id = ?",
            (v[2], v[4], v[5], v[6], v[7], vs.owner, vs.id),
        )
        return changed > 0

    async def delete_vector_store(self: _Connections, owner: str, store_id: str) -> bool:
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                await drop_chunks(db, "owner = ? AND store_id = ?", (owner, store_id))
                await db.execute(
                    "DELETE FROM vector_store_files WHERE owner = ? AND store_id = ?", (owner, store_id)
                )
                cur = await db.execute(
                    "DELETE FROM vector_stores WHERE owner = ? AND id = ?", (owner, store_id)
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return cur.rowcount > 0

    async def attach_files(self: _Connections, files: Sequence[VectorStoreFile]) -> None:
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                for f in files:
                    await drop_chunks(
                        db, "owner = ? AND store_id = ? AND file_id = ?", (f.owner, f.store_id, f.file_id)
                    )
                    await db.execute(
                        f"INSERT OR REPLACE INTO vector_store_files ({FILE})"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        file_values(f),
                    )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

    async def get_vector_store_file(
        self: _Connections, owner: str, store_id: str, file_id: str
    ) -> VectorStoreFile | None:
        rows = await self._all(
            f"SELECT {FILE} FROM vector_store_files WHERE owner = ? AND store_id = ? AND file_id = ?",
            (owner, store_id, file_id),
        )
        return file_row(rows[0]) if rows else None

    async def list_vector_store_files(
        self: _Connections,
        owner: str,
        store_id: str,
        *,
        status: str | None,
        batch_id: str | None,
        order: Literal["asc", "desc"],
        after: str | None,
        limit: int,
    ) -> list[VectorStoreFile]:
        sql = f"SELECT {FILE} FROM vector_store_files WHERE owner = ? AND store_id = ?"
        args: list[Any] = [owner, store_id]
        if status is not None:
            sql += " AND status = ?"
            args.append(status)
        if batch_id is not None:
            sql += " AND batch_id = ?"
            args.append(batch_id)
        if after is not None:
            sql += (
                f" AND (created_at, file_id) {'>' if order == 'asc' else '<'} (SELECT created_at, file_id"
                " FROM vector_store_files WHERE owner = ? AND store_id = ? AND file_id = ?)"
            )
            args += [owner, store_id, after]
        direction = "ASC" if order == "asc" else "DESC"
        sql += f" ORDER BY created_at {direction}, file_id {direction} LIMIT ?"
        args.append(limit)
        return [file_row(r) for r in await self._all(sql, args)]

    async def set_file_attributes(
        self: _Connections, owner: str, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> VectorStoreFile | None:
        changed = await self._write(
            "UPDATE vector_store_files SET attributes = ? WHERE owner = ? AND store_id = ? AND file_id = ?",
            (encode_json(attributes), owner, store_id, file_id),
        )
        if not changed:
            return None
        rows = await self._all(
            f"SELECT {FILE} FROM vector_store_files WHERE owner = ? AND store_id = ? AND file_id = ?",
            (owner, store_id, file_id),
        )
        return file_row(rows[0]) if rows else None

    async def cancel_batch(self: _Connections, owner: str, store_id: str, batch_id: str) -> int:
        return await self._write(
            "UPDATE vector_store_files SET status = 'cancelled', lease_until = NULL"
            " WHERE owner = ? AND store_id = ? AND batch_id = ? AND status = 'in_progress'",
            (owner, store_id, batch_id),
        )

    async def detach_file(self: _Connections, owner: str, store_id: str, file_id: str) -> bool:
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                await drop_chunks(
                    db, "owner = ? AND store_id = ? AND file_id = ?", (owner, store_id, file_id)
                )
                cur = await db.execute(
                    "DELETE FROM vector_store_files WHERE owner = ? AND store_id = ? AND file_id = ?",
                    (owner, store_id, file_id),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return cur.rowcount > 0

    async def chunk_count(self: _Connections, owner: str) -> int:
        rows = await self._all("SELECT COUNT(*) FROM chunks WHERE owner = ?", (owner,))
        return int(rows[0][0])

    async def claim_ingestion(self: _Connections, now: float, lease_s: float) -> VectorStoreFile | None:
        # A read first: an idle worker's poll never takes the write lock.
        if not await self._all(
            "SELECT 1 FROM vector_store_files WHERE status = 'in_progress'"
            " AND (lease_until IS NULL OR lease_until < ?) LIMIT 1",
            (now,),
        ):
            return None
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                rows = list(
                    await db.execute_fetchall(
                        f"SELECT {FILE} FROM vector_store_files WHERE status = 'in_progress'"
                        " AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at LIMIT 1",
                        (now,),
                    )
                )
                claimed = None
                if rows:
                    f = file_row(rows[0])
                    claimed = msgspec.structs.replace(f, attempts=f.attempts + 1, lease_until=now + lease_s)
                    await db.execute(
                        "UPDATE vector_store_files SET attempts = ?, lease_until = ?"
                        " WHERE owner = ? AND store_id = ? AND file_id = ?",
                        (claimed.attempts, claimed.lease_until, f.owner, f.store_id, f.file_id),
                    )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return claimed

    async def renew_lease(
        self: _Connections, claimed: VectorStoreFile, until: float
    ) -> VectorStoreFile | None:
        c = claimed
        changed = await self._write(
            "UPDATE vector_store_files SET lease_until = ? WHERE owner = ? AND store_id = ? AND file_id = ?"
            " AND status = 'in_progress' AND lease_until = ?",
            (until, c.owner, c.store_id, c.file_id, c.lease_until),
        )
        return msgspec.structs.replace(c, lease_until=until) if changed else None

    async def finish_ingestion(
        self: _Connections,
        claimed: VectorStoreFile,
        chunks: Sequence[StoredChunk],
        error: tuple[str, str] | None,
    ) -> bool:
        c = claimed
        key = (c.owner, c.store_id, c.file_id)
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                cur = await db.execute(
                    "UPDATE vector_store_files SET status = ?, usage_bytes = ?, error_code = ?,"
                    " error_message = ?, lease_until = NULL WHERE owner = ? AND store_id = ? AND file_id = ?"
                    " AND status = 'in_progress' AND lease_until = ?",
                    (
                        "failed" if error else "completed",
                        0 if error else sum(len(ch.text.encode()) for ch in chunks),
                        error[0] if error else None,
                        error[1] if error else None,
                        *key,
                        c.lease_until,
                    ),
                )
                done = cur.rowcount > 0
                if done and not error:
                    await drop_chunks(db, "owner = ? AND store_id = ? AND file_id = ?", key)
                    await db.executemany(
                        "INSERT INTO chunks (owner, store_id, file_id, idx, start_offset, end_offset, text,"
                        " embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(*key, ch.index, ch.start, ch.end, ch.text, ch.embedding) for ch in chunks],
                    )
                    await db.execute(
                        "INSERT INTO chunk_text (rowid, text) SELECT rowid, text FROM chunks"
                        " WHERE owner = ? AND store_id = ? AND file_id = ?",
                        key,
                    )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return done

    async def search_text(
        self: _Connections, owner: str, store_id: str, words: Sequence[str], limit: int
    ) -> list[ChunkHit]:
        if not words:
            return []
        rows = await self._all(
            _HIT + " JOIN chunk_text ON chunk_text.rowid = c.rowid WHERE chunk_text MATCH ?"
            " AND c.owner = ? AND c.store_id = ? ORDER BY bm25(chunk_text) LIMIT ?",
            (fts_query(words), owner, store_id, limit),
        )
        return [hit_row(r) for r in rows]

    async def file_chunks(self: _Connections, owner: str, store_id: str, file_id: str) -> list[StoredChunk]:
        rows = await self._all(
            "SELECT idx, start_offset, end_offset, text FROM chunks WHERE owner = ? AND store_id = ?"
            " AND file_id = ? ORDER BY idx",
            (owner, store_id, file_id),
        )
        return [StoredChunk(r[0], r[1], r[2], r[3]) for r in rows]

    async def chunks_version(self: _Connections, owner: str, store_id: str) -> tuple[int, int]:
        rows = await self._all(
            "SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM chunks WHERE owner = ? AND store_id = ?",
            (owner, store_id),
        )
        return int(rows[0][0]), int(rows[0][1])

    async def search_vectors(
        self: _Connections, owner: str, store_id: str, query: bytes, limit: int
    ) -> list[ChunkHit] | None:
        return None  # no vector index in the embedded store: the caller scans

    async def store_chunks(self: _Connections, owner: str, store_id: str, limit: int) -> list[ChunkHit]:
        rows = await self._all(
            _HIT + " WHERE c.owner = ? AND c.store_id = ? ORDER BY c.rowid LIMIT ?", (owner, store_id, limit)
        )
        return [hit_row(r) for r in rows]
