"""The budget ledger, in-process and on a real redis-server, on a clock the test sets: all-or-
nothing reservations across scopes, settle corrects to the actual spend, UTC periods roll over."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from sluice.budgets.ledger import Cap, Ledger, MemoryLedger, Refusal, Reservation, budget_key, period_end_s
from sluice.budgets.redis import RedisLedger
from sluice.store.redis import BoundedRedis
from tests.limits.conftest import Clock

NOON = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC).timestamp()
TENANT_DAY = Cap("t", "tenant", "t", "day", None, 1000)
KEY_MONTH = Cap("t", "key", "k", "month", 100, None)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture(params=["memory", "redis"])
async def ledger(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Ledger]:
    store: Ledger
    if request.param == "memory":
        store = MemoryLedger(clock)
    else:
        store = RedisLedger(BoundedRedis(request.getfixturevalue("redis_clean"), timeout_s=2.0), clock=clock)
    yield store
    await store.close()


def test_keys_and_periods() -> None:
    assert budget_key("t", "key", "k", "day", NOON) == "sluice:budget:t:key:k:d2026-11-30"
    assert budget_key("t", "key", "k", "month", NOON) == "sluice:budget:t:key:k:m2026-11"
    assert period_end_s("day", NOON) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()
    assert period_end_s("month", NOON) == dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()
    december = dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC).timestamp()
    assert period_end_s("month", december) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp()


async def test_reserve_until_a_cap_would_be_exceeded(ledger: Ledger) -> None:
    caps = [TENANT_DAY, KEY_MONTH]
    first = await ledger.reserve(caps, 40, 400)
    assert isinstance(first, Reservation) and (first.tokens, first.cost_micros) == (40, 400)
    assert isinstance(await ledger.reserve(caps, 40, 400), Reservation)
    assert await ledger.reserve(caps, 10, 201) == Refusal(TENANT_DAY, "cost")  # 800 + 201 > 1000
    assert await ledger.reserve(caps, 21, 200) == Refusal(KEY_MONTH, "tokens")  # 80 + 21 > 100
    assert isinstance(await ledger.reserve(caps, 20, 200), Reservation)  # exactly at both caps


async def test_a_refusal_records_nothing_on_any_scope(ledger: Ledger) -> None:
    assert await ledger.reserve([KEY_MONTH, TENANT_DAY], 50, 1001) == Refusal(TENANT_DAY, "cost")
    assert isinstance(await ledger.reserve([KEY_MONTH], 100, 0), Reservation)


async def test_settle_releases_what_was_not_spent(ledger: Ledger) -> None:
    r = await ledger.reserve([TENANT_DAY], 0, 900)
    assert isinstance(r, Reservation)
    assert isinstance(await ledger.reserve([TENANT_DAY], 0, 100), Reservation)
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")
    await ledger.settle(r, 0, 300)  # 600 released
    assert isinstance(await ledger.reserve([TENANT_DAY], 0, 600), Reservation)
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")


async def test_a_new_utc_day_starts_from_zero_and_a_late_settle_lands_in_its_own_day(ledger: Ledger, clock: Clock) -> None:
    r = await ledger.reserve([TENANT_DAY, KEY_MONTH], 10, 1000)
    assert isinstance(r, Reservation)
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")
    clock.now = NOON + 12 * 3600  # midnight UTC: a new day and (on the 30th of November) a new month
    fresh = await ledger.reserve([TENANT_DAY, KEY_MONTH], 100, 1000)
    assert isinstance(fresh, Reservation) and fresh.keys != r.keys
    await ledger.settle(r, 0, 0)  # releases yesterday's, not today's
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")


async def test_a_month_budget_holds_across_days(ledger: Ledger, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
    assert isinstance(await ledger.reserve([KEY_MONTH], 60, 0), Reservation)
    clock.now += 20 * 86_400
    assert await ledger.reserve([KEY_MONTH], 41, 0) == Refusal(KEY_MONTH, "tokens")
