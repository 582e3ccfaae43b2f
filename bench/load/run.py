# ruff: noqa: TID251 (a driver script outside the gateway: stdlib json and blocking waits are fine)
"""The load test's runner (issue 19): the sim with realistic latency, a gateway with every feature
on, tenants and keys made through the admin API, locust headless, then the pass criteria.

    .venv/bin/python bench/load/run.py --users 100 --duration 300 --out bench/results/load

1. ``sluice sim`` on loopback: time to first token 300 ms, then one word every 20 ms (50
   tokens/s); a JSON answer after 700 ms (300 ms + about 20 tokens at 50/s); embeddings 40 ms.
2. ``sluice serve`` (``--workers N``) on loopback with the production-like config below: the
   request log in SQLite, Prometheus metrics, the exact and the semantic cache (the local
   all-MiniLM-L6-v2 embedder), input guardrails (injection flagged, PII redacted) and output PII
   redaction, priced models.
3. Through ``/admin``: ``--tenants`` tenants, each with RPM/TPM/concurrency limits, a day and a
   month budget (tokens and USD) and one key with limits of its own, all far above what the run
   sends (the run has no over-limit traffic: every 429 is an error).
4. ``locust`` headless with ``bench/load/locustfile.py`` (the mix is described there).
5. The gateway stopped with SIGTERM (it drains and flushes the request log), then the checks:

   - errors: every request answered 2xx with a well-formed body or a complete stream;
   - overhead: the p95 of the gateway's own ``x-sluice-overhead-ms`` on every answer under 5 ms
     (for a stream that header is sent with the first chunk: the gateway's time up to then);
   - request log: as many rows as requests sent (locust's plus the warm-up's), none dropped.

The report (JSON) and a plot of latency over time (PNG) go to ``--out``; the table is printed.
Exit status 1 when a criterion fails. ``--overhead-report-only`` leaves the overhead out of the
verdict (the test suite's short run: no timed assertions there).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ADMIN = "sk-load-admin"
OVERHEAD_P95_MS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, key: str | None = None, timeout: float = 30) -> Any:
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
    return json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout_s}s")


def stop(proc: subprocess.Popen[bytes], grace_s: float = 40) -> int | None:
    """SIGTERM to this PID (the gateway drains and flushes), then SIGKILL after ``grace_s``."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
    return proc.returncode


def gateway_config(sim_url: str, port: int, db: Path, semantic: str) -> dict[str, Any]:
    def deployment(model: str, **sim: object) -> dict[str, Any]:
        headers = {f"x-sim-{k.replace('_', '-')}": str(v) for k, v in sim.items()}
        return {"provider": "sim", "model": model, "headers": headers}

    return {
        "server": {"host": "127.0.0.1", "port": port, "graceful_shutdown_s": 30},
        "admin": {"keys": [{"key": ADMIN, "name": "load"}]},
        "providers": {"sim": {"type": "openai", "base_url": f"{sim_url}/v1", "api_key": "sk-sim-upstream"}},
        "models": {
            "gpt-4o-mini": {"deployments": [deployment("sim-mini")]},
            "claude-haiku": {"deployments": [deployment("sim-haiku")]},
            "text-embedding-3-small": {
                "kind": "embedding",
                "deployments": [deployment("sim-embed", latency_ms=40)],
            },
        },
        "pricing": {
            "sim-mini": {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6},
            "sim-haiku": {"input_usd_per_mtok": 0.8, "output_usd_per_mtok": 4},
            "sim-embed": {"input_usd_per_mtok": 0.02, "output_usd_per_mtok": 0},
        },
        "state": {"sqlite_path": str(db)},
        "logging": {"level": "warning"},
        "metrics": {"enabled": True},
        "request_log": {"enabled": True},
        "cache": {
            "enabled": True,
            "policy": {"exact": True, "semantic": semantic, "deterministic_only": False},
            "semantic": {"embedding": "local"},
        },
        "guardrails": {"policy": {"injection": "flag", "pii": "redact", "output_pii": "redact"}},
    }


def make_tenants(base: str, n: int) -> list[str]:
    """``n`` tenants, each with limits, a day and a month budget and one limited key; their keys."""
    admin = base + "/admin"
    keys = []
    for i in range(n):
        tenant = f"load-{i}"
        http("POST", admin + "/tenants", {"id": tenant, "name": f"Load {i}"}, ADMIN)
        http(
            "PUT",
            f"{admin}/tenants/{tenant}/limits",
            {"rpm": 60_000, "tpm": 50_000_000, "max_concurrent": 500},
            ADMIN,
        )
        budgets = [
            {"period": "day", "max_tokens": 10**10, "max_cost_micros": 10**9},
            {"period": "month", "max_tokens": 10**11, "max_cost_micros": 10**10},
        ]
        for b in budgets:
            http("PUT", f"{admin}/tenants/{tenant}/budgets", b, ADMIN)
        key = http("POST", f"{admin}/tenants/{tenant}/keys", {"name": "app"}, ADMIN)
        http(
            "PUT",
            f"{admin}/tenants/{tenant}/keys/{key['id']}/limits",
            {"rpm": 30_000, "tpm": 20_000_000},
            ADMIN,
        )
        http("PUT", f"{admin}/tenants/{tenant}/keys/{key['id']}/budgets", budgets[0], ADMIN)
        keys.append(key["key"])
    return keys


def warm_up(base: str, keys: list[str]) -> int:
    """One chat per key (loads the tokenizer, the local embedder and the key caches); how many."""
    for key in keys:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "warm-up"}]}
        http("POST", base + "/v1/chat/completions", body, key)
    return len(keys)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def dropped_records(base: str) -> float:
    text = http("GET", base + "/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sluice_request_log_dropped_total")
    )


def summarise(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = ["chat", "chat-stream", "embeddings", "messages", "messages-stream", "responses"]
    table = []
    for kind in [*kinds, "all"]:
        rows = [s for s in samples if kind in ("all", s["kind"])]
        if not rows:
            continue
        ms = [s["ms"] for s in rows]
        ttfb = [s["ttfb_ms"] for s in rows]
        over = [s["overhead_ms"] for s in rows if s["overhead_ms"] is not None]
        table.append(
            {
                "kind": kind,
                "requests": len(rows),
                "errors": sum(1 for s in rows if not 200 <= s["status"] < 300),
                "cache_hits": sum(1 for s in rows if s["cache"] in ("hit", "semantic")),
                "p50_ms": pct(ms, 50),
                "p95_ms": pct(ms, 95),
                "p99_ms": pct(ms, 99),
                "ttfb_p50_ms": pct(ttfb, 50),
                "ttfb_p95_ms": pct(ttfb, 95),
                "overhead_p50_ms": pct(over, 50),
                "overhead_p95_ms": pct(over, 95),
                "overhead_p99_ms": pct(over, 99),
            }
        )
    return table


def print_table(table: list[dict[str, Any]]) -> str:
    head = "| kind | requests | errors | cache hits | p50 ms | p95 ms | p99 ms | first byte p50 / p95 ms | overhead p50 / p95 / p99 ms |"
    lines = [head, "|" + "---|" * 9]
    for r in table:
        lines.append(
            f"| {r['kind']} | {r['requests']} | {r['errors']} | {r['cache_hits']} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['ttfb_p50_ms']:.0f} / {r['ttfb_p95_ms']:.0f} | "
            f"{r['overhead_p50_ms']:.2f} / {r['overhead_p95_ms']:.2f} / {r['overhead_p99_ms']:.2f} |"
        )
    return "\n".join(lines)


def plot(samples: list[dict[str, Any]], path: Path, title: str, bin_s: float = 5.0) -> None:
    """Latency over time: p50 and p95 per ``bin_s`` window for JSON answers, streams (whole and
    first byte), and the gateway overhead's p95 beneath."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def series(pick: Any, value: str, q: float) -> tuple[list[float], list[float]]:
        bins: dict[int, list[float]] = {}
        for s in samples:
            if pick(s) and s[value] is not None:
                bins.setdefault(int(s["t"] // bin_s), []).append(s[value])
        xs = sorted(bins)
        return [(x + 0.5) * bin_s for x in xs], [pct(bins[x], q) for x in xs]

    def is_json(s: dict[str, Any]) -> bool:
        return not s["kind"].endswith("stream") and s["kind"] != "embeddings"

    def is_stream(s: dict[str, Any]) -> bool:
        return bool(s["kind"].endswith("stream"))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[2, 1])
    for pick, value, label, color in (
        (is_json, "ms", "chat/messages/responses JSON", "tab:blue"),
        (is_stream, "ms", "streams, whole", "tab:orange"),
        (is_stream, "ttfb_ms", "streams, first byte", "tab:green"),
        (lambda s: s["kind"] == "embeddings", "ms", "embeddings", "tab:purple"),
    ):
        for q, style in ((50, "-"), (95, "--")):
            xs, ys = series(pick, value, q)
            top.plot(xs, ys, style, color=color, label=f"{label} p{q}")
    top.set_ylabel("latency (ms)")
    top.set_title(title)
    top.legend(fontsize=7, ncol=2)
    top.grid(alpha=0.3)
    for q, style in ((50, "-"), (95, "--")):
        xs, ys = series(lambda s: True, "overhead_ms", q)
        bottom.plot(xs, ys, style, color="tab:red", label=f"overhead p{q}")
    bottom.axhline(OVERHEAD_P95_MS, color="grey", linewidth=0.8, label="5 ms criterion")
    bottom.set_yscale("log")
    bottom.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    bottom.yaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2, 5)))
    bottom.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    bottom.set_ylabel("gateway overhead (ms, log)")
    bottom.set_xlabel(f"seconds into the run ({bin_s:.0f} s windows)")
    bottom.legend(fontsize=7)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--spawn-rate", type=float, default=10.0, help="Users started per second.")
    ap.add_argument("--duration", type=int, default=300, help="Seconds of load (after the ramp starts).")
    ap.add_argument("--tenants", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1, help="The gateway's --workers.")
    ap.add_argument(
        "--semantic",
        choices=["on", "off"],
        default="on",
        help="The semantic cache layer (on: every miss waits for a local embedding, up to lookup_timeout_ms).",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load")
    ap.add_argument("--plot", type=Path, default=None, help="Where the PNG goes (default: OUT/latency.png).")
    ap.add_argument(
        "--overhead-report-only", action="store_true", help="Report the overhead p95, judge it not."
    )
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    db = out / "load.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    sim_port, gw_port = free_port(), free_port()
    sim_url, base = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{gw_port}"
    sim_args = ["--ttft-ms", "300", "--chunk-delay-ms", "20", "--latency-ms", "700"]
    procs: list[subprocess.Popen[bytes]] = []
    with open(out / "sim.log", "wb") as sim_log, open(out / "gateway.log", "wb") as gw_log:
        try:
            sim = subprocess.Popen(
                [PYTHON, "-m", "sluice", "sim", "--host", "127.0.0.1", "--port", str(sim_port), *sim_args],
                stdout=sim_log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
            procs.append(sim)
            wait_ready(sim_url + "/health", sim)
            cfg = out / "gateway.yaml"
            cfg.write_text(yaml.safe_dump(gateway_config(sim_url, gw_port, db, args.semantic)))
            gw = subprocess.Popen(
                [PYTHON, "-m", "sluice", "serve", "--config", str(cfg), "--workers", str(args.workers)],
                stdout=gw_log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
            )
            procs.append(gw)
            wait_ready(base + "/health/ready", gw)
            keys = make_tenants(base, args.tenants)
            warm = warm_up(base, keys)
            samples_path = out / "samples.jsonl"
            samples_path.unlink(missing_ok=True)
            started = time.time()
            locust = subprocess.run(
                [
                    PYTHON,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench" / "load" / "locustfile.py"),
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.spawn_rate),
                    "--run-time",
                    f"{args.duration + 20}s",  # the users stop at --duration; their last requests finish
                    "--stop-timeout",
                    "30",
                    "--host",
                    base,
                    "--csv",
                    str(out / "locust"),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                env={
                    **env,
                    "LOAD_KEYS": ",".join(keys),
                    "LOAD_SAMPLES": str(samples_path),
                    "LOAD_DURATION_S": str(args.duration),
                },
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=args.duration + 200,
            )
            (out / "locust.log").write_text(locust.stdout + locust.stderr)
            wall_s = time.time() - started
            dropped = dropped_records(base)
        finally:
            gw_code = stop(procs[-1]) if len(procs) == 2 else None
            stop(procs[0], 10)

    samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
    with open(out / "locust_stats.csv") as f:
        agg = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    locust_requests, locust_failures = int(agg["Request Count"]), int(agg["Failure Count"])
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM request_log").fetchone()[0]
        json_overheads = [
            r[0]
            for r in conn.execute("SELECT overhead_ms FROM request_log WHERE NOT stream AND status < 300")
        ]
        by_status = dict(conn.execute("SELECT status, COUNT(*) FROM request_log GROUP BY status").fetchall())
    # Every request the users sent is one sample: they stop sending at --duration and locust
    # runs 20 s longer, so none is cut in flight.
    sent = len(samples) + warm
    table = summarise(samples)
    overall = table[-1]
    errors = locust_failures + overall["errors"]
    checks = {
        "no errors": errors == 0,
        "overhead p95 < 5 ms": overall["overhead_p95_ms"] < OVERHEAD_P95_MS,
        "no request-log row lost": rows == sent and dropped == 0,
    }
    verdict = {
        k: v for k, v in checks.items() if not (args.overhead_report_only and k.startswith("overhead"))
    }
    report = {
        "users": args.users,
        "duration_s": args.duration,
        "workers": args.workers,
        "tenants": args.tenants,
        "wall_s": round(wall_s, 1),
        "requests_sent": sent,
        "locust_requests": locust_requests,
        "warm_up_requests": warm,
        "locust_failures": locust_failures,
        "errors": errors,
        "request_log_rows": rows,
        "request_log_by_status": by_status,
        "request_log_dropped": dropped,
        "gateway_exit": gw_code,
        "semantic": args.semantic,
        "throughput_rps": round(len(samples) / args.duration, 1),
        "overhead_p95_ms": overall["overhead_p95_ms"],
        "request_log_json_overhead_p95_ms": pct(json_overheads, 95),
        "table": table,
        "checks": checks,
        "passed": all(verdict.values()),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    plot(
        samples,
        args.plot or out / "latency.png",
        f"{args.users} users, {args.duration} s, {args.workers} worker(s), semantic cache {args.semantic}",
    )
    print(print_table(table))
    print(
        f"\nsent {sent} ({len(samples)} by the users + {warm} warm-up), {len(samples) / args.duration:.1f} req/s; "
        f"errors {errors}; request-log rows {rows} (dropped {dropped:.0f}); "
        f"overhead p95 {overall['overhead_p95_ms']:.2f} ms (request log, JSON answers: "
        f"{report['request_log_json_overhead_p95_ms']:.2f} ms); gateway exit {gw_code}"
    )
    for name, ok in checks.items():
        judged = "" if name in verdict else " (reported only)"
        print(f"  {'PASS' if ok else 'FAIL'}  {name}{judged}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
