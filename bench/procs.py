# ruff: noqa: TID251 (driver scripts outside the gateway: stdlib json and blocking waits are fine)
"""What the benchmark scripts share: a free loopback port, a gateway's readiness (its first 200),
and stopping a process by its PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def wait_http(url: str, proc: subprocess.Popen, *, key: str | None = None, timeout_s: float = 30.0) -> float:
    body = None
    headers = {"content-type": "application/json"}
    if key is not None:
        body = json.dumps(
            {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "ping"}]}
        ).encode()
        headers["authorization"] = f"Bearer {key}"
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, data=body, headers=headers), timeout=5
            ) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready in {timeout_s}s")
