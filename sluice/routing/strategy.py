"""Strategies: the order in which an alias's deployments are tried."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from sluice.routing.deployment import Deployment

Strategy = Callable[[Sequence[Deployment], random.Random], list[Deployment]]


def priority(deployments: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    """Lowest ``priority`` first; equal priorities are shuffled by weight to spread load."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(weighted(deployments, rng), key=lambda d: d.priority)


def weighted(deployments: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    """A weighted random order without replacement (Efraimidis-Spirakis keys)."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(deployments, key=lambda d: rng.random() ** (1.0 / d.weight), reverse=True)


def least_latency(deployments: Sequence[Deployment], rng: random.Random) -> list[Deployment]:
    """Fastest observed (EWMA) first; unmeasured deployments go first so they get measured."""
    if len(deployments) == 1:
        return list(deployments)
    return sorted(
        weighted(deployments, rng), key=lambda d: -1.0 if d.latency_ewma_s is None else d.latency_ewma_s
    )


STRATEGIES: dict[str, Strategy] = {"priority": priority, "weighted": weighted, "least-latency": least_latency}
