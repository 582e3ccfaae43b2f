"""MemoryCounterStore's one-pass admission decides exactly as the two-pass Lua script does:
the same random workload (three scopes, RPM, TPM and in-flight limits tight enough to refuse
often, settles with other usage, a clock that rolls the windows) gets the same decisions from
the in-process store and from RedisCounterStore on a real redis-server."""

from __future__ import annotations

import random

from sluice.limits.counters import Decision, Scope, Ticket, plan
from sluice.limits.memory import MemoryCounterStore
from sluice.limits.redis import RedisCounterStore
from sluice.store.redis import BoundedRedis
from tests.fixtures.clock import Clock
from tests.limits.conftest import T0


def _same(a: Decision, b: Decision) -> bool:
    """Equal but for the lease, which each store names its own way."""
    if (a.ticket is None) != (b.ticket is None) or (a.quota, a.refusal) != (b.quota, b.refusal):
        return False
    if a.ticket is None or b.ticket is None:
        return True
    ta, tb = a.ticket, b.ticket
    return (ta.tpm_keys, ta.inflight_keys, ta.bucket, ta.cost_tokens) == (
        tb.tpm_keys,
        tb.inflight_keys,
        tb.bucket,
        tb.cost_tokens,
    )


async def test_one_pass_admission_decides_as_the_lua_script_does(redis_clean: str) -> None:
    rng = random.Random(14)
    clock = Clock(T0)
    memory = MemoryCounterStore(clock)
    redis = RedisCounterStore(BoundedRedis(redis_clean, timeout_s=2.0), clock=clock)
    tenant = Scope("acme", "tenant", "acme", rpm=12, tpm=2400, max_concurrent=4)
    user = Scope("acme", "user", "u1", rpm=8, tpm=1500)
    k = Scope("acme", "key", "k1", rpm=6, tpm=1200, max_concurrent=2)
    plans = [
        plan([tenant, user, k]),
        plan([tenant, k]),
        plan([user]),
        plan([tenant, Scope("acme", "key", "k2", tpm=900)]),
    ]
    held: list[tuple[Ticket, Ticket]] = []
    refused = admitted = 0
    try:
        for i in range(600):
            clock.advance(rng.choice((0.0, 0.05, 0.3, 1.0, 7.0)))
            p, cost = rng.choice(plans), rng.choice((0, 1, 50, 200, 400, 1300))
            a, b = await memory.admit(p, cost), await redis.admit(p, cost)
            assert _same(a, b), (i, a, b)
            if a.ticket is not None and b.ticket is not None:
                admitted += 1
                held.append((a.ticket, b.ticket))
            else:
                refused += 1
            while held and (len(held) > 3 or rng.random() < 0.5):
                ta, tb = held.pop(rng.randrange(len(held)))
                actual = rng.choice((None, 0, ta.cost_tokens, ta.cost_tokens // 3, ta.cost_tokens + 90))
                await memory.settle(ta, actual)
                await redis.settle(tb, actual)
    finally:
        await redis.close()
    assert admitted > 100 and refused > 100  # both paths exercised, many times
