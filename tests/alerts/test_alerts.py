"""Budget alerts' thresholds, the traffic counts and the notifier, on a real SQLite store (its
outbox rows are what the webhook sender sends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from sluice.alerts.budget import BudgetAlerts
from sluice.alerts.notify import Alert, Notifier, operator_endpoints
from sluice.alerts.traffic import Traffic
from sluice.batch.webhooks import slack_body
from sluice.routing.breaker import Breaker
from sluice.settings import AlertSettings
from sluice.store.records import OPERATOR, WebhookEndpoint
from sluice.store.sqlite.store import SqliteStore
from tests.fixtures.clock import Clock

SECRET = "whsec_" + "A" * 44


def END() -> float:
    return 5000.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "alerts.db"))
    await s.migrate()
    await s.add_webhook(
        WebhookEndpoint("acme", "wh_1", "https://example.com/a", ["sluice.alert.budget"], "whsec_x", 1)
    )
    yield s
    await s.close()


def operator() -> list[WebhookEndpoint]:
    return operator_endpoints(
        AlertSettings(
            webhooks=[
                {"url": "https://ops.example.com/all", "secret": SECRET},  # type: ignore[list-item]
                {
                    "url": "https://ops.example.com/c",
                    "secret": SECRET,
                    "events": ["sluice.alert.circuit_open"],
                },  # type: ignore[list-item]
            ]
        )
    )


async def outbox(store: SqliteStore) -> list[tuple[str, str, str]]:
    due = await store.claim_deliveries(9e9, 1.0, 100)
    out = []
    for d in due:
        data = msgspec.json.decode(d.payload)["data"]
        out.append((d.tenant_id, d.type, f"{data['subject']}@{data['threshold']}"))
    return sorted(out)


async def test_budget_thresholds_alert_once_each_per_period_with_tenant_overrides(store: SqliteStore) -> None:
    clock = Clock(1000.0)
    notifier = Notifier(store, operator(), cooldown_s=60, clock=clock)
    alerts = BudgetAlerts(notifier, [50, 80, 95, 100], {"big": [90]})
    assert alerts.floor == 0.5
    check = alerts.check
    check("k:acme:d1", "acme", "tenant:acme", "d1", END, 0.49, "daily USD budget")
    check("k:acme:d1", "acme", "tenant:acme", "d1", END, 0.81, "daily USD budget")  # 50 and 80
    check("k:acme:d1", "acme", "tenant:acme", "d1", END, 0.85, "daily USD budget")
    check("k:acme:d1", "acme", "tenant:acme", "d1", END, 1.02, "daily USD budget")  # 95 and 100
    check("k:big:d1", "big", "tenant:big", "d1", END, 0.89, "daily USD budget")
    check("k:big:d1", "big", "tenant:big", "d1", END, 0.95, "daily USD budget")  # its own 90 only
    await notifier.close()
    fresh = BudgetAlerts(notifier, [50, 80, 95, 100], {})  # another replica: its marks are the store's
    fresh.check("k:acme:d1", "acme", "tenant:acme", "d1", END, 1.0, "daily USD budget")
    fresh.check("k:acme:d2", "acme", "tenant:acme", "d2", END, 0.5, "daily USD budget")  # a new period
    await notifier.close()
    budget = "sluice.alert.budget"
    assert await outbox(store) == sorted(
        [("acme", budget, f"tenant:acme@{t}") for t in ("50", "80", "95", "100", "50")]
        + [(OPERATOR, budget, f"tenant:acme@{t}") for t in ("50", "80", "95", "100", "50")]
        + [(OPERATOR, budget, "tenant:big@90")]  # big has no endpoint of its own
    )


async def test_the_cooldown_holds_then_lets_the_alert_again(store: SqliteStore) -> None:
    clock = Clock(1000.0)
    notifier = Notifier(store, operator(), cooldown_s=60, clock=clock)
    circuit = Alert("circuit_open", "deployment:m/a", "open", 1, 1, "Sluice circuit alert")
    assert await notifier.send(circuit)
    clock.now += 59
    assert not await notifier.send(circuit)
    clock.now += 1
    assert await notifier.send(circuit)
    rows = await outbox(store)
    assert (
        rows == [(OPERATOR, "sluice.alert.circuit_open", "deployment:m/a@open")] * 4
    )  # two endpoints, twice


def test_traffic_counts_errors_and_slow_requests_in_its_window() -> None:
    clock = Clock(0.0)
    t = Traffic(slow_s=10.0, clock=clock)
    for status, latency in [(200, 0.1), (502, 0.2), (200, 12.0), (503, 11.0)]:
        t.observe(status, latency)
    assert t.window(300) == (4, 2, 2)
    clock.now += 200
    t.observe(200, 0.1)
    assert t.window(300) == (5, 2, 2)
    clock.now += 150  # the first requests are out of the 5-minute window
    assert t.window(300) == (1, 0, 0)
    clock.now += 3600  # an hour later every slot is stale
    assert t.window(3600) == (0, 0, 0)


def test_slack_body_and_breaker_watchers() -> None:
    assert msgspec.json.decode(slack_body('{"type":"x","data":{"id":"a","message":"hello"}}')) == {
        "text": "hello"
    }
    assert msgspec.json.decode(slack_body('{"type":"batch.completed","data":{"id":"batch_1"}}')) == {
        "text": "Sluice: batch.completed batch_1"
    }
    seen: list[tuple[str, str]] = []
    b = Breaker(1, 30)
    b.watch(lambda s: seen.append(("gauge", s)))
    b.watch(lambda s: seen.append(("alert", s)))
    b.record_failure()
    assert seen == [("gauge", "open"), ("alert", "open")]
