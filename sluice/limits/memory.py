"""In-process rate-limit counters for the embedded backend: the same windows as Redis's, kept
in dicts. Each process counts alone (several workers on one host each enforce the whole limit)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from sluice.limits.counters import (
    BUCKET_MS,
    CONCURRENCY_RETRY_MS,
    SPAN_BUCKETS,
    Check,
    Decision,
    Outcome,
    Plan,
    Ticket,
    decide,
    expires_ms,
)


class _Window:
    """One counter's buckets (number -> requests or tokens), oldest first, and their total."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.total = 0

    def expire(self, oldest: int) -> None:
        """Drop the buckets before ``oldest``; they are at the front, as the clock only advances."""
        buckets = self.buckets
        while buckets:
            b = next(iter(buckets))
            if b >= oldest:
                return
            self.total -= buckets.pop(b)

    def wait_ms(self, need: int, now_ms: int) -> int:
        """How long until the oldest buckets have freed ``need`` (0 < need <= the total)."""
        freed = itertools.accumulate(self.buckets.values())
        return expires_ms(next(b for b, f in zip(self.buckets, freed, strict=True) if f >= need)) - now_ms


class MemoryCounterStore:
    """A ``CounterStore`` in this process. Nothing here awaits, so each call is atomic on the
    event loop. ``clock`` gives seconds and must not go backwards (monotonic by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._inflight: dict[str, set[str]] = {}
        self._leases = itertools.count()
        self._sweep_at = 0

    async def admit(self, plan: Plan, cost_tokens: int) -> Decision:
        now_ms = int(self._clock() * 1000)
        bucket = now_ms // BUCKET_MS
        if bucket >= self._sweep_at:
            self._sweep(bucket)
        outcomes = [self._check(c, cost_tokens, now_ms, bucket) for c in plan.checks]
        lease = str(next(self._leases))
        if all(o.retry_ms == 0 for o in outcomes):
            outcomes = [self._record(c, o, cost_tokens, now_ms, bucket, lease) for c, o in zip(plan.checks, outcomes, strict=True)]
        return decide(plan, outcomes, cost_tokens, bucket, lease)

    async def settle(self, ticket: Ticket, actual_tokens: int | None) -> None:
        for key in ticket.inflight_keys:
            leases = self._inflight.get(key)
            if leases is not None:
                leases.discard(ticket.lease)
                if not leases:
                    del self._inflight[key]
        if actual_tokens is None or actual_tokens == ticket.cost_tokens:
            return
        delta = actual_tokens - ticket.cost_tokens
        for key in ticket.tpm_keys:
            window = self._windows.get(key)
            if window is not None and ticket.bucket in window.buckets:
                window.buckets[ticket.bucket] += delta
                window.total += delta

    async def close(self) -> None:
        """Nothing to release: the counters live and die with the process."""

    def _check(self, c: Check, cost_tokens: int, now_ms: int, bucket: int) -> Outcome:
        if c.metric == "inflight":
            used = len(self._inflight.get(c.key, ()))
            return Outcome(used, 0, CONCURRENCY_RETRY_MS if used + 1 > c.limit else 0)
        want = 1 if c.metric == "rpm" else cost_tokens
        window = self._windows.get(c.key)
        if window is not None:
            window.expire(bucket - SPAN_BUCKETS)
        if window is None or not window.buckets:
            return Outcome(0, 0, 0 if want <= c.limit else -1)
        used = window.total
        reset_ms = expires_ms(next(reversed(window.buckets))) - now_ms
        if used + want <= c.limit:
            return Outcome(used, reset_ms, 0)
        if want > c.limit:
            return Outcome(used, reset_ms, -1)
        return Outcome(used, reset_ms, window.wait_ms(used + want - c.limit, now_ms))

    def _record(self, c: Check, o: Outcome, cost_tokens: int, now_ms: int, bucket: int, lease: str) -> Outcome:
        if c.metric == "inflight":
            self._inflight.setdefault(c.key, set()).add(lease)
            return Outcome(o.used + 1, 0, 0)
        want = 1 if c.metric == "rpm" else cost_tokens
        window = self._windows.get(c.key)
        if window is None:
            window = self._windows[c.key] = _Window()
        window.buckets[bucket] = window.buckets.get(bucket, 0) + want
        window.total += want
        return Outcome(o.used + want, expires_ms(bucket) - now_ms, 0)

    def _sweep(self, bucket: int) -> None:
        """Once a minute, forget the windows nothing has touched for a minute."""
        oldest = bucket - SPAN_BUCKETS
        for key in [k for k, w in self._windows.items() if not w.buckets or next(reversed(w.buckets)) < oldest]:
            del self._windows[key]
        self._sweep_at = bucket + SPAN_BUCKETS
