"""The rate alerts, evaluated by a task in each process every ``alerts.evaluate_every_s``: the
error rate and the p95 latency of this process's traffic (``Traffic``; behind a load balancer
each replica sees a fair sample), and the spend in the last hour, per tenant and gateway-wide,
summed by the store from the request log (every replica's requests). Each replica evaluates;
the store's alert marks make each alert one per cooldown."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sluice.alerts.notify import Alert, Notifier
from sluice.alerts.traffic import Traffic
from sluice.settings import AlertSettings
from sluice.store.protocols import Store
from sluice.store.records import UsageQuery
from sluice.tasks import Loop

log = logging.getLogger("sluice.alerts")


class Monitor:
    def __init__(
        self,
        settings: AlertSettings,
        traffic: Traffic,
        store: Store,
        notifier: Notifier,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._s = settings
        self._traffic = traffic
        self._store = store
        self._notifier = notifier
        self._clock = clock
        self._pruned_at = 0.0
        self._loop = Loop(
            self.evaluate,
            name="alerts-monitor",
            wait_s=lambda: settings.evaluate_every_s,
            log=log,
            first_wait=True,
        )

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        await self._loop.stop()

    async def evaluate(self) -> None:
        s = self._s
        requests, errors, _ = self._traffic.window(s.error_window_s)
        if requests >= s.min_requests and errors / requests > s.error_rate:
            rate = errors / requests
            self._notifier.fire(
                Alert(
                    "error_rate",
                    "gateway",
                    f"{s.error_rate:g}",
                    round(rate, 4),
                    s.error_rate,
                    f"Sluice error-rate alert: {rate:.1%} of requests ({errors} of {requests}) failed with "
                    f"a 5xx in the last {s.error_window_s:g} s (threshold {s.error_rate:.0%}).",
                )
            )
        requests, _, slow = self._traffic.window(s.latency_window_s)
        if requests >= s.min_requests and slow / requests > 0.05:
            self._notifier.fire(
                Alert(
                    "latency",
                    "gateway",
                    f"{s.p95_latency_s:g}",
                    round(slow / requests, 4),
                    0.05,
                    f"Sluice latency alert: p95 latency above {s.p95_latency_s:g} s in the last "
                    f"{s.latency_window_s:g} s ({slow} of {requests} requests took longer).",
                )
            )
        per_tenant = any(t.spend_usd_per_hour for t in s.tenants.values())
        if s.spend_usd_per_hour is not None or s.tenant_spend_usd_per_hour is not None or per_tenant:
            await self._spend()
        now = self._clock()
        if now - self._pruned_at >= 3600:  # hourly: marks a day past their end are forgotten
            self._pruned_at = now
            await self._store.prune_alert_marks(now - 86_400)

    async def _spend(self) -> None:
        s = self._s
        now_ms = int(self._clock() * 1000)
        rows = await self._store.usage(UsageQuery(group_by=("tenant",), since_ms=now_ms - 3_600_000))
        total = 0
        for row in rows:
            total += row.cost_micros
            if row.tenant is None:
                continue
            own = s.tenants.get(row.tenant)
            limit = own.spend_usd_per_hour if own is not None and own.spend_usd_per_hour else None
            limit = limit or s.tenant_spend_usd_per_hour
            if limit is not None and row.cost_micros > limit * 1_000_000:
                self._notifier.fire(_spend_alert(f"tenant:{row.tenant}", row.cost_micros, limit, row.tenant))
        if s.spend_usd_per_hour is not None and total > s.spend_usd_per_hour * 1_000_000:
            self._notifier.fire(_spend_alert("gateway", total, s.spend_usd_per_hour, None))


def _spend_alert(subject: str, micros: int, limit_usd: float, tenant_id: str | None) -> Alert:
    usd = micros / 1_000_000
    return Alert(
        "spend_rate",
        subject,
        f"{limit_usd:g}",
        round(usd, 6),
        limit_usd,
        f"Sluice spend-rate alert: {subject} spent ${usd:.2f} in the last hour (threshold ${limit_usd:g}/h).",
        tenant_id,
    )


def circuit_watch(notifier: Notifier, alias: str, deployment: str) -> Callable[[str], None]:
    """A breaker's watcher (``Breaker.watch``) that alerts when its circuit opens."""

    def changed(state: str) -> None:
        if state == "open":
            notifier.fire(
                Alert(
                    "circuit_open",
                    f"deployment:{alias}/{deployment}",
                    "open",
                    1.0,
                    1.0,
                    f"Sluice circuit alert: the circuit of deployment {deployment} (model {alias}) opened "
                    "after consecutive failures; its requests go to the alias's other deployments and fallbacks.",
                )
            )

    return changed
