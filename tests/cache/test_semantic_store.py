"""The semantic index stores: in process over SQLite (embedded) and on a real PostgreSQL with
pgvector (distributed) pass the same suite; then what only each does (batched writes, restarts,
the HNSW path; failing fast when the database is away)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import numpy as np
import pytest

from sluice.cache.entries import Entry, SemanticIndex
from sluice.cache.semantic_local import LocalSemanticIndex
from sluice.cache.semantic_pg import PgSemanticIndex
from sluice.errors import StoreUnavailableError
from sluice.store.postgres.store import PostgresStore
from sluice.store.sqlite.store import SqliteStore
from tests.cache.conftest import PoolOf, WriterOf
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port
from tests.fixtures.wait import eventually_async

P1, P2 = "1" * 64, "2" * 64
T0 = 1_900_000_000.0
"""Where the test clock starts (PostgreSQL only compares the instants it is given)."""


def entry(
    key: str,
    created_at: float,
    *,
    tenant_id: str = "acme",
    model: str = "gpt-4o-mini",
    partition: str = P1,
    key_prefix: str = "sk-aaaa",
    ttl_s: float = 3600.0,
    response: bytes | None = None,
) -> Entry:
    return Entry(
        tenant_id=tenant_id, model=model, exact_key=key, partition=partition, key_prefix=key_prefix,
        prompt=f"prompt of {key}", response=response or f'{{"id": "{key}"}}'.encode(), prompt_tokens=12,
        completion_tokens=34, cost_micros=56, created_at=created_at, expires_at=created_at + ttl_s,
    )  # fmt: skip


def unit(*xs: float) -> list[float]:
    v = np.array(xs, np.float64)
    return (v / np.linalg.norm(v)).tolist()


def random_units(n: int, dimensions: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dimensions)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


async def found(
    index: SemanticIndex, vector: list[float], now: float, k: int = 10, *, tenant_id: str = "acme",
    model: str = "gpt-4o-mini", partition: str = P1,
) -> list[str]:  # fmt: skip
    """The exact keys a search returns, most similar first."""
    return [e.exact_key for e, _ in await index.search(tenant_id, model, partition, vector, now, k)]


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def sqlite_path(tmp_path: Path) -> str:
    """A fresh SQLite file with the store's schema, as ``sluice migrate`` leaves it."""
    path = str(tmp_path / "sluice.db")
    store = SqliteStore(path)
    await store.migrate()
    await store.close()
    return path


Factory = Callable[[int], Awaitable[SemanticIndex]]


@pytest.fixture(params=["local", "pg"])
async def new_index(
    request: pytest.FixtureRequest,
    sqlite_path: str,
    clock: Clock,
    sqlite_writer: WriterOf,
    postgres_pool: Callable[..., Awaitable[PoolOf]],
) -> AsyncIterator[Factory]:
    """Factory: a started index of each store, on one database per test; all closed after it."""
    opened: list[SemanticIndex] = []
    dsn = request.getfixturevalue("postgres_clean") if request.param == "pg" else ""

    async def make(dimensions: int = 3) -> SemanticIndex:
        index: SemanticIndex
        if request.param == "local":
            index = LocalSemanticIndex(sqlite_writer(sqlite_path), dimensions, clock=clock)
        else:
            index = PgSemanticIndex(await postgres_pool(dsn), dimensions, timeout_s=5.0, clock=clock)
        opened.append(index)
        await index.start()
        return index

    yield make
    for index in opened:
        await index.close()


@pytest.fixture
async def index(new_index: Factory) -> SemanticIndex:
    return await new_index(3)


# --- both stores -------------------------------------------------------------------------------

QUERY = unit(0.8, 0.6, 0)
VECTORS = {  # and their cosine similarity to QUERY
    "a": (unit(1, 0, 0), 0.8),
    "b": (unit(0.6, 0.8, 0), 0.96),
    "c": (unit(0, 1, 0), 0.6),
    "d": (unit(0, 0, 1), 0.0),
    "e": (unit(-1, 0, 0), -0.8),
}


async def add_vectors(index: SemanticIndex, t: float, **options: str) -> None:
    for key, (vector, _) in VECTORS.items():
        await index.add(entry(key, t, **options), vector, 100)


async def test_nearest_first_with_exact_similarities(index: SemanticIndex, clock: Clock) -> None:
    await add_vectors(index, clock.now)
    results = await index.search("acme", "gpt-4o-mini", P1, QUERY, clock.now, 10)
    assert [e.exact_key for e, _ in results] == ["b", "a", "c", "d", "e"]
    for e, similarity in results:
        assert similarity == pytest.approx(VECTORS[e.exact_key][1], abs=1e-6)
    first = results[0][0]
    assert first == entry("b", clock.now)
    exact = await index.search("acme", "gpt-4o-mini", P1, VECTORS["c"][0], clock.now, 1)
    assert [(e.exact_key, round(s, 6)) for e, s in exact] == [("c", 1.0)]


async def test_k_bounds_the_results(index: SemanticIndex, clock: Clock) -> None:
    await add_vectors(index, clock.now)
    assert await found(index, QUERY, clock.now, 2) == ["b", "a"]
    assert await found(index, QUERY, clock.now, 1) == ["b"]
    assert await found(index, QUERY, clock.now, 0) == []


async def test_an_empty_index_finds_nothing(index: SemanticIndex, clock: Clock) -> None:
    assert await found(index, QUERY, clock.now) == []


async def test_searches_stay_within_tenant_model_and_partition(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    await index.add(entry("ours", t), unit(1, 0, 0), 100)
    await index.add(entry("other-tenant", t, tenant_id="beta"), unit(1, 0, 0), 100)
    await index.add(entry("other-model", t, model="gpt-4o"), unit(1, 0, 0), 100)
    await index.add(entry("other-partition", t, partition=P2), unit(1, 0, 0), 100)
    assert await found(index, QUERY, t) == ["ours"]
    assert await found(index, QUERY, t, tenant_id="beta") == ["other-tenant"]
    assert await found(index, QUERY, t, model="gpt-4o") == ["other-model"]
    assert await found(index, QUERY, t, partition=P2) == ["other-partition"]
    assert await found(index, QUERY, t, tenant_id="gamma") == []


async def test_an_add_replaces_the_entry_of_the_same_key(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    await index.add(entry("k", t, response=b"old"), unit(1, 0, 0), 100)
    await index.add(entry("k", t + 1, response=b"new"), unit(0, 1, 0), 100)
    results = await index.search("acme", "gpt-4o-mini", P1, unit(0, 1, 0), t + 2, 10)
    assert [(e.response, round(s, 6)) for e, s in results] == [(b"new", 1.0)]
    assert await index.purge("acme") == 1


async def test_an_expired_entry_is_never_returned(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    await index.add(entry("short", t, ttl_s=60), unit(1, 0, 0), 100)
    await index.add(entry("long", t, ttl_s=600), unit(0, 1, 0), 100)
    assert await found(index, unit(1, 0, 0), t + 59.9, 1) == ["short"]
    assert await found(index, unit(1, 0, 0), t + 60, 1) == ["long"]  # the nearest expired: the next comes
    assert await found(index, unit(1, 0, 0), t + 3600) == []


async def test_the_oldest_entries_are_evicted_beyond_the_cap(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    await index.add(entry("k3", t + 3), unit(1, 0, 0), 3)
    await index.add(entry("k1", t + 1, partition=P2), unit(1, 0, 0), 3)  # the cap counts every partition
    await index.add(entry("k2", t + 2, model="gpt-4o"), unit(1, 0, 0), 3)  # and every model
    await index.add(entry("other", t, tenant_id="beta"), unit(1, 0, 0), 1)
    await index.add(entry("k4", t + 4), unit(0, 1, 0), 3)  # evicts k1: made first, added second
    assert await found(index, QUERY, t + 5) == ["k3", "k4"]
    assert await found(index, QUERY, t + 5, partition=P2) == []
    assert await found(index, QUERY, t + 5, model="gpt-4o") == ["k2"]
    await index.add(entry("k5", t + 5), unit(0, 0, 1), 2)  # a lower cap: k2 and k3 go
    assert await found(index, QUERY, t + 6) == ["k4", "k5"]
    assert await found(index, QUERY, t + 6, model="gpt-4o") == []
    assert await found(index, QUERY, t + 6, tenant_id="beta") == ["other"]


async def test_the_cap_counts_what_purges_left(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    await index.add(entry("keep", t + 1000), unit(1, 0, 0), 1000)
    for i in range(100):
        await index.add(entry(f"k{i}", t + i, model="m1"), unit(1, 0, 0), 1000)
    assert await index.purge("acme", model="m1") == 100
    await index.add(entry("new", t + 2000), unit(0, 1, 0), 2)
    assert await found(index, QUERY, t) == ["keep", "new"]
    await index.add(entry("newer", t + 3000), unit(0, 0, 1), 2)
    assert await found(index, QUERY, t) == ["new", "newer"]


async def test_purge_by_tenant_model_and_key_prefix(index: SemanticIndex, clock: Clock) -> None:
    t = clock.now
    for key, model, prefix in [
        ("a", "m1", "p1"), ("b", "m1", "p2"), ("c", "m2", "p1"), ("d", "m2", "p2"), ("e", "m1", "p1"),
    ]:  # fmt: skip
        await index.add(entry(key, t, model=model, key_prefix=prefix), unit(1, 0, 0), 100)
    await index.add(entry("expired", t - 7200, model="m2", key_prefix="p2"), unit(1, 0, 0), 100)
    await index.add(entry("a", t, tenant_id="beta", model="m1", key_prefix="p1"), unit(1, 0, 0), 100)
    assert await index.purge("acme", model="m1", key_prefix="p1") == 2
    assert await found(index, QUERY, t, model="m1") == ["b"]
    assert await index.purge("acme", model="m2") == 2  # c, d; the expired one goes uncounted
    assert await index.purge("acme", key_prefix="p2") == 1
    assert await index.purge("acme") == 0
    assert await index.purge("nobody") == 0
    assert await found(index, QUERY, t, model="m1", tenant_id="beta") == ["a"]
    assert await index.purge("beta") == 1
    assert await found(index, QUERY, t, model="m1", tenant_id="beta") == []


async def test_entries_survive_a_restart(new_index: Factory, clock: Clock) -> None:
    t = clock.now
    first = await new_index(3)
    await add_vectors(first, t)
    await first.add(entry("short", t, ttl_s=1), unit(0.8, 0.6, 0), 100)
    await first.add(entry("gone", t, key_prefix="sk-bbbb"), unit(0.8, 0.6, 0), 100)
    assert await first.purge("acme", key_prefix="sk-bbbb") == 1
    before = await first.search("acme", "gpt-4o-mini", P1, QUERY, t + 10, 10)
    await first.close()

    clock.now = t + 10
    second = await new_index(3)
    after = await second.search("acme", "gpt-4o-mini", P1, QUERY, t + 10, 10)
    assert [e.exact_key for e, _ in after] == ["b", "a", "c", "d", "e"]
    assert [(e, pytest.approx(s, abs=1e-6)) for e, s in after] == before


@pytest.mark.parametrize("dimensions", [8, 1536, 3072])
async def test_other_dimensions(new_index: Factory, clock: Clock, dimensions: int) -> None:
    vectors = random_units(40, dimensions)
    index = await new_index(dimensions)
    for i, v in enumerate(vectors):
        await index.add(entry(f"k{i}", clock.now), v.tolist(), 100)
    query = vectors[7]
    expected = np.argsort(-(vectors @ query), kind="stable")[:5]
    results = await index.search("acme", "gpt-4o-mini", P1, query.tolist(), clock.now, 5)
    assert [e.exact_key for e, _ in results] == [f"k{i}" for i in expected]
    precision = 1e-5 if dimensions <= 2000 else 2e-3  # pgvector indexes larger ones as halfvec
    assert [s for _, s in results] == pytest.approx((vectors[expected] @ query).tolist(), abs=precision)
    with pytest.raises(ValueError, match=f"{dimensions}-dimension"):
        await index.add(entry("short", clock.now), [1.0, 0.0], 100)


# --- in process, over SQLite -------------------------------------------------------------------


def rows(path: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT tenant_id, exact_key FROM cache_semantic"))


def uses_hnsw(index: LocalSemanticIndex, partition: str = P1) -> bool:
    """The one look inside: whether the group is searched through its HNSW index."""
    group = index._groups.get(("acme", "gpt-4o-mini", partition))
    return group is not None and group.hnsw is not None


async def test_local_writes_wait_for_the_writer_and_close_flushes_them(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    index = LocalSemanticIndex(sqlite_writer(sqlite_path), 3, clock=clock, flush_every_s=3600)
    await index.start()
    await index.add(entry("k1", clock.now), unit(1, 0, 0), 10)
    await index.add(entry("k2", clock.now), unit(0, 1, 0), 10)
    await index.add(entry("k3", clock.now), unit(0, 0, 1), 10)
    assert await index.purge("acme", key_prefix="none") == 0
    assert await index.purge("acme") == 3
    await index.add(entry("k4", clock.now), unit(1, 0, 0), 10)
    assert rows(sqlite_path) == []  # nothing written on the request path
    await index.close()
    assert rows(sqlite_path) == [("acme", "k4")]
    with sqlite3.connect(sqlite_path) as db:
        (blob,) = db.execute("SELECT embedding FROM cache_semantic").fetchone()
    assert np.frombuffer(blob, "<f4").tolist() == [1.0, 0.0, 0.0]


async def test_local_writer_writes_in_the_background(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    index = LocalSemanticIndex(sqlite_writer(sqlite_path), 3, clock=clock, flush_every_s=0.01)
    await index.start()
    try:
        await index.add(entry("k1", clock.now), unit(1, 0, 0), 10)
        await index.add(entry("k2", clock.now), unit(0, 1, 0), 10)
        await index.add(entry("k3", clock.now + 1), unit(0, 0, 1), 2)  # evicts k1
        await eventually_async(lambda: rows(sqlite_path) == [("acme", "k2"), ("acme", "k3")], 30)
    finally:
        await index.close()


async def test_local_start_drops_expired_rows_and_rows_of_another_dimension(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    t = clock.now
    first = LocalSemanticIndex(sqlite_writer(sqlite_path), 3, clock=clock)
    await first.start()
    await first.add(entry("short", t, ttl_s=5), unit(1, 0, 0), 10)
    await first.add(entry("long", t), unit(1, 0, 0), 10)
    await first.close()
    clock.now = t + 10
    second = LocalSemanticIndex(sqlite_writer(sqlite_path), 3, clock=clock)
    await second.start()
    assert rows(sqlite_path) == [("acme", "long")]
    await second.close()

    other = LocalSemanticIndex(sqlite_writer(sqlite_path), 4, clock=clock)  # the embedding model changed
    await other.start()
    assert await found(other, unit(1, 0, 0, 0), t + 10) == []
    await other.add(entry("new", t + 10), unit(1, 0, 0, 0), 10)
    assert await found(other, unit(1, 0, 0, 0), t + 10) == ["new"]
    await other.close()
    assert rows(sqlite_path) == [("acme", "new")]


async def test_local_start_without_the_schema_is_store_unavailable(
    tmp_path: Path, clock: Clock, sqlite_writer: WriterOf
) -> None:
    index = LocalSemanticIndex(sqlite_writer(str(tmp_path / "empty.db")), 3, clock=clock)
    with pytest.raises(StoreUnavailableError):
        await index.start()
    await index.close()


async def test_local_large_groups_are_searched_through_hnsw(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    t = clock.now
    vectors = random_units(300, 16)
    live: dict[str, np.ndarray] = {}

    def exact_top(query: np.ndarray, k: int = 5) -> list[str]:
        keys = list(live)
        similarities = np.stack([live[key] for key in keys]) @ query
        return [keys[i] for i in np.argsort(-similarities, kind="stable")[:k]]

    async def add(index: LocalSemanticIndex, i: int, vector: np.ndarray, max_entries: int = 1000) -> None:
        await index.add(entry(f"k{i}", t + i), vector.tolist(), max_entries)
        live[f"k{i}"] = vector

    index = LocalSemanticIndex(sqlite_writer(sqlite_path), 16, clock=clock, hnsw_above=100)
    await index.start()
    for i in range(200):
        await add(index, i, vectors[i])
    await asyncio.sleep(0)  # the build copies these 200 rows and leaves for a worker thread
    for i in range(200, 210):  # meanwhile 10 more, evicting k0 to k9
        await add(index, i, vectors[i], 200)
        del live[f"k{i - 200}"]
    assert await found(index, vectors[150].tolist(), t, 1) == ["k150"]  # brute force while it builds
    assert await found(index, vectors[5].tolist(), t, 5) == exact_top(vectors[5])
    await eventually_async(lambda: uses_hnsw(index), 30)
    assert await found(index, vectors[5].tolist(), t, 5) == exact_top(vectors[5])
    for i in range(210, 300):  # added to the index as they come
        await add(index, i, vectors[i])
    for q in (0, 150, 250, 299):
        assert await found(index, vectors[q].tolist(), t, 5) == exact_top(vectors[q])
    results = await index.search("acme", "gpt-4o-mini", P1, vectors[250].tolist(), t, 3)
    assert [s for _, s in results] == pytest.approx(
        [float(vectors[int(e.exact_key[1:])] @ vectors[250]) for e, _ in results], abs=1e-6
    )
    assert results[0][1] == pytest.approx(1.0, abs=1e-6)

    await add(index, 300, vectors[0], 250)  # evicts k10 to k50
    for i in range(10, 51):
        del live[f"k{i}"]
    assert uses_hnsw(index)
    assert await found(index, vectors[0].tolist(), t, 1) == ["k300"]
    assert await found(index, vectors[30].tolist(), t, 5) == exact_top(vectors[30])
    await index.close()

    again = LocalSemanticIndex(sqlite_writer(sqlite_path), 16, clock=clock, hnsw_above=100)
    await again.start()
    try:
        assert await found(again, vectors[30].tolist(), t, 5) == exact_top(vectors[30])
        await eventually_async(lambda: uses_hnsw(again), 30)  # rebuilt in the background
        assert await found(again, vectors[30].tolist(), t, 5) == exact_top(vectors[30])
        now = t + 3600 + 250  # k51 to k250 expired: 50 entries left, half the threshold
        for i in range(51, 251):
            del live[f"k{i}"]
        assert await found(again, vectors[30].tolist(), now, 5) == exact_top(vectors[30])
        assert not uses_hnsw(again)
        assert await found(again, vectors[260].tolist(), now, 1) == ["k260"]
    finally:
        await again.close()


# --- on PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


@pytest.mark.parametrize("port", ["closed", "silent"])
async def test_pg_unreachable_is_store_unavailable_within_the_timeout(
    port: str, request: pytest.FixtureRequest, clock: Clock, postgres_pool: Callable[..., Awaitable[PoolOf]]
) -> None:
    number = free_port() if port == "closed" else request.getfixturevalue("silent_port")
    dsn = f"postgresql://postgres@127.0.0.1:{number}/sluice"
    index = PgSemanticIndex(
        await postgres_pool(dsn, timeout_s=0.5, migrate=False), 3, timeout_s=0.5, clock=clock
    )
    calls: list[Callable[[], Awaitable[object]]] = [
        index.start,
        lambda: index.search("acme", "gpt-4o-mini", P1, QUERY, clock.now, 3),
        lambda: index.add(entry("k1", clock.now), QUERY, 10),
        lambda: index.purge("acme"),
    ]
    try:
        for call in calls:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError):
                await call()
            assert time.monotonic() - started < 1.5
    finally:
        await index.close()


async def test_pg_schema_is_made_once_by_replicas_starting_together(
    postgres_clean: str, clock: Clock
) -> None:
    stores = [PostgresStore(postgres_clean) for _ in range(4)]
    replicas = [PgSemanticIndex(s.pool, 3, timeout_s=5.0, clock=clock) for s in stores[:3]]
    small = PgSemanticIndex(stores[3].pool, 8, timeout_s=5.0, clock=clock)
    try:
        await asyncio.gather(*(s.migrate() for s in stores))
        await asyncio.gather(*(r.start() for r in replicas), small.start())
        await replicas[0].add(entry("k1", clock.now), QUERY, 10)
        await small.add(entry("k2", clock.now), unit(*range(1, 9)), 10)
        assert await found(replicas[1], QUERY, clock.now) == ["k1"]
        assert await found(small, unit(*range(1, 9)), clock.now) == ["k2"]
    finally:
        for r in (*replicas, small):
            await r.close()
        for s in stores:
            await s.close()
    conn = await asyncpg.connect(postgres_clean)
    try:
        indexes = await conn.fetch(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'cache_semantic_hnsw_%' ORDER BY 1"
        )
    finally:
        await conn.close()
    assert [r["indexdef"] for r in indexes] == [
        "CREATE INDEX cache_semantic_hnsw_3 ON public.cache_semantic USING hnsw (((embedding)::vector(3))"
        " vector_cosine_ops) WHERE (vector_dims(embedding) = 3)",
        "CREATE INDEX cache_semantic_hnsw_8 ON public.cache_semantic USING hnsw (((embedding)::vector(8))"
        " vector_cosine_ops) WHERE (vector_dims(embedding) = 8)",
    ]


async def test_pg_a_filter_rejecting_the_nearest_neighbours_does_not_starve_the_search(
    postgres_clean: str, clock: Clock, postgres_pool: Callable[..., Awaitable[PoolOf]]
) -> None:
    """The planner pushed onto the HNSW index (no sequential scans, no partition btree): a plain
    index scan stops at its ``ef_search`` nearest, all of another partition; the store's
    iterative scan goes on until it has its ``k``."""
    t = clock.now
    rng = np.random.default_rng(0)
    east, west = np.eye(8, dtype=np.float32)[0], -np.eye(8, dtype=np.float32)[0]
    near = east + 0.05 * rng.standard_normal((300, 8)).astype(np.float32)
    far = west + 0.05 * rng.standard_normal((10, 8)).astype(np.float32)
    planner = "enable_seqscan=off&enable_bitmapscan=off&enable_sort=off"
    index = PgSemanticIndex(await postgres_pool(f"{postgres_clean}?{planner}"), 8, timeout_s=5.0, clock=clock)
    await index.start()
    try:
        for i, v in enumerate([*near, *far]):
            await index.add(entry(f"k{i}", t, partition=P1 if i < 300 else P2), unit(*v), 1000)
        conn = await asyncpg.connect(
            postgres_clean, server_settings=dict(p.split("=") for p in planner.split("&"))
        )
        try:
            await conn.execute("DROP INDEX cache_semantic_by_partition")
            await conn.execute("ANALYZE cache_semantic")
            plain = await conn.fetch(
                "SELECT exact_key FROM cache_semantic WHERE partition = $1 AND vector_dims(embedding) = 8"
                " ORDER BY embedding::vector(8) <=> $2::real[]::vector(8) LIMIT 5",
                P2, east.tolist(),
            )  # fmt: skip
        finally:
            await conn.close()
        assert plain == []
        assert len(await found(index, east.tolist(), t, 5, partition=P2)) == 5
    finally:
        await index.close()


async def test_pg_without_the_right_to_create_pgvector_the_gateway_migrates_and_the_index_says_why(
    postgres_clean: str, clock: Clock
) -> None:
    """A role that may not create the extension: the optional migration is skipped, unrecorded, the
    rest of the store works, and the index refuses to start saying what to do; once a superuser
    created the extension, the next start applies the migration and the index works."""
    admin = await asyncpg.connect(postgres_clean)
    try:
        await admin.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sluice_app') THEN"
            " CREATE ROLE sluice_app LOGIN; END IF; END $$"
        )
        await admin.execute("GRANT USAGE, CREATE ON SCHEMA public TO sluice_app")
        app_dsn = postgres_clean.replace("postgres@", "sluice_app@", 1)
        store = PostgresStore(app_dsn)
        index = PgSemanticIndex(store.pool, 3, timeout_s=5.0, clock=clock)
        try:
            applied = await store.migrate()
            assert "0008_guardrail_policy.sql" in applied
            assert "0009_cache_semantic.sql" not in applied and "0015_chunks_pgvector.sql" not in applied
            assert await store.list_tenants() == []
            with pytest.raises(StoreUnavailableError, match="have a superuser run `CREATE EXTENSION vector`"):
                await index.start()

            await admin.execute("CREATE EXTENSION vector")
            # Both optional pgvector migrations (the cache's, the knowledge chunks') apply now.
            assert await store.migrate() == ["0009_cache_semantic.sql", "0015_chunks_pgvector.sql"]
            await index.start()
            await index.add(entry("k1", clock.now), QUERY, 10)
            assert await found(index, QUERY, clock.now) == ["k1"]
        finally:
            await index.close()
            await store.close()
    finally:
        await admin.close()
