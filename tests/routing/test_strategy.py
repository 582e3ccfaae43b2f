import random
from collections import Counter

from sluice.budgets.pricing import Price
from sluice.providers.base import Target
from sluice.routing.breaker import Breaker
from sluice.routing.deployment import Deployment
from sluice.routing.strategy import NO_DEMAND, Demand, least_latency, lowest_cost, priority, weighted


def dep(
    name: str,
    *,
    weight: float = 1.0,
    priority: int = 0,
    latency: float | None = None,
    price: Price | None = None,
) -> Deployment:
    d = Deployment(
        name,
        provider=None,  # type: ignore[arg-type]
        target=Target(name),
        breaker=Breaker(1, 1),
        weight=weight,
        priority=priority,
        price=price,
    )
    d.latency_ewma_s = latency
    return d


def test_priority_orders_by_priority() -> None:
    a, b, c = dep("a", priority=2), dep("b", priority=0), dep("c", priority=1)
    assert [d.name for d in priority([a, b, c], random.Random(1), NO_DEMAND)] == ["b", "c", "a"]


def test_weighted_follows_weights() -> None:
    rng = random.Random(7)
    heavy, light = dep("heavy", weight=9), dep("light", weight=1)
    firsts = Counter(weighted([heavy, light], rng, NO_DEMAND)[0].name for _ in range(2000))
    assert 0.85 < firsts["heavy"] / 2000 < 0.95


def test_least_latency_prefers_unmeasured_then_fastest() -> None:
    slow, fast, new = dep("slow", latency=0.5), dep("fast", latency=0.1), dep("new")
    order = least_latency([slow, fast, new], random.Random(1), NO_DEMAND)
    assert [d.name for d in order] == ["new", "fast", "slow"]


def test_ewma_moves_toward_new_samples() -> None:
    d = dep("d")
    d.observe_latency(1.0, 0.5)
    assert d.latency_ewma_s == 1.0
    d.observe_latency(0.0, 0.5)
    assert d.latency_ewma_s == 0.5


def test_lowest_cost_prices_the_requests_own_tokens() -> None:
    """Cheap input but dear output against the reverse: which is cheaper depends on the request."""
    reader = dep("reader", price=Price(input=0.1, output=10.0))
    writer = dep("writer", price=Price(input=5.0, output=0.5))
    long_prompt = Demand(100_000, 100)  # reader 11_000, writer 500_050 micro-dollars
    long_answer = Demand(100, 100_000)  # reader 1_000_010, writer 50_500
    for _ in range(20):
        rng = random.Random()
        assert [d.name for d in lowest_cost([writer, reader], rng, long_prompt)] == ["reader", "writer"]
        assert [d.name for d in lowest_cost([reader, writer], rng, long_answer)] == ["writer", "reader"]


def test_lowest_cost_puts_unpriced_deployments_last_even_behind_dear_ones() -> None:
    unknown = dep("unknown")
    dear = dep("dear", price=Price(input=100.0, output=100.0))
    free = dep("free", price=Price())
    order = lowest_cost([unknown, dear, free], random.Random(3), Demand(10, 10))
    assert [d.name for d in order] == ["free", "dear", "unknown"]


def test_lowest_cost_ties_are_shared_by_weight() -> None:
    same = Price(input=1.0, output=1.0)
    heavy, light = dep("heavy", weight=3, price=same), dep("light", weight=1, price=same)
    rng = random.Random(11)
    firsts = Counter(lowest_cost([heavy, light], rng, Demand(10, 10))[0].name for _ in range(2000))
    assert 0.7 < firsts["heavy"] / 2000 < 0.8


def test_demand_counts_input_only_when_asked_and_once() -> None:
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return 42

    demand = Demand(count, 7)
    a, b = dep("a", price=Price(input=1.0, output=1.0)), dep("b", price=Price(input=2.0, output=1.0))
    weighted([a, b], random.Random(1), demand)
    priority([a, b], random.Random(1), demand)
    assert calls == []  # only a strategy that prices the request counts its input
    assert lowest_cost([b, a], random.Random(1), demand)[0] is a
    lowest_cost([b, a], random.Random(1), demand)
    assert calls == [1] and demand.input_tokens == 42
