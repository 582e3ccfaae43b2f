"""The response cache as one object: the exact cache, then the semantic layer, its statistics
and its background writes. ``lookup`` finds an answer for a ticket; ``keep`` stores a fresh one
off the hot path (and, in shadow mode, compares it with what the semantic layer would have
served). A cache that cannot be reached is bypassed: the request is answered fresh. Which
requests get a ticket, and what is kept, is the pipeline's cache stage's business."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from sluice.cache.embed import cosine
from sluice.cache.entries import Entry, ExactCache
from sluice.cache.replay import restamped
from sluice.cache.semantic import Match, Rejected, SemanticLayer
from sluice.cache.stats import CacheStats
from sluice.cache.ticket import CacheTicket
from sluice.errors import StoreUnavailableError
from sluice.settings import CacheSettings
from sluice.types import ChatResponse, encoder

log = logging.getLogger("sluice.cache")

_response = msgspec.json.Decoder(ChatResponse)


class Served(NamedTuple):
    response: ChatResponse
    """The cached answer, restamped as this request's."""
    status: str
    """``hit`` (exact) or ``semantic``."""
    similarity: float | None


class ResponseCache:
    def __init__(
        self,
        settings: CacheSettings,
        exact: ExactCache,
        semantic: SemanticLayer | None,
        stats: CacheStats,
        clock: Callable[[], float] = time.time,
        *,
        semantic_off: str = "",
    ) -> None:
        self.default = settings.policy
        """The config's policy, for tenants without their own."""
        self.threshold = settings.semantic.threshold
        self._agreement = settings.semantic.shadow_agreement
        self._exact = exact
        self._semantic = semantic
        self.stats = stats
        self.clock = clock
        self._writes: set[asyncio.Task[None]] = set()
        self._degraded = False
        self.semantic_off = semantic_off
        """Why the semantic layer is off (when it is)."""

    async def start(self) -> None:
        """After the store's migrations: load the exact cache; open the semantic index (when it
        cannot open, the semantic layer is off and ``/health/ready`` says why)."""
        try:
            await self._exact.start()
        except StoreUnavailableError as e:
            self._unavailable(e)  # requests are answered fresh meanwhile
        if self._semantic is not None:
            try:
                await self._semantic.index.start()
            except Exception as e:
                self.semantic_off = f"the semantic index could not start: {e}"
                log.error("semantic cache off: %s", self.semantic_off)
                self._semantic = None

    async def embedding_ms(self, timeout_s: float) -> float | None:
        """How long the semantic layer's embedding model takes to embed a word (None: the layer
        is off). The first call loads a local model; past ``timeout_s`` it raises TimeoutError
        and the embedding goes on in the background."""
        if self._semantic is None:
            return None
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.shield(self._semantic.embed("ready")), timeout_s)
        return (time.perf_counter() - started) * 1000

    def health(self) -> dict[str, str]:
        return {
            "exact": "unavailable" if self._degraded else "ok",
            "semantic": "on" if self._semantic is not None else f"off: {self.semantic_off}",
        }

    async def lookup(self, t: CacheTicket, model: str, request_id: str) -> Served | None:
        """The cached answer for this ticket, or None (a miss, counted)."""
        stats = self.stats.of(t.tenant_id)
        stats.lookups += 1
        now = self.clock()
        if t.policy.exact:
            entry = await self._exact_get(t, now)
            if entry is not None:
                stats.exact_hits += 1
                return self._serve(entry, "hit", None, request_id)
        semantic = self._semantic
        if (
            semantic is not None
            and t.policy.semantic != "off"
            and t.keys.partition is not None
            and t.keys.prompt is not None
        ):
            t.vector = semantic.embed(t.keys.prompt)
            found: Match | Rejected | None = None
            try:
                found = await semantic.find(
                    t.tenant_id,
                    model,
                    t.keys.partition,
                    t.keys.prompt,
                    t.vector,
                    threshold=t.threshold,
                    now=now,
                    judge_model=t.policy.judge,
                )
            except TimeoutError:
                stats.semantic_timeouts += 1
            except StoreUnavailableError as e:
                self._unavailable(e)
            except Exception:
                log.exception(
                    "semantic cache lookup failed; answering fresh", extra={"request_id": request_id}
                )
            if isinstance(found, Rejected):
                stats.semantic_rejected += 1
            if t.policy.semantic == "shadow":
                stats.shadow_lookups += 1
                if isinstance(found, Match):
                    stats.shadow_would_hit += 1
                    t.shadow = found
            elif isinstance(found, Match):
                stats.semantic_hits += 1
                return self._serve(found.entry, "semantic", found.similarity, request_id)
        stats.misses += 1
        return None

    def keep(self, t: CacheTicket, entry: Entry, response: ChatResponse) -> None:
        """Store a fresh, complete answer in the background (never on the hot path)."""
        task = asyncio.ensure_future(self._write(t, entry, response))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def purge(self, tenant_id: str, model: str | None, key_prefix: str | None) -> dict[str, int]:
        exact = await self._exact.purge(tenant_id, model, key_prefix)
        semantic = (
            0 if self._semantic is None else await self._semantic.index.purge(tenant_id, model, key_prefix)
        )
        return {"exact": exact, "semantic": semantic}

    async def drain(self) -> None:
        """Wait until the answers ``keep`` is writing in the background are written (or failed)."""
        while self._writes:
            await asyncio.wait(set(self._writes))

    async def close(self) -> None:
        """Wait for the writes under way and the embeddings asked for; the stores are closed
        after this by the backend that built them."""
        if self._writes:
            await asyncio.wait(self._writes, timeout=10)
        if self._semantic is not None:
            await self._semantic.close()

    def _serve(self, entry: Entry, status: str, similarity: float | None, request_id: str) -> Served:
        stats = self.stats.of(entry.tenant_id)
        stats.tokens_saved += entry.prompt_tokens + entry.completion_tokens
        stats.cost_micros_saved += entry.cost_micros
        response = restamped(_response.decode(entry.response), request_id, int(self.clock()))
        return Served(response, status, similarity)

    async def _exact_get(self, t: CacheTicket, now: float) -> Entry | None:
        try:
            entry = await self._exact.get(t.tenant_id, t.keys.exact, now)
        except StoreUnavailableError as e:
            self._unavailable(e)
            return None
        if self._degraded:
            self._degraded = False
            log.warning("response cache reachable again")
        return entry

    async def _write(self, t: CacheTicket, entry: Entry, response: ChatResponse) -> None:
        try:
            if t.policy.exact:
                await self._exact.put(entry, t.policy.max_entries)
            semantic = self._semantic
            if semantic is None or t.policy.semantic == "off" or not entry.partition:
                return
            vector = await (t.vector or semantic.embed(entry.prompt))
            await semantic.index.add(entry, vector, t.policy.max_entries)
            if t.shadow is not None:
                await self._compare(t.tenant_id, t.shadow.entry, response)
        except StoreUnavailableError as e:
            self._unavailable(e)
        except Exception:
            log.exception("response cache write failed")

    async def _compare(self, tenant_id: str, cached: Entry, fresh: ChatResponse) -> None:
        """Shadow mode: how close the answer the semantic layer would have served is to the fresh one."""
        assert self._semantic is not None
        old, new = _answer_text(_response.decode(cached.response)), _answer_text(fresh)
        similarity = (
            1.0
            if old == new
            else cosine(*await asyncio.gather(self._semantic.embed(old), self._semantic.embed(new)))
        )
        stats = self.stats.of(tenant_id)
        stats.shadow_compared += 1
        stats.shadow_answer_similarity_sum += similarity
        if similarity < self._agreement:
            stats.shadow_disagreed += 1

    def _unavailable(self, e: StoreUnavailableError) -> None:
        if not self._degraded:
            self._degraded = True
            log.error("response cache unavailable, answering fresh: %s", e.message)


def _answer_text(response: ChatResponse) -> str:
    m = response.choices[0].message
    if m.content:
        return m.content
    return encoder.encode([t.function for t in m.tool_calls or ()]).decode()
