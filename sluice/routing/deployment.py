"""A deployment at run time: a provider, where to call it, and what we learnt about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sluice.providers.base import Provider, Target
from sluice.routing.breaker import Breaker


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

    def observe_latency(self, seconds: float, alpha: float) -> None:
        prev = self.latency_ewma_s
        self.latency_ewma_s = seconds if prev is None else alpha * seconds + (1 - alpha) * prev
