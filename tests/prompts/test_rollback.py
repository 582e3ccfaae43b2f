"""The evaluator against a real store: a canary whose error rate is 3x the control's is rolled
back within its rule's window (label moved back, webhook told, exactly once even with two
replicas), a healthy canary advances through its steps and completes, a rolled-back one stays so."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from msgspec.structs import replace

from sluice.obs.record import RequestRecord
from sluice.prompts.assign import choose
from sluice.prompts.rollback import ROLLBACK_ACTOR, Evaluator, Webhook, canary_arms
from sluice.store.records import Experiment, ExperimentArm, PromptMessage, PromptVersion, Tenant
from sluice.store.sqlite.store import SqliteStore
from tests.fixtures.aioserver import local_server
from tests.fixtures.clock import Clock

T0 = 4_102_444_800


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A store with prompt ``support`` of tenant ``t-a`` at versions 1 and 2, ``production`` on 2
    (the candidate, as while its canary runs): the evaluator moves the label with the store's own
    audited compare-and-set."""
    s = SqliteStore(str(tmp_path / "s.db"))
    await s.migrate()
    await s.create_tenant(Tenant("t-a", "A", T0))
    for note in ("control", "candidate"):
        messages = [PromptMessage("user", "{q}")]
        await s.create_prompt_version(
            PromptVersion("t-a", "support", 0, messages, ["q"], T0, "ops", note=note)
        )
    await s.set_prompt_label("t-a", "support", "production", 1, "ops", "launch", T0)
    await s.set_prompt_label("t-a", "support", "production", 2, "ops", "experiment exp_c started", T0)
    yield s
    await s.close()


async def label_now(store: SqliteStore) -> int:
    (production,) = await store.get_prompt_labels("t-a", "support")
    return production.version


def canary(**fields: Any) -> Experiment:
    e = Experiment(
        "exp_c",
        "t-a",
        "support",
        "production",
        "canary",
        1,
        [ExperimentArm(1, 99.0), ExperimentArm(2, 1.0)],
        salt="salt",
        steps=[10.0, 50.0, 100.0],
        min_requests=50,
        min_seconds=60,
        rules=[{"metric": "error_rate", "ratio": 2.0, "min_requests": 100}],
        step_started_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    e = replace(e, **fields)
    return replace(e, arms=canary_arms(e, e.step))


class Traffic:
    """Requests of users assigned by the experiment as stored now, logged like the gateway's."""

    def __init__(self, store: SqliteStore, clock: Clock, error_rates: dict[int, float]) -> None:
        self.store, self.clock, self.error_rates = store, clock, error_rates
        self.rng = random.Random(3)
        self.n = 0
        self.served: dict[int, int] = {}

    async def send(self, count: int) -> None:
        e = await self.store.get_experiment("t-a", "exp_c")
        assert e is not None
        records = []
        for _ in range(count):
            self.n += 1
            version = choose(e, f"user-{self.n}")
            self.served[version] = self.served.get(version, 0) + 1
            failed = self.rng.random() < self.error_rates[version]
            records.append(
                RequestRecord(
                    f"req-{self.n}",
                    int(self.clock.now * 1000),
                    "chat",
                    502 if failed else 200,
                    20.0,
                    "t-a",
                    error_type="upstream_error" if failed else None,
                    prompt_name="support",
                    prompt_version=version,
                    experiment=e.id,
                    arm=version,
                )
            )
        await self.store.write_requests(records)


async def test_a_failing_canary_is_rolled_back_within_its_window(store: SqliteStore) -> None:
    seen: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        seen.append(await request.json())
        return web.json_response({})

    clock = Clock(T0)
    await store.create_experiment(canary(min_seconds=10_000))  # 10% on the candidate, held there
    traffic = Traffic(store, clock, {1: 0.05, 2: 0.15})
    async with local_server("/hook", hook) as base:
        evaluator = Evaluator(store, store, every_s=1, webhook=Webhook(f"{base}/hook", 5), clock=clock)
        rolled_at = None
        for _ in range(40):
            await traffic.send(100)
            clock.advance(1)
            if await evaluator.evaluate_all() == [("exp_c", "rolled_back")]:
                rolled_at = traffic.served[2]
                break
        await evaluator.close()
    # Within the rule's window: at its 100th candidate request or soon after, not before.
    assert rolled_at is not None and 100 <= rolled_at <= 150, traffic.served
    e = await store.get_experiment("t-a", "exp_c")
    assert e is not None and e.state == "rolled_back" and e.reason.startswith("error_rate: version 2")
    assert await label_now(store) == 1
    moved = (await store.prompt_history("t-a", "support"))[-1]
    assert (moved.actor, moved.from_version, moved.to_version) == (ROLLBACK_ACTOR, 2, 1)
    (body,) = seen
    assert (body["tenant_id"], body["prompt"], body["experiment"], body["candidate"]) == (
        "t-a",
        "support",
        "exp_c",
        2,
    )
    assert body["rule"] == e.reason and body["figures"]["candidate"]["requests"] >= 100
    # No flapping: still rolled back however much healthy traffic follows.
    traffic.error_rates[2] = 0.0
    await traffic.send(200)
    assert await evaluator.evaluate_all() == []
    assert (await store.get_experiment("t-a", "exp_c")) == e
    assert await store.running_experiments() == []  # what the prompt catalog assigns from


async def test_two_replicas_roll_back_once(store: SqliteStore, tmp_path: Path) -> None:
    clock = Clock(T0)
    await store.create_experiment(canary(step=1))
    await Traffic(store, clock, {1: 0.0, 2: 0.5}).send(400)
    other = SqliteStore(str(tmp_path / "s.db"))  # a second replica on the same database
    try:
        a = Evaluator(store, store, every_s=1, clock=clock)
        b = Evaluator(other, other, every_s=1, clock=clock)
        first, second = await a.evaluate_all(), await b.evaluate_all()
    finally:
        await other.close()
    assert sorted([*first, *second]) == [("exp_c", "rolled_back")]
    history = await store.prompt_history("t-a", "support")
    assert [h.actor for h in history].count(ROLLBACK_ACTOR) == 1 and await label_now(store) == 1


async def test_a_healthy_canary_advances_through_its_steps_then_completes(store: SqliteStore) -> None:
    clock = Clock(T0)
    await store.create_experiment(canary())
    traffic = Traffic(store, clock, {1: 0.05, 2: 0.05})
    evaluator = Evaluator(store, store, every_s=1, clock=clock)
    actions = []
    for _ in range(100):
        await traffic.send(50)
        clock.advance(20)
        actions += [a for _, a in await evaluator.evaluate_all()]
        if "completed" in actions:
            break
    assert actions == ["step 1", "step 2", "completed"]
    e = await store.get_experiment("t-a", "exp_c")
    assert e is not None and e.state == "completed" and e.step == 2
    assert e.arms == [ExperimentArm(1, 0.0), ExperimentArm(2, 100.0)]


async def test_a_step_waits_for_min_requests_and_min_seconds(store: SqliteStore) -> None:
    clock = Clock(T0)
    await store.create_experiment(canary())
    traffic = Traffic(store, clock, {1: 0.0, 2: 0.0})
    evaluator = Evaluator(store, store, every_s=1, clock=clock)
    await traffic.send(1000)  # ~100 on the candidate, but no time has passed
    assert await evaluator.evaluate_all() == []
    clock.advance(59)
    assert await evaluator.evaluate_all() == []
    clock.advance(1)
    assert await evaluator.evaluate_all() == [("exp_c", "step 1")]
    assert await evaluator.evaluate_all() == []  # the new step's window is empty


async def test_a_webhook_that_fails_is_given_up_on(store: SqliteStore) -> None:
    calls = 0

    async def broken(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.Response(status=500)

    async with local_server("/hook", broken) as base:
        hook = Webhook(f"{base}/hook", 2)
        assert not await hook.send({"x": 1})
        await hook.close()
    assert calls == Webhook.ATTEMPTS
