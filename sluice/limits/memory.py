"""In-process rate-limit counters for the embedded backend: the same windows as Redis's, kept
in dicts. Each process counts alone (several workers on one host each enforce the whole limit)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection

from sluice.limits.counters import (
    BUCKET_MS,
    CONCURRENCY_RETRY_MS,
    SPAN_BUCKETS,
    Check,
    Decision,
    Outcome,
    Plan,
    Quota,
    Ticket,
    Window,
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
        """One pass checks each counter and records it at once; the first refusing check undoes
        what the pass recorded and the refusal is worked out on the untouched counters (rare, so
        the common path builds nothing per check). An admission's windows all reset together:
        this request's bucket is the newest in each."""
        now_ms = int(self._clock() * 1000)
        bucket = now_ms // BUCKET_MS
        if bucket >= self._sweep_at:
            self._sweep(bucket)
        lease = str(next(self._leases))
        oldest = bucket - SPAN_BUCKETS
        windows = self._windows
        inflight = self._inflight
        requests: tuple[int, int] | None = None  # (remaining, limit) of the scope with the least left
        tokens: tuple[int, int] | None = None
        fresh: list[str] | None = None  # keys whose bucket ``bucket`` this pass created
        done = 0
        for c in plan.checks:
            metric = c.metric
            if metric == "inflight":
                leases = inflight.get(c.key)
                if leases is None:
                    if c.limit < 1:
                        break
                    inflight[c.key] = {lease}
                elif len(leases) >= c.limit:
                    break
                else:
                    leases.add(lease)
            else:
                want = 1 if metric == "rpm" else cost_tokens
                window = windows.get(c.key)
                if window is None:
                    used = 0
                else:
                    buckets = window.buckets
                    if buckets and next(iter(buckets)) < oldest:
                        window.expire(oldest)
                    used = window.total
                left = c.limit - used - want
                if left < 0:
                    break
                if window is None:
                    window = windows[c.key] = _Window()
                    buckets = window.buckets
                n = buckets.get(bucket)
                if n is None:
                    buckets[bucket] = want
                    if fresh is None:
                        fresh = [c.key]
                    else:
                        fresh.append(c.key)
                else:
                    buckets[bucket] = n + want
                window.total += want
                if metric == "rpm":
                    if requests is None or left < requests[0]:
                        requests = (left, c.limit)
                elif tokens is None or left < tokens[0]:
                    tokens = (left, c.limit)
            done += 1
        else:
            reset_s = (expires_ms(bucket) - now_ms) / 1000
            quota = Quota(
                None if requests is None else Window(requests[1], requests[0], reset_s),
                None if tokens is None else Window(tokens[1], tokens[0], reset_s),
            )
            return Decision(
                quota, ticket=Ticket(plan.tpm_keys, plan.inflight_keys, bucket, cost_tokens, lease)
            )
        self._undo(plan.checks[:done], cost_tokens, bucket, lease, fresh or ())
        outcomes = [self._check(c, cost_tokens, now_ms, bucket) for c in plan.checks]
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

    def _undo(
        self, checks: tuple[Check, ...], cost_tokens: int, bucket: int, lease: str, fresh: Collection[str]
    ) -> None:
        """Take back what ``admit`` recorded for ``checks`` (``fresh``: the keys whose bucket it created)."""
        for c in checks:
            if c.metric == "inflight":
                leases = self._inflight.get(c.key)
                if leases is not None:
                    leases.discard(lease)
                    if not leases:
                        del self._inflight[c.key]
                continue
            want = 1 if c.metric == "rpm" else cost_tokens
            window = self._windows.get(c.key)
            if window is None:  # a key the plan names twice, already taken back
                continue
            window.total -= want
            if c.key in fresh:
                window.buckets.pop(bucket, None)
                if not window.buckets:
                    del self._windows[c.key]
            else:
                window.buckets[bucket] -= want

    def _sweep(self, bucket: int) -> None:
        """Once a minute, forget the windows nothing has touched for a minute."""
        oldest = bucket - SPAN_BUCKETS
        for key in [
            k for k, w in self._windows.items() if not w.buckets or next(reversed(w.buckets)) < oldest
        ]:
            del self._windows[key]
        self._sweep_at = bucket + SPAN_BUCKETS
