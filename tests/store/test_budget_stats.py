"""The tenant budgets on each backend for the metrics: ``Store.tenant_budgets`` (every tenant's own
budgets, not its users' or keys') and the ``sluice_budget_used_ratio`` gauges ``BudgetGauges`` sets
from them and the ledger (in-process and on a real redis-server) when ``/metrics`` is scraped."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sluice.api.observability import BudgetGauges
from sluice.budgets.ledger import Cap, Ledger, MemoryLedger, Reservation
from sluice.budgets.redis import RedisLedger
from sluice.obs.metrics import Metrics
from sluice.policies import Budget
from sluice.store.protocols import Store
from sluice.store.records import Tenant
from sluice.store.redis import BoundedRedis
from tests.fixtures.clock import Clock, clear_of_utc_midnight

DAY = Budget("day", max_tokens=1000)
MONTH = Budget("month", max_tokens=50_000, max_cost_micros=2_000_000)


@pytest.fixture
def clock() -> Clock:
    """The real now (a real redis-server expires the counters by its own clock), with the minute
    the tests move it by inside the same UTC day."""
    clear_of_utc_midnight(120)
    return Clock()


@pytest.fixture(params=["memory", "redis"])
async def ledger(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Ledger]:
    led: Ledger
    if request.param == "memory":
        led = MemoryLedger(clock)
    else:
        led = RedisLedger(BoundedRedis(request.getfixturevalue("redis_clean"), timeout_s=2.0), clock=clock)
    yield led
    await led.close()


async def tenants(store: Store, clock: Clock) -> None:
    at = int(clock())
    for t in ("acme", "beta", "gamma"):
        await store.create_tenant(Tenant(t, t, at))
    await store.set_budget("acme", "tenant", "acme", MONTH, at)
    await store.set_budget("acme", "tenant", "acme", DAY, at)
    await store.set_budget("acme", "user", "u-1", Budget("day", max_tokens=10), at)  # a user's: not listed
    await store.set_budget("beta", "tenant", "beta", Budget("day", max_cost_micros=500_000), at)


async def spend(ledger: Ledger, caps: list[Cap], tokens: int, micros: int) -> None:
    r = await ledger.reserve(caps, tokens, micros)
    assert isinstance(r, Reservation)
    await ledger.settle(r, tokens, micros)


def ratios(m: Metrics) -> dict[tuple[str, str, str], float]:
    return {
        (s.labels["tenant"], s.labels["metric"], s.labels["period"]): s.value
        for family in text_string_to_metric_families(m.scrape().decode())
        for s in family.samples
        if s.name == "sluice_budget_used_ratio"
    }


async def test_tenant_budgets_are_every_tenants_own_in_order_up_to_the_limit(
    store: Store, clock: Clock
) -> None:
    await tenants(store, clock)
    assert await store.tenant_budgets(10) == [
        ("acme", DAY),
        ("acme", MONTH),
        ("beta", Budget("day", max_cost_micros=500_000)),
    ]
    assert await store.tenant_budgets(2) == [("acme", DAY), ("acme", MONTH)]


async def test_the_gauges_are_use_against_each_cap_and_follow_the_budgets(
    store: Store, ledger: Ledger, clock: Clock
) -> None:
    await tenants(store, clock)
    acme = [Cap("acme", "tenant", "acme", b.period, b.max_tokens, b.max_cost_micros) for b in (DAY, MONTH)]
    await spend(ledger, acme, 960, 1_000_000)
    await spend(ledger, [Cap("acme", "user", "u-1", "day", 10, None)], 5, 0)  # the user's: not a tenant's
    m = Metrics(tenant_label=True)
    g = BudgetGauges(store, ledger, m, limit=10, every_s=60, clock=clock)
    await g.refresh()
    assert ratios(m) == {
        ("acme", "tokens", "day"): 0.96,
        ("acme", "tokens", "month"): 960 / 50_000,
        ("acme", "cost", "month"): 0.5,
        ("beta", "cost", "day"): 0.0,
    }
    await spend(ledger, acme, 20, 0)
    await store.delete_budgets("beta", "tenant", "beta")
    clock.advance(30)
    await g.refresh()  # within every_s: the figures read 30 s ago stand
    assert ratios(m)[("acme", "tokens", "day")] == 0.96
    clock.advance(30)
    await g.refresh()
    assert ratios(m) == {
        ("acme", "tokens", "day"): 0.98,
        ("acme", "tokens", "month"): 980 / 50_000,
        ("acme", "cost", "month"): 0.5,
    }


async def test_a_store_that_fails_leaves_the_last_figures(store: Store, clock: Clock) -> None:
    await tenants(store, clock)
    ledger = MemoryLedger(clock)
    await spend(ledger, [Cap("beta", "tenant", "beta", "day", None, 500_000)], 0, 100_000)
    m = Metrics(tenant_label=True)
    g = BudgetGauges(store, ledger, m, limit=10, every_s=0, clock=clock)
    await g.refresh()
    await store.close()
    await g.refresh()
    assert ratios(m)[("beta", "cost", "day")] == 0.2
