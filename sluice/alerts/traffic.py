"""What the rate alerts read of this process's traffic: requests, 5xx answers and requests slower
than the latency threshold, in 10-second buckets over the last hour at most. ``observe`` is the
only thing on the request path (a few integer increments, from the observer at a request's end).

The p95 latency is above T exactly when more than 5% of the requests took longer than T, so
counting the slow ones is enough: no histogram, no sample kept."""

from __future__ import annotations

import time
from collections.abc import Callable

BUCKET_S = 10
_SPAN = 360  # an hour of buckets


class Traffic:
    __slots__ = ("_clock", "_counts", "_slow_s", "_stamps")

    def __init__(self, slow_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._slow_s = slow_s
        self._clock = clock
        self._stamps = [-1] * _SPAN
        """The bucket number each slot holds now (a slot is reused an hour later)."""
        self._counts = [[0, 0, 0] for _ in range(_SPAN)]
        """Per slot: requests, 5xx, slower than ``slow_s``."""

    def observe(self, status: int, latency_s: float) -> None:
        n = int(self._clock() // BUCKET_S)
        i = n % _SPAN
        c = self._counts[i]
        if self._stamps[i] != n:
            self._stamps[i] = n
            c[0] = c[1] = c[2] = 0
        c[0] += 1
        if status >= 500:
            c[1] += 1
        if latency_s > self._slow_s:
            c[2] += 1

    def window(self, seconds: float) -> tuple[int, int, int]:
        """Requests, 5xx and slow requests in the last ``seconds`` (whole buckets, the current one included)."""
        now = int(self._clock() // BUCKET_S)
        first = now - max(1, int(seconds // BUCKET_S)) + 1
        requests = errors = slow = 0
        for n in range(first, now + 1):
            i = n % _SPAN
            if self._stamps[i] == n:
                c = self._counts[i]
                requests += c[0]
                errors += c[1]
                slow += c[2]
        return requests, errors, slow
