"""The experiments' evaluator: on every replica, every ``prompts.evaluate_every_s``, each running
experiment's rules are checked on its arms' requests (``rules.py``); a tripped rule rolls it back,
a healthy canary advances its ramp. Each change is a compare-and-set in the store, so of replicas
racing, exactly one acts (and notifies); a rolled-back experiment stays so until a person
re-enables it (no flapping)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import aiohttp
import msgspec
from msgspec.structs import replace

from sluice.errors import SluiceError
from sluice.prompts import rules
from sluice.prompts.quality import summarize
from sluice.store.protocols import Store
from sluice.store.records import Experiment, ExperimentArm, VersionQuality

log = logging.getLogger("sluice.prompts")

ROLLBACK_ACTOR = "sluice:rollback"
RAMP_ACTOR = "sluice:canary"


@runtime_checkable
class Labels(Protocol):
    """The registry's label move (``Store.set_prompt_label``): atomic, audited, compare-and-set on ``expect``."""

    async def set_prompt_label(
        self,
        tenant_id: str,
        name: str,
        label: str,
        version: int | None,
        actor: str,
        reason: str,
        at: int,
        expect: int | None = None,
    ) -> object: ...


class Webhook:
    """Announces rollbacks: a JSON POST, at most three attempts each under ``timeout_s``; a
    failure is logged, never retried beyond that."""

    ATTEMPTS = 3

    def __init__(self, url: str, timeout_s: float) -> None:
        self._url = url
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def send(self, body: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        data = msgspec.json.encode(body)
        for attempt in range(self.ATTEMPTS):
            try:
                async with self._session.post(
                    self._url, data=data, headers={"content-type": "application/json"}
                ) as r:
                    if r.status < 300:
                        return True
                    log.warning("rollback webhook answered %s", r.status, extra={"attempt": attempt + 1})
            except (aiohttp.ClientError, TimeoutError) as e:
                log.warning("rollback webhook failed: %s", type(e).__name__, extra={"attempt": attempt + 1})
            if attempt + 1 < self.ATTEMPTS:
                await asyncio.sleep(0.5 * 2**attempt)
        return False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def canary_arms(e: Experiment, step: int) -> list[ExperimentArm]:
    """A canary's arms at ``step`` of its ramp: the candidate gets the step's percent."""
    percent = e.steps[step] if e.steps else 0.0
    return [ExperimentArm(e.control, 100.0 - percent), ExperimentArm(e.candidate, percent)]


class Evaluator:
    def __init__(
        self,
        store: Store,
        labels: Labels,
        *,
        every_s: float,
        webhook: Webhook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._labels = labels
        self._every_s = every_s
        self._webhook = webhook
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sluice-experiments")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._webhook is not None:
            await self._webhook.close()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            try:
                await self.evaluate_all()
            except Exception:  # fails open by design: one bad round must not end the evaluator
                log.exception("experiment evaluation failed")

    async def evaluate_all(self) -> list[tuple[str, str]]:
        """One round over every running experiment; what was done, as (experiment id, action)."""
        done = []
        for e in await self._store.running_experiments():
            try:
                action = await self.evaluate(e)
            except SluiceError as err:  # the store is down: the next round tries again
                log.warning("cannot evaluate experiment %s: %s", e.id, err.message)
                continue
            if action is not None:
                done.append((e.id, action))
        return done

    async def evaluate(self, e: Experiment) -> str | None:
        """Roll back, advance or complete ``e``, or nothing (None). Rules see the current step's
        requests (since ``step_started_at``), so a re-enabled experiment starts afresh."""
        now = int(self._clock())
        found = await self._store.prompt_quality(
            e.tenant_id, e.name, since=e.step_started_at, experiment=e.id
        )
        by_version = {q.version: q for q in found}
        control = by_version.get(e.control, VersionQuality(e.control))
        for arm in e.arms[1:]:
            q = by_version.get(arm.version, VersionQuality(arm.version))
            why = rules.tripped(_per_step(e), control, q)
            if why is not None:
                return "rolled_back" if await self.roll_back(e, why, control, q, now) else None
        if e.kind == "canary":
            return await self._ramp(e, by_version.get(e.candidate, VersionQuality(e.candidate)), now)
        return None

    async def roll_back(
        self, e: Experiment, why: str, control: VersionQuality, candidate: VersionQuality, now: int
    ) -> bool:
        """Stop ``e`` (compare-and-set: False when another replica or a person got there first),
        move its label back to the control (only if it still points at the candidate), notify."""
        if not await self._store.update_experiment(
            replace(e, state="rolled_back", reason=why, updated_at=now)
        ):
            return False
        moved = await self._labels.set_prompt_label(
            e.tenant_id,
            e.name,
            e.label,
            e.control,
            actor=ROLLBACK_ACTOR,
            reason=f"experiment {e.id} rolled back: {why}",
            at=now,
            expect=e.candidate,
        )
        if moved is None:
            log.warning("rollback of %s left the label %s alone: it was moved meanwhile", e.id, e.label)
        log.warning("experiment %s rolled back: %s", e.id, why, extra={"tenant_id": e.tenant_id})
        if self._webhook is not None:
            body = {
                "event": "prompt.experiment.rolled_back",
                "tenant_id": e.tenant_id,
                "prompt": e.name,
                "label": e.label,
                "experiment": e.id,
                "control": e.control,
                "candidate": candidate.version,
                "rule": why,
                "at": now,
                "figures": {
                    "control": msgspec.to_builtins(summarize(control)),
                    "candidate": msgspec.to_builtins(summarize(candidate)),
                },
            }
            await self._webhook.send(body)
        return True

    async def _ramp(self, e: Experiment, candidate: VersionQuality, now: int) -> str | None:
        if candidate.requests < e.min_requests or now - e.step_started_at < e.min_seconds:
            return None
        if e.step + 1 >= len(e.steps):
            done = replace(
                e, state="completed", reason="the ramp reached its last step healthy", updated_at=now
            )
            return "completed" if await self._store.update_experiment(done, expect_step=e.step) else None
        nxt = e.step + 1
        advanced = replace(e, step=nxt, step_started_at=now, arms=canary_arms(e, nxt), updated_at=now)
        return f"step {nxt}" if await self._store.update_experiment(advanced, expect_step=e.step) else None


def _per_step(e: Experiment) -> list[dict[str, Any]]:
    """The rules as checked in one step's window: a canary's sequential test runs afresh each step,
    so its alpha is split over the steps (Bonferroni), keeping the whole ramp's false alarms <= alpha."""
    if e.kind != "canary" or len(e.steps) <= 1:
        return e.rules
    split = len(e.steps)
    return [{**r, "alpha": r.get("alpha", 0.05) / split} if r["metric"] == "feedback" else r for r in e.rules]
