"""The counter stores under test: in-process and on a real redis-server, both on a clock the
test advances (Unix seconds, so Redis sees realistic times)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sluice.limits.counters import CounterStore
from sluice.limits.memory import MemoryCounterStore
from sluice.limits.redis import RedisCounterStore
from sluice.store.redis import BoundedRedis
from tests.fixtures.clock import Clock

T0 = 1_700_000_040.0
"""A whole second, so offsets from it are positions within one-second buckets."""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[CounterStore]:
    """Each test of the shared suite runs on both stores."""
    store: CounterStore
    if request.param == "memory":
        store = MemoryCounterStore(clock)
    else:
        store = RedisCounterStore(
            BoundedRedis(request.getfixturevalue("redis_clean"), timeout_s=2.0), clock=clock
        )
    yield store
    await store.close()
