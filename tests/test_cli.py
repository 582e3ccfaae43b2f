"""The `sluice` command as a user runs it."""

import subprocess
import sys
from pathlib import Path

import sluice
from tests.conftest import DEMO_KEY
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, free_port, running


def sluice_cmd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args], capture_output=True, text=True, timeout=60, cwd=REPO
    )


def test_version() -> None:
    r = sluice_cmd("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"sluice, version {sluice.__version__}"


def test_config_check_ok() -> None:
    r = sluice_cmd("config", "check", "examples/demo.yaml")
    assert r.returncode == 0
    assert "examples/demo.yaml: ok" in r.stdout
    assert "gpt-4o (chat, priority): sim/sim-gpt-4o -> fallbacks gpt-4o-mini" in r.stdout


def test_config_check_reports_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  m: {deployments: [{provider: ghost, model: x}]}\ncolour: blue\n")
    r = sluice_cmd("config", "check", str(bad))
    assert r.returncode == 1
    assert f"configuration error in {bad}:" in r.stderr
    assert "  - colour: unknown key" in r.stderr


def test_serve_demo_with_two_workers(tmp_path: Path) -> None:
    port = free_port()
    args = [
        "serve",
        "--config",
        "examples/demo.yaml",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with running(args, tmp_path / "gw.log", "/health/live", port) as gw:
        for _ in range(4):
            r = call(
                "POST",
                gw.base_url + "/v1/chat/completions",
                {"model": "claude-haiku", "messages": [{"role": "user", "content": "hi"}]},
                {"authorization": f"Bearer {DEMO_KEY}"},
            )
            assert (
                r.status == 200 and r.json()["choices"][0]["message"]["content"] == "Simulated reply to: hi"
            )
        banner = gw.log()
    assert f"listening on http://127.0.0.1:{port} (2 workers)" in banner
    assert "claude-haiku" in banner and "[simulated]" in banner and "Bearer sk-sluice-demo" in banner


def test_config_reference_matches_the_docs() -> None:
    r = sluice_cmd("config", "reference")
    assert r.returncode == 0
    assert r.stdout == (REPO / "docs/configuration.md").read_text(), (
        "run: sluice config reference > docs/configuration.md"
    )
