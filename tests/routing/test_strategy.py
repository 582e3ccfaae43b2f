import random
from collections import Counter

from sluice.providers.base import Target
from sluice.routing.breaker import Breaker
from sluice.routing.deployment import Deployment
from sluice.routing.strategy import least_latency, priority, weighted


def dep(name: str, *, weight: float = 1.0, priority: int = 0, latency: float | None = None) -> Deployment:
    d = Deployment(
        name, provider=None, target=Target(name), breaker=Breaker(1, 1), weight=weight, priority=priority
    )  # type: ignore[arg-type]
    d.latency_ewma_s = latency
    return d


def test_priority_orders_by_priority() -> None:
    a, b, c = dep("a", priority=2), dep("b", priority=0), dep("c", priority=1)
    assert [d.name for d in priority([a, b, c], random.Random(1))] == ["b", "c", "a"]


def test_weighted_follows_weights() -> None:
    rng = random.Random(7)
    heavy, light = dep("heavy", weight=9), dep("light", weight=1)
    firsts = Counter(weighted([heavy, light], rng)[0].name for _ in range(2000))
    assert 0.85 < firsts["heavy"] / 2000 < 0.95


def test_least_latency_prefers_unmeasured_then_fastest() -> None:
    slow, fast, new = dep("slow", latency=0.5), dep("fast", latency=0.1), dep("new")
    assert [d.name for d in least_latency([slow, fast, new], random.Random(1))] == ["new", "fast", "slow"]


def test_ewma_moves_toward_new_samples() -> None:
    d = dep("d")
    d.observe_latency(1.0, 0.5)
    assert d.latency_ewma_s == 1.0
    d.observe_latency(0.0, 0.5)
    assert d.latency_ewma_s == 0.5
