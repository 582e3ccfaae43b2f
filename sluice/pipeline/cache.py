"""Stage 6: the response cache. ``plan`` decides from the tenant's policy and the request's
controls whether this request may be answered from the cache and whether its answer may be
kept; ``lookup`` tries the exact cache, then the semantic layer; ``keep`` stores a fresh answer
off the hot path (and, in shadow mode, compares it with what the semantic layer would have
served). A cache that cannot be reached is bypassed: the request is answered fresh.

Controls: ``Cache-Control: no-cache`` (answer fresh, keep the answer) or ``no-store`` (neither
look up nor keep), and the body option ``"sluice": {"cache": ...}``: ``"no-cache"``,
``"no-store"``, a TTL in seconds, or ``{"ttl": seconds, "threshold": similarity}``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from sluice.cache.embed import Batcher, EmbedBatch, Vector, cosine, unit
from sluice.cache.entries import Entry, ExactCache, SemanticIndex
from sluice.cache.key import Keys, cache_keys, has_tool_calls_in_flight, is_deterministic
from sluice.cache.replay import restamped
from sluice.cache.semantic import Match, Rejected, SemanticLayer
from sluice.cache.stats import CacheStats
from sluice.errors import StoreUnavailableError
from sluice.pipeline.context import RequestContext, ask_stream_usage
from sluice.policies import CachePolicy
from sluice.routing.router import Router
from sluice.settings import CacheSettings, Settings
from sluice.types import ChatRequest, ChatResponse, EmbeddingRequest, Message, encoder

log = logging.getLogger("sluice.cache")

_response = msgspec.json.Decoder(ChatResponse)
_KEPT_FINISHES = frozenset({"stop", "length", "tool_calls", "function_call"})


@dataclass(slots=True)
class CacheTicket:
    """One request's way through the cache, from plan to keep."""

    tenant_id: str
    policy: CachePolicy
    keys: Keys
    looks_up: bool
    """False for ``no-cache``: answer fresh (the answer is still kept)."""
    ttl_s: int
    threshold: float
    vector: asyncio.Future[Vector] | None = None
    shadow: Match | None = None


class CacheStage:
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
        self._default = settings.policy
        self._threshold = settings.semantic.threshold
        self._agreement = settings.semantic.shadow_agreement
        self._exact = exact
        self._semantic = semantic
        self.stats = stats
        self._clock = clock
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

    def plan(self, ctx: RequestContext) -> None:
        """Set ``ctx.cache`` when this request may be looked up or kept; leave it None otherwise."""
        request = ctx.request
        if not isinstance(request, ChatRequest) or ctx.principal is None:
            return
        ctx.cache_status = "miss"  # whatever keeps this request out of the cache, it was not served from it
        policy = ctx.principal.cache_policy or self._default
        if not policy.exact and policy.semantic == "off":
            return
        looks_up, ttl_s, threshold = True, policy.ttl_s, policy.threshold or self._threshold
        control = (ctx.cache_control or "").lower()
        if "no-store" in control:
            return
        if "no-cache" in control:
            looks_up = False
        option = None if request.sluice is None else request.sluice.cache
        if option == "no-store":
            return
        if option == "no-cache":
            looks_up = False
        elif isinstance(option, int):
            ttl_s = option
        elif option is not None:
            ttl_s, threshold = option.ttl or ttl_s, option.threshold or threshold
        if policy.deterministic_only and not is_deterministic(request):
            return
        if not policy.cache_tool_calls and has_tool_calls_in_flight(request):
            return
        if ctx.pii_found and not policy.cache_pii:
            return
        tenant_id = ctx.principal.tenant_id or "-"
        ctx.cache = CacheTicket(
            tenant_id, policy, cache_keys(tenant_id, request, ctx.prompt_version), looks_up, ttl_s, threshold
        )
        if request.stream:
            ask_stream_usage(ctx)  # a kept stream keeps its usage, which a replay may be asked for

    async def lookup(self, ctx: RequestContext) -> ChatResponse | None:
        """The cached answer for this request (``ctx.cache_status`` says which layer), or None."""
        t = ctx.cache
        assert t is not None
        if not t.looks_up:
            return None
        stats = self.stats.of(t.tenant_id)
        stats.lookups += 1
        now = self._clock()
        if t.policy.exact:
            entry = await self._exact_get(t, now)
            if entry is not None:
                stats.exact_hits += 1
                return self._serve(ctx, entry, "hit", None)
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
                    ctx.request.model,
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
                    "semantic cache lookup failed; answering fresh", extra={"request_id": ctx.request_id}
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
                return self._serve(ctx, found.entry, "semantic", found.similarity)
        stats.misses += 1
        return None

    def keep(self, ctx: RequestContext, response: ChatResponse) -> None:
        """Store a fresh, complete answer in the background (never on the hot path)."""
        t = ctx.cache
        if t is None or ctx.cache_status != "miss" or not response.choices:
            return
        if not _answered_by_alias(ctx):
            return  # a fallback's or a downgrade's answer is not the named model's: never cached under it
        if any(c.finish_reason not in _KEPT_FINISHES for c in response.choices):
            return
        now = self._clock()
        usage = response.usage
        principal = ctx.principal
        entry = Entry(
            tenant_id=t.tenant_id,
            model=ctx.request.model,
            exact_key=t.keys.exact,
            partition=t.keys.partition or "",
            key_prefix=principal.key_name.removesuffix("...") if principal is not None else "",
            prompt=t.keys.prompt or "",
            response=encoder.encode(response),
            prompt_tokens=usage.prompt_tokens if usage is not None else 0,
            completion_tokens=usage.completion_tokens if usage is not None else 0,
            cost_micros=ctx.cost_micros or 0,
            created_at=now,
            expires_at=now + t.ttl_s,
        )
        task = asyncio.ensure_future(self._write(t, entry, response))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def purge(self, tenant_id: str, model: str | None, key_prefix: str | None) -> dict[str, int]:
        exact = await self._exact.purge(tenant_id, model, key_prefix)
        semantic = (
            0 if self._semantic is None else await self._semantic.index.purge(tenant_id, model, key_prefix)
        )
        return {"exact": exact, "semantic": semantic}

    async def close(self) -> None:
        """Wait for the writes under way and the embeddings asked for; the stores are closed
        after this by the backend that built them."""
        if self._writes:
            await asyncio.wait(self._writes, timeout=10)
        if self._semantic is not None:
            await self._semantic.close()

    def _serve(
        self, ctx: RequestContext, entry: Entry, status: str, similarity: float | None
    ) -> ChatResponse:
        stats = self.stats.of(entry.tenant_id)
        stats.tokens_saved += entry.prompt_tokens + entry.completion_tokens
        stats.cost_micros_saved += entry.cost_micros
        ctx.cache_status = status
        ctx.cache_similarity = similarity
        return restamped(_response.decode(entry.response), ctx.request_id, int(self._clock()))

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

    async def drain(self) -> None:
        """Wait until the answers ``keep`` is writing in the background are written (or failed)."""
        while self._writes:
            await asyncio.wait(set(self._writes))


def _answer_text(response: ChatResponse) -> str:
    m = response.choices[0].message
    if m.content:
        return m.content
    return encoder.encode([t.function for t in m.tool_calls or ()]).decode()


def build_cache(
    settings: Settings, router: Router, exact: Callable[[], ExactCache], index: Callable[[int], SemanticIndex]
) -> CacheStage | None:
    """The cache stage for ``settings.cache`` (None when caching is off), on the backend's stores
    (``exact``, and ``index`` for the embedding's dimensions); the semantic layer when an
    embedding model is available."""
    c = settings.cache
    if not c.enabled:
        return None
    semantic, off = _semantic_layer(settings, router, index)
    return CacheStage(c, exact(), semantic, CacheStats(), semantic_off=off)


def _semantic_layer(
    settings: Settings, router: Router, build_index: Callable[[int], SemanticIndex]
) -> tuple[SemanticLayer | None, str]:
    s = settings.cache.semantic
    embed_batch: EmbedBatch
    if s.embedding == "local":
        from sluice.cache.local_embed import (
            DIMENSIONS,
            LocalEmbedder,
            LocalEmbedderUnavailableError,
            available,
        )

        try:
            path = available()
        except LocalEmbedderUnavailableError as e:
            return None, str(e)
        model: list[LocalEmbedder] = []
        loading = threading.Lock()

        def embed_in_thread(texts: list[str]) -> list[Vector]:
            with loading:  # the weights (~90 MiB) are loaded by the first embedding, not at startup
                if not model:
                    model.append(LocalEmbedder(path))
            return model[0].embed(texts).tolist()

        async def embed_local(texts: list[str]) -> list[Vector]:
            return await asyncio.to_thread(embed_in_thread, texts)

        embed_batch, dimensions = embed_local, DIMENSIONS
    else:
        alias = s.embedding
        if s.dimensions is None:
            return None, f"cache.semantic.dimensions is required with the embedding model {alias!r}"
        route = router.route(alias, "embedding")

        async def embed_remote(texts: list[str]) -> list[Vector]:
            response, _ = await router.embed(EmbeddingRequest(model=alias, input=[*texts]), route, [])
            return [
                unit(d.embedding)
                for d in sorted(response.data, key=lambda d: d.index)
                if isinstance(d.embedding, list)
            ]

        embed_batch, dimensions = embed_remote, s.dimensions
    index = build_index(dimensions)

    async def judge(alias: str, cached: str, asked: str) -> bool:
        request = ChatRequest(
            model=alias,
            messages=[
                Message(role="system", content=_JUDGE_PROMPT),
                Message(role="user", content=f"Question A:\n{cached}\n\nQuestion B:\n{asked}"),
            ],
            temperature=0,
            max_tokens=3,
        )
        response, _ = await router.chat(request, router.route(alias, "chat"), [])
        return (response.choices[0].message.content or "").strip().upper().startswith("YES")

    batcher = Batcher(embed_batch, max_batch=s.batch_max, wait_s=s.batch_wait_ms / 1000)
    layer = SemanticLayer(
        index,
        batcher,
        candidates=s.candidates,
        lookup_timeout_s=s.lookup_timeout_ms / 1000,
        judge=judge,
        judge_timeout_s=s.judge_timeout_ms / 1000,
    )
    return layer, ""


_JUDGE_PROMPT = (
    "You decide whether a cached answer to question A may be served for question B. Reply YES only if "
    "both ask for exactly the same answer (same facts, numbers, names, direction, language and format); "
    "otherwise reply NO. Reply with YES or NO only."
)


def _answered_by_alias(ctx: RequestContext) -> bool:
    """Did a deployment of the alias the client named answer (not a fallback or a budget downgrade)?
    Entries are keyed by that alias, and a hit must never carry another model's answer to a key
    that may use only the alias."""
    route = ctx.route
    return route is not None and route.alias == ctx.request.model and ctx.deployment in route.deployments
