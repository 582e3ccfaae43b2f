"""Strategies: the order in which an alias's healthy deployments are tried. Each gets the
deployments, the router's random source and the request's ``Demand`` (its expected tokens)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from sluice.routing.deployment import Deployment


class Demand:
    """What a request is expected to use: its input tokens, counted the way the quota stage
    counts them and only when a strategy asks (``count_input`` is called at most once), and its
    output tokens (``max_tokens`` times ``n``, or the configured expectation)."""

    __slots__ = ("_count_input", "_input", "output_tokens")

    def __init__(self, count_input: Callable[[], int] | int, output_tokens: int) -> None:
        self._count_input = count_input
        self._input = count_input if isinstance(count_input, int) else None
        self.output_tokens = output_tokens

    @property
    def input_tokens(self) -> int:
        if self._input is None:
            assert callable(self._count_input)
            self._input = self._count_input()
        return self._input


NO_DEMAND = Demand(0, 0)
"""For callers that know nothing of the request's size (every priced deployment then ties)."""

Strategy = Callable[[Sequence[Deployment], random.Random, Demand], list[Deployment]]


def priority(deployments: Sequence[Deployment], rng: random.Random, demand: Demand) -> list[Deployment]:
    """Lowest ``priority`` first; equal priorities are shuffled by weight to spread load."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(weighted(deployments, rng, demand), key=lambda d: d.priority)


def weighted(deployments: Sequence[Deployment], rng: random.Random, demand: Demand) -> list[Deployment]:
    """A weighted random order without replacement (Efraimidis-Spirakis keys)."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(deployments, key=lambda d: rng.random() ** (1.0 / d.weight), reverse=True)


def least_latency(deployments: Sequence[Deployment], rng: random.Random, demand: Demand) -> list[Deployment]:
    """Fastest observed (EWMA) first; unmeasured deployments go first so they get measured."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(
        weighted(deployments, rng, demand),
        key=lambda d: -1.0 if d.latency_ewma_s is None else d.latency_ewma_s,
    )


def lowest_cost(deployments: Sequence[Deployment], rng: random.Random, demand: Demand) -> list[Deployment]:
    """Cheapest expected cost of this request first (list input and output prices times its
    expected tokens); equal costs are shuffled by weight; deployments without a price last."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(weighted(deployments, rng, demand), key=lambda d: expected_cost(d, demand))


def expected_cost(d: Deployment, demand: Demand) -> float:
    """Micro-dollars this request is expected to cost on ``d``; infinite when ``d`` is unpriced."""
    price = d.price
    if price is None:
        return float("inf")
    cost = demand.output_tokens * price.output
    if price.input:
        cost += demand.input_tokens * price.input
    return cost


STRATEGIES: dict[str, Strategy] = {
    "priority": priority,
    "weighted": weighted,
    "least-latency": least_latency,
    "lowest-cost": lowest_cost,
}
