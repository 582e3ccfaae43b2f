"""Spend policies' switches on the in-process ledger and a clock the test moves: a tenant into
emergency mode and out of it at the next UTC day or by an operator, a user downgraded, each switch
claimed and reported once even when two processes see it."""

from __future__ import annotations

import asyncio

from sluice.budgets.ledger import MemoryLedger, period_id
from sluice.budgets.spend import SpendRule, Switches
from sluice.policies import SpendPolicy
from tests.fixtures.clock import DAY_S, Clock

POLICY = SpendPolicy(
    downgrade_at_micros=50, downgrade_to="mini", emergency_at_micros=100, emergency_to="cheap"
)
RULE = SpendRule("acme", "ann", 0, 1, POLICY)
START = 1_000 * DAY_S + 3_600.0  # 01:00 UTC on some day, relative to no calendar


class Sent:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    async def __call__(self, tenant: str, event: str, subject: str) -> None:
        self.events.append((tenant, event, subject))


async def test_emergency_starts_past_the_threshold_and_ends_at_the_next_day() -> None:
    clock = Clock(START)
    ledger = MemoryLedger(clock)
    a, b, sent = Switches(ledger, clock), Switches(ledger, clock), Sent()
    a.bind(sent)
    b.bind(sent)
    day = period_id("day", START)
    assert (await a.judge(RULE, (99, 0))).emergency is False
    started = await a.judge(RULE, (100, 0))
    assert (
        started.emergency and started.downgrade_to == "cheap" and started.event == "spend.emergency_started"
    )
    again = await b.judge(RULE, (150, 0))  # the other replica switches too, but the switch was claimed
    assert again.emergency and again.event is None
    assert (await a.judge(RULE, (90, 0))).emergency  # sticky for the day once seen here
    clock.advance(DAY_S)
    ended = await a.judge(RULE, (0, 0))
    assert not ended.emergency and ended.downgrade_to is None and ended.event == "spend.emergency_ended"
    assert (await b.judge(RULE, (0, 0))).event is None
    await asyncio.sleep(0)  # the events are enqueued in tasks of their own
    assert sent.events == [
        ("acme", "spend.emergency_started", f"acme:{day}"),
        ("acme", "spend.emergency_ended", f"acme:{day}"),
    ]


async def test_an_operator_ends_emergency_for_the_rest_of_the_day() -> None:
    clock = Clock(START)
    switches = Switches(MemoryLedger(clock), clock)
    assert (await switches.judge(RULE, (500, 0))).emergency
    ended_rule = SpendRule("acme", "ann", 0, 1, POLICY, ended=period_id("day", START))
    verdict = await switches.judge(ended_rule, (900, 0))
    assert not verdict.emergency and verdict.event == "spend.emergency_ended"


async def test_a_user_past_its_threshold_is_downgraded_once_reported() -> None:
    clock = Clock(START)
    switches = Switches(MemoryLedger(clock), clock)
    assert (await switches.judge(RULE, (0, 49))).downgrade_to is None
    first = await switches.judge(RULE, (0, 50))
    assert first.downgrade_to == "mini" and first.event == "spend.user_downgraded" and not first.emergency
    assert (await switches.judge(RULE, (0, 60))).event is None


def test_a_users_policy_overrides_its_tenants_field_by_field() -> None:
    tenant = SpendPolicy(
        downgrade_at_micros=10, downgrade_to="mini", emergency_at_micros=100, emergency_to="cheap"
    )
    user = SpendPolicy(downgrade_at_micros=5)
    assert user.over(tenant) == SpendPolicy(
        downgrade_at_micros=5, downgrade_to="mini", emergency_at_micros=100, emergency_to="cheap"
    )
    assert user.over(None) == user
