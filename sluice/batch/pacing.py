"""How fast batch lines may start while interactive traffic flows in the same process.

A batch line costs the event loop about as much CPU as an interactive request (its pipeline, its
store writes), and the loop cannot preempt: a line's work that lands beside an interactive
request's delays it, which is what raises the interactive tail. So while interactive requests
keep arriving (one started within ``quiet_s``), lines start at most ``rate`` a second, one at a
time, which bounds the batch's share of the loop whatever its concurrency; once no interactive
request has started for ``quiet_s``, lines start as fast as the concurrency allows. The first
line after a pause starts at once, so a lone background job is never held back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Pacer:
    def __init__(self, rate: float, quiet_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        """``rate``: lines a second while busy (0: no pacing); ``quiet_s``: how long after the last
        interactive request started the process counts as busy."""
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._quiet_s = quiet_s
        self._clock = clock
        self._seen = 0
        self._busy_until = -math.inf
        self._next = self._last = -math.inf

    def grant(self, started: int, want: int) -> int:
        """How many of ``want`` lines may start now, given ``started``, the count of interactive
        requests this process has started so far; those granted are counted as started."""
        now = self._clock()
        if started != self._seen:
            self._seen = started
            self._busy_until = now + self._quiet_s
        if want <= 0 or not self._interval or now >= self._busy_until:
            self._last = self._next  # nothing for ``unused`` to give back
            return want
        if now < self._next:
            return 0
        self._last, self._next = self._next, now + self._interval
        return 1

    def unused(self) -> None:
        """The line last granted did not start (there was none to run): it does not count."""
        self._next = self._last

    def wait_s(self) -> float:
        """Seconds until ``grant`` may allow a line again (0: now)."""
        return max(0.0, self._next - self._clock())
