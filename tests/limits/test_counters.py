"""The CounterStore contract, run on MemoryCounterStore and on RedisCounterStore alike: sliding
windows exact at their boundary, all-or-nothing admission across scopes, in-flight release,
TPM corrected at settle."""

from __future__ import annotations

import random

import pytest

from sluice.limits.counters import CounterStore, Decision, Scope, Ticket, counter_key, duration_text, plan
from tests.fixtures.clock import Clock
from tests.limits.conftest import T0


def key(**limits: int) -> Scope:
    return Scope("acme", "key", "k1", **limits)


async def admit(counters: CounterStore, scopes: list[Scope], cost: int) -> Decision:
    return await counters.admit(plan(scopes), cost)


async def admitted(counters: CounterStore, scopes: list[Scope], cost: int = 1) -> Ticket:
    decision = await admit(counters, scopes, cost)
    assert decision.refusal is None, decision.refusal
    assert decision.ticket is not None
    return decision.ticket


def test_every_key_is_named_in_one_place() -> None:
    assert counter_key("acme", "user", "u1", "rpm") == "sluice:rl:acme:user:u1:rpm"
    assert counter_key(None, "key", "demo", "inflight") == "sluice:rl:-:key:demo:inflight"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.02, "20ms"),
        (1, "1s"),
        (8.64, "8.64s"),
        (59.5, "59.5s"),
        (360, "6m0s"),
        (90.25, "1m30.25s"),
        (3723, "1h2m3s"),
    ],
)
def test_durations_read_like_openais(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


async def test_rpm_admits_up_to_the_limit_then_refuses_with_the_wait(
    counters: CounterStore, clock: Clock
) -> None:
    clock.now = T0 + 0.3
    scopes = [key(rpm=3)]
    remaining = []
    for _ in range(3):
        d = await admit(counters, scopes, 1)
        assert d.refusal is None and d.quota.requests is not None
        remaining.append(d.quota.requests.remaining)
    assert remaining == [2, 1, 0]
    d = await admit(counters, scopes, 1)
    assert d.ticket is None and d.refusal is not None
    assert (d.refusal.metric, d.refusal.limit, d.refusal.used, d.refusal.requested) == ("rpm", 3, 3, 1)
    assert d.refusal.scope == scopes[0]
    # Bucket T0 stops counting when bucket T0+61 begins.
    assert d.refusal.retry_after_s == pytest.approx(60.7)
    assert d.quota.requests is not None and d.quota.requests.remaining == 0
    assert d.quota.requests.reset_s == pytest.approx(60.7)
    assert d.quota.tokens is None


@pytest.mark.parametrize("offset", [0.0, 0.5, 0.999])
async def test_the_window_slides_at_its_boundary(counters: CounterStore, clock: Clock, offset: float) -> None:
    """An admission counts for at least 60 s, so no minute ever holds more than the limit."""
    clock.now = T0 + offset
    scopes = [key(rpm=2)]
    await admitted(counters, scopes)
    await admitted(counters, scopes)
    clock.now = T0 + offset + 59.999
    assert (await admit(counters, scopes, 1)).refusal is not None
    clock.now = T0 + 60.999
    d = await admit(counters, scopes, 1)
    assert d.refusal is not None and d.refusal.retry_after_s == pytest.approx(0.001)
    clock.now = T0 + 61.0
    d = await admit(counters, scopes, 1)
    assert d.refusal is None and d.quota.requests is not None and d.quota.requests.remaining == 1


async def test_the_wait_is_until_enough_has_left_the_window(counters: CounterStore, clock: Clock) -> None:
    scopes = [key(tpm=100)]
    for t in (0.5, 10.5):
        clock.now = T0 + t
        await admitted(counters, scopes, 40)
    clock.now = T0 + 20.5
    d = await admit(counters, scopes, 50)  # needs 30 freed: the first bucket's 40 will do
    assert d.refusal is not None and d.refusal.retry_after_s == pytest.approx(61 - 20.5)
    assert (d.refusal.metric, d.refusal.used, d.refusal.requested) == ("tpm", 80, 50)
    d = await admit(counters, scopes, 90)  # needs 70 freed: both buckets
    assert d.refusal is not None and d.refusal.retry_after_s == pytest.approx(71 - 20.5)
    assert d.quota.tokens is not None
    assert (d.quota.tokens.remaining, d.quota.tokens.reset_s) == (20, pytest.approx(71 - 20.5))


async def test_a_request_over_the_tpm_limit_alone_never_passes(counters: CounterStore, clock: Clock) -> None:
    scopes = [key(tpm=100, rpm=10)]
    d = await admit(counters, scopes, 150)
    assert d.refusal is not None and d.refusal.retry_after_s is None
    assert (d.refusal.metric, d.refusal.requested) == ("tpm", 150)
    d = await admit(counters, scopes, 100)  # exactly the limit is fine, and the refusal recorded nothing
    assert d.refusal is None and d.quota.tokens is not None and d.quota.tokens.remaining == 0
    assert d.quota.requests is not None and d.quota.requests.remaining == 9


async def test_admission_is_all_or_nothing_across_scopes(counters: CounterStore) -> None:
    tenant = Scope("acme", "tenant", "acme", rpm=1)
    user = Scope("acme", "user", "u1", rpm=10)
    k = key(rpm=10, tpm=1000, max_concurrent=2)
    await admitted(counters, [tenant, user, k], 100)
    d = await admit(counters, [tenant, user, k], 100)
    assert d.refusal is not None and d.refusal.scope == tenant
    # Nothing of the refused request was recorded on the user or the key.
    d = await admit(counters, [user, k], 100)
    assert d.refusal is None
    assert d.quota.requests is not None and d.quota.requests.remaining == 8
    assert d.quota.tokens is not None and d.quota.tokens.remaining == 800
    d = await admit(counters, [k], 1)
    assert d.refusal is not None and d.refusal.metric == "inflight"  # two slots taken, not three


async def test_the_quota_shows_the_scope_with_the_least_left(counters: CounterStore) -> None:
    tenant = Scope("acme", "tenant", "acme", rpm=100, tpm=50)
    k = key(rpm=3, tpm=1000)
    d = await admit(counters, [tenant, k], 10)
    assert d.quota.requests is not None and (d.quota.requests.limit, d.quota.requests.remaining) == (3, 2)
    assert d.quota.tokens is not None and (d.quota.tokens.limit, d.quota.tokens.remaining) == (50, 40)


async def test_the_refusal_is_the_longest_wait(counters: CounterStore) -> None:
    tenant = Scope("acme", "tenant", "acme", rpm=1)
    k = key(max_concurrent=1)
    await admitted(counters, [tenant, k])
    d = await admit(counters, [tenant, k], 1)
    assert d.refusal is not None and (d.refusal.scope, d.refusal.metric) == (tenant, "rpm")
    d = await admit(counters, [Scope("acme", "tenant", "acme", rpm=1, tpm=5), k], 6)
    assert d.refusal is not None and d.refusal.metric == "tpm" and d.refusal.retry_after_s is None


async def test_in_flight_slots_free_on_settle(counters: CounterStore) -> None:
    scopes = [key(max_concurrent=2)]
    first = await admitted(counters, scopes)
    await admitted(counters, scopes)
    d = await admit(counters, scopes, 1)
    assert d.refusal is not None
    assert (d.refusal.metric, d.refusal.limit, d.refusal.used, d.refusal.retry_after_s) == (
        "inflight",
        2,
        2,
        1.0,
    )
    assert d.quota.requests is None  # in-flight counts have no OpenAI header
    await counters.settle(first, None)
    await admitted(counters, scopes)


async def test_settle_moves_tpm_from_the_estimate_to_actual_usage(
    counters: CounterStore, clock: Clock
) -> None:
    scopes = [key(tpm=100)]
    ticket = await admitted(counters, scopes, 80)
    await counters.settle(ticket, 30)
    d = await admit(counters, scopes, 70)
    assert d.refusal is None and d.quota.tokens is not None and d.quota.tokens.remaining == 0
    clock.advance(61)
    ticket = await admitted(counters, scopes, 80)
    await counters.settle(ticket, None)  # no usage known: the estimate stands
    d = await admit(counters, scopes, 21)
    assert d.refusal is not None and d.refusal.used == 80
    await counters.settle(ticket, 120)  # more than estimated: charged too
    d = await admit(counters, scopes, 1)
    assert d.refusal is not None and d.refusal.used == 120


async def test_settle_after_the_window_passed_changes_nothing(counters: CounterStore, clock: Clock) -> None:
    scopes = [key(tpm=100)]
    ticket = await admitted(counters, scopes, 80)
    clock.advance(61)
    await counters.settle(ticket, 5)
    d = await admit(counters, scopes, 100)
    assert d.refusal is None and d.quota.tokens is not None and d.quota.tokens.remaining == 0


async def test_scopes_with_the_same_id_in_two_tenants_count_apart(counters: CounterStore) -> None:
    await admitted(counters, [Scope("acme", "key", "k1", rpm=1)])
    await admitted(counters, [Scope("globex", "key", "k1", rpm=1)])
    await admitted(counters, [Scope("acme", "user", "k1", rpm=1)])
    assert (await admit(counters, [Scope("acme", "key", "k1", rpm=1)], 1)).refusal is not None


async def test_random_arrivals_never_exceed_the_limit_in_any_minute(
    counters: CounterStore, clock: Clock
) -> None:
    """Safety: no 60 s interval holds more than the limit. Liveness: a refusal only when the
    last 61 one-second buckets already hold the limit."""
    rng = random.Random(7)
    limit, scopes = 10, [key(rpm=10)]
    accepted: list[float] = []
    for _ in range(1000):
        clock.advance(rng.expovariate(1 / 0.4))
        d = await admit(counters, scopes, 1)
        if d.refusal is None:
            accepted.append(clock.now)
        else:
            assert sum(1 for t in accepted if int(t) >= int(clock.now) - 60) == limit
    for t in accepted:
        assert sum(1 for u in accepted if t <= u < t + 60) <= limit
    assert len(accepted) >= limit * int((clock.now - T0) // 61)
