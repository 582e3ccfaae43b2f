"""The semantic layer: a near-duplicate question's answer, only when three checks agree.

1. Similarity: the question's embedding against the nearest entries of the same tenant, model
   and partition (same context, tools and parameters); a candidate needs the threshold.
2. Structure: ``verify.compare`` rejects the near misses embeddings score as near-identical
   (other numbers, names, negation, direction, code identifiers, language, format, length).
3. Optionally a judge: a cheap chat model asked whether both questions want the same answer.

The first candidate, most similar first, that passes all three is served. The whole lookup is
bounded: a slow embedding or search counts as a miss, and the embedding is kept for the write
that stores the fresh answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sluice.cache.embed import Batcher, Vector
from sluice.cache.entries import Entry, SemanticIndex
from sluice.cache.verify import compare

log = logging.getLogger("sluice.cache")

Judge = Callable[[str, str, str, str], Awaitable[bool]]
"""(judge model alias, cached question, new question, tenant) -> do they ask for the same answer
(the tenant whose lookup asked pays for the call)."""


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    similarity: float


@dataclass(frozen=True, slots=True)
class Rejected:
    """The best candidate over the threshold that a check turned down (for shadow reports)."""

    entry: Entry
    similarity: float
    reason: str


class SemanticLayer:
    def __init__(
        self,
        index: SemanticIndex,
        batcher: Batcher,
        *,
        candidates: int,
        lookup_timeout_s: float,
        judge: Judge | None = None,
        judge_timeout_s: float = 3.0,
    ) -> None:
        self.index = index
        self._batcher = batcher
        self._candidates = candidates
        self._lookup_timeout_s = lookup_timeout_s
        self._judge = judge
        self._judge_timeout_s = judge_timeout_s

    def embed(self, text: str) -> asyncio.Future[Vector]:
        return self._batcher.embed(text)

    async def close(self) -> None:
        """The batcher; the index is closed by the backend that built it."""
        await self._batcher.close()

    async def find(
        self,
        tenant_id: str,
        model: str,
        partition: str,
        prompt: str,
        vector: asyncio.Future[Vector],
        *,
        threshold: float,
        now: float,
        judge_model: str | None = None,
    ) -> Match | Rejected | None:
        """The entry to serve, or the best candidate a check rejected, or None. Raises
        ``TimeoutError`` when embedding and search took longer than the lookup bound."""
        async with asyncio.timeout(self._lookup_timeout_s):
            v = await asyncio.shield(vector)
            found = await self.index.search(tenant_id, model, partition, v, now, self._candidates)
        rejected: Rejected | None = None
        for entry, similarity in found:
            if similarity < threshold:
                break
            verdict = compare(entry.prompt, prompt)
            if not verdict.ok:
                rejected = rejected or Rejected(entry, similarity, verdict.reason or "structure differs")
                continue
            if judge_model is not None and not await self._confirmed(
                judge_model, entry.prompt, prompt, tenant_id
            ):
                rejected = rejected or Rejected(entry, similarity, "the judge model said no")
                continue
            return Match(entry, similarity)
        return rejected

    async def _confirmed(self, judge_model: str, cached: str, asked: str, tenant_id: str) -> bool:
        if self._judge is None:
            return False
        try:
            async with asyncio.timeout(self._judge_timeout_s):
                return await self._judge(judge_model, cached, asked, tenant_id)
        except Exception as e:  # no answer from the judge is a no
            log.warning("cache judge %s gave no verdict: %s", judge_model, type(e).__name__)
            return False
