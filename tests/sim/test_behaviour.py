"""Failure draws and stream pacing shared by the sim provider and server."""

from __future__ import annotations

import asyncio
import itertools
import random

from sluice.settings import SimSettings
from sluice.sim.behaviour import Failure, FaultInjector, pace
from sluice.sim.model import stream_chunks
from sluice.types import chat_request_decoder


def test_fail_first_fails_the_first_calls_until_reset() -> None:
    faults = FaultInjector(random.Random(0))
    settings = SimSettings(fail_first=2, error_status=[503, 500], retry_after_s=1.5)
    assert [faults.decide(settings) for _ in range(3)] == [Failure(503, 1.5), Failure(503, 1.5), None]
    faults.reset()
    assert faults.decide(settings) == Failure(503, 1.5)


def test_retry_after_only_on_429_and_503() -> None:
    faults = FaultInjector(random.Random(0))
    for status, expected in [(429, 2.0), (503, 2.0), (500, None), (400, None)]:
        settings = SimSettings(error_rate=1, error_status=[status], retry_after_s=2)
        assert faults.decide(settings) == Failure(status, expected)


def test_rates_are_drawn_from_the_generator() -> None:
    settings = SimSettings(error_rate=0.3, hang_rate=0.3, error_status=[500, 502])
    first = [FaultInjector(random.Random(7)).decide(settings, random.Random(seed)) for seed in range(50)]
    second = [FaultInjector(random.Random(7)).decide(settings, random.Random(seed)) for seed in range(50)]
    assert first == second
    assert {None, "hang", Failure(500, None), Failure(502, None)} == set(first)


def test_certain_hang_and_no_failure() -> None:
    faults = FaultInjector(random.Random(0))
    assert faults.decide(SimSettings(hang_rate=1)) == "hang"
    assert faults.decide(SimSettings()) is None


async def test_pace_batches_all_chunks_at_once_without_a_delay() -> None:
    chunks = stream_chunks(
        chat_request_decoder.decode(b'{"model":"m","messages":[{"role":"user","content":"a b"}]}'), "m", 0
    )
    assert [batch async for batch in pace(chunks, SimSettings())] == [chunks]


async def test_pace_spaces_single_chunk_batches() -> None:
    chunks = stream_chunks(
        chat_request_decoder.decode(b'{"model":"m","messages":[{"role":"user","content":"a"}]}'), "m", 0
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    times, batches = [], []
    async for batch in pace(chunks, SimSettings(ttft_ms=40, chunk_delay_ms=20)):
        times.append(loop.time() - start)
        batches.append(batch)
    assert batches == [[c] for c in chunks]
    assert times[0] >= 0.04
    assert all(b - a >= 0.02 for a, b in itertools.pairwise(times))
