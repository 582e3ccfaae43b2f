"""The response cache on the request path, as two stages around admission.

``CacheStage`` (before admission) plans from the tenant's policy and the request's controls
whether this request may be answered from the cache and whether its answer may be kept; it
records the fresh answer (a JSON answer, or a stream that ended on its own) and keeps it when the
request settles, after the quota stage priced it. ``CacheLookupStage`` (after admission, so a hit
counts against the rate limits and settles at zero) tries the exact cache, then the semantic
layer, and answers early on a hit.

Controls: ``Cache-Control: no-cache`` (answer fresh, keep the answer) or ``no-store`` (neither
look up nor keep), and the body option ``"sluice": {"cache": ...}``: ``"no-cache"``,
``"no-store"``, a TTL in seconds, or ``{"ttl": seconds, "threshold": similarity}``.

A tenant with an emergency threshold (``budgets/spend.py``) also keeps the answers its policy
would not cache (temperature above 0, no seed); they are looked up only in emergency mode, so a
repeat is answered from the cache then whatever its temperature.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from sluice.auth.principal import Principal
from sluice.cache.entries import Entry
from sluice.cache.key import cache_keys, has_tool_calls_in_flight, is_deterministic
from sluice.cache.replay import Recorder
from sluice.cache.service import ResponseCache
from sluice.cache.ticket import CacheTicket
from sluice.pipeline.context import RequestContext, ask_stream_usage
from sluice.pipeline.stage import Ask, Stage
from sluice.types import ChatRequest, ChatResponse, ChunkBatch, ChunkStream, encoder

_KEPT_FINISHES = frozenset({"stop", "length", "tool_calls", "function_call"})


class CacheStage(Stage):
    name = "cache"
    traced = False

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache

    async def before(self, ctx: RequestContext) -> None:
        """Set ``ctx.cache`` when this request may be looked up or kept; leave it None otherwise."""
        request = ctx.request
        if not isinstance(request, ChatRequest) or ctx.principal is None:
            return
        ctx.cache_status = "miss"  # whatever keeps this request out of the cache, it was not served from it
        policy = ctx.principal.cache_policy or self._cache.default
        if not policy.exact and policy.semantic == "off":
            return
        looks_up, ttl_s, threshold = True, policy.ttl_s, policy.threshold or self._cache.threshold
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
        emergency_only = policy.deterministic_only and not is_deterministic(request)
        if emergency_only and not _has_emergency(ctx.principal):
            return
        if not policy.cache_tool_calls and has_tool_calls_in_flight(request):
            return
        if ctx.pii_found and not policy.cache_pii:
            return
        tenant_id = ctx.principal.tenant_id or "-"
        ctx.cache = CacheTicket(
            tenant_id,
            policy,
            cache_keys(tenant_id, request, ctx.prompt_version, keyed_alias(ctx)),
            looks_up,
            ttl_s,
            threshold,
            emergency_only=emergency_only,
        )
        if request.stream:
            ask_stream_usage(ctx)  # a kept stream keeps its usage, which a replay may be asked for

    async def answer(self, ctx: RequestContext, response: ChatResponse, ask: Ask) -> ChatResponse:
        if ctx.cache is not None and ctx.cache_status == "miss":
            ctx.fresh = response  # the answer the stages after this one passed (a repaired one, say)
        return response

    def stream(self, ctx: RequestContext, chunks: ChunkStream) -> ChunkStream:
        if ctx.cache is None or ctx.cache_status != "miss":
            return chunks
        return _recorded(ctx, chunks)

    async def settle(self, ctx: RequestContext) -> None:
        """Keep a fresh, complete answer, once the quota stage priced it."""
        response, t = ctx.fresh, ctx.cache
        if response is None or t is None or ctx.cache_status != "miss" or not response.choices:
            return
        if not _answered_by_alias(ctx):
            return  # a fallback's or a downgrade's answer is not the named model's: never cached under it
        if any(c.finish_reason not in _KEPT_FINISHES for c in response.choices):
            return
        now = self._cache.clock()
        usage = response.usage
        principal = ctx.principal
        entry = Entry(
            tenant_id=t.tenant_id,
            model=keyed_alias(ctx),
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
        self._cache.keep(t, entry, response)


class CacheLookupStage(Stage):
    name = "cache lookup"

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache

    async def before(self, ctx: RequestContext) -> ChatResponse | None:
        """The cached answer for this request (``ctx.cache_status`` says which layer), or None."""
        t = ctx.cache
        if t is None or not t.looks_up or (t.emergency_only and not ctx.emergency):
            return None
        served = await self._cache.lookup(t, keyed_alias(ctx), ctx.request_id)
        if served is None:
            return None
        ctx.cache_status = served.status
        ctx.cache_similarity = served.similarity
        ctx.hit = served.response
        return served.response


async def _recorded(ctx: RequestContext, chunks: ChunkStream) -> AsyncGenerator[ChunkBatch, None]:
    """Relay a stream, recording it; one that ended on its own (not cut by the budget meter, not
    stopped by a content rule around it) is the fresh answer to keep."""
    recorder = Recorder()
    try:
        async for batch in chunks:
            recorder.add(batch)
            yield batch
        if not ctx.stream_cut:
            ctx.fresh = recorder.response()
    finally:
        await chunks.aclose()


def keyed_alias(ctx: RequestContext) -> str:
    """The alias whose answers the request's entries hold: the one the client named, or the tier
    an auto alias chose (so a hit is that tier's answer, which the caller may use, shared with
    requests naming the tier's alias itself)."""
    return ctx.choice.alias if ctx.choice is not None else ctx.request.model


def _has_emergency(principal: Principal) -> bool:
    """Has the caller's tenant an emergency threshold (its answers kept for emergency mode)?"""
    return any(
        s.kind == "tenant" and s.spend is not None and s.spend.emergency_at_micros is not None
        for s in principal.limits
    )


def _answered_by_alias(ctx: RequestContext) -> bool:
    """Did a deployment of the keyed alias answer (not a fallback or a budget downgrade)?
    Entries are keyed by that alias, and a hit must never carry another model's answer to a key
    that may use only the alias."""
    route = ctx.route
    return route is not None and route.alias == keyed_alias(ctx) and ctx.deployment in route.deployments
