"""How fast the in-process rate limits are on the hot path: microseconds per request for one
``MemoryCounterStore.admit``, the six ``x-ratelimit-*`` headers from its quota, and the ``settle``
(TPM corrected to the actual usage, in-flight released), for a key with tenant, user and key
limits (RPM, TPM and in-flight on each: nine checks). The clock advances 1 ms per request, so the
windows roll over and the reset text changes as in a live gateway; limits are far from refusing.
Each figure is the best of several rounds.

    .venv/bin/python bench/limits_speed.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.api.context import rate_limit_headers
from sluice.limits.counters import Scope, plan
from sluice.limits.memory import MemoryCounterStore

ROUNDS = 7
REQUESTS = 20_000


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


def _plan():
    return plan(
        [
            Scope("t1", "tenant", "t1", rpm=10_000_000, tpm=10_000_000_000, max_concurrent=1000),
            Scope("t1", "user", "u1", rpm=5_000_000, tpm=5_000_000_000, max_concurrent=500),
            Scope("t1", "key", "k1", rpm=1_000_000, tpm=1_000_000_000, max_concurrent=100),
        ]
    )


async def _round(store: MemoryCounterStore, p, n: int, headers: bool) -> float:
    start = time.perf_counter()
    for i in range(n):
        decision = await store.admit(p, 700)
        if headers:
            rate_limit_headers(decision.quota)
        await store.settle(decision.ticket, 650 + (i & 63))
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    p = _plan()
    for label, headers in (("admit + headers + settle", True), ("admit + settle (no headers)", False)):
        best = min([await _round(MemoryCounterStore(_Clock()), p, REQUESTS, headers) for _ in range(ROUNDS)])
        print(f"{label:32s} {best:7.2f} µs/request  (9 checks: tenant, user, key x RPM, TPM, in-flight)")
    store = MemoryCounterStore(_Clock())
    quota = (await store.admit(p, 700)).quota
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(REQUESTS):
            rate_limit_headers(quota)
        rounds.append((time.perf_counter() - start) / REQUESTS * 1e6)
    print(f"{'headers alone (one quota)':32s} {min(rounds):7.2f} µs/request")


if __name__ == "__main__":
    asyncio.run(main())
