"""Uploaded files' part of ``SqliteStore``: metadata in ``files`` and the bytes in
``file_blobs``, parts of bounded size read one at a time. A file is added with its owner's quota
checked in one ``BEGIN IMMEDIATE`` transaction on the writer connection (across processes too)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Literal, Protocol

import aiosqlite

from sluice.store.records import FileQuota, FileUsage, StoredFile
from sluice.store.sqlite.vector_stores import drop_chunks

_FILE = "owner, id, bytes, created_at, filename, purpose, status, expires_at"


class _Connections(Protocol):
    """What the files need of ``SqliteStore``."""

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    async def _write(self, sql: str, args: Iterable[Any] = ()) -> int: ...

    def _errors(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def writer(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]: ...


def _file(r: sqlite3.Row) -> StoredFile:
    return StoredFile(*(r[c] for c in _FILE.split(", ")))


async def _transaction(db: aiosqlite.Connection) -> None:
    await db.execute("BEGIN IMMEDIATE")


class SqliteFiles:
    async def add_file(
        self: _Connections, file: StoredFile, quota: FileQuota
    ) -> Literal["bytes", "files"] | None:
        f = file
        async with self.writer() as db, self._errors():
            await _transaction(db)
            try:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM files WHERE owner = ?", (f.owner,)
                    )
                )
                count, total = rows[0][0], rows[0][1]
                over: Literal["bytes", "files"] | None = None
                if count + 1 > quota.max_files:
                    over = "files"
                elif total + f.bytes > quota.max_bytes:
                    over = "bytes"
                else:
                    await db.execute(
                        f"INSERT INTO files ({_FILE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (f.owner, f.id, f.bytes, f.created_at, f.filename, f.purpose, f.status, f.expires_at),
                    )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return over

    async def get_file(self: _Connections, owner: str, file_id: str) -> StoredFile | None:
        rows = await self._all(f"SELECT {_FILE} FROM files WHERE owner = ? AND id = ?", (owner, file_id))
        return _file(rows[0]) if rows else None

    async def list_files(
        self: _Connections,
        owner: str,
        *,
        purpose: str | None,
        order: Literal["asc", "desc"],
        after: str | None,
        limit: int,
    ) -> list[StoredFile]:
        sql = f"SELECT {_FILE} FROM files WHERE owner = ?"
        args: list[Any] = [owner]
        if purpose is not None:
            sql += " AND purpose = ?"
            args.append(purpose)
        if after is not None:
            sql += (
                f" AND (created_at, id) {'>' if order == 'asc' else '<'}"
                " (SELECT created_at, id FROM files WHERE owner = ? AND id = ?)"
            )
            args += [owner, after]
        direction = "ASC" if order == "asc" else "DESC"
        sql += f" ORDER BY created_at {direction}, id {direction} LIMIT ?"
        args.append(limit)
        return [_file(r) for r in await self._all(sql, args)]

    async def delete_file(self: _Connections, owner: str, file_id: str) -> bool:
        """The file leaves every vector store too, with its chunks."""
        async with self.writer() as db, self._errors():
            await _transaction(db)
            try:
                await drop_chunks(db, "owner = ? AND file_id = ?", (owner, file_id))
                await db.execute(
                    "DELETE FROM vector_store_files WHERE owner = ? AND file_id = ?", (owner, file_id)
                )
                cur = await db.execute("DELETE FROM files WHERE owner = ? AND id = ?", (owner, file_id))
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return cur.rowcount > 0

    async def file_usage(self: _Connections, owner: str) -> FileUsage:
        rows = await self._all(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM files WHERE owner = ?", (owner,)
        )
        return FileUsage(bytes=rows[0][1], files=rows[0][0])

    # --- FileBlobs ---------------------------------------------------------------------------

    async def put_blob(
        self: _Connections, owner: str, file_id: str, parts: Sequence[bytes | memoryview]
    ) -> None:
        async with self.writer() as db, self._errors():
            await _transaction(db)
            try:
                await db.executemany(
                    "INSERT INTO file_blobs (owner, id, seq, data) VALUES (?, ?, ?, ?)",
                    [(owner, file_id, seq, part) for seq, part in enumerate(parts)],
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

    async def read_blob(self: _Connections, owner: str, file_id: str) -> AsyncIterator[bytes]:
        seq = 0
        while rows := await self._all(
            "SELECT data FROM file_blobs WHERE owner = ? AND id = ? AND seq = ?", (owner, file_id, seq)
        ):
            yield bytes(rows[0][0])
            seq += 1

    async def delete_blob(self: _Connections, owner: str, file_id: str) -> None:
        await self._write("DELETE FROM file_blobs WHERE owner = ? AND id = ?", (owner, file_id))
