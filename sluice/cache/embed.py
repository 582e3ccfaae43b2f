"""Embeddings for the semantic cache: texts queued by concurrent requests share one call.

``Batcher`` collects the texts asked for within ``wait_s`` (or until ``max_batch``) and hands them
to one ``EmbedBatch`` call: the local model in a worker thread, or a configured embedding
deployment through the router. Every vector comes back unit length, so cosine similarity is a
dot product. A caller that stops waiting (its lookup hit the time bound) leaves the text in the
batch; its vector still arrives for the cache write that follows the fresh answer.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence

Vector = list[float]
EmbedBatch = Callable[[list[str]], Awaitable[list[Vector]]]


class Batcher:
    def __init__(self, embed_batch: EmbedBatch, *, max_batch: int, wait_s: float) -> None:
        self._embed_batch = embed_batch
        self._max_batch = max_batch
        self._wait_s = wait_s
        self._queue: list[tuple[str, asyncio.Future[Vector]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()

    def embed(self, text: str) -> asyncio.Future[Vector]:
        """The text's unit vector (or the embedding's exception), when its batch is done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Vector] = loop.create_future()
        self._queue.append((text, future))
        if len(self._queue) >= self._max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._wait_s, self._flush)
        return future

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for _, future in self._queue:
            future.cancel()
        self._queue = []
        if self._running:
            await asyncio.wait(self._running, timeout=5)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._queue = self._queue, []
        if batch:
            task = asyncio.ensure_future(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[str, asyncio.Future[Vector]]]) -> None:
        try:
            vectors = await self._embed_batch([text for text, _ in batch])
        except Exception as e:  # every waiter gets the failure; the caller decides (a miss)
            for _, future in batch:
                if not future.done():
                    future.set_exception(e)
            return
        for (_, future), vector in zip(batch, vectors, strict=True):
            if not future.done():
                future.set_result(vector)


def unit(vector: Sequence[float]) -> Vector:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """For unit vectors."""
    return sum(x * y for x, y in zip(a, b, strict=True))
