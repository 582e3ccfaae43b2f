"""The route table: every model alias resolved once at startup into deployments and policies."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sluice.providers.base import Provider, Target
from sluice.routing.affinity import Affinity
from sluice.routing.breaker import Breaker
from sluice.routing.deployment import Deployment, Rates
from sluice.routing.strategy import STRATEGIES, Strategy
from sluice.settings import DeploymentSettings, RetrySettings, Settings, TimeoutSettings

Prices = Callable[[str, DeploymentSettings], Rates | None]
"""A deployment's list price by its alias and settings (None: unpriced)."""


@dataclass(frozen=True, slots=True)
class Route:
    alias: str
    kind: str
    strategy: Strategy
    deployments: tuple[Deployment, ...]
    chain: tuple[str, ...]
    """This alias, then its fallbacks depth-first, each once."""
    timeouts: TimeoutSettings
    retries: RetrySettings
    affinity: Affinity = "off"


def _chain(alias: str, settings: Settings) -> tuple[str, ...]:
    out: list[str] = []

    def visit(a: str) -> None:
        if a in out:
            return
        out.append(a)
        for f in settings.models[a].fallbacks:
            visit(f)

    visit(alias)
    return tuple(out)


def build_routes(
    settings: Settings,
    providers: Mapping[str, Provider],
    clock: Callable[[], float] = time.monotonic,
    prices: Prices | None = None,
) -> dict[str, Route]:
    """One ``Route`` per alias but the auto ones; deployments of the same provider share its
    pooled client. ``prices`` gives each deployment its list price (for lowest-cost; None: all
    unpriced)."""
    routes: dict[str, Route] = {}
    b = settings.routing.breaker
    for alias, m in settings.models.items():
        if m.auto is not None:
            continue  # an auto alias routes to its tiers' routes (routing/auto.py)
        deployments: list[Deployment] = []
        seats: list[str] = []
        for d in m.deployments:
            p = settings.providers[d.provider]
            key = d.api_key or p.api_key
            target = Target(
                model=d.model,
                base_url=(d.base_url or p.base_url or "").rstrip("/"),
                api_key=key.get_secret_value() if key is not None else None,
                headers={**p.headers, **d.headers},
            )
            name = f"{d.provider}/{d.model}"
            seat = f"{name}@{target.base_url}"
            twins = seats.count(seat)  # the same upstream listed twice: told apart by its place
            seats.append(seat)
            deployments.append(
                Deployment(
                    name=name,
                    provider=providers[d.provider],
                    target=target,
                    breaker=Breaker(b.failure_threshold, b.open_s, clock),
                    weight=d.weight,
                    priority=d.priority,
                    price=None if prices is None else prices(alias, d),
                    seat=(seat if not twins else f"{seat}#{twins}").encode(),
                )
            )
        routes[alias] = Route(
            alias=alias,
            kind=m.kind,
            strategy=STRATEGIES[m.strategy],
            deployments=tuple(deployments),
            chain=_chain(alias, settings),
            timeouts=m.timeouts or settings.routing.timeouts,
            retries=m.retries or settings.routing.retries,
            affinity=m.affinity,
        )
    return routes
