"""The built-in simulated model as an in-process provider: the answers of ``sim/model.py``
with the latency, pacing and injected failures of the provider's ``SimSettings``."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from sluice.errors import from_upstream_status
from sluice.providers.base import Target
from sluice.settings import ProviderSettings
from sluice.sim import model
from sluice.sim.behaviour import Failure, FaultInjector, pace, pause_ms
from sluice.types import ChatRequest, ChatResponse, ChunkStream, EmbeddingRequest, EmbeddingResponse


class SimProvider:
    """A ``Provider`` that answers without network. ``rng`` drives the failure draws (default:
    seeded from the settings); ``clock`` gives the ``created`` timestamps."""

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sim = settings.sim
        self._faults = FaultInjector(rng or random.Random(settings.sim.seed))
        self._clock = clock

    async def chat(self, request: ChatRequest, target: Target) -> ChatResponse:
        response = model.complete(request, target.model, int(self._clock()))
        await self._admit()
        await pause_ms(self._sim.latency_ms)
        return response

    async def stream(self, request: ChatRequest, target: Target) -> ChunkStream:
        chunks = model.stream_chunks(request, target.model, int(self._clock()), self._sim.chunks)
        await self._admit()
        return pace(chunks, self._sim)

    async def embed(self, request: EmbeddingRequest, target: Target) -> EmbeddingResponse:
        response = model.embed(request, target.model, self._sim.embedding_dim)
        await self._admit()
        await pause_ms(self._sim.latency_ms)
        return response

    async def close(self) -> None:
        """Nothing to release: there is no upstream client."""

    async def _admit(self) -> None:
        """Fail or hang here, before any answer, as an upstream would."""
        decision = self._faults.decide(self._sim)
        if decision == "hang":
            await asyncio.get_running_loop().create_future()  # only cancellation ends it
        if isinstance(decision, Failure):
            raise from_upstream_status(decision.status, "sim", decision.message, decision.retry_after_s)
