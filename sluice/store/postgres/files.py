"""Uploaded files' part of ``PostgresStore``: metadata in ``files`` and the bytes in
``file_blobs`` (BYTEA, parts of bounded size read one at a time). A file is added with its
owner's quota checked under a transaction-scoped advisory lock on the owner, so concurrent
uploads on any replica never overshoot it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal, Protocol

from asyncpg.pool import PoolConnectionProxy

from sluice.store.records import FileQuota, FileUsage, StoredFile

_FILE = "owner, id, bytes, created_at, filename, purpose, status, expires_at"
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('sluice:files:' || $1::text, 0))"
_USAGE = "SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0)::BIGINT AS bytes FROM files WHERE owner = $1"


class _Connections(Protocol):
    """What the files need of ``PostgresStore``."""

    def _conn(self) -> contextlib.AbstractAsyncContextManager[PoolConnectionProxy]: ...

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...


def _file(r: Any) -> StoredFile:
    return StoredFile(*(r[c] for c in _FILE.split(", ")))


class PostgresFiles:
    async def add_file(
        self: _Connections, file: StoredFile, quota: FileQuota
    ) -> Literal["bytes", "files"] | None:
        f = file
        async with self._conn() as conn, conn.transaction():
            await conn.execute(_LOCK, f.owner)
            usage = (await conn.fetch(_USAGE, f.owner))[0]
            if usage["files"] + 1 > quota.max_files:
                return "files"
            if usage["bytes"] + f.bytes > quota.max_bytes:
                return "bytes"
            await conn.execute(
                f"INSERT INTO files ({_FILE}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                f.owner,
                f.id,
                f.bytes,
                f.created_at,
                f.filename,
                f.purpose,
                f.status,
                f.expires_at,
            )
        return None

    async def get_file(self: _Connections, owner: str, file_id: str) -> StoredFile | None:
        rows = await self._fetch(f"SELECT {_FILE} FROM files WHERE owner = $1 AND id = $2", owner, file_id)
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
        direction = "ASC" if order == "asc" else "DESC"
        rows = await self._fetch(
            f"SELECT {_FILE} FROM files WHERE owner = $1 AND ($2::text IS NULL OR purpose = $2)"
            f" AND ($3::text IS NULL OR (created_at, id) {'>' if order == 'asc' else '<'}"
            " (SELECT created_at, id FROM files WHERE owner = $1 AND id = $3))"
            f" ORDER BY created_at {direction}, id {direction} LIMIT $4",
            owner,
            purpose,
            after,
            limit,
        )
        return [_file(r) for r in rows]

    async def delete_file(self: _Connections, owner: str, file_id: str) -> bool:
        async with self._conn() as conn, conn.transaction():  # the file leaves every vector store too
            await conn.execute("DELETE FROM chunks WHERE owner = $1 AND file_id = $2", owner, file_id)
            await conn.execute(
                "DELETE FROM vector_store_files WHERE owner = $1 AND file_id = $2", owner, file_id
            )
            status = await conn.execute("DELETE FROM files WHERE owner = $1 AND id = $2", owner, file_id)
        return bool(status != "DELETE 0")

    async def file_usage(self: _Connections, owner: str) -> FileUsage:
        rows = await self._fetch(_USAGE, owner)
        return FileUsage(bytes=rows[0]["bytes"], files=rows[0]["files"])

    # --- FileBlobs ---------------------------------------------------------------------------

    async def put_blob(
        self: _Connections, owner: str, file_id: str, parts: Sequence[bytes | memoryview]
    ) -> None:
        async with self._conn() as conn, conn.transaction():
            for seq, part in enumerate(parts):  # one part per statement: each encoded in bounded time
                await conn.execute(
                    "INSERT INTO file_blobs (owner, id, seq, data) VALUES ($1, $2, $3, $4)",
                    owner,
                    file_id,
                    seq,
                    part,
                )

    async def read_blob(self: _Connections, owner: str, file_id: str) -> AsyncIterator[bytes]:
        seq = 0
        while rows := await self._fetch(
            "SELECT data FROM file_blobs WHERE owner = $1 AND id = $2 AND seq = $3", owner, file_id, seq
        ):
            yield bytes(rows[0]["data"])
            seq += 1

    async def delete_blob(self: _Connections, owner: str, file_id: str) -> None:
        async with self._conn() as conn:
            await conn.execute("DELETE FROM file_blobs WHERE owner = $1 AND id = $2", owner, file_id)
