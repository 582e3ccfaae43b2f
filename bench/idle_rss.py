# ruff: noqa: TID251 (a synchronous driver script outside the gateway: stdlib json and sleeping are fine)
"""Idle RSS of ``sluice serve`` per config, measured the way ../shared/bench/compare.sh does it:
spawn the gateway, wait for the first 200 of a chat completion (the readiness probe, which also
starts whatever the first counted request builds, e.g. the tiktoken encoding), let it settle,
then read VmRSS from /proc. The upstream is ``sluice sim`` on loopback; the everything-on config
gets a fresh store seeded by bench/seed-everything.sh and uses its tenant key. Every process
started here is stopped by its PID.

    .venv/bin/python bench/idle_rss.py [--settle 3] [--repeat 2] [--configs core,everything,everything-estimate]

Prints one line per config and repetition and the median per config (MiB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from procs import free_port, stop, wait_http  # noqa: E402  (bench/procs.py, beside this script)

BIN = ROOT / ".venv" / "bin"
CONFIGS = {
    "core": ROOT / "bench" / "sluice-bench.yaml",
    "everything": ROOT / "bench" / "sluice-bench-everything.yaml",
    # The same, counting tokens by estimate (limits.tokenizer: estimate): no tiktoken tables.
    "everything-estimate": ROOT / "bench" / "sluice-bench-everything.yaml",
}
# This checkout's code, not whichever one the shared virtualenv's ``sluice`` script imports.
SLUICE = [str(BIN / "python"), "-m", "sluice"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure(name: str, settle_s: float, mock_base: str, tmp: str) -> tuple[float, float]:
    env = dict(ENV, MOCK_API_BASE=mock_base)
    key = "sk-bench"
    if name == "everything-estimate":
        env["SLUICE_LIMITS__TOKENIZER"] = "estimate"
    if name.startswith("everything"):
        env["SLUICE_BENCH_DB"] = os.path.join(tmp, "everything.db")
        out = subprocess.run(
            [str(ROOT / "bench" / "seed-everything.sh")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        key = out.stdout.strip().splitlines()[-1]
    else:
        env["SLUICE_BENCH_DB"] = os.path.join(tmp, "core.db")
    port = free_port()
    cmd = [*SLUICE, "serve", "--config", str(CONFIGS[name]), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        startup = wait_http(f"http://127.0.0.1:{port}/v1/chat/completions", proc, key=key)
        time.sleep(settle_s)
        return startup, rss_mib(proc.pid)
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--settle", type=float, default=3.0, help="seconds between the first 200 and the reading")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--configs", default="core,everything")
    args = ap.parse_args()
    names = args.configs.split(",")
    mock_port = free_port()
    mock = subprocess.Popen(
        [*SLUICE, "sim", "--host", "127.0.0.1", "--port", str(mock_port)],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, list[float]] = {n: [] for n in names}
    try:
        wait_http(f"http://127.0.0.1:{mock_port}/v1/models", mock)
        with tempfile.TemporaryDirectory() as tmp:
            for rep in range(args.repeat):
                for name in names:
                    startup, rss = measure(name, args.settle, f"http://127.0.0.1:{mock_port}/v1", tmp)
                    results[name].append(rss)
                    print(
                        f"{name:<11} rep {rep + 1}: ready in {startup:.2f}s, idle RSS {rss:.1f} MiB",
                        flush=True,
                    )
    finally:
        stop(mock)
    for name in names:
        print(
            f"{name:<11} idle RSS median {statistics.median(results[name]):.1f} MiB (of {len(results[name])})"
        )


if __name__ == "__main__":
    sys.exit(main())
