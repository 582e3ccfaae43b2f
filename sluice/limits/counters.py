"""The ``CounterStore`` protocol, what admission and settle exchange with it, and the one function
that names every rate-limit key: ``sluice:rl:<tenant or '-'>:<kind>:<id>:<rpm|tpm|inflight>``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Metric = Literal["rpm", "tpm", "inflight"]

BUCKET_MS = 1000
SPAN_BUCKETS = 60
"""RPM and TPM count in one-second buckets over a sliding minute: an admission recorded in
bucket ``b`` counts until bucket ``b + SPAN_BUCKETS + 1`` begins, so for at least 60 s and at
most 61 s. No 60-second interval ever holds more than the limit."""
CONCURRENCY_RETRY_MS = 1000
"""Retry-After for a refused in-flight slot: nobody knows when a running request ends."""


def counter_key(tenant_id: str | None, kind: str, scope_id: str, metric: Metric) -> str:
    """Every rate-limit key, here and nowhere else (static config keys have no tenant: '-')."""
    return f"sluice:rl:{tenant_id or '-'}:{kind}:{scope_id}:{metric}"


def expires_ms(bucket: int) -> int:
    """When what bucket ``bucket`` holds stops counting (Unix milliseconds)."""
    return (bucket + SPAN_BUCKETS + 1) * BUCKET_MS


@dataclass(frozen=True, slots=True)
class Scope:
    """One scope's rate limits (a tenant, a user or a key), as the counter store needs them."""

    tenant_id: str | None
    kind: str
    id: str
    rpm: int | None = None
    tpm: int | None = None
    max_concurrent: int | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One counter to check and, when every check passes, to record."""

    key: str
    metric: Metric
    limit: int
    scope: Scope


@dataclass(frozen=True, slots=True)
class Outcome:
    """A check's result. ``used`` includes this request when it was admitted; ``retry_ms`` is 0
    when the check passes, -1 when the request alone exceeds the limit (waiting cannot help)."""

    used: int
    reset_ms: int
    retry_ms: int


@dataclass(frozen=True, slots=True)
class Plan:
    """The checks for one caller's scopes (each limit each scope sets, broadest scope first)
    and the keys settle touches. Built once per distinct set of limits, not per request."""

    checks: tuple[Check, ...]
    tpm_keys: tuple[str, ...]
    inflight_keys: tuple[str, ...]


def plan(scopes: Sequence[Scope]) -> Plan:
    checks = []
    for s in scopes:
        limits: tuple[tuple[Metric, int | None], ...] = (
            ("rpm", s.rpm),
            ("tpm", s.tpm),
            ("inflight", s.max_concurrent),
        )
        for metric, limit in limits:
            if limit is not None:
                checks.append(Check(counter_key(s.tenant_id, s.kind, s.id, metric), metric, limit, s))
    return Plan(
        tuple(checks),
        tuple(c.key for c in checks if c.metric == "tpm"),
        tuple(c.key for c in checks if c.metric == "inflight"),
    )


@dataclass(frozen=True, slots=True)
class Window:
    """One line of OpenAI's ``x-ratelimit-*`` headers: limit, remaining, and ``reset_s``, the
    time until the usage the window holds now has all left it (OpenAI: "resets to its initial state")."""

    limit: int
    remaining: int
    reset_s: float


@dataclass(frozen=True, slots=True)
class Quota:
    """For requests and for tokens, the scope with the least remaining (None: no such limit)."""

    requests: Window | None
    tokens: Window | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """The check that refused (the longest wait among those that did)."""

    scope: Scope
    metric: Metric
    limit: int
    used: int
    requested: int
    retry_after_s: float | None
    """None when the request alone exceeds the limit: retrying cannot help."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """What settle releases and corrects: the counters one admission recorded."""

    tpm_keys: tuple[str, ...]
    inflight_keys: tuple[str, ...]
    bucket: int
    cost_tokens: int
    lease: str


@dataclass(frozen=True, slots=True)
class Decision:
    quota: Quota
    ticket: Ticket | None = None
    """Set when admitted: settle it exactly once."""
    refusal: Refusal | None = None
    """Set when refused; nothing was recorded."""


def decide(p: Plan, outcomes: Sequence[Outcome], cost_tokens: int, bucket: int, lease: str) -> Decision:
    """The decision both stores return for their checks' outcomes (one outcome per check)."""
    requests: Window | None = None
    tokens: Window | None = None
    worst: tuple[Check, Outcome] | None = None
    for c, o in zip(p.checks, outcomes, strict=True):
        if c.metric != "inflight":
            w = Window(c.limit, max(0, c.limit - o.used), o.reset_ms / 1000)
            if c.metric == "rpm" and (requests is None or w.remaining < requests.remaining):
                requests = w
            elif c.metric == "tpm" and (tokens is None or w.remaining < tokens.remaining):
                tokens = w
        if o.retry_ms != 0 and (worst is None or _waits_longer(o.retry_ms, worst[1].retry_ms)):
            worst = (c, o)
    quota = Quota(requests, tokens)
    if worst is None:
        return Decision(quota, ticket=Ticket(p.tpm_keys, p.inflight_keys, bucket, cost_tokens, lease))
    c, o = worst
    requested = cost_tokens if c.metric == "tpm" else 1
    retry_s = None if o.retry_ms < 0 else o.retry_ms / 1000
    return Decision(quota, refusal=Refusal(c.scope, c.metric, c.limit, o.used, requested, retry_s))


def duration_text(seconds: float) -> str:
    """A duration as Go prints it, like OpenAI's headers and messages: "0s", "20ms", "8.64s", "6m0s"."""
    ms = round(seconds * 1000)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


def _waits_longer(a_ms: int, b_ms: int) -> bool:
    """-1 (never) waits longest."""
    return b_ms >= 0 and (a_ms < 0 or a_ms > b_ms)


class CounterStore(Protocol):
    """Rate-limit counters: in-process (``MemoryCounterStore``) or on Redis (``RedisCounterStore``).

    Both raise ``StoreUnavailableError`` when the counters cannot be reached in time.
    """

    async def admit(self, plan: Plan, cost_tokens: int) -> Decision:
        """Make every check of the plan (RPM, TPM, in-flight of each scope); only if all pass,
        record them all (one request, ``cost_tokens`` tokens, one in-flight slot), atomically."""
        ...

    async def settle(self, ticket: Ticket, actual_tokens: int | None) -> None:
        """Release the ticket's in-flight slots and move its TPM from the estimate to
        ``actual_tokens`` (None: the estimate stands)."""
        ...

    async def close(self) -> None: ...
