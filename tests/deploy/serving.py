"""Start a gateway from an exact command line and environment (as a container would run it), on
loopback, and stop it by PID; used where tests/fixtures/procs.py's ``start`` would rewrite the
command or the environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixtures.procs import Proc, wait_ready


def serve(command: list[str], env: dict[str, str], cwd: Path, log: Path, port: int) -> Proc:
    """Run ``command`` and wait (60 s at most) until GET /health/live answers on 127.0.0.1:``port``."""
    out = open(log, "wb")
    popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    proc = Proc(popen, f"http://127.0.0.1:{port}", log, out)
    try:
        wait_ready(proc.base_url + "/health/live", popen, timeout_s=60)
    except Exception:
        proc.stop(2)
        raise RuntimeError(log.read_text(errors="replace")) from None
    return proc
