"""The layering and lint rules of STYLE.md, checked on every test run."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)


def test_import_contracts_hold() -> None:
    r = run(str(BIN / "lint-imports"), "--no-cache")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_is_clean() -> None:
    r = run(str(BIN / "ruff"), "check", "sluice", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_code_is_formatted() -> None:
    """One formatter (ruff format, line length 110 from pyproject.toml): run `ruff format` to fix."""
    r = run(str(BIN / "ruff"), "format", "--check", "sluice", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_is_clean() -> None:
    """The type checker as configured in pyproject.toml ([tool.mypy]: sluice/, the pydantic plugin)."""
    r = run(sys.executable, "-m", "mypy")
    assert r.returncode == 0, r.stdout + r.stderr
