"""How a simulated call behaves: whether it fails, hangs or answers, and how its answer is
paced. Shared by the in-process provider and the standalone server, so both inject the same
failures the same way."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal

from sluice.errors import StreamTruncatedError
from sluice.settings import SimSettings
from sluice.types import ChatChunk, ChunkBatch

_RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True, slots=True)
class Failure:
    """An injected upstream failure; ``retry_after_s`` is set only on a 429 or 503."""

    status: int
    retry_after_s: float | None

    @property
    def message(self) -> str:
        return f"Simulated failure: HTTP {self.status} injected by the sim model."


class FaultInjector:
    """Draws each call's fate from the settings; counts calls for ``fail_first``."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._calls = 0

    def decide(
        self, settings: SimSettings, rng: random.Random | None = None
    ) -> Failure | Literal["hang"] | None:
        """``Failure``, ``"hang"`` (never answer) or None (answer). ``rng`` replaces the
        injector's own for this call (a per-request seed)."""
        rng = rng or self._rng
        call = self._calls
        self._calls += 1
        if call < settings.fail_first:
            return self._failure(settings.error_status[0], settings)
        if settings.error_rate and rng.random() < settings.error_rate:
            return self._failure(rng.choice(settings.error_status), settings)
        if settings.hang_rate and rng.random() < settings.hang_rate:
            return "hang"
        return None

    def reset(self) -> None:
        """Start counting calls again (``fail_first`` applies anew)."""
        self._calls = 0

    @staticmethod
    def _failure(status: int, settings: SimSettings) -> Failure:
        retry_after_s = settings.retry_after_s if status in _RETRY_AFTER_STATUSES else None
        return Failure(status, retry_after_s)


async def pause_ms(ms: float) -> None:
    if ms > 0:
        await asyncio.sleep(ms / 1000)


async def pace(chunks: list[ChatChunk], settings: SimSettings) -> AsyncGenerator[ChunkBatch, None]:
    """The stream as batches: the first after ``ttft_ms``; then, when ``chunk_delay_ms`` is
    set, each chunk its own batch that far apart, otherwise all chunks in one batch. With
    ``cut_after``, the stream breaks after that many chunks (``StreamTruncatedError``)."""
    cut = settings.cut_after
    if cut is not None and cut < len(chunks):
        chunks = chunks[:cut]
    else:
        cut = None
    await pause_ms(settings.ttft_ms)
    if not settings.chunk_delay_ms:
        if chunks:
            yield chunks
    else:
        for i, chunk in enumerate(chunks):
            if i:
                await pause_ms(settings.chunk_delay_ms)
            yield [chunk]
    if cut is not None:
        raise StreamTruncatedError(f"sim stream was cut after {cut} chunks (cut_after)")
