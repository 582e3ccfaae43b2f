"""The Node clients, unmodified, against each backend: openai-node, @anthropic-ai/sdk and the
Vercel AI SDK (ai with @ai-sdk/openai and @ai-sdk/anthropic), pinned in
tests/compat/node/package-lock.json and installed by ``scripts/install.sh --test`` (``npm ci``).

Each script (tests/compat/node/*.mjs) runs all its cases once per backend as ``node script.mjs``
with the gateway's URL and key in the environment, under a bounded timeout, and prints one JSON
line per case; each case is one test here, so a missing case fails as surely as a wrong one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import BACKENDS, Backend

NODE_DIR = Path(__file__).parent / "node"
TIMEOUT_S = 120
CASES = {
    "openai": [
        "chat",
        "stream",
        "tools_two_turns",
        "parallel_tool_calls",
        "structured_output",
        "logprobs",
        "embeddings",
        "responses",
        "completions",
        "models",
    ],
    "anthropic": [
        "message",
        "stream",
        "tools_two_turns",
        "parallel_tool_use",
        "structured_output",
        "count_tokens",
    ],
    "ai-sdk": [
        *(
            f"{model}_{case}"
            for model in ("responses", "chat", "anthropic")
            for case in ("text", "stream", "tools_two_steps", "object")
        ),
        "openai_completion",
        "openai_embeddings",
    ],
}
_results: dict[tuple[str, str], dict[str, Any]] = {}


def _run(script: str, backend: Backend) -> dict[str, Any]:
    """Each script's results, run once per backend and kept for the session."""
    key = (script, backend.name)
    if key not in _results:
        node = shutil.which("node")
        assert node, "node is not installed: run scripts/install.sh --test"
        assert (NODE_DIR / "node_modules").is_dir(), (
            "the Node clients are not installed: run scripts/install.sh --test"
        )
        env = {
            **os.environ,
            "SLUICE_URL": backend.base_url,
            "SLUICE_KEY": backend.key,
            "SLUICE_BACKEND": backend.name,
        }
        done = subprocess.run(
            [node, f"{script}.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        assert done.returncode == 0, f"node {script}.mjs exited {done.returncode}:\n{done.stderr[-4000:]}"
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        _results[key] = {r["case"]: r for r in lines}
    return _results[key]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize(("script", "case"), [(s, c) for s, cases in CASES.items() for c in cases])
def test_node_client(backends: dict[str, Backend], backend_name: str, script: str, case: str) -> None:
    results = _run(script, backends[backend_name])
    assert case in results, f"{script}.mjs printed no result for {case}: {sorted(results)}"
    assert results[case]["ok"], results[case]["detail"]
