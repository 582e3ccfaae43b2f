"""A deployment at run time: a provider, where to call it, and what we learnt about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sluice.providers.base import Provider, Target
from sluice.routing.breaker import Breaker


class Rates(Protocol):
    """A deployment's list price in micro-dollars per token (``budgets.pricing.Price`` is one)."""

    @property
    def input(self) -> float: ...

    @property
    def output(self) -> float: ...


@dataclass(slots=True, eq=False)
class Deployment:
    name: str
    """``provider/upstream-model``, shown in ``x-sluice-model`` and logs."""
    provider: Provider
    target: Target
    breaker: Breaker
    weight: float = 1.0
    priority: int = 0
    latency_ewma_s: float | None = field(default=None)
    price: Rates | None = None
    """From the pricing table; None when it lists no price for the deployment (lowest-cost
    tries those last)."""
    seat: bytes = b""
    """Who this deployment is, the same on every replica with the same config (its name and
    base URL): what session affinity hashes a key against."""

    def observe_latency(self, seconds: float, alpha: float) -> None:
        prev = self.latency_ewma_s
        self.latency_ewma_s = seconds if prev is None else alpha * seconds + (1 - alpha) * prev
