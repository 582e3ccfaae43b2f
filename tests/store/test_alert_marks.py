"""The alert marks and the operator's outbox rows (migration 0021), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sluice.store.protocols import Store
from sluice.store.records import OPERATOR, WebhookEndpoint


async def test_a_mark_is_taken_once_until_it_is_over(store: Store) -> None:
    assert await store.claim_alert("error_rate|gateway|0.05|", now=100.0, until=160.0)
    assert not await store.claim_alert("error_rate|gateway|0.05|", now=120.0, until=180.0)
    assert await store.claim_alert("latency|gateway|10|", now=120.0, until=180.0)  # another alert
    assert not await store.claim_alert("error_rate|gateway|0.05|", now=159.9, until=219.9)
    assert await store.claim_alert("error_rate|gateway|0.05|", now=160.0, until=220.0)  # cooldown over
    assert not await store.claim_alert("error_rate|gateway|0.05|", now=200.0, until=260.0)


async def test_replicas_racing_for_one_mark_send_one_alert(new_store: Callable[[], Store]) -> None:
    first = new_store()
    await first.migrate()
    replicas = [first, new_store(), new_store()]
    taken = await asyncio.gather(
        *(r.claim_alert("budget|tenant:acme|80|d2026-01-01", 50.0, 9e9) for r in replicas for _ in range(4))
    )
    assert sorted(taken) == [False] * 11 + [True]


async def test_operator_deliveries_and_endpoint_format(store: Store) -> None:
    await store.add_webhook(
        WebhookEndpoint("acme", "wh_1", "https://example.com/h", None, "whsec_x", 1, "slack")
    )
    [hook] = await store.list_webhooks("acme")
    assert hook.format == "slack"
    assert (
        await store.enqueue_deliveries(
            OPERATOR, ["op_a", "op_b"], "evt_1", "sluice.alert.latency", "{}", 10.0
        )
        == 2
    )
    assert (
        await store.enqueue_deliveries(OPERATOR, ["op_a"], "evt_1", "sluice.alert.latency", "{}", 10.0) == 1
    )
    due = await store.claim_deliveries(11.0, 30.0, 10)
    assert sorted((d.tenant_id, d.webhook_id, d.event_id) for d in due) == [
        (OPERATOR, "op_a", "evt_1"),
        (OPERATOR, "op_b", "evt_1"),
    ]  # enqueued again, not doubled
    assert await store.list_deliveries("acme", 10) == []


async def test_marks_long_over_are_forgotten(store: Store) -> None:
    assert await store.claim_alert("a", now=0.0, until=100.0)
    assert await store.claim_alert("b", now=0.0, until=500.0)
    assert await store.prune_alert_marks(before=200.0) == 1
    assert await store.claim_alert("a", now=150.0, until=300.0)  # forgotten, so free (it was over anyway)
    assert not await store.claim_alert("b", now=150.0, until=300.0)
