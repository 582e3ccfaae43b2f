"""Budgets, the other half of the quota stage (``quota.py``). Reserve a request's worst-case tokens and cost against every budget of its
tenant, user and key (reject with 429 or downgrade to a cheaper alias at the limit); meter a
stream as it flows and end it at its reservation; settle the actual cost exactly once.

Like admission, ``prepare`` needs no counter and ``commit`` is the one ledger call (sent together
with admission's when both apply). A downgrade's route comes from ``routes`` (the routing table's
lookup, which checks the models the caller may use); budgets never call a model."""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass

import msgspec

from sluice.alerts.budget import BudgetAlerts
from sluice.auth.principal import Principal, ScopedLimits
from sluice.budgets.ledger import Cap, Ledger, Refusal, Reservation, budget_key, period_end_s
from sluice.budgets.pricing import FREE, Price, price_for
from sluice.budgets.spend import SpendRule, Switches
from sluice.errors import BudgetExceededError, NotFoundError, PermissionDeniedError, StoreUnavailableError
from sluice.pipeline.context import RequestContext, ask_stream_usage
from sluice.policies import Budget, SpendPolicy
from sluice.routing.deployment import Deployment
from sluice.routing.router import RouteLookup
from sluice.routing.table import Route
from sluice.settings import Settings
from sluice.types import (
    ChatChunk,
    ChatRequest,
    ChunkBatch,
    ChunkChoice,
    ChunkStream,
    Delta,
    EmbeddingUsage,
    Usage,
)

log = logging.getLogger("sluice.budgets")

_MAX_POLICIES = 10_000


@dataclass(frozen=True, slots=True)
class _Policy:
    """One caller's budgets, resolved once: the caps to reserve against, each cap's budget, and
    its spend policies (which add an uncapped day counter for a scope that has no day budget)."""

    caps: tuple[Cap, ...]
    budgets: Mapping[Cap, Budget]
    spend: SpendRule | None = None


@dataclass(frozen=True, slots=True)
class Reserve:
    """What ``commit`` reserves: the caller's budgets and the request's worst-case tokens."""

    policy: _Policy
    input_tokens: int
    output_tokens: int


class Budgets:
    """Does nothing for a caller without budgets but price its answer. ``prices`` holds every
    deployment's price; a route's first deployment prices the reservation (the deployment that
    answers is known only later; a stream is metered at that one's price)."""

    def __init__(
        self,
        ledger: Ledger,
        prices: Mapping[Deployment, Price],
        routes: RouteLookup,
        *,
        default_max_tokens: int,
        fail_open: bool,
        alerts: BudgetAlerts | None = None,
        switches: Switches | None = None,
    ) -> None:
        """``alerts``: told each budget's use after a settle, from the counters the settle
        call itself returned."""
        self._ledger = ledger
        self._alerts = alerts
        self._switches = switches or Switches(ledger, time.time)
        self._prices = prices
        self._routes = routes
        self._default_max_tokens = default_max_tokens
        self._fail_open = fail_open
        self._is_degraded = False
        self._policies: dict[tuple[str | None, str | None, tuple[ScopedLimits, ...]], _Policy] = {}

    def prepare(self, ctx: RequestContext) -> Reserve | None:
        """Bound and estimate the worst case; what to reserve, or None when no budget applies."""
        principal = ctx.principal
        if principal is None or not any(s.budgets or s.spend is not None for s in principal.limits):
            return None
        policy = self._policy(principal)
        request = ctx.request
        if isinstance(request, ChatRequest):
            if request.output_token_limit is None:  # bound the worst case
                request = ctx.request = msgspec.structs.replace(request, max_tokens=self._default_max_tokens)
            estimate = Reserve(
                policy, ctx.input_tokens(), (request.output_token_limit or 0) * (request.n or 1)
            )
            if request.stream:
                ask_stream_usage(ctx)  # the stream is settled with its usage
            return estimate
        return Reserve(policy, ctx.input_tokens(), 0)

    async def commit(self, ctx: RequestContext, reserve: Reserve) -> None:
        """Reserve the worst case (``ctx.budget``), downgrading ``ctx.route`` when the policy
        says so, or raise the 429 (or 503 when the ledger is unreachable and the policy is to refuse)."""
        assert ctx.route is not None
        once = None if ctx.charge_key is None else (ctx.charge_key, ctx.request_id)
        reserved = await self._reserve(reserve, ctx.route, once)
        if isinstance(reserved, Refusal):
            budget = reserve.policy.budgets[reserved.cap]
            if budget.on_exceed != "downgrade" or budget.downgrade_to is None:
                raise _exceeded(reserved)
            allowed = ctx.principal.allowed_models if ctx.principal is not None else None
            try:
                route = self._routes(budget.downgrade_to, ctx.route.kind, allowed)
            except NotFoundError:
                log.warning(
                    "budget downgrade alias %r is not a %s model: rejecting",
                    budget.downgrade_to,
                    ctx.route.kind,
                )
                raise _exceeded(reserved) from None
            except PermissionDeniedError:  # the key may not use the cheaper alias: no downgrade for it
                raise _exceeded(reserved) from None
            reserved = await self._reserve(reserve, route, once)
            if isinstance(reserved, Refusal):
                raise _exceeded(reserved)
            ctx.route = route
        ctx.budget = reserved
        rule = reserve.policy.spend
        if rule is not None and reserved is not None and reserved.spent:
            await self._apply_spend(ctx, rule, reserved, reserve.input_tokens)

    async def _apply_spend(
        self, ctx: RequestContext, rule: SpendRule, reserved: Reservation, input_tokens: int
    ) -> None:
        """The caller's spend policies on a request its reservation admitted: in emergency mode,
        a request over the input cap is refused (its reservation released); a switched caller's
        request goes to the cheaper alias (through the same lookup as a budget downgrade, which
        checks the models the caller may use; a cheaper alias it may not use leaves the route)."""
        verdict = await self._switches.judge(rule, reserved.spent)
        ctx.spend_event = verdict.event
        if verdict.emergency:
            ctx.emergency = True
            ctx.spend = "emergency"
            cap = rule.policy.emergency_max_input_tokens
            if cap is not None and input_tokens > cap:
                ctx.spend = "emergency_refused"
                ctx.budget = None
                try:
                    await self._ledger.settle(reserved, 0, 0)
                except StoreUnavailableError as e:
                    log.warning("budget release failed (the reservation stays charged): %s", e.message)
                raise BudgetExceededError(
                    f"This tenant's spend today passed its emergency threshold: until the next UTC day (or until "
                    f"an operator ends emergency mode) requests may carry at most {cap} input tokens; this one "
                    f"has {input_tokens}.",
                    code="emergency_input_too_large",
                    param="messages",
                )
        elif verdict.downgrade_to is not None:
            ctx.spend = "user_downgraded"
        assert ctx.route is not None
        alias = verdict.downgrade_to
        if alias is None or alias == ctx.route.alias:
            return
        allowed = ctx.principal.allowed_models if ctx.principal is not None else None
        try:
            ctx.route = self._routes(alias, ctx.route.kind, allowed)
        except (NotFoundError, PermissionDeniedError) as e:
            log.warning("spend policy alias %r not served to this caller: %s", alias, e.message)

    async def admits(self, principal: Principal) -> BudgetExceededError | None:
        """Whether a budget of ``principal`` has nothing left (the error it would answer): a
        forwarded batch is refused up front then, as its lines would be one by one here."""
        if not any(s.budgets for s in principal.limits):
            return None
        caps = self._policy(principal).caps
        try:
            reserved = await self._ledger.reserve(caps, 1, 1)
            if isinstance(reserved, Refusal):
                return _exceeded(reserved)
            await self._ledger.settle(reserved, 0, 0)
        except StoreUnavailableError as e:
            log.warning("budget check of a forwarded batch skipped: %s", e.message)
        return None

    async def charge(self, principal: Principal, tokens: int, cost_micros: int) -> None:
        """Add spend made without a reservation (a forwarded batch's line: the provider already
        answered it) to every budget of ``principal``, past a cap too: it is spent."""
        if not any(s.budgets for s in principal.limits):
            return
        caps = self._policy(principal).caps
        try:
            reserved = await self._ledger.reserve(caps, 0, 0)  # makes the period's counters
            if isinstance(reserved, Refusal):  # already past a cap: its counters exist
                now = time.time()
                keys = tuple(budget_key(c.tenant_id, c.kind, c.scope_id, c.period, now) for c in caps)
                reserved = Reservation(keys, 0, 0)
            used = await self._ledger.settle(reserved, tokens, cost_micros)
        except StoreUnavailableError as e:
            log.warning("budget charge of a forwarded batch line lost: %s", e.message)
            return
        if used is not None and self._alerts is not None:
            self._check_alerts(principal, reserved, used)

    def price(self, ctx: RequestContext) -> Price:
        """The answering deployment's price; before one answered, the route's first one's."""
        deployment = ctx.deployment or (ctx.route.deployments[0] if ctx.route is not None else None)
        return FREE if deployment is None else self._prices.get(deployment, FREE)

    async def settle(self, ctx: RequestContext, usage: Usage | EmbeddingUsage | None) -> None:
        """Set ``ctx.cost_micros`` from ``usage`` (None: nothing was served) and, once, replace the
        reservation with it."""
        if usage is None:
            tokens = cost = 0
        elif isinstance(usage, Usage):
            tokens = usage.prompt_tokens + usage.completion_tokens
            cost = self.price(ctx).usage_cost_micros(usage)  # cache reads and writes at their own rates
        else:
            tokens = usage.prompt_tokens
            cost = self.price(ctx).cost_micros(usage.prompt_tokens, 0)
        ctx.cost_micros = cost
        reservation = ctx.budget
        if reservation is None:
            return
        ctx.budget = None
        try:
            used = await self._ledger.settle(reservation, tokens, cost)
        except StoreUnavailableError as e:
            log.warning(
                "budget settle failed (the reservation stays charged): %s",
                e.message,
                extra={"request_id": ctx.request_id},
            )
            return
        if used is not None and self._alerts is not None and ctx.principal is not None:
            self._check_alerts(ctx.principal, reservation, used)

    def _check_alerts(
        self, principal: Principal, reservation: Reservation, used: list[tuple[int, int]]
    ) -> None:
        """Each budget's use as the settle left it, against the alert thresholds."""
        alerts = self._alerts
        assert alerts is not None
        caps = self._policy(principal).caps
        if len(caps) != len(reservation.keys) or len(used) != len(caps):
            return
        for cap, key, (tokens, micros) in zip(caps, reservation.keys, used, strict=True):
            by_tokens = tokens / cap.max_tokens if cap.max_tokens else 0.0
            by_cost = micros / cap.max_cost_micros if cap.max_cost_micros else 0.0
            fraction = max(by_tokens, by_cost)
            if fraction < alerts.floor:
                continue
            period = "daily" if cap.period == "day" else "monthly"
            if by_cost >= by_tokens:
                what = f"{period} USD budget (${micros / 1e6:.6f} of ${(cap.max_cost_micros or 0) / 1e6:.6f})"
            else:
                what = f"{period} token budget ({tokens} of {cap.max_tokens} tokens)"
            subject = f"{cap.kind}:{cap.scope_id}"
            end = functools.partial(period_end_s, cap.period, time.time())
            alerts.check(key, cap.tenant_id, subject, key.rsplit(":", 1)[-1], end, fraction, what)

    async def meter(self, chunks: ChunkStream, ctx: RequestContext) -> AsyncGenerator[ChunkBatch, None]:
        """Relay a budgeted stream, leaving its usage in ``ctx.stream_usage`` for settle. When the
        deployment that answers costs more than the reservation assumed (a fallback), the
        upstream's own ``max_tokens`` no longer bounds the cost: then count the output as it flows
        (one token per chunk of text or tool-call arguments, or one per 4 characters when that is more)
        and end the stream with ``finish_reason: "length"`` before it would cost more than its
        reservation."""
        reservation = ctx.budget
        assert reservation is not None and isinstance(ctx.request, ChatRequest)
        input_tokens = ctx.input_tokens()
        price = self.price(ctx)
        allowed = float("inf")
        if price.output > 0:
            # Unrounded: the reservation's ceil() must not make its own output cap look unaffordable.
            affordable = math.floor((reservation.cost_micros - input_tokens * price.input) / price.output)
            if (
                affordable < reservation.tokens - input_tokens
            ):  # else the upstream's own max_tokens is the bound
                allowed = affordable
        usage: Usage | None = None
        pieces = size = 0
        try:
            if allowed == float("inf"):  # nothing to cut: only count, for a stream that ends early
                async for batch in chunks:
                    for c in batch:
                        if c.usage is not None:
                            usage = c.usage
                        for ch in c.choices:
                            grows = _output_size(ch.delta)
                            if grows:
                                pieces += 1
                                size += grows
                    yield batch
                return
            async for batch in chunks:
                out: ChunkBatch = []
                for c in batch:
                    if c.usage is not None:
                        usage = c.usage
                    grows = sum(_output_size(ch.delta) for ch in c.choices)
                    if grows:
                        if _output_tokens(pieces + 1, size + grows) > allowed:
                            usage = _estimated(input_tokens, pieces, size)
                            ctx.stream_cut = True
                            yield [*out, *_cut(c, batch, usage, ctx)]
                            return
                        pieces += 1
                        size += grows
                    out.append(c)
                if out:
                    yield out
        finally:
            ctx.stream_usage = usage or _estimated(input_tokens, pieces, size)
            await chunks.aclose()

    async def _reserve(
        self, reserve: Reserve, route: Route, once: tuple[str, str] | None
    ) -> Reservation | Refusal | None:
        """None when the ledger is unreachable and the policy is to admit."""
        price = self._prices.get(route.deployments[0], FREE)
        cost = price.worst_case_micros(reserve.input_tokens, reserve.output_tokens)
        try:
            reserved = await self._ledger.reserve(
                reserve.policy.caps, reserve.input_tokens + reserve.output_tokens, cost, once
            )
        except StoreUnavailableError as e:
            if not self._is_degraded:
                self._is_degraded = True
                action = (
                    "admitting without budgets" if self._fail_open else "refusing budgeted requests with 503"
                )
                log.error("budget ledger unavailable, %s: %s", action, e.message)
            if self._fail_open:
                return None
            raise StoreUnavailableError(
                "Budgets cannot be checked right now. Please retry shortly.", retry_after_s=1
            ) from None
        if self._is_degraded:
            self._is_degraded = False
            log.warning("budget ledger reachable again")
        return reserved

    def _policy(self, principal: Principal) -> _Policy:
        tenant_id = principal.tenant_id
        key = (tenant_id, principal.user_id, principal.limits)  # a spend rule names the user
        policy = self._policies.get(key)
        if policy is None:
            budgets = {
                Cap(tenant_id, s.kind, s.id, b.period, b.max_tokens, b.max_cost_micros): b
                for s in principal.limits
                for b in s.budgets
            }
            policy = _spend_rule(principal, budgets)
            if len(self._policies) >= _MAX_POLICIES:
                self._policies.clear()  # bounded: budgets edited many times cannot grow it forever
            self._policies[key] = policy
        return policy


def _spend_rule(principal: Principal, budgets: dict[Cap, Budget]) -> _Policy:
    """The caller's caps and budgets, with its spend rule: the user's policy over the tenant's
    (the emergency fields only ever the tenant's), and the day counters it compares."""
    caps = list(budgets)
    tenant_id = principal.tenant_id
    scopes = {s.kind: s for s in principal.limits}
    tenant, user = scopes.get("tenant"), scopes.get("user")
    tenant_spend = tenant.spend if tenant is not None else None
    user_spend = user.spend if user is not None else None
    if tenant_id is None or (tenant_spend is None and user_spend is None):
        return _Policy(tuple(caps), budgets)
    policy = user_spend.over(tenant_spend) if user_spend is not None else tenant_spend
    assert policy is not None
    t = tenant_spend or SpendPolicy()
    policy = msgspec.structs.replace(
        policy,
        emergency_at_micros=t.emergency_at_micros,
        emergency_to=t.emergency_to,
        emergency_max_input_tokens=t.emergency_max_input_tokens,
    )

    def day_cap(kind: str, scope_id: str) -> int:
        for i, c in enumerate(caps):
            if c.kind == kind and c.scope_id == scope_id and c.period == "day":
                return i
        caps.append(Cap(tenant_id, kind, scope_id, "day", None, None))  # counts, never refuses
        return len(caps) - 1

    tenant_cap = day_cap("tenant", tenant_id) if policy.emergency_at_micros is not None else None
    user_id = principal.user_id
    user_cap = None
    if user_id is not None and policy.downgrade_at_micros is not None:
        user_cap = day_cap("user", user_id)
    rule = SpendRule(
        tenant_id,
        user_id,
        tenant_cap,
        user_cap,
        policy,
        tenant.emergency_ended if tenant is not None else None,
    )
    return _Policy(tuple(caps), budgets, rule)


def _output_size(d: Delta) -> int:
    """Characters of text and tool-call arguments (a token is at least one chunk, and about four
    characters of English; a chunk of CJK text is about one token per character, which the
    one-token-per-chunk floor covers as chunks carry a token or two each)."""
    size = len(d.content) if d.content else 0
    return size + sum(
        len(t.function.arguments) for t in d.tool_calls or () if t.function and t.function.arguments
    )


def _output_tokens(pieces: int, size: int) -> int:
    return max(pieces, -(-size // 4))


def _estimated(input_tokens: int, pieces: int, size: int) -> Usage:
    output = _output_tokens(pieces, size)
    return Usage(prompt_tokens=input_tokens, completion_tokens=output, total_tokens=input_tokens + output)


def _cut(at: ChatChunk, batch: ChunkBatch, usage: Usage, ctx: RequestContext) -> ChunkBatch:
    """The chunks that end a stream cut at ``at``: ``finish_reason: "length"`` for each choice
    that was still open, and the usage when the client asked for it."""
    indexes = sorted({ch.index for c in batch for ch in c.choices} | {0})
    out = [
        msgspec.structs.replace(
            at,
            choices=[ChunkChoice(index=i, delta=Delta(), finish_reason="length") for i in indexes],
            usage=None,
        )
    ]
    if not ctx.strips_usage and isinstance(ctx.request, ChatRequest) and ctx.request.includes_usage:
        out.append(msgspec.structs.replace(at, choices=[], usage=usage))
    return out


def _exceeded(r: Refusal) -> BudgetExceededError:
    period = "daily" if r.cap.period == "day" else "monthly"
    limit = r.cap.max_tokens if r.metric == "tokens" else r.cap.max_cost_micros
    amount = f"{limit} tokens" if r.metric == "tokens" else f"${(limit or 0) / 1_000_000:.6f}"
    return BudgetExceededError(
        f"This {r.cap.kind} has used its {period} {'token' if r.metric == 'tokens' else 'USD'} budget ({amount}) "
        f"or this request's worst case does not fit in what is left. It resets at the start of the next UTC "
        f"{r.cap.period}; a smaller max_tokens may fit now.",
        code="budget_exceeded",
    )


def deployment_prices(settings: Settings, routes: Mapping[str, Route]) -> dict[Deployment, Price]:
    """Every deployment's price from ``settings.pricing``, resolved once at startup."""
    prices = {}
    for alias, m in settings.models.items():
        if m.auto is not None:
            continue  # no deployments of its own
        for d, deployment in zip(m.deployments, routes[alias].deployments, strict=True):
            is_sim = settings.providers[d.provider].type == "sim"
            prices[deployment] = price_for(settings.pricing, d.model, alias, is_sim=is_sim)
    return prices
