"""Admission, half of the quota stage (``quota.py``). Per-request caps (``max_tokens`` clamped
or set, ``max_input_tokens``), then RPM, TPM and in-flight counts per tenant, user and key;
``settle`` releases the in-flight slots and corrects TPM with the actual usage, exactly once per
admitted request.

``prepare`` does the work that needs no counter; ``commit`` is the one counter call, which the
quota stage sends together with the budget reservation (one round trip to Redis for both)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import msgspec

from sluice.auth.principal import Principal, ScopedLimits
from sluice.errors import InvalidRequestError, RateLimitError, StoreUnavailableError
from sluice.limits.counters import CounterStore, Plan, Quota, Refusal, Scope, duration_text, plan
from sluice.pipeline.context import RequestContext, ask_stream_usage
from sluice.types import ChatRequest

log = logging.getLogger("sluice.limits")

_MAX_POLICIES = 10_000


class RateLimitExceededError(RateLimitError):
    """A 429 from the gateway's own limits; ``quota`` feeds the ``x-ratelimit-*`` headers."""

    def __init__(self, refusal: Refusal, quota: Quota) -> None:
        retry_s = None if refusal.retry_after_s is None else math.ceil(refusal.retry_after_s)
        super().__init__(_message(refusal, retry_s), retry_after_s=retry_s)
        self.type = "tokens" if refusal.metric == "tpm" else "requests"
        self.quota = quota


@dataclass(frozen=True, slots=True)
class Admit:
    """What ``commit`` records: the caller's counter checks and the request's estimated tokens."""

    plan: Plan
    cost: int


@dataclass(frozen=True, slots=True)
class _Policy:
    """One caller's limits, resolved once: the tightest caps and the counter checks."""

    max_tokens: int | None
    max_input: tuple[int, str] | None
    """The tightest input cap and the kind of scope that sets it."""
    plan: Plan | None
    is_tpm_limited: bool


class Admission:
    """Does nothing for a principal without limits. When the counters cannot be reached it
    admits (``fail_open``) or answers 503; either way it logs once per outage, not per request."""

    def __init__(self, counters: CounterStore, *, fail_open: bool) -> None:
        self._counters = counters
        self._fail_open = fail_open
        self._is_degraded = False
        self._policies: dict[tuple[str | None, tuple[ScopedLimits, ...]], _Policy] = {}

    def prepare(self, ctx: RequestContext) -> Admit | None:
        """Apply the caps and count the input; what to admit, or None when no counter applies."""
        principal = ctx.principal
        if principal is None or not principal.limits:
            return None
        policy = self._policy(principal)
        request = ctx.request
        if isinstance(request, ChatRequest):
            if policy.max_tokens is not None:
                request = ctx.request = _clamp_output(request, policy.max_tokens)
            cost = ctx.input_tokens()
            _check_input(cost, policy, "messages")
            cost += (request.output_token_limit or 0) * (request.n or 1)
        else:
            cost = ctx.input_tokens()
            _check_input(cost, policy, "input")
        if policy.plan is None:
            return None
        if isinstance(request, ChatRequest) and request.stream and policy.is_tpm_limited:
            ask_stream_usage(ctx)  # TPM is corrected with the stream's usage
        return Admit(policy.plan, cost)

    async def commit(self, ctx: RequestContext, admit: Admit) -> None:
        """Record the admission (``ctx.admission``) or raise the 429 (or 503 when the counters
        are unreachable and the policy is to refuse)."""
        try:
            decision = await self._counters.admit(admit.plan, admit.cost)
        except StoreUnavailableError as e:
            self._degraded(e)
            if self._fail_open:
                return
            raise StoreUnavailableError(
                "Rate limits cannot be checked right now. Please retry shortly.", retry_after_s=1
            ) from None
        if self._is_degraded:
            self._is_degraded = False
            log.warning("rate-limit counters reachable again")
        if decision.refusal is not None:
            raise RateLimitExceededError(decision.refusal, decision.quota)
        ctx.quota = decision.quota
        ctx.admission = decision.ticket

    async def settle(self, ctx: RequestContext, actual_tokens: int | None) -> None:
        """Release what admission recorded, once; ``actual_tokens`` None keeps the estimate."""
        ticket = ctx.admission
        if ticket is None:
            return
        ctx.admission = None
        try:
            await self._counters.settle(ticket, actual_tokens)
        except StoreUnavailableError as e:
            log.warning(
                "rate-limit settle failed (in-flight slots free when their lease ends): %s",
                e.message,
                extra={"request_id": ctx.request_id},
            )

    def _policy(self, principal: Principal) -> _Policy:
        key = (principal.tenant_id, principal.limits)
        policy = self._policies.get(key)
        if policy is None:
            policy = _resolve(principal)
            if len(self._policies) >= _MAX_POLICIES:
                self._policies.clear()  # bounded: limits edited many times cannot grow it forever
            self._policies[key] = policy
        return policy

    def _degraded(self, e: StoreUnavailableError) -> None:
        if not self._is_degraded:
            self._is_degraded = True
            policy = (
                "admitting without rate limits"
                if self._fail_open
                else "refusing rate-limited requests with 503"
            )
            log.error("rate-limit counters unavailable, %s: %s", policy, e.message)


def _resolve(principal: Principal) -> _Policy:
    scoped = principal.limits
    max_tokens = min((s.limits.max_tokens for s in scoped if s.limits.max_tokens is not None), default=None)
    max_input = min(
        ((s.limits.max_input_tokens, s.kind) for s in scoped if s.limits.max_input_tokens is not None),
        default=None,
    )
    scopes = [
        Scope(principal.tenant_id, s.kind, s.id, s.limits.rpm, s.limits.tpm, s.limits.max_concurrent)
        for s in scoped
        if s.limits.rpm is not None or s.limits.tpm is not None or s.limits.max_concurrent is not None
    ]
    return _Policy(
        max_tokens, max_input, plan(scopes) if scopes else None, any(s.tpm is not None for s in scopes)
    )


def _clamp_output(request: ChatRequest, cap: int) -> ChatRequest:
    """Cap the output at ``cap``; set ``max_tokens`` when the client set no cap (the field
    every OpenAI-compatible server accepts)."""
    mt, mct = request.max_tokens, request.max_completion_tokens
    if mt is None and mct is None:
        return msgspec.structs.replace(request, max_tokens=cap)
    if (mt is None or mt <= cap) and (mct is None or mct <= cap):
        return request
    return msgspec.structs.replace(
        request,
        max_tokens=None if mt is None else min(mt, cap),
        max_completion_tokens=None if mct is None else min(mct, cap),
    )


def _check_input(tokens: int, policy: _Policy, param: str) -> None:
    if policy.max_input is not None and tokens > policy.max_input[0]:
        cap, kind = policy.max_input
        raise InvalidRequestError(
            f"This {kind}'s maximum input is {cap} tokens. However, your {param} resulted in about "
            f"{tokens} tokens. Please reduce the length of the {param}.",
            param=param,
            code="context_length_exceeded",
        )


def _message(r: Refusal, retry_s: int | None) -> str:
    who = f"this {r.scope.kind}"
    if r.metric == "inflight":
        return f"Too many concurrent requests for {who}: Limit {r.limit} in flight. Please try again when one has finished."
    per_min = "requests per min (RPM)" if r.metric == "rpm" else "tokens per min (TPM)"
    if retry_s is None:
        return (
            f"Request too large for {who} on {per_min}: Limit {r.limit}, Requested {r.requested}. "
            "The input or output tokens must be reduced in order to run successfully."
        )
    return (
        f"Rate limit reached for {who} on {per_min}: Limit {r.limit}, Used {r.used}, Requested {r.requested}. "
        f"Please try again in {duration_text(retry_s)}."
    )
