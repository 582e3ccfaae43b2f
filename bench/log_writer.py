"""Can the request-log writer keep up with the gateway's peak? Offers records to a real
RequestLogWriter at a fixed rate (default 8,000/s, about twice the busiest gateway cell in
docs/benchmarks.md) for a few seconds, sampling its queue, then as fast as they can be made.

    .venv/bin/python bench/log_writer.py [--rate 8000] [--seconds 10] [--postgres DSN]

Prints, per backend: records offered and stored, the deepest the queue got, and the writer's
throughput and CPU per record (the whole process's CPU over the run, records included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

from sluice.obs.record import RequestRecord
from sluice.store.log_writer import RequestLogWriter
from sluice.store.protocols import Store


def record(n: int) -> RequestRecord:
    return RequestRecord(
        f"req_{n:012d}",
        int(time.time() * 1000),
        "chat",
        200,
        12.5,
        tenant_id="acme",
        user_id="u1",
        key_id="key_1",
        key_prefix="sk-live-ab...",
        model="gpt-4o-mini",
        deployment="openai/gpt-4o-mini",
        stream=n % 2 == 0,
        ttft_ms=3.1,
        upstream_ms=11.9,
        overhead_ms=0.6,
        input_tokens=812,
        output_tokens=164,
        cost_micros=220,
        cache="miss",
        attempts=1,
    )


async def offered(store: Store, rate: int, seconds: float) -> dict[str, float]:
    depth = 0
    w = RequestLogWriter(store, queue_max=100_000, when_full="drop", batch_max=1000, flush_s=0.2)
    w.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    n = 0
    tick = 0.01
    while (elapsed := time.perf_counter() - t0) < seconds:
        due = int(elapsed * rate)
        while n < due:
            await w.put(record(n))
            n += 1
        depth = max(depth, len(w))
        await asyncio.sleep(tick)
    backlog = len(w)
    await w.close()
    cpu = time.process_time() - cpu0
    return {
        "offered": n,
        "max_queue": depth,
        "queue_at_end": backlog,
        "dropped": w.dropped,
        "cpu_us_per_record": cpu / n * 1e6,
    }


async def flat_out(store: Store, n: int) -> dict[str, float]:
    w = RequestLogWriter(store, queue_max=n + 1, when_full="drop", batch_max=1000, flush_s=0.2)
    w.start()
    t0 = time.perf_counter()
    for i in range(n):
        await w.put(record(i))
        if i % 1000 == 999:
            await asyncio.sleep(0)
    await w.close()
    return {"records": n, "records_per_s": n / (time.perf_counter() - t0)}


async def run(name: str, store: Store, args: argparse.Namespace) -> None:
    await store.migrate()
    a = await offered(store, args.rate, args.seconds)
    b = await flat_out(store, 50_000)
    await store.close()
    print(
        f"{name:<9} offered {a['offered']:>7,} at {args.rate:,}/s: max queue {a['max_queue']:>6,.0f}, "
        f"at end {a['queue_at_end']:>5,.0f}, dropped {a['dropped']:.0f}, {a['cpu_us_per_record']:.1f} µs CPU/record | "
        f"flat out: {b['records_per_s']:>8,.0f} records/s"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=int, default=8000)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--postgres", help="a PostgreSQL DSN (its schema gets the request_log table)")
    args = p.parse_args()
    from sluice.store.sqlite.store import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run("sqlite", SqliteStore(os.path.join(tmp, "log.db")), args))
    if args.postgres:
        from sluice.store.postgres.store import PostgresStore

        asyncio.run(run("postgres", PostgresStore(args.postgres), args))


if __name__ == "__main__":
    main()
