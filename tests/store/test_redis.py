"""The shared Redis client: script calls made in one turn of the event loop leave as one
pipelined round trip (counted by Redis itself), scripts lost by Redis are reloaded, connections
Redis closed (CLIENT KILL, a restart) are replaced before anything is sent on them, a script whose
reply was lost is never run twice, and pings and outages are bounded and translated."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis

from sluice.errors import StoreUnavailableError
from sluice.store.redis import BoundedRedis
from tests.fixtures.procs import free_port
from tests.fixtures.services import restart_redis, start_redis

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
    await asyncio.gather(
        client.eval(ECHO, ["warm"], [0]), client.eval(INCR, ["warm"], [0])
    )  # connect, load the scripts
    before = reads(raw)
    replies = await asyncio.gather(
        *(client.eval(INCR, ["n"], [i]) for i in range(1, 6)), client.eval(ECHO, ["k"], ["v"])
    )
    assert replies == [1, 3, 6, 10, 15, [b"k", b"v"]]
    assert reads(raw) - before == 2  # the pipeline, and the second INFO
    before = reads(raw)
    await client.eval(INCR, ["n"], [1])
    await client.eval(INCR, ["n"], [1])  # awaited one after the other: two turns, two trips
    assert reads(raw) - before == 3


async def test_scripts_lost_by_redis_are_loaded_again(client: BoundedRedis, raw: redis.Redis) -> None:
    assert await client.eval(INCR, ["n"], [2]) == 2
    raw.script_flush()
    assert await asyncio.gather(client.eval(INCR, ["n"], [3]), client.eval(ECHO, ["a"], ["b"])) == [
        5,
        [b"a", b"b"],
    ]
    raw.script_flush()
    assert await client.eval(INCR, ["n"], [1]) == 6


async def test_a_failing_script_fails_alone(client: BoundedRedis) -> None:
    broken = BoundedRedis.script("return redis.call('NOSUCHCOMMAND')")
    replies = await asyncio.gather(
        client.eval(broken, ["k"], []), client.eval(INCR, ["n"], [1]), return_exceptions=True
    )
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


async def connections(client: BoundedRedis, n: int) -> None:
    """Make the client's pool hold ``n`` connections: ``n`` batches in flight at once."""

    async def one(i: int) -> None:
        await asyncio.sleep(0)  # each batch leaves in a turn of its own...
        await client.call(client.redis.blpop(["nothing"], timeout=0.05))  # ...and holds its connection

    await asyncio.gather(*(one(i) for i in range(n)))


async def test_connections_redis_killed_are_replaced_before_anything_is_sent(
    client: BoundedRedis, raw: redis.Redis
) -> None:
    await connections(client, 4)
    # The event loop has not run since the kill: it has not read the connections' FIN.
    assert raw.client_kill_filter(_type="normal", skipme=True) >= 4
    assert await asyncio.gather(*(client.eval(INCR, ["n"], [1]) for _ in range(3))) == [1, 2, 3]
    await connections(client, 4)
    assert raw.client_kill_filter(_type="normal", skipme=True) >= 4
    await asyncio.sleep(0.05)  # now it has
    assert await client.eval(INCR, ["n"], [1]) == 4
    assert await client.ping_ms() > 0
    assert raw.get("n") == "4"  # each script ran once


class ReplyDropper:
    """A loopback proxy to Redis that, once ``armed``, closes the client's connection in place of
    relaying Redis's next reply: the command ran, its reply never arrives."""

    def __init__(self, url: str) -> None:
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])
        self.armed = False
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection("127.0.0.1", self.port)

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter, *, is_reply: bool) -> None:
            with contextlib.suppress(OSError):
                while data := await r.read(65536):
                    if is_reply and self.armed:
                        self.armed = False
                        break
                    w.write(data)
                    await w.drain()
            client_w.close()
            redis_w.close()

        await asyncio.gather(pump(client_r, redis_w, is_reply=False), pump(redis_r, client_w, is_reply=True))


async def test_a_script_whose_reply_was_lost_is_not_run_again(redis_clean: str, raw: redis.Redis) -> None:
    proxy = ReplyDropper(redis_clean)
    proxy.server = await asyncio.start_server(proxy.serve, "127.0.0.1", 0)
    client = BoundedRedis(proxy.url, timeout_s=2.0)
    try:
        assert await client.eval(INCR, ["n"], [1]) == 1
        proxy.armed = True
        with pytest.raises(StoreUnavailableError):
            await client.eval(INCR, ["n"], [10])
        assert raw.get("n") == "11"  # it ran once; a resend would have made it 21
        assert await client.eval(INCR, ["n"], [1]) == 12  # on a new connection
    finally:
        await client.close()
        proxy.server.close()
        await proxy.server.wait_closed()


async def test_after_redis_restarts_every_call_succeeds_once(tmp_path: Path) -> None:
    server = start_redis(tmp_path)
    client = BoundedRedis(server.url, timeout_s=2.0)
    try:
        await connections(client, 6)
        assert await client.eval(INCR, ["n"], [5]) == 5
        server = restart_redis(server, tmp_path)  # empty: the counter and the scripts are gone
        assert await client.ping_ms() > 0  # what /health/ready asks

        async def one(i: int) -> int:
            await asyncio.sleep(0.001 * (i % 5))  # several turns: several batches, several connections
            return await client.eval(INCR, ["n"], [1])

        assert sorted(await asyncio.gather(*(one(i) for i in range(30)))) == list(range(1, 31))
        with redis.Redis.from_url(server.url, socket_timeout=5) as r:
            assert r.get("n") == b"30"
    finally:
        await client.close()
        server.stop()
