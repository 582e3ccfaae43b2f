"""What only the Redis counters do: one round trip per call, keys that expire, leases that free
a dead replica's slots, settles that survive cancellation, and outages bounded and translated."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis

from sluice.errors import StoreUnavailableError
from sluice.limits.counters import Scope, plan
from sluice.limits.redis import LEASE_MS, RedisCounterStore
from sluice.store.redis import BoundedRedis
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port
from tests.fixtures.wait import eventually_async

TENANT = Scope("acme", "tenant", "acme", rpm=100, tpm=10_000)
KEY = Scope("acme", "key", "k1", rpm=10, max_concurrent=2)


@pytest.fixture
async def store(redis_clean: str, clock: Clock) -> AsyncIterator[RedisCounterStore]:
    s = RedisCounterStore(BoundedRedis(redis_clean, timeout_s=2.0), clock=clock)
    yield s
    await s.close()


@pytest.fixture
def raw(redis_clean: str) -> redis.Redis:
    return redis.Redis.from_url(redis_clean, socket_timeout=5, decode_responses=True)


def commands(raw: redis.Redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in raw.info("commandstats").items()}


async def test_admit_and_settle_are_one_script_call_each(store: RedisCounterStore, raw: redis.Redis) -> None:
    await store.admit(plan([TENANT, KEY]), 10)  # the first call loads the scripts
    raw.config_resetstat()
    decision = await store.admit(plan([TENANT, KEY]), 10)
    assert decision.ticket is not None
    await store.settle(decision.ticket, 4)
    calls = commands(raw)
    assert calls.pop("evalsha") == 2
    calls.pop("config|resetstat")
    # Everything else ran inside the two scripts.
    assert set(calls) <= {
        "hgetall",
        "hdel",
        "hincrby",
        "pexpire",
        "zremrangebyscore",
        "zcard",
        "zadd",
        "zrem",
        "hexists",
    }


async def test_keys_are_named_by_scope_and_expire(
    store: RedisCounterStore, raw: redis.Redis, clock: Clock
) -> None:
    decision = await store.admit(plan([TENANT, KEY]), 10)
    assert decision.ticket is not None
    assert sorted(raw.keys("*")) == [
        "sluice:rl:acme:key:k1:inflight", "sluice:rl:acme:key:k1:rpm",
        "sluice:rl:acme:tenant:acme:rpm", "sluice:rl:acme:tenant:acme:tpm",
    ]  # fmt: skip
    assert 0 < raw.pttl("sluice:rl:acme:tenant:acme:tpm") <= 61_000
    assert LEASE_MS - 1000 < raw.pttl("sluice:rl:acme:key:k1:inflight") <= LEASE_MS
    raw.delete("sluice:rl:acme:tenant:acme:tpm")  # as if it had expired
    await store.settle(decision.ticket, 3)
    assert not raw.exists("sluice:rl:acme:tenant:acme:tpm")  # a late correction does not bring it back
    assert not raw.exists("sluice:rl:acme:key:k1:inflight")


async def test_a_lease_frees_the_slot_of_a_replica_that_never_settled(
    store: RedisCounterStore, clock: Clock
) -> None:
    scopes = [Scope(None, "key", "demo", max_concurrent=1)]
    assert (await store.admit(plan(scopes), 1)).ticket is not None
    clock.advance(LEASE_MS / 1000 - 1)
    assert (await store.admit(plan(scopes), 1)).refusal is not None
    clock.advance(1)
    assert (await store.admit(plan(scopes), 1)).ticket is not None


async def test_a_settle_completes_when_its_caller_is_cancelled(
    store: RedisCounterStore, redis_clean: str, clock: Clock
) -> None:
    scopes = [Scope(None, "key", "demo", max_concurrent=1)]
    decision = await store.admit(plan(scopes), 1)
    assert decision.ticket is not None
    caller = asyncio.create_task(store.settle(decision.ticket, None))
    await asyncio.sleep(0)  # the settle is sent...
    caller.cancel()  # ...and its caller goes away (a client disconnect)
    with pytest.raises(asyncio.CancelledError):
        await caller
    await store.close()  # waits for settles still running
    fresh = RedisCounterStore(BoundedRedis(redis_clean, timeout_s=2.0), clock=clock)
    try:
        assert (await fresh.admit(plan(scopes), 1)).ticket is not None
    finally:
        await fresh.close()


async def test_refused_connections_are_store_unavailable() -> None:
    store = RedisCounterStore(BoundedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5))
    try:
        with pytest.raises(StoreUnavailableError) as e:
            await store.admit(plan([KEY]), 1)
        assert e.value.status == 503 and e.value.code == "store_unavailable"
    finally:
        await store.close()


async def test_a_redis_that_never_answers_costs_at_most_the_timeout() -> None:
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accept, read nothing, answer nothing

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisCounterStore(BoundedRedis(f"redis://127.0.0.1:{port}/0", timeout_s=0.2))
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError):
            await store.admit(plan([KEY]), 1)
        assert time.monotonic() - started < 0.5
    finally:
        await store.close()
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


async def test_a_caller_cancelled_mid_admission_holds_no_slot(
    store: RedisCounterStore, raw: redis.Redis
) -> None:
    """A client that disconnects while its admission is on the wire: the admission lands in
    Redis, nobody will settle it, so the store releases it itself once the reply arrives."""
    p = plan([Scope("acme", "key", "k1", rpm=10, max_concurrent=1)])
    rpm_key = p.checks[0].key
    admitting = asyncio.ensure_future(store.admit(p, 1))
    await asyncio.sleep(0)  # queued; the pipeline leaves at the end of this turn
    admitting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await admitting
    await eventually_async(
        lambda: raw.exists(rpm_key) and raw.zcard(p.inflight_keys[0]) == 0, 2, "the slot released"
    )
    assert raw.exists(rpm_key), "the admission reached Redis"
    assert raw.zcard(p.inflight_keys[0]) == 0, "and its slot was released"
    decision = await store.admit(p, 1)  # the one slot is free
    assert decision.ticket is not None
