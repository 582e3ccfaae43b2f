"""The `sluice` command as a user runs it."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

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


def _migration_names(dialect: str) -> list[str]:
    return sorted(p.name for p in (REPO / "sluice/store/migrations" / dialect).glob("*.sql"))


def test_migrate_embedded_applies_every_migration_once(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state: {{sqlite_path: {db}}}\n")
    first = sluice_cmd("migrate", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    names = _migration_names("sqlite")
    assert first.stdout.splitlines() == [
        f"embedded: {len(names)} migration(s) applied",
        *(f"  {n}" for n in names),
    ]
    with sqlite3.connect(db) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT name FROM schema_migrations")) == names
    again = sluice_cmd("migrate", "--config", str(cfg))
    assert again.returncode == 0 and again.stdout == "embedded: 0 migration(s) applied\n"


def test_migrate_distributed_applies_the_store_and_the_batch_queue_schema(
    tmp_path: Path, postgres_clean: str, redis_clean: str
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"state: {{backend: distributed, postgres_dsn: '{postgres_clean}', redis_url: '{redis_clean}'}}\n"
    )
    r = sluice_cmd("migrate", "--config", str(cfg))
    assert r.returncode == 0, r.stderr
    with psycopg.connect(postgres_clean) as conn:
        applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        # Every migration but the optional ones whose extension this server may lack (pgvector's 0015).
        assert applied >= set(_migration_names("postgres")) - {"0015_chunks_pgvector.sql"}
        assert conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == ("procrastinate_jobs",)
    assert sluice_cmd("migrate", "--config", str(cfg)).stdout == "distributed: 0 migration(s) applied\n"


def test_migrate_fails_when_the_store_is_unreachable(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    dsn = f"postgresql://sluice@127.0.0.1:{free_port()}/sluice"
    cfg.write_text(
        f"state: {{backend: distributed, postgres_dsn: '{dsn}', redis_url: 'redis://127.0.0.1:1/0'}}\n"
    )
    r = sluice_cmd("migrate", "--config", str(cfg))
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("migrate: the PostgreSQL store failed") and "store_unavailable" in r.stderr
