"""The exact cache stores: in process over SQLite (embedded) and on a real redis-server
(distributed) pass the same suite; then what only each does (restarts and batched writes; one
round trip per call, real expiry, key layout, outages)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from sluice.cache.entries import Entry, ExactCache
from sluice.cache.exact_local import LocalExactCache
from sluice.cache.exact_redis import RedisExactCache, cache_key
from sluice.errors import StoreUnavailableError
from sluice.store.redis import BoundedRedis
from sluice.store.sqlite.store import SqliteStore
from tests.cache.conftest import WriterOf
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port
from tests.fixtures.wait import eventually_async


def entry(
    key: str,
    created_at: float,
    *,
    tenant_id: str = "acme",
    model: str = "gpt-4o-mini",
    key_prefix: str = "sk-aaaa",
    ttl_s: float = 3600.0,
    response: bytes = b'{"id": "chatcmpl-1"}',
) -> Entry:
    return Entry(
        tenant_id=tenant_id, model=model, exact_key=key, partition="p" * 64, key_prefix=key_prefix,
        prompt=f"prompt of {key}", response=response, prompt_tokens=12, completion_tokens=34,
        cost_micros=56, created_at=created_at, expires_at=created_at + ttl_s,
    )  # fmt: skip


@pytest.fixture
async def sqlite_path(tmp_path: Path) -> str:
    """A fresh SQLite file with the store's schema, as ``sluice migrate`` leaves it."""
    path = str(tmp_path / "sluice.db")
    store = SqliteStore(path)
    await store.migrate()
    await store.close()
    return path


@pytest.fixture(params=["local", "redis"])
async def cache(
    request: pytest.FixtureRequest, sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> AsyncIterator[ExactCache]:
    """Each test of the shared suite runs on both stores."""
    if request.param == "local":
        local = LocalExactCache(sqlite_writer(sqlite_path), clock=clock)
        await local.start()
        yield local
        await local.close()
    else:
        client = BoundedRedis(request.getfixturevalue("redis_clean"), timeout_s=2.0)
        remote = RedisExactCache(client)
        await remote.start()
        yield remote
        await remote.close()
        await client.close()


async def present(cache: ExactCache, keys: list[str], now: float, tenant_id: str = "acme") -> list[str]:
    """Which of ``keys`` are live (each lookup marks its entry used, in this order)."""
    return [k for k in keys if await cache.get(tenant_id, k, now) is not None]


# --- both stores -------------------------------------------------------------------------------


async def test_a_missing_entry_is_a_miss(cache: ExactCache, clock: Clock) -> None:
    assert await cache.get("acme", "nothing", clock.now) is None


async def test_a_stored_entry_is_a_hit(cache: ExactCache, clock: Clock) -> None:
    e = entry("k1", clock.now)
    await cache.put(e, 10)
    assert await cache.get("acme", "k1", clock.now + 1) == e
    assert await cache.get("acme", "k2", clock.now + 1) is None


async def test_a_put_replaces_the_entry_of_the_same_key(cache: ExactCache, clock: Clock) -> None:
    await cache.put(entry("k1", clock.now, response=b"old"), 10)
    newer = entry("k1", clock.now + 1, response=b"new")
    await cache.put(newer, 10)
    assert await cache.get("acme", "k1", clock.now + 2) == newer
    assert await cache.purge("acme") == 1


async def test_an_expired_entry_is_never_returned(cache: ExactCache, clock: Clock) -> None:
    await cache.put(entry("k1", clock.now, ttl_s=60), 10)
    assert await cache.get("acme", "k1", clock.now + 59.9) is not None
    assert await cache.get("acme", "k1", clock.now + 60) is None
    assert await cache.get("acme", "k1", clock.now + 3600) is None


async def test_the_least_recently_used_entry_is_evicted_beyond_the_cap(
    cache: ExactCache, clock: Clock
) -> None:
    t = clock.now
    for i in (1, 2, 3):
        await cache.put(entry(f"k{i}", t + i), 3)
    assert await cache.get("acme", "k1", t + 4) is not None  # k1 was used after k2 and k3
    await cache.put(entry("k4", t + 5), 3)
    assert await present(cache, ["k1", "k2", "k3", "k4"], t + 6) == ["k1", "k3", "k4"]
    await cache.put(entry("k5", t + 7), 3)  # k1, k3 and k4 were used at t + 6, in that order
    assert await present(cache, ["k1", "k3", "k4", "k5"], t + 8) == ["k3", "k4", "k5"]


async def test_a_lower_cap_shrinks_the_tenant_at_its_next_put(cache: ExactCache, clock: Clock) -> None:
    for i in range(5):
        await cache.put(entry(f"k{i}", clock.now + i), 5)
    await cache.put(entry("k5", clock.now + 5), 2)
    assert await present(cache, [f"k{i}" for i in range(6)], clock.now + 6) == ["k4", "k5"]


async def test_tenants_share_neither_entries_nor_caps(cache: ExactCache, clock: Clock) -> None:
    t = clock.now
    ours, theirs = entry("k1", t, response=b"ours"), entry("k1", t, tenant_id="beta", response=b"theirs")
    await cache.put(ours, 1)
    await cache.put(theirs, 1)
    assert await cache.get("acme", "k1", t + 1) == ours
    assert await cache.get("beta", "k1", t + 1) == theirs
    await cache.put(entry("k2", t + 2), 1)  # evicts acme's k1 only
    assert await present(cache, ["k1", "k2"], t + 3) == ["k2"]
    assert await cache.get("beta", "k1", t + 3) == theirs
    assert await cache.purge("acme") == 1
    assert await cache.get("beta", "k1", t + 4) == theirs


async def test_purge_by_tenant_model_and_key_prefix(cache: ExactCache, clock: Clock) -> None:
    t = clock.now
    for key, model, prefix in [
        ("a", "m1", "p1"), ("b", "m1", "p2"), ("c", "m2", "p1"), ("d", "m2", "p2"), ("e", "m1", "p1"),
    ]:  # fmt: skip
        await cache.put(entry(key, t, model=model, key_prefix=prefix), 100)
    await cache.put(entry("a", t, tenant_id="beta", model="m1", key_prefix="p1"), 100)
    assert await cache.purge("acme", model="m1", key_prefix="p1") == 2
    assert await present(cache, ["a", "b", "c", "d", "e"], t + 1) == ["b", "c", "d"]
    assert await cache.purge("acme", model="m2") == 2
    assert await cache.purge("acme", key_prefix="p2") == 1
    assert await cache.purge("acme") == 0
    assert await cache.purge("nobody") == 0
    assert await present(cache, ["a"], t + 1, tenant_id="beta") == ["a"]
    assert await cache.purge("beta") == 1


async def test_purge_walks_a_large_tenant(cache: ExactCache, clock: Clock) -> None:
    """More entries than one Redis purge call examines."""
    await asyncio.gather(
        *(cache.put(entry(f"k{i}", clock.now, model=f"m{i % 2}"), 2000) for i in range(1200))
    )
    assert await cache.purge("acme", model="m0") == 600
    assert await cache.get("acme", "k1", clock.now) is not None
    assert await cache.purge("acme") == 600
    assert await cache.get("acme", "k1", clock.now) is None


# --- in process, over SQLite -------------------------------------------------------------------


def rows(path: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT tenant_id, exact_key FROM cache_exact"))


async def test_local_entries_survive_a_restart_in_their_order(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    t = clock.now
    first = LocalExactCache(sqlite_writer(sqlite_path), clock=clock, flush_every_s=3600)
    await first.start()
    for i in (1, 2, 3):
        await first.put(entry(f"k{i}", t + i), 3)
    await first.put(entry("k4", t + 4, key_prefix="sk-bbbb"), 3)  # evicts k1
    assert await first.get("acme", "k2", t + 5) is not None
    await first.put(entry("k5", t + 6), 3)  # evicts k3, used before k2
    assert await first.purge("acme", key_prefix="sk-bbbb") == 1  # k4
    await first.put(entry("short", t + 6, tenant_id="beta", ttl_s=1), 3)
    assert await first.get("acme", "k2", t + 8) is not None  # now used after k5 was made
    await first.close()
    assert rows(sqlite_path) == [("acme", "k2"), ("acme", "k5"), ("beta", "short")]

    clock.now = t + 10
    second = LocalExactCache(sqlite_writer(sqlite_path), clock=clock)
    await second.start()
    try:
        assert rows(sqlite_path) == [("acme", "k2"), ("acme", "k5")]  # expired rows go at start
        await second.put(entry("k6", t + 11), 2)  # evicts k5: k2's last use came back with it
        assert await present(second, ["k1", "k2", "k3", "k4", "k5", "k6"], t + 12) == ["k2", "k6"]
        assert await second.get("acme", "k2", t + 13) == entry("k2", t + 2)
        assert await present(second, ["short"], t + 12, tenant_id="beta") == []
    finally:
        await second.close()
    assert rows(sqlite_path) == [("acme", "k2"), ("acme", "k6")]


async def test_local_writes_wait_for_the_writer_and_close_flushes_them(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    cache = LocalExactCache(sqlite_writer(sqlite_path), clock=clock, flush_every_s=3600)
    await cache.start()
    await cache.put(entry("k1", clock.now), 10)
    await cache.put(entry("k2", clock.now), 10)
    await cache.purge("acme", model="none")
    assert await cache.get("acme", "k1", clock.now) is not None
    assert rows(sqlite_path) == []  # nothing written on the request path
    await cache.close()
    assert rows(sqlite_path) == [("acme", "k1"), ("acme", "k2")]


async def test_local_writer_writes_in_the_background(
    sqlite_path: str, clock: Clock, sqlite_writer: WriterOf
) -> None:
    cache = LocalExactCache(sqlite_writer(sqlite_path), clock=clock, flush_every_s=0.01)
    await cache.start()
    try:
        await cache.put(entry("k1", clock.now), 10)
        await cache.put(entry("k2", clock.now), 10)
        await cache.purge("acme", model="gpt-4o-mini")
        await cache.put(entry("k3", clock.now), 10)
        await eventually_async(lambda: rows(sqlite_path) == [("acme", "k3")])
    finally:
        await cache.close()


async def test_local_start_without_the_schema_is_store_unavailable(
    tmp_path: Path, clock: Clock, sqlite_writer: WriterOf
) -> None:
    cache = LocalExactCache(sqlite_writer(str(tmp_path / "empty.db")), clock=clock)
    with pytest.raises(StoreUnavailableError):
        await cache.start()


# --- on Redis ----------------------------------------------------------------------------------


@pytest.fixture
async def remote(redis_clean: str) -> AsyncIterator[RedisExactCache]:
    client = BoundedRedis(redis_clean, timeout_s=2.0)
    yield RedisExactCache(client)
    await client.close()


@pytest.fixture
def raw(redis_clean: str) -> redis.Redis:
    return redis.Redis.from_url(redis_clean, socket_timeout=5, decode_responses=True)


def reads(raw: redis.Redis) -> int:
    """The read events Redis has processed (each client write it took in); this INFO is one."""
    return int(raw.info("stats")["total_reads_processed"])


async def test_redis_get_and_put_are_one_round_trip_each(
    remote: RedisExactCache, raw: redis.Redis, clock: Clock
) -> None:
    await remote.put(entry("k0", clock.now), 10)  # connect, load the scripts
    await remote.get("acme", "k0", clock.now)
    before = reads(raw)
    assert await remote.get("acme", "k0", clock.now) is not None
    assert reads(raw) - before == 2  # the script, and the second INFO
    before = reads(raw)
    assert await remote.get("acme", "k1", clock.now) is None
    assert reads(raw) - before == 2
    before = reads(raw)
    await remote.put(entry("k1", clock.now), 10)
    assert reads(raw) - before == 2


async def test_redis_keys_are_named_by_tenant_and_expire_with_the_entry(
    remote: RedisExactCache, raw: redis.Redis
) -> None:
    await remote.put(entry("k1", time.time(), ttl_s=0.3), 10)
    assert sorted(raw.keys("*")) == ["sluice:cache:acme:exact:k1", "sluice:cache:acme:exact:lru"]
    assert cache_key("acme", "k1") == "sluice:cache:acme:exact:k1"
    assert 0 < raw.pttl(cache_key("acme", "k1")) <= 300
    assert 0 < raw.pttl(cache_key("acme")) <= 300
    await eventually_async(lambda: raw.exists(cache_key("acme", "k1"), cache_key("acme")) == 0)
    assert raw.keys("*") == []
    assert await remote.get("acme", "k1", time.time()) is None


@pytest.mark.parametrize(
    "offset_s", [-10 * 365 * 86_400, 10 * 365 * 86_400], ids=["gateway-behind", "gateway-ahead"]
)
async def test_redis_entries_live_their_ttl_whatever_redis_clock_says(
    remote: RedisExactCache, raw: redis.Redis, offset_s: int
) -> None:
    """A gateway clock far from Redis's neither drops a fresh entry at once nor keeps it for years."""
    now = time.time() + offset_s
    await remote.put(entry("k1", now, ttl_s=600), 10)
    assert await remote.get("acme", "k1", now + 1) is not None
    assert 590_000 < raw.pttl(cache_key("acme", "k1")) <= 600_000
    assert 590_000 < raw.pttl(cache_key("acme")) <= 600_000


async def test_redis_unreachable_is_store_unavailable(clock: Clock) -> None:
    client = BoundedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5)
    remote = RedisExactCache(client)
    try:
        with pytest.raises(StoreUnavailableError):
            await remote.get("acme", "k1", clock.now)
        with pytest.raises(StoreUnavailableError):
            await remote.put(entry("k1", clock.now), 10)
        with pytest.raises(StoreUnavailableError):
            await remote.purge("acme")
    finally:
        await client.close()


async def test_redis_an_entry_it_cannot_decode_is_a_miss(
    remote: RedisExactCache, raw: redis.Redis, clock: Clock
) -> None:
    """Written by a replica of another version: the next put replaces it."""
    raw.hset(
        cache_key("acme", "k1"), mapping={"e": "not msgpack of an entry", "m": "gpt-4o-mini", "p": "sk-aaaa"}
    )
    assert await remote.get("acme", "k1", clock.now) is None
    await remote.put(entry("k1", clock.now), 10)
    assert await remote.get("acme", "k1", clock.now) == entry("k1", clock.now)
