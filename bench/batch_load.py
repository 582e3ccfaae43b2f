# ruff: noqa: TID251 (a driver script outside the gateway: stdlib json and blocking waits are fine)
"""A 10,000-line chat batch on one gateway core while the harness's load generator drives
interactive traffic (issue 18): the interactive p99 without the batch and with it, side by side
in one run, and the batch's lines per second and gateway CPU per line.

The gateway (``bench/sluice-bench-batch.yaml``, one process) is pinned to CPU 1; the harness
(``mock_upstream.py`` for the interactive ``gpt-4o-mini``, ``sluice sim`` for the batch's
``sim-mini``, ``loadgen.py`` open loop at ``--rate``) to CPU 0. Phases, in one run:

``--rounds`` times: interactive alone for ``--duration`` s, then a batch (on the file uploaded
first), and once it is ``in_progress`` the same interactive load for ``--duration`` s while it
runs, the batch then run to its end; with ``--solo``, a last batch alone (lines per second and
CPU per line without live traffic). The machine is shared, so rounds interleave the two
conditions and the ratio is of the medians.

``--worker-process``: the gateway runs no batch worker (``batches.workers: false``) and a
``sluice worker`` on the same config, niced by ``--worker-nice`` (``batches.worker_nice``), runs
the batch on the same CPU 1: the OS scheduler, not the event loop, shares the core.

CPU per line is the gateway process's CPU time (``/proc/<pid>/stat``, user + system; with
``--worker-process`` the worker's added) from ``in_progress`` to ``completed`` over the lines; "net" takes off what the interactive traffic
cost per second alone, for the seconds it ran beside the batch. Every process started here
is stopped by its PID; loopback only.

    .venv/bin/python bench/batch_load.py [--lines 10000] [--rate 100] [--duration 15] [--rounds 3] [--solo]
        [--worker-process [--worker-nice 19]]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from procs import free_port, stop, wait_http  # noqa: E402  (bench/procs.py, beside this script)

HARNESS = Path(
    os.environ.get("SLUICE_BENCH_HARNESS")
    or next(
        (p for p in (ROOT.parent / "shared/bench", ROOT.parent.parent / "shared/bench") if p.is_dir()), ""
    )
)
"""../shared/bench from the project root (or from a worktree beside it)."""
LOADGEN_PY = os.environ.get("BENCH_PY", "/opt/peers/benchtools/bin/python")
TICK = os.sysconf("SC_CLK_TCK")
KEY = "sk-bench"
ENDED = {"completed", "failed", "expired", "cancelled"}


def cpu_s(*pids: int) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def batch_file(n: int) -> bytes:
    lines = (
        {
            "custom_id": f"line-{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {
                "model": "sim-mini",
                "messages": [
                    {"role": "user", "content": f"Summarise item {i} of the catalogue in one line."}
                ],
                "max_tokens": 32,
            },
        }
        for i in range(n)
    )
    return b"".join(json.dumps(x).encode() + b"\n" for x in lines)


class Bench:
    def __init__(self, a: argparse.Namespace, pin: list[str], logs: str) -> None:
        self.a, self.pin, self.logs = a, pin, logs
        self.procs: list[subprocess.Popen] = []

    def spawn(self, name: str, cmd: list[str], **kw) -> subprocess.Popen:
        with open(f"{self.logs}/{name}.log", "wb") as log:  # the child keeps its own descriptor
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def loadgen(self, url: str, duration_s: float, label: str) -> subprocess.Popen:
        a = self.a
        cmd = [
            *self.pin,
            LOADGEN_PY,
            str(HARNESS / "loadgen.py"),
            "--url",
            url,
            "--api-key",
            KEY,
            "--rate",
            str(a.rate),
            "-c",
            "64",
            "-n",
            str(int(a.rate * duration_s * 2)),
            "-d",
            str(duration_s),
            "--warmup",
            "20",
            "--max-tokens",
            "32",
            "--label",
            label,
        ]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen) -> dict:
    out, _ = p.communicate(timeout=600)
    return json.loads(out.strip().splitlines()[-1])


def run_batch(c: openai.OpenAI, file_id: str, pids: list[int], during=None) -> dict:
    """Create a batch on ``file_id``; once in_progress call ``during()`` (it returns a process to
    wait for); the figures from in_progress to the batch's end."""
    b = c.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    while (b := c.batches.retrieve(b.id)).status == "validating":
        time.sleep(0.05)
    t0, cpu0 = time.monotonic(), cpu_s(*pids)
    side = during() if during is not None else None
    side_result, overlap_s, overlap_lines = None, 0.0, 0
    while True:
        if side is not None and side_result is None and side.poll() is not None:
            side_result = finish(side)
            overlap_s = time.monotonic() - t0
            counts = c.batches.retrieve(b.id).request_counts
            overlap_lines = 0 if counts is None else counts.completed + counts.failed
        b = c.batches.retrieve(b.id)
        if b.status in ENDED:
            break
        time.sleep(0.5)  # a retrieve counts the batch's lines (a few ms at 10,000): not too often
    t1, cpu1 = time.monotonic(), cpu_s(*pids)
    if side is not None and side_result is None:
        overlap_s = t1 - t0  # the batch ended first: the interactive run outlasted it
        overlap_lines = (b.request_counts.completed + b.request_counts.failed) if b.request_counts else 0
        side_result = finish(side)
        side_result["batch_ended_first"] = True
    counts = b.request_counts
    assert counts is not None
    return {
        "status": b.status,
        "completed": counts.completed,
        "failed": counts.failed,
        "wall_s": t1 - t0,
        "cpu_s": cpu1 - cpu0,
        "overlap_s": overlap_s,
        "overlap_lines": overlap_lines,
        "interactive": side_result,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=100.0, help="interactive requests/s (open loop)")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of each interactive phase")
    ap.add_argument("--upstream-ms", type=float, default=20.0, help="mock and sim latency per answer")
    ap.add_argument("--rounds", type=int, default=3, help="(without, with the batch) pairs")
    ap.add_argument("--solo", action="store_true", help="also run a batch without interactive traffic")
    ap.add_argument(
        "--worker-process",
        action="store_true",
        help="the batch in a niced `sluice worker` on the gateway's core, not in the gateway",
    )
    ap.add_argument("--worker-nice", type=int, default=19, help="batches.worker_nice of --worker-process")
    ap.add_argument("--json", default=None, help="append the figures as one JSON line to this file")
    a = ap.parse_args()
    a.load_start = os.getloadavg()

    two = (os.cpu_count() or 1) >= 2
    pin = ["taskset", "-c", "0"] if two else []
    gw_pin = ["taskset", "-c", "1"] if two else []
    mock_port, sim_port, gw_port = free_port(), free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="sluice-batch-bench-")
    bench = Bench(a, pin, tmp)
    print(f"logs in {tmp}", file=sys.stderr)
    try:
        bench.spawn(
            "mock",
            [
                *pin,
                LOADGEN_PY,
                str(HARNESS / "mock_upstream.py"),
                "--port",
                str(mock_port),
                "--latency-ms",
                str(a.upstream_ms),
            ],
        )
        sim = bench.spawn(
            "sim",
            [
                *pin,
                sys.executable,
                "-m",
                "sluice",
                "sim",
                "--port",
                str(sim_port),
                "--latency-ms",
                str(a.upstream_ms),
            ],
            cwd=ROOT,
        )
        env = dict(
            os.environ,
            MOCK_API_BASE=f"http://127.0.0.1:{mock_port}/v1",
            SIM_API_BASE=f"http://127.0.0.1:{sim_port}/v1",
            SLUICE_BENCH_DB=f"{tmp}/gw.db",
        )
        if a.worker_process:
            env["SLUICE_BATCH_WORKERS"] = "false"
        cmd = [
            *gw_pin,
            sys.executable,
            "-m",
            "sluice",
            "serve",
            "--config",
            str(ROOT / "bench/sluice-bench-batch.yaml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(gw_port),
        ]
        gw = bench.spawn("gateway", cmd, env=env, cwd=ROOT)
        url = f"http://127.0.0.1:{gw_port}"
        wait_http(f"http://127.0.0.1:{sim_port}/v1/models", sim)
        wait_http(url + "/v1/chat/completions", gw, key=KEY, timeout_s=60)
        pids = [gw.pid]
        if a.worker_process:  # after the gateway's startup migrated the database
            wenv = dict(env, SLUICE_BATCH_WORKERS="true", SLUICE_BATCH_WORKER_NICE=str(a.worker_nice))
            wcmd = [
                *gw_pin,
                sys.executable,
                "-m",
                "sluice",
                "worker",
                "--config",
                cmd[cmd.index("--config") + 1],
            ]
            pids.append(bench.spawn("worker", wcmd, env=wenv, cwd=ROOT).pid)
        c = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=2, timeout=120)
        data = batch_file(a.lines)
        file_id = c.files.create(file=("batch.jsonl", data, "application/jsonl"), purpose="batch").id
        finish(bench.loadgen(url, 3, "warmup"))

        alone, mixed = [], []
        for r in range(a.rounds):
            cpu0 = cpu_s(*pids)
            alone.append(finish(bench.loadgen(url, a.duration, f"without-{r}")))
            alone[-1]["gateway_cpu_per_s"] = (cpu_s(*pids) - cpu0) / alone[-1]["elapsed_s"]
            mixed.append(run_batch(c, file_id, pids, lambda r=r: bench.loadgen(url, a.duration, f"with-{r}")))
        solo = run_batch(c, file_id, pids) if a.solo else None
    finally:
        for p in reversed(bench.procs):
            stop(p)
        for suffix in ("", "-wal", "-shm"):  # the logs stay
            Path(f"{tmp}/gw.db{suffix}").unlink(missing_ok=True)

    report(a, alone, mixed, solo)


def report(a, alone: list[dict], mixed: list[dict], solo: dict | None) -> None:
    p99 = [r["latency_ms"]["p99"] for r in alone]
    p99_with = [b["interactive"]["latency_ms"]["p99"] for b in mixed]
    base = statistics.median(p99)
    cpu_per_s = statistics.median(r["gateway_cpu_per_s"] for r in alone)
    print(f"\n{a.lines}-line batch, interactive {a.rate:g} req/s open loop, upstream {a.upstream_ms:g} ms,")
    where = (
        f"the gateway and a `sluice worker` at nice {a.worker_nice} running the batch"
        if a.worker_process
        else "one gateway process running the batch"
    )
    print(f"{where}, pinned to one core; {a.rounds} rounds of {a.duration:g} s without, then with")
    loads = [" ".join(f"{x:.1f}" for x in load) for load in (a.load_start, os.getloadavg())]
    print(f"load average (1, 5, 15 min) at the start {loads[0]}, at the end {loads[1]}\n")
    print("| round | p50 without | p99 without | p50 with batch | p99 with batch | p99 ratio | errors |")
    print("|---|---|---|---|---|---|---|")
    for r, (x, b) in enumerate(zip(alone, mixed, strict=True)):
        y = b["interactive"]
        flag = " (batch ended first)" if y.get("batch_ended_first") else ""
        print(
            f"| {r + 1} | {x['latency_ms']['p50']:.1f} | {x['latency_ms']['p99']:.1f} | {y['latency_ms']['p50']:.1f}"
            f" | {y['latency_ms']['p99']:.1f}{flag} | {y['latency_ms']['p99'] / x['latency_ms']['p99']:.2f}"
            f" | {x['errors'] + y['errors']} |"
        )
    print(
        f"| median | | {base:.1f} | | {statistics.median(p99_with):.1f} |"
        f" **{statistics.median(p99_with) / base:.2f}** | |"
    )
    print(
        "\n| batch | lines | failed | wall s | lines/s | lines/s beside interactive"
        " | gateway CPU ms/line | net of interactive |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = [(f"with interactive traffic, round {i + 1}", b, True) for i, b in enumerate(mixed)]
    rows += [("alone", solo, False)] if solo else []
    for name, b, shared in rows:
        lines = b["completed"] + b["failed"]
        net = b["cpu_s"] - (cpu_per_s * b["overlap_s"] if shared else 0.0)
        beside = f"{b['overlap_lines'] / b['overlap_s']:.0f}" if shared and b["overlap_s"] else ""
        print(
            f"| {name} | {lines} | {b['failed']} | {b['wall_s']:.1f} | {lines / b['wall_s']:.0f} |"
            f" {beside} |"
            f" {b['cpu_s'] / lines * 1000:.2f} | {net / lines * 1000:.2f} |"
        )
    print(f"\ninteractive alone: gateway CPU {cpu_per_s * 1000:.0f} ms/s (median of the rounds)")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"alone": alone, "mixed": mixed, "solo": solo}) + "\n")


if __name__ == "__main__":
    main()
