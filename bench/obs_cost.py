"""What each observability sink costs per request, in process: the Observer finishing N requests
(the record built, then metrics, the JSON request line to /dev/null, the request log through its
writer into SQLite), CPU time of the whole process, its writer thread included. Less noisy than
the gateway bench (bench/run-observability.sh), whose per-cell CPU varies by ±15% here.

    .venv/bin/python bench/obs_cost.py [-n 30000] [--rounds 3]

Prints µs of CPU per request for: nothing on (building the request's context only), each sink
alone, and all three, the best of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from typing import BinaryIO

import msgspec

from sluice.api.observability import build_observer
from sluice.auth.principal import Principal
from sluice.pipeline.context import RequestContext
from sluice.pipeline.observe import Exchange
from sluice.routing.router import Attempt, Router
from sluice.settings import Settings
from sluice.store.sqlite.store import SqliteStore
from sluice.types import ChatRequest, Usage

SINKS = {"none": "", "metrics": "m", "request line": "a", "request log": "r", "all three": "mar"}


async def once(which: str, n: int, devnull: BinaryIO) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(os.path.join(tmp, "log.db"))
        await store.migrate()
        settings = Settings(
            metrics={"enabled": "m" in which},
            logging={"level": "info", "format": "json", "requests": "a" in which},
            request_log={"enabled": "r" in which},
        )
        obs = build_observer(settings, store, Router({}))
        if obs.access is not None:
            obs.access._out = devnull
        obs.start()
        request = msgspec.convert(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}, ChatRequest
        )
        principal = Principal("sk-live-ab...", tenant_id="acme", user_id="usr_1", key_id="key_1")
        usage = Usage(prompt_tokens=812, completion_tokens=164, total_tokens=976)
        cpu = time.process_time()
        for i in range(n):
            ex = Exchange(f"req_{i:024d}", "chat")
            ctx = ex.ctx = RequestContext(ex.request_id, "sk", request, started=ex.started)
            ctx.principal, ctx.usage, ctx.cost_micros, ctx.cache_status = principal, usage, 2_220, "miss"
            ctx.attempts.append(Attempt("gpt-4o-mini", "openai/gpt-4o-mini", None, 0.0004))
            obs.observer.begin(ex)
            await obs.observer.finish(ex, 200, None)
            if i % 10 == 9:
                await asyncio.sleep(0)  # let the writer and timers run, as between requests
        await obs.close()
        spent = time.process_time() - cpu
        await store.close()
        return spent / n * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=30_000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with open(os.devnull, "wb") as devnull:
        best = {
            name: min(asyncio.run(once(which, args.n, devnull)) for _ in range(args.rounds))
            for name, which in SINKS.items()
        }
    base = best["none"]
    print(f"{'sinks':<14} {'µs CPU/request':>15} {'added':>8}")
    for name, us in best.items():
        print(f"{name:<14} {us:>15.1f} {us - base:>8.1f}")


if __name__ == "__main__":
    main()
