"""The shared background loop: steps again at once while there is work, waits for a wake-up or
the poll otherwise, never loses a wake-up sent during a step, logs a failing step and goes on,
and stops mid-step. Waits are bounded by events the steps set, never by a guessed time."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sluice.tasks import Loop

log = logging.getLogger("tests.tasks")
LONG = 3600.0  # a poll that never comes in a test: only a wake-up moves the loop on


async def test_it_steps_again_at_once_while_there_is_work_then_waits_for_a_wake() -> None:
    work = [True, True, False]
    steps: list[int] = []
    idle = asyncio.Event()

    async def step() -> bool:
        steps.append(len(steps))
        worked = work.pop(0) if work else False
        if not worked:
            idle.set()
        return worked

    loop = Loop(step, name="t", wait_s=lambda: LONG, log=log)
    loop.start()
    await asyncio.wait_for(idle.wait(), 10)
    assert len(steps) == 3  # two with work, one without: now waiting
    idle.clear()
    loop.wake()
    await asyncio.wait_for(idle.wait(), 10)
    assert len(steps) == 4
    await loop.stop()


async def test_a_wake_during_a_step_is_not_lost() -> None:
    entered, release, second = asyncio.Event(), asyncio.Event(), asyncio.Event()
    calls = 0

    async def step() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            await release.wait()
        else:
            second.set()
        return False

    loop = Loop(step, name="t", wait_s=lambda: LONG, log=log)
    loop.start()
    await asyncio.wait_for(entered.wait(), 10)
    loop.wake()  # new work arrives while the first step runs
    release.set()
    await asyncio.wait_for(second.wait(), 10)  # the wait after the step returned at once
    await loop.stop()


async def test_a_failing_step_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    ok = asyncio.Event()
    calls = 0

    async def step() -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the store is away")
        ok.set()
        return False

    loop = Loop(step, name="flaky", wait_s=lambda: 0.0, log=log)
    with caplog.at_level(logging.ERROR, "tests.tasks"):
        loop.start()
        await asyncio.wait_for(ok.wait(), 10)
    await loop.stop()
    assert [r.getMessage() for r in caplog.records] == ["flaky: a step failed"]


async def test_first_wait_and_stop_mid_step() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def step() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = Loop(step, name="t", wait_s=lambda: LONG, log=log, first_wait=True)
    loop.start()
    await asyncio.sleep(0.05)
    assert not started.is_set()  # waiting first
    loop.wake()
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.wait_for(loop.stop(), 10)
    assert cancelled.is_set()
    await loop.stop()  # stopping a stopped loop is nothing
