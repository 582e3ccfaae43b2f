"""Vector stores' part of ``PostgresStore``: ``vector_stores``, ``vector_store_files`` (also the
ingestion queue: a claim takes a row ``FOR UPDATE SKIP LOCKED``, so two replicas never claim the
same file) and ``chunks`` with a generated ``tsvector`` under a GIN index. Every query names the
owner."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import msgspec
from asyncpg.pool import PoolConnectionProxy

from sluice.store.records import ChunkHit, StoredChunk, VectorStore, VectorStoreFile
from sluice.store.vector_rows import (
    FILE,
    STORE,
    counts,
    encode_json,
    file_row,
    file_values,
    hit_row,
    store_row,
    store_values,
    unpack,
)

_COUNTS = (
    "SELECT status, COUNT(*), COALESCE(SUM(usage_bytes), 0)::BIGINT FROM vector_store_files"
    " WHERE owner = $1 AND store_id = $2 GROUP BY status"
)
_HIT = (
    "SELECT c.file_id, c.idx, c.text, c.embedding, f.filename, v.attributes FROM chunks c"
    " JOIN vector_store_files v ON v.owner = c.owner AND v.store_id = c.store_id AND v.file_id = c.file_id"
    " JOIN files f ON f.owner = c.owner AND f.id = c.file_id"
)


def _params(n: int, start: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(start, start + n))


class _Connections(Protocol):
    def _conn(self) -> contextlib.AbstractAsyncContextManager[PoolConnectionProxy]: ...

    async def _fetch(self, sql: str, *args: Any) -> list[Any]: ...

    _pgvector: bool | None
    _indexed: frozenset[int]

    async def _vec(self) -> bool: ...

    async def _index(self, conn: PoolConnectionProxy, dimensions: int) -> None: ...


MAX_HNSW_DIMENSIONS = 2000  # pgvector's limit for an HNSW index on ``vector``
_STORES_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('sluice:vector_stores:' || $1::text, 0))"
_INDEX_LOCK = 0x736C7663  # "slvc": one replica at a time makes a dimension's index


def _floats(data: bytes) -> list[float]:
    return list(unpack(data))


def _vector(data: bytes | None) -> list[float] | None:
    """A stored embedding as pgvector takes it; None for none (or bytes that are not one)."""
    return None if data is None or not data or len(data) % 4 else _floats(data)


def _changed(status: str) -> bool:
    return not status.endswith(" 0")


class PostgresVectorStores:
    _pgvector: bool | None = None
    """Whether ``chunks.vec`` exists (migration 0015 applied): found out once per process."""
    _indexed: frozenset[int] = frozenset()

    async def _vec(self: _Connections) -> bool:
        if self._pgvector is None:
            rows = await self._fetch(
                "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = 'chunks' AND column_name = 'vec')"
            )
            self._pgvector = bool(rows[0][0])
        return bool(self._pgvector)

    async def _index(self: _Connections, conn: PoolConnectionProxy, dimensions: int) -> None:
        """Make the HNSW index of chunks of this dimension, once (replicas take turns)."""
        d = int(dimensions)
        if d in self._indexed or d > MAX_HNSW_DIMENSIONS:
            return
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _INDEX_LOCK)
            await conn.execute(
                f"CREATE INDEX IF NOT EXISTS chunks_hnsw_{d} ON chunks"
                f" USING hnsw ((vec::vector({d})) vector_cosine_ops) WHERE vector_dims(vec) = {d}"
            )
        self._indexed = self._indexed | {d}

    async def create_vector_store(
        self: _Connections, vs: VectorStore, *, max_stores: int | None = None
    ) -> bool:
        async with self._conn() as conn, conn.transaction():
            if max_stores is not None:  # under a lock on the owner: concurrent creates never overshoot
                await conn.execute(_STORES_LOCK, vs.owner)
                held = await conn.fetchval("SELECT COUNT(*) FROM vector_stores WHERE owner = $1", vs.owner)
                if held >= max_stores:
                    return False
            await conn.execute(
                f"INSERT INTO vector_stores ({STORE}) VALUES ({_params(8)})", *store_values(vs)
            )
        return True

    async def get_vector_store(self: _Connections, owner: str, store_id: str) -> VectorStore | None:
        rows = await self._fetch(
            f"SELECT {STORE} FROM vector_stores WHERE owner = $1 AND id = $2", owner, store_id
        )
        if not rows:
            return None
        found, used = counts(tuple(r) for r in await self._fetch(_COUNTS, owner, store_id))
        return store_row(rows[0], found, used)

    async def list_vector_stores(
        self: _Connections, owner: str, *, order: Literal["asc", "desc"], after: str | None, limit: int
    ) -> list[VectorStore]:
        direction = "ASC" if order == "asc" else "DESC"
        rows = await self._fetch(
            f"SELECT {STORE} FROM vector_stores WHERE owner = $1"
            f" AND ($2::text IS NULL OR (created_at, id) {'>' if order == 'asc' else '<'}"
            " (SELECT created_at, id FROM vector_stores WHERE owner = $1 AND id = $2))"
            f" ORDER BY created_at {direction}, id {direction} LIMIT $3",
            owner,
            after,
            limit,
        )
        out = []
        for r in rows:
            found, used = counts(tuple(c) for c in await self._fetch(_COUNTS, owner, r["id"]))
            out.append(store_row(r, found, used))
        return out

    async def update_vector_store(self: _Connections, vs: VectorStore) -> bool:
        v = store_values(vs)
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE vector_stores SET name = $1, last_active_at = $2, metadata = $3, expires_after = $4,"
                " expires_at = $5 WHERE owner = $6 AND id = $7",
                v[2],
                v[4],
                v[5],
                v[6],
                v[7],
                vs.owner,
                vs.id,
            )
        return _changed(status)

    async def delete_vector_store(self: _Connections, owner: str, store_id: str) -> bool:
        async with self._conn() as conn, conn.transaction():
            await conn.execute("DELETE FROM chunks WHERE owner = $1 AND store_id = $2", owner, store_id)
            await conn.execute(
                "DELETE FROM vector_store_files WHERE owner = $1 AND store_id = $2", owner, store_id
            )
            status = await conn.execute(
                "DELETE FROM vector_stores WHERE owner = $1 AND id = $2", owner, store_id
            )
        return _changed(status)

    async def attach_files(self: _Connections, files: Sequence[VectorStoreFile]) -> None:
        updates = ", ".join(f"{c} = excluded.{c}" for c in FILE.split(", ")[3:])
        async with self._conn() as conn, conn.transaction():
            for f in files:
                await conn.execute(
                    "DELETE FROM chunks WHERE owner = $1 AND store_id = $2 AND file_id = $3",
                    f.owner,
                    f.store_id,
                    f.file_id,
                )
                await conn.execute(
                    f"INSERT INTO vector_store_files ({FILE}) VALUES ({_params(13)})"
                    f" ON CONFLICT (owner, store_id, file_id) DO UPDATE SET {updates}",
                    *file_values(f),
                )

    async def get_vector_store_file(
        self: _Connections, owner: str, store_id: str, file_id: str
    ) -> VectorStoreFile | None:
        rows = await self._fetch(
            f"SELECT {FILE} FROM vector_store_files WHERE owner = $1 AND store_id = $2 AND file_id = $3",
            owner,
            store_id,
            file_id,
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
        direction = "ASC" if order == "asc" else "DESC"
        rows = await self._fetch(
            f"SELECT {FILE} FROM vector_store_files WHERE owner = $1 AND store_id = $2"
            " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR batch_id = $4)"
            f" AND ($5::text IS NULL OR (created_at, file_id) {'>' if order == 'asc' else '<'}"
            " (SELECT created_at, file_id FROM vector_store_files WHERE owner = $1 AND store_id = $2"
            " AND file_id = $5))"
            f" ORDER BY created_at {direction}, file_id {direction} LIMIT $6",
            owner,
            store_id,
            status,
            batch_id,
            after,
            limit,
        )
        return [file_row(r) for r in rows]

    async def set_file_attributes(
        self: _Connections, owner: str, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> VectorStoreFile | None:
        rows = await self._fetch(
            f"UPDATE vector_store_files SET attributes = $1 WHERE owner = $2 AND store_id = $3 AND file_id = $4"
            f" RETURNING {FILE}",
            encode_json(attributes),
            owner,
            store_id,
            file_id,
        )
        return file_row(rows[0]) if rows else None

    async def cancel_batch(self: _Connections, owner: str, store_id: str, batch_id: str) -> int:
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE vector_store_files SET status = 'cancelled', lease_until = NULL"
                " WHERE owner = $1 AND store_id = $2 AND batch_id = $3 AND status = 'in_progress'",
                owner,
                store_id,
                batch_id,
            )
        return int(status.rsplit(" ", 1)[-1])

    async def detach_file(self: _Connections, owner: str, store_id: str, file_id: str) -> bool:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM chunks WHERE owner = $1 AND store_id = $2 AND file_id = $3",
                owner,
                store_id,
                file_id,
            )
            status = await conn.execute(
                "DELETE FROM vector_store_files WHERE owner = $1 AND store_id = $2 AND file_id = $3",
                owner,
                store_id,
                file_id,
            )
        return _changed(status)

    async def chunk_count(self: _Connections, owner: str) -> int:
        rows = await self._fetch("SELECT COUNT(*) FROM chunks WHERE owner = $1", owner)
        return int(rows[0][0])

    async def claim_ingestion(self: _Connections, now: float, lease_s: float) -> VectorStoreFile | None:
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT {FILE} FROM vector_store_files WHERE status = 'in_progress'"
                " AND (lease_until IS NULL OR lease_until < $1) ORDER BY created_at LIMIT 1"
                " FOR UPDATE SKIP LOCKED",
                now,
            )
            if not rows:
                return None
            f = file_row(rows[0])
            claimed = msgspec.structs.replace(f, attempts=f.attempts + 1, lease_until=now + lease_s)
            await conn.execute(
                "UPDATE vector_store_files SET attempts = $1, lease_until = $2"
                " WHERE owner = $3 AND store_id = $4 AND file_id = $5",
                claimed.attempts,
                claimed.lease_until,
                f.owner,
                f.store_id,
                f.file_id,
            )
        return claimed

    async def renew_lease(
        self: _Connections, claimed: VectorStoreFile, until: float
    ) -> VectorStoreFile | None:
        c = claimed
        async with self._conn() as conn:
            status = await conn.execute(
                "UPDATE vector_store_files SET lease_until = $1 WHERE owner = $2 AND store_id = $3"
                " AND file_id = $4 AND status = 'in_progress' AND lease_until = $5",
                until,
                c.owner,
                c.store_id,
                c.file_id,
                c.lease_until,
            )
        return msgspec.structs.replace(c, lease_until=until) if _changed(status) else None

    async def finish_ingestion(
        self: _Connections,
        claimed: VectorStoreFile,
        chunks: Sequence[StoredChunk],
        error: tuple[str, str] | None,
    ) -> bool:
        c = claimed
        vec = await self._vec()
        dims = {len(v) for v in (_vector(ch.embedding) for ch in chunks) if v is not None}
        if vec and dims and not error:
            async with self._conn() as conn:
                for d in dims:
                    await self._index(conn, d)
        async with self._conn() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE vector_store_files SET status = $1, usage_bytes = $2, error_code = $3,"
                " error_message = $4, lease_until = NULL WHERE owner = $5 AND store_id = $6 AND file_id = $7"
                " AND status = 'in_progress' AND lease_until = $8",
                "failed" if error else "completed",
                0 if error else sum(len(ch.text.encode()) for ch in chunks),
                error[0] if error else None,
                error[1] if error else None,
                c.owner,
                c.store_id,
                c.file_id,
                c.lease_until,
            )
            done = _changed(status)
            if done and not error:
                await conn.execute(
                    "DELETE FROM chunks WHERE owner = $1 AND store_id = $2 AND file_id = $3",
                    c.owner,
                    c.store_id,
                    c.file_id,
                )
                rows = [
                    (c.owner, c.store_id, c.file_id, ch.index, ch.start, ch.end, ch.text, ch.embedding)
                    for ch in chunks
                ]
                if vec:
                    await conn.executemany(
                        "INSERT INTO chunks (owner, store_id, file_id, idx, start_offset, end_offset, text,"
                        " embedding, vec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::real[]::vector)",
                        [(*r, _vector(r[7])) for r in rows],
                    )
                else:
                    await conn.executemany(
                        "INSERT INTO chunks (owner, store_id, file_id, idx, start_offset, end_offset, text,"
                        " embedding) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        rows,
                    )
        return done

    async def search_text(
        self: _Connections, owner: str, store_id: str, words: Sequence[str], limit: int
    ) -> list[ChunkHit]:
        if not words:
            return []
        # ``words`` are runs of letters and digits (the route's), so none is a tsquery operator.
        rows = await self._fetch(
            f"{_HIT}, to_tsquery('english', $3) AS q WHERE c.owner = $1 AND c.store_id = $2 AND c.tsv @@ q"
            " ORDER BY ts_rank(c.tsv, q) DESC, c.id LIMIT $4",
            owner,
            store_id,
            " | ".join(words),
            limit,
        )
        return [hit_row(r) for r in rows]

    async def file_chunks(self: _Connections, owner: str, store_id: str, file_id: str) -> list[StoredChunk]:
        rows = await self._fetch(
            "SELECT idx, start_offset, end_offset, text FROM chunks WHERE owner = $1 AND store_id = $2"
            " AND file_id = $3 ORDER BY idx",
            owner,
            store_id,
            file_id,
        )
        return [StoredChunk(r[0], r[1], r[2], r[3]) for r in rows]

    async def chunks_version(self: _Connections, owner: str, store_id: str) -> tuple[int, int]:
        rows = await self._fetch(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM chunks WHERE owner = $1 AND store_id = $2",
            owner,
            store_id,
        )
        return int(rows[0][0]), int(rows[0][1])

    async def search_vectors(
        self: _Connections, owner: str, store_id: str, query: bytes, limit: int
    ) -> list[ChunkHit] | None:
        d = len(query) // 4
        if not await self._vec() or d > MAX_HNSW_DIMENSIONS or d < 1:
            return None
        # The expression and predicate repeat the index's, so the planner can use it; an iterative
        # scan keeps going past rows of other owners and stores (pgvector 0.8).
        async with self._conn() as conn, conn.transaction():
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = await conn.fetch(
                "WITH nearest AS MATERIALIZED (SELECT c.id, (c.vec::vector({d})) <=> $3::real[]::vector({d})"
                " AS distance FROM chunks c WHERE c.owner = $1 AND c.store_id = $2 AND vector_dims(c.vec) = {d}"
                " ORDER BY distance LIMIT $4)"
                f" {_HIT} JOIN nearest n ON n.id = c.id ORDER BY n.distance, c.id".replace("{d}", str(d)),
                owner,
                store_id,
                _floats(query),
                limit,
            )
        return [hit_row(r) for r in rows]

    async def store_chunks(self: _Connections, owner: str, store_id: str, limit: int) -> list[ChunkHit]:
        rows = await self._fetch(
            _HIT + " WHERE c.owner = $1 AND c.store_id = $2 ORDER BY c.id LIMIT $3", owner, store_id, limit
        )
        return [hit_row(r) for r in rows]
