"""The semantic index of the distributed backend: PostgreSQL with pgvector, shared by every replica.

Its table comes from the store's migration ``0009_cache_semantic`` (optional, as pgvector is); its
``embedding`` column holds any dimension, and ``start`` makes, per configured dimension, an HNSW
cosine index on the expression ``embedding::vector(N)``, partial to rows of that dimension
(pgvector's advice for mixed dimensions). A change of embedding model thus needs no migration: the
other dimension's rows are never compared and age out as the oldest. Searches filter on tenant,
model, partition and expiry with an iterative index scan (pgvector 0.8), so a filter that rejects
most neighbours does not starve the result; small partitions are found through their btree index.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from sluice.cache.entries import Entry
from sluice.errors import StoreUnavailableError

EVICT_SLACK = 64
"""A tenant's entries are counted every ``max_entries // EVICT_SLACK`` inserts (every insert for a
small cap): each replica may overshoot the cap by that much, and an insert costs on average about
``EVICT_SLACK`` index reads for the count."""
EVICT_MAX = 1000
"""The most rows one eviction deletes: after a cap is lowered, the tenant shrinks in steps."""
SCHEMA_TIMEOUT_S = 60.0
"""The bound on ``start``, which may build an index over existing rows."""
MAX_VECTOR_INDEX_DIMENSIONS = 2000
"""pgvector's HNSW limit for ``vector``; larger embeddings are indexed as ``halfvec`` (up to 4,000
dimensions), their similarities then exact to about three digits."""
MIN_PGVECTOR = (0, 8)
"""Iterative index scans."""

# pg_advisory_xact_lock key held while creating the schema, so replicas starting together take turns.
_SCHEMA_LOCK = 0x736C7365  # "slse"

_FIELDS = Entry.__struct_fields__
_COLUMNS = ", ".join(_FIELDS)
_PARAMS = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))
_UPDATES = ", ".join(
    f"{c} = EXCLUDED.{c}" for c in (*_FIELDS, "embedding") if c not in ("tenant_id", "exact_key")
)

# One message. A custom plan on every search: a generic plan would pick one index for every
# partition, the btree (a sort of the whole partition) for large ones or HNSW for small ones.
_SEARCH_SETTINGS = (
    "SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL plan_cache_mode = force_custom_plan"
)

_PGVECTOR = """
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
       EXISTS (SELECT FROM pg_available_extensions WHERE name = 'vector'),
       to_regclass('cache_semantic') IS NOT NULL
"""

_PURGE = """
WITH gone AS (
    DELETE FROM cache_semantic
    WHERE tenant_id = $1 AND ($2::text IS NULL OR model = $2) AND ($3::text IS NULL OR key_prefix = $3)
    RETURNING expires_at
)
SELECT count(*) FILTER (WHERE expires_at > $4) FROM gone
"""

_EVICT = """
DELETE FROM cache_semantic WHERE tenant_id = $1 AND exact_key IN (
    SELECT exact_key FROM cache_semantic WHERE tenant_id = $1 ORDER BY created_at DESC OFFSET $2 LIMIT $3
)
"""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


class PgSemanticIndex:
    """A ``SemanticIndex`` on PostgreSQL with pgvector, through the store's asyncpg pool (``pool``
    gives it, made on first use). Every call is bounded by ``timeout_s``; driver errors become
    ``StoreUnavailableError``. ``clock`` gives Unix seconds (for purge counts)."""

    def __init__(
        self,
        pool: Callable[[], Awaitable[asyncpg.Pool]],
        dimensions: int,
        timeout_s: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._pool = pool
        self._dimensions = d = int(dimensions)
        self._timeout_s = timeout_s
        self._clock = clock
        self._inserts: Counter[str] = Counter()
        """Inserts per tenant since its last eviction, in this process."""
        kind = "vector" if d <= MAX_VECTOR_INDEX_DIMENSIONS else "halfvec"
        embedding = f"(embedding::{kind}({d}))"
        self._index = (
            f"CREATE INDEX IF NOT EXISTS cache_semantic_hnsw_{d} ON cache_semantic"
            f" USING hnsw ({embedding} {kind}_cosine_ops) WHERE vector_dims(embedding) = {d}"
        )
        # The expression and the predicate repeat the index's, so the planner can use it. The outer
        # ORDER BY restores the order a relaxed iterative scan may bend.
        self._search = f"""
            WITH nearest AS MATERIALIZED (
                SELECT {_COLUMNS}, {embedding} <=> $4::real[]::{kind}({d}) AS distance
                FROM cache_semantic
                WHERE tenant_id = $1 AND model = $2 AND partition = $3 AND expires_at > $5
                  AND vector_dims(embedding) = {d}
                ORDER BY distance LIMIT $6
            )
            SELECT * FROM nearest ORDER BY distance
        """
        self._insert = (
            f"INSERT INTO cache_semantic ({_COLUMNS}, embedding) VALUES ({_PARAMS}, ${len(_FIELDS) + 1}::real[]::vector({d}))"
            f" ON CONFLICT (tenant_id, exact_key) DO UPDATE SET {_UPDATES}"
        )

    async def start(self) -> None:
        """After the store's migrations: makes this dimension's index when missing. Raises
        ``StoreUnavailableError`` saying what to do when pgvector is missing, not created (the
        migration needs a superuser for it) or too old."""
        async with self._conn(SCHEMA_TIMEOUT_S) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK, timeout=SCHEMA_TIMEOUT_S)
            row = await conn.fetchrow(_PGVECTOR)
            assert row is not None  # the query selects one row from no table
            installed, is_available, has_table = row
            if installed is None and not is_available:
                raise StoreUnavailableError(
                    "the semantic cache needs the pgvector extension, which this PostgreSQL lacks:"
                    " install it (https://github.com/pgvector/pgvector) or turn the semantic cache off"
                )
            if installed is None or not has_table:
                raise StoreUnavailableError(
                    "the semantic cache needs the pgvector extension: have a superuser run"
                    " `CREATE EXTENSION vector` in this database once"
                )
            if _version(installed) < MIN_PGVECTOR:
                raise StoreUnavailableError(
                    f"the semantic cache needs pgvector 0.8 or later, and this database has {installed}:"
                    " run `ALTER EXTENSION vector UPDATE`"
                )
            await conn.execute(self._index, timeout=SCHEMA_TIMEOUT_S)

    async def search(
        self, tenant_id: str, model: str, partition: str, vector: Sequence[float], now: float, k: int
    ) -> list[tuple[Entry, float]]:
        if k <= 0:
            return []
        query = self._vector(vector)
        async with self._conn() as conn, conn.transaction():
            await conn.execute(_SEARCH_SETTINGS)
            rows = await conn.fetch(self._search, tenant_id, model, partition, query, now, k)
        return [(Entry(**{f: r[f] for f in _FIELDS}), 1.0 - r["distance"]) for r in rows]

    async def add(self, entry: Entry, vector: Sequence[float], max_entries: int) -> None:
        """An insert (replacing the tenant's entry of the same exact key); every few inserts of the
        tenant, also a bounded delete of its oldest entries beyond the cap (see ``EVICT_SLACK``)."""
        args = (*(getattr(entry, f) for f in _FIELDS), self._vector(vector))
        tenant_id = entry.tenant_id
        self._inserts[tenant_id] += 1
        is_due = self._inserts[tenant_id] >= max(1, max_entries // EVICT_SLACK)
        if is_due:
            del self._inserts[tenant_id]
        async with self._conn() as conn:
            await conn.execute(self._insert, *args)
            if is_due:
                await conn.execute(_EVICT, tenant_id, max(0, max_entries), EVICT_MAX)

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int:
        """Expired entries go too, uncounted."""
        async with self._conn() as conn:
            return await conn.fetchval(_PURGE, tenant_id, model, key_prefix, self._clock())

    async def close(self) -> None:
        """Nothing of its own: the pool is the store's."""

    def _vector(self, vector: Sequence[float]) -> list[float]:
        v = [float(x) for x in vector]
        if len(v) != self._dimensions:
            raise ValueError(f"the semantic index holds {self._dimensions}-dimension vectors, not {len(v)}")
        return v

    @contextlib.asynccontextmanager
    async def _conn(self, timeout_s: float | None = None) -> AsyncIterator[PoolConnectionProxy]:
        """A pooled connection, everything done with it bounded by ``timeout_s`` (the store's by
        default). Driver errors are translated here, once: by type, never by message."""
        try:
            async with asyncio.timeout(timeout_s or self._timeout_s):
                pool = await self._pool()
                async with pool.acquire() as conn:
                    yield conn
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as e:
            raise StoreUnavailableError(f"the semantic cache's PostgreSQL failed: {type(e).__name__}") from e
