"""The load test's short run (issue 19): ``bench/load/run.py`` as the bench runs it (the sim at
300 ms to first token and 50 tokens/s, every feature on, tenant keys made through ``/admin``,
locust headless), with 20 users for 20 s. Asserted: every request answered 2xx with a
well-formed body or a complete stream, and the request log holds one row per request sent, none
dropped. The gateway's overhead p95 is printed, not judged (no timed assertions in the suite;
the long run in docs/benchmarks.md judges it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.procs import REPO

KINDS = {"chat", "chat-stream", "embeddings", "messages", "messages-stream", "responses"}


def test_twenty_users_for_twenty_seconds_get_no_error_and_lose_no_request_log_row(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "load" / "run.py"),
            "--users",
            "20",
            "--spawn-rate",
            "10",
            "--duration",
            "20",
            "--tenants",
            "2",
            "--out",
            str(tmp_path),
            "--overhead-report-only",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,  # a bound on a hang, not a speed check
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr + (tmp_path / "gateway.log").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    kinds = {row["kind"]: row for row in report["table"]}
    assert KINDS <= set(kinds), kinds.keys()
    assert report["errors"] == 0 and report["locust_failures"] == 0
    assert report["requests_sent"] > 20 * 4  # each user sent several requests
    assert report["request_log_rows"] == report["requests_sent"]
    assert report["request_log_dropped"] == 0
    assert set(report["request_log_by_status"]) == {"200"}
    assert kinds["all"]["requests"] + report["warm_up_requests"] == report["requests_sent"]
    assert (tmp_path / "latency.png").stat().st_size > 0
    print(f"gateway overhead p95: {report['overhead_p95_ms']:.2f} ms (reported, not judged)")
