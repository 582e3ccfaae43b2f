"""What the Responses API's translation costs beside chat completions: the same gateway (the core
config, ``bench/sluice-bench.yaml``), the harness's mock upstream (32-token answers), the same
prompt; gateway CPU per request (``/proc/<pid>/stat``, user + system) for ``POST
/v1/chat/completions`` and ``POST /v1/responses`` (``store: false``: the translation alone, and
``store: true``: with the stored conversation), JSON and streams, at concurrency 10. The rounds
interleave the endpoints and repeat; the table gives each cell's median and its ratio to chat.
Every process started here is stopped by its PID; loopback only.

    .venv/bin/python bench/responses_cost.py [--requests 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from procs import free_port, stop, wait_http  # noqa: E402  (bench/procs.py, beside this script)

HARNESS = Path(os.environ.get("SLUICE_BENCH_HARNESS", ROOT.parent / "shared" / "bench"))
TICK = os.sysconf("SC_CLK_TCK")
PROMPT = "Summarise the following customer message in one sentence: my order 1234 has not arrived yet."


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def body(kind: str, stream: bool, i: int) -> dict:
    text = f"[{i}] {PROMPT}"
    if kind == "chat":
        b: dict = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "max_tokens": 32}
        if stream:
            b |= {"stream": True}
        return b
    return {
        "model": "gpt-4o-mini",
        "input": text,
        "max_output_tokens": 32,
        "store": kind == "responses-store",
        "stream": stream,
    }


async def run(url: str, kind: str, stream: bool, n: int, concurrency: int) -> int:
    path = "/v1/chat/completions" if kind == "chat" else "/v1/responses"
    ok = 0
    queue = iter(range(n))
    async with aiohttp.ClientSession(headers={"authorization": "Bearer sk-bench"}) as s:

        async def worker() -> None:
            nonlocal ok
            for i in queue:
                async with s.post(url + path, json=body(kind, stream, i)) as r:
                    await r.read()
                    ok += r.status == 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=10)
    args = ap.parse_args()
    mock_port, gw_port = free_port(), free_port()
    pin = ["taskset", "-c", "0"] if os.cpu_count() and os.cpu_count() >= 2 else []  # type: ignore[operator]
    gw_pin = ["taskset", "-c", "1"] if pin else []
    mock = subprocess.Popen(
        [*pin, sys.executable, str(HARNESS / "mock_upstream.py"), "--port", str(mock_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            MOCK_API_BASE=f"http://127.0.0.1:{mock_port}/v1",
            SLUICE_BENCH_DB=os.path.join(tmp, "bench.db"),
        )
        cmd = [*gw_pin, str(ROOT / ".venv" / "bin" / "python"), "-m", "sluice", "serve"]
        cmd += [
            "--config",
            str(ROOT / "bench" / "sluice-bench.yaml"),
            "--host",
            "127.0.0.1",
            "--port",
            str(gw_port),
        ]
        gw = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{gw_port}"
        kinds = ("chat", "responses", "responses-store")
        figures: dict[tuple[str, bool], list[float]] = {}
        try:
            wait_http(url + "/v1/chat/completions", gw, key="sk-bench")
            for stream in (False, True):
                for k in kinds:  # warm-up
                    asyncio.run(run(url, k, stream, 200, args.concurrency))
            for rep in range(args.repeat):
                for stream in (False, True):
                    for k in kinds:
                        before = cpu_s(gw.pid)
                        ok = asyncio.run(run(url, k, stream, args.requests, args.concurrency))
                        per = (cpu_s(gw.pid) - before) / args.requests * 1000
                        if ok != args.requests:
                            print(f"  {k} stream={stream}: {args.requests - ok} failed", file=sys.stderr)
                        figures.setdefault((k, stream), []).append(per)
                        print(f"rep {rep + 1} {'stream' if stream else 'json':6} {k:16} {per:.3f} ms/req")
        finally:
            stop(gw)
            stop(mock)
    print("\n| endpoint | JSON CPU ms/req | ratio to chat | stream CPU ms/req | ratio to chat |")
    print("|---|---:|---:|---:|---:|")
    for k in kinds:
        j, s = (statistics.median(figures[(k, st)]) for st in (False, True))
        cj, cs = (statistics.median(figures[("chat", st)]) for st in (False, True))
        print(f"| {k} | {j:.3f} | {j / cj:.2f} | {s:.3f} | {s / cs:.2f} |")


if __name__ == "__main__":
    main()
