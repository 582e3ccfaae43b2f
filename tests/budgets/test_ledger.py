"""The budget ledger, in-process and on a real redis-server, on a clock the test sets: all-or-
nothing reservations across scopes, settle corrects to the actual spend, UTC periods roll over.

Every instant is relative to the real now (noon tomorrow, the first of next month...): a real
redis-server keeps its own clock, and a test instant fixed on the calendar would sooner or later
lie in its past (scripts/faketime-suite.sh runs this file at chosen instants to prove it)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
import redis

from sluice.budgets.ledger import (
    KEEP_S,
    Cap,
    Ledger,
    MemoryLedger,
    Refusal,
    Reservation,
    budget_key,
    period_end_s,
    period_start_s,
)
from sluice.budgets.redis import RedisLedger
from sluice.store.redis import BoundedRedis
from tests.fixtures.clock import Clock

DAY_S = 86_400
TODAY = dt.datetime.now(dt.UTC).date()
NOON = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(12), dt.UTC).timestamp()
"""Noon tomorrow, UTC."""
NEXT_MONTH = dt.datetime(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1, tzinfo=dt.UTC)
"""Midnight UTC starting the first day of next month."""
TENANT_DAY = Cap("t", "tenant", "t", "day", None, 1000)
KEY_MONTH = Cap("t", "key", "k", "month", 100, None)


def utc(*fields: int) -> float:
    return dt.datetime(*fields, tzinfo=dt.UTC).timestamp()  # type: ignore[misc]


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


def test_keys_and_periods_are_utc_days_and_months() -> None:
    """Fixed instants here are fine: these are pure functions of the instant, with no server."""
    noon = utc(2026, 11, 30, 12)
    assert budget_key("t", "key", "k", "day", noon) == "sluice:budget:t:key:k:d2026-11-30"
    assert budget_key("t", "key", "k", "month", noon) == "sluice:budget:t:key:k:m2026-11"
    assert budget_key(None, "key", "k", "day", noon) == "sluice:budget:-:key:k:d2026-11-30"
    assert period_end_s("day", noon) == utc(2026, 12, 1)
    assert period_end_s("month", noon) == utc(2026, 12, 1)
    assert period_end_s("month", utc(2026, 12, 31, 23, 59, 59)) == utc(2027, 1, 1)
    # The last second of a period is in it; its end is the first second of the next.
    assert budget_key("t", "key", "k", "day", utc(2026, 12, 31, 23, 59, 59) + 0.999).endswith("d2026-12-31")
    assert budget_key("t", "key", "k", "day", utc(2027, 1, 1)).endswith("d2027-01-01")
    # Leap days: February has 29 days in 2028 (and 2400), 28 in 2027 and 2100.
    assert period_end_s("month", utc(2028, 2, 29, 12)) == utc(2028, 3, 1)
    assert budget_key("t", "key", "k", "day", utc(2028, 2, 29, 12)).endswith("d2028-02-29")
    assert period_end_s("day", utc(2027, 2, 28, 23, 59, 59)) == utc(2027, 3, 1)
    assert period_end_s("month", utc(2100, 2, 28)) == utc(2100, 3, 1)
    assert period_start_s("month", utc(2400, 2, 29)) == utc(2400, 2, 1)


@pytest.mark.parametrize("tz", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_periods_ignore_the_local_time_zone_and_its_daylight_saving(
    tz: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway in any TZ counts UTC days: each instant around a daylight-saving change lands in
    the same UTC period as it does under TZ=UTC."""
    if not hasattr(time, "tzset"):
        pytest.skip("no tzset on this platform")
    instants = [
        utc(2027, 3, 14, 6, 59, 59),
        utc(2027, 3, 28, 0, 59, 59),
        utc(2027, 3, 28, 1),
        utc(2027, 10, 31, 23, 30),
    ]
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    in_utc = [
        (budget_key("t", "key", "k", p, t), period_end_s(p, t)) for t in instants for p in ("day", "month")
    ]
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        assert [
            (budget_key("t", "key", "k", p, t), period_end_s(p, t))
            for t in instants
            for p in ("day", "month")
        ] == in_utc
    finally:
        monkeypatch.undo()
        time.tzset()


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


async def test_a_new_utc_day_starts_from_zero_and_a_late_settle_lands_in_its_own_day(
    ledger: Ledger, clock: Clock
) -> None:
    r = await ledger.reserve([TENANT_DAY, KEY_MONTH], 10, 1000)
    assert isinstance(r, Reservation)
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")
    clock.now = NOON + 12 * 3600  # midnight UTC: a new day
    fresh = await ledger.reserve([TENANT_DAY, KEY_MONTH], 10, 1000)
    assert isinstance(fresh, Reservation) and fresh.keys != r.keys
    await ledger.settle(r, 0, 0)  # releases yesterday's, not today's
    assert await ledger.reserve([TENANT_DAY], 0, 1) == Refusal(TENANT_DAY, "cost")


@pytest.mark.parametrize(
    "midnight",
    [
        pytest.param(NOON + 12 * 3600, id="a-day"),
        pytest.param(NEXT_MONTH.timestamp(), id="a-month"),
        pytest.param(dt.datetime(NEXT_MONTH.year + 1, 1, 1, tzinfo=dt.UTC).timestamp(), id="a-year"),
    ],
)
async def test_the_day_a_request_was_reserved_in_pays_for_it(
    ledger: Ledger, clock: Clock, midnight: float
) -> None:
    """docs/budgets.md: a request reserved before midnight UTC and settled after it is charged,
    in full, to the day (and month) it was reserved in; the new day and month start at zero."""
    day = Cap("t", "tenant", "t", "day", 1000, 1000)
    month = Cap("t", "key", "k", "month", 1000, 1000)
    caps = [day, month] if dt.datetime.fromtimestamp(midnight, dt.UTC).day == 1 else [day]
    clock.now = midnight - 0.5  # 23:59:59.5 UTC on the period's last day
    late = await ledger.reserve(caps, 400, 400)
    assert isinstance(late, Reservation)
    clock.now = midnight + 0.5
    await ledger.settle(late, 900, 900)  # spent more than reserved: yesterday pays all 900
    assert await ledger.reserve(caps, 1000, 1000) == Reservation(
        tuple(budget_key(c.tenant_id, c.kind, c.scope_id, c.period, midnight) for c in caps), 1000, 1000
    )  # the new day (and month): nothing spent yet
    clock.now = midnight - 0.5  # back in yesterday (a replica whose clock lags): 900 of 1000 spent there
    assert await ledger.reserve(caps, 101, 101) == Refusal(day, "tokens")
    assert isinstance(await ledger.reserve(caps, 100, 100), Reservation)


async def test_a_month_budget_holds_across_days(ledger: Ledger, clock: Clock) -> None:
    clock.now = NEXT_MONTH.timestamp()
    assert isinstance(await ledger.reserve([KEY_MONTH], 60, 0), Reservation)
    clock.now += 20 * DAY_S
    assert await ledger.reserve([KEY_MONTH], 41, 0) == Refusal(KEY_MONTH, "tokens")
    clock.now = dt.datetime(
        NEXT_MONTH.year + NEXT_MONTH.month // 12, NEXT_MONTH.month % 12 + 1, 1, tzinfo=dt.UTC
    ).timestamp()
    assert isinstance(await ledger.reserve([KEY_MONTH], 100, 0), Reservation)  # the month after: a fresh cap


@pytest.mark.parametrize(
    "offset_s", [-10 * 365 * DAY_S, 10 * 365 * DAY_S], ids=["gateway-behind", "gateway-ahead"]
)
async def test_redis_counters_live_by_the_gateways_clock_not_redis(redis_clean: str, offset_s: int) -> None:
    """The regression behind issue 12: the key of a period is named by the gateway's clock, so
    that clock (as a time to live), not Redis's own, says when it may go. A gateway clock far from
    Redis's (a test's fake clock, a skewed host) neither drops live counters nor keeps them forever."""
    now = time.time() + offset_s
    ledger = RedisLedger(BoundedRedis(redis_clean, timeout_s=2.0), clock=lambda: now)
    try:
        r = await ledger.reserve([TENANT_DAY, KEY_MONTH], 10, 100)
        assert isinstance(r, Reservation)
        assert await ledger.reserve([KEY_MONTH], 91, 0) == Refusal(
            KEY_MONTH, "tokens"
        )  # the first one was kept
        plain = redis.Redis.from_url(redis_clean)
        try:
            for key, cap in zip(r.keys, (TENANT_DAY, KEY_MONTH), strict=True):
                expected = period_end_s(cap.period, now) + KEEP_S - now
                assert expected - 5 <= plain.ttl(key) <= expected + 1
        finally:
            plain.close()
    finally:
        await ledger.close()


def spent_exactly(micros: int) -> list[tuple[int, int]]:
    """Reservations that probe TENANT_DAY (1000 micros) has ``micros`` spent: the rest fits, one more does not."""
    return [(0, 1000 - micros), (0, 1)]


async def assert_spent(ledger: Ledger, micros: int) -> None:
    fits, over = spent_exactly(micros)
    assert isinstance(await ledger.reserve([TENANT_DAY], *fits), Reservation)
    assert await ledger.reserve([TENANT_DAY], *over) == Refusal(TENANT_DAY, "cost")


async def test_a_once_key_is_charged_by_its_first_settle_only(ledger: Ledger) -> None:
    """A batch line run again (its first run settled, then its process died before writing the
    result): the second settle releases its reservation and charges nothing."""
    first = await ledger.reserve([TENANT_DAY], 0, 300, ("batch_1:q-1", "req_a"))
    assert isinstance(first, Reservation)
    await ledger.settle(first, 0, 200)
    again = await ledger.reserve([TENANT_DAY], 0, 300, ("batch_1:q-1", "req_b"))
    assert isinstance(again, Reservation)
    await ledger.settle(again, 0, 250)
    other = await ledger.reserve([TENANT_DAY], 0, 300, ("batch_1:q-2", "req_c"))
    assert isinstance(other, Reservation)
    await ledger.settle(other, 0, 100)  # another line: charged
    await assert_spent(ledger, 300)


async def test_a_run_that_served_nothing_leaves_the_key_to_be_charged(ledger: Ledger) -> None:
    cancelled = await ledger.reserve([TENANT_DAY], 0, 300, ("batch_1:q-1", "req_a"))
    assert isinstance(cancelled, Reservation)
    await ledger.settle(cancelled, 0, 0)
    rerun = await ledger.reserve([TENANT_DAY], 0, 300, ("batch_1:q-1", "req_b"))
    assert isinstance(rerun, Reservation)
    await ledger.settle(rerun, 0, 200)
    await assert_spent(ledger, 200)


async def test_a_run_taking_a_key_over_releases_the_reservation_a_killed_run_left(
    redis_clean: str, clock: Clock
) -> None:
    """On Redis, where a killed process's reservation outlives it: the re-run releases it, and the
    killed run's settle, should it come after all (it was only stalled), releases nothing twice."""
    ledger = RedisLedger(BoundedRedis(redis_clean, timeout_s=2.0), clock=clock)
    try:
        killed = await ledger.reserve([TENANT_DAY], 0, 900, ("batch_1:q-1", "req_a"))
        assert isinstance(killed, Reservation)
        rerun = await ledger.reserve([TENANT_DAY], 0, 900, ("batch_1:q-1", "req_b"))
        assert isinstance(rerun, Reservation)  # 900 + 900 > 1000 unless the first was released
        await ledger.settle(rerun, 0, 150)
        await ledger.settle(killed, 0, 120)  # charged already by the re-run: nothing moves
        await assert_spent(ledger, 150)
    finally:
        await ledger.close()


async def test_settle_returns_each_counter_as_it_left_it(ledger: Ledger) -> None:
    """What budget alerts read: the counters after the settle, from the settle call itself."""
    mine = await ledger.reserve([TENANT_DAY, KEY_MONTH], 10, 500)
    other = await ledger.reserve([TENANT_DAY], 5, 200)  # in flight: counted, as the cap counts it
    assert isinstance(mine, Reservation) and isinstance(other, Reservation)
    assert await ledger.settle(mine, 4, 300) == [(9, 500), (4, 300)]
    await ledger.settle(other, 5, 200)  # exact: nothing to change (the Redis ledger skips the call)
    once = await ledger.reserve([TENANT_DAY], 1, 100, ("line-1", "run-a"))
    assert isinstance(once, Reservation)
    assert await ledger.settle(once, 1, 50) == [(10, 550)]


async def test_a_reservation_reads_each_scopes_spend_before_it_in_the_same_step(ledger: Ledger) -> None:
    """What spend policies compare: settled spend plus the reservations in flight, per cap, before
    this one; an uncapped cap counts and never refuses."""
    uncapped = Cap("t", "user", "u", "day", None, None)
    first = await ledger.reserve([TENANT_DAY, uncapped], 10, 300)
    assert isinstance(first, Reservation) and first.spent == (0, 0)
    second = await ledger.reserve([TENANT_DAY, uncapped], 10, 200)
    assert isinstance(second, Reservation) and second.spent == (300, 300)  # the first is in flight
    await ledger.settle(first, 5, 100)
    third = await ledger.reserve([uncapped], 1, 10_000)
    assert isinstance(third, Reservation) and third.spent == (300,)  # 100 settled + 200 in flight


async def test_a_claim_is_won_once_until_it_expires(ledger: Ledger, clock: Clock) -> None:
    assert await ledger.claim("sluice:spend:test:a", 60)
    assert not await ledger.claim("sluice:spend:test:a", 60)
    assert await ledger.claim("sluice:spend:test:b", 60)
    if isinstance(ledger, MemoryLedger):  # Redis expires by its own clock: the memory one by the test's
        clock.advance(61)
        assert await ledger.claim("sluice:spend:test:a", 60)
