"""The shared Redis client: script calls made in one turn of the event loop leave as one
pipelined round trip (counted by Redis itself), scripts lost by Redis are reloaded, and pings and
outages are bounded and translated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from sluice.errors import StoreUnavailableError
from sluice.store.redis import BoundedRedis
from tests.fixtures.procs import free_port

ECHO = BoundedRedis.script("return {KEYS[1], ARGV[1]}")
INCR = BoundedRedis.script("return redis.call('INCRBY', KEYS[1], ARGV[1])")


@pytest.fixture
async def client(redis_clean: str) -> AsyncIterator[BoundedRedis]:
    c = BoundedRedis(redis_clean, timeout_s=2.0)
    yield c
    await c.close()


@pytest.fixture
def raw(redis_clean: str) -> redis.Redis:
    return redis.Redis.from_url(redis_clean, socket_timeout=5, decode_responses=True)


def reads(raw: redis.Redis) -> int:
    """The read events Redis has processed (each client write it took in); this INFO is one."""
    return int(raw.info("stats")["total_reads_processed"])


async def test_calls_in_one_turn_share_one_round_trip(client: BoundedRedis, raw: redis.Redis) -> None:
    await asyncio.gather(client.eval(ECHO, ["warm"], [0]), client.eval(INCR, ["warm"], [0]))  # connect, load the scripts
    before = reads(raw)
    replies = await asyncio.gather(*(client.eval(INCR, ["n"], [i]) for i in range(1, 6)), client.eval(ECHO, ["k"], ["v"]))
    assert replies == [1, 3, 6, 10, 15, [b"k", b"v"]]
    assert reads(raw) - before == 2  # the pipeline, and the second INFO
    before = reads(raw)
    await client.eval(INCR, ["n"], [1])
    await client.eval(INCR, ["n"], [1])  # awaited one after the other: two turns, two trips
    assert reads(raw) - before == 3


async def test_scripts_lost_by_redis_are_loaded_again(client: BoundedRedis, raw: redis.Redis) -> None:
    assert await client.eval(INCR, ["n"], [2]) == 2
    raw.script_flush()
    assert await asyncio.gather(client.eval(INCR, ["n"], [3]), client.eval(ECHO, ["a"], ["b"])) == [5, [b"a", b"b"]]
    raw.script_flush()
    assert await client.eval(INCR, ["n"], [1]) == 6


async def test_a_failing_script_fails_alone(client: BoundedRedis) -> None:
    broken = BoundedRedis.script("return redis.call('NOSUCHCOMMAND')")
    replies = await asyncio.gather(client.eval(broken, ["k"], []), client.eval(INCR, ["n"], [1]), return_exceptions=True)
    assert isinstance(replies[0], StoreUnavailableError) and replies[1] == 1


async def test_ping_reports_the_round_trip(client: BoundedRedis) -> None:
    assert 0 < await client.ping_ms() < 1000


async def test_an_unreachable_redis_is_store_unavailable() -> None:
    client = BoundedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5)
    try:
        with pytest.raises(StoreUnavailableError) as e:
            await client.eval(ECHO, ["k"], [1])
        assert e.value.status == 503 and e.value.code == "store_unavailable"
        with pytest.raises(StoreUnavailableError):
            await client.ping_ms()
    finally:
        await client.close()
