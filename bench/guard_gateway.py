"""A gateway for the guardrail evaluations: ``sluice serve`` on loopback with the sim upstream, one
key and the given ``guardrails.policy``, in a temporary directory, stopped by its PID on exit."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fixtures.procs import free_port, start  # noqa: E402


@contextmanager
def guarded_gateway(key: str, policy: dict[str, Any]) -> Iterator[str]:
    """The running gateway's base URL."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = {
            "server": {"host": "127.0.0.1", "port": port},
            "auth": {"keys": [{"key": key, "name": "eval"}]},
            "providers": {"sim": {"type": "sim"}},
            "models": {"gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-gpt-4o-mini"}]}},
            "guardrails": {"policy": policy},
            "state": {"sqlite_path": str(Path(tmp) / "eval.db")},
            "logging": {"level": "warning"},
        }
        path = Path(tmp) / "gateway.yaml"
        path.write_text(yaml.safe_dump(cfg))
        gw = start(["serve", "--config", str(path)], Path(tmp) / "gateway.log", "/health/live", port)
        try:
            yield gw.base_url
        finally:
            gw.stop()
