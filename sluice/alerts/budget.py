"""Budget alerts: a budget's use passing 50, 80, 95 and 100% (``alerts.budget_thresholds``, or a
tenant's own) alerts once per budget period. The budget stage calls ``check`` when a request
settles, with the counters its settle call returned (no read of its own); a threshold already
seen passed in this period by this process costs a set lookup, and the store's mark makes it one
alert across replicas."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sluice.alerts.notify import Alert, Notifier

_MAX_SEEN = 100_000


class BudgetAlerts:
    def __init__(
        self, notifier: Notifier, thresholds: Sequence[int], tenants: Mapping[str, Sequence[int]]
    ) -> None:
        self._notifier = notifier
        self._thresholds = tuple(sorted(thresholds))
        self._tenants = {t: tuple(sorted(v)) for t, v in tenants.items()}
        self._seen: set[tuple[str, int]] = set()
        self.floor = (
            min((t for ts in (self._thresholds, *self._tenants.values()) for t in ts), default=101) / 100
        )
        """The lowest threshold of any, as a fraction: below it there is nothing to check."""

    def check(
        self,
        counter: str,
        tenant_id: str | None,
        subject: str,
        period: str,
        period_end_s: Callable[[], float],
        used: float,
        what: str,
    ) -> None:
        """``counter``: the budget's key for this period; ``period_end_s``: when it ends (asked
        only when an alert is due); ``used``: the fraction of the cap
        spent (its worst case for requests still in flight included, as the cap counts it);
        ``what``: the budget in words, for the message."""
        thresholds = self._thresholds if tenant_id is None else self._tenants.get(tenant_id, self._thresholds)
        percent = used * 100
        for t in thresholds:
            if percent < t:
                return
            if (counter, t) in self._seen:
                continue
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()  # bounded; the store's marks still hold
            self._seen.add((counter, t))
            self._notifier.fire(
                Alert(
                    "budget",
                    subject,
                    str(t),
                    round(percent, 2),
                    float(t),
                    f"Sluice budget alert: {subject} has used {percent:.1f}% of its {what} (threshold {t}%).",
                    tenant_id,
                    until=period_end_s(),
                    period=period,
                )
            )
