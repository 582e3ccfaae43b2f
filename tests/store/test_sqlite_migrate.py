"""Two processes starting on one new SQLite database: the second waits for the first's migration,
however long it holds the database, rather than start its background work without the tables."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sluice.store.sqlite import store as sqlite_store
from sluice.store.sqlite.store import SqliteStore


async def test_a_migration_waits_for_another_process_holding_the_database(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    held = threading.Event()
    release = threading.Event()

    def other_process() -> None:
        # Another worker's migration: the write lock, held past the store's 5 s busy_timeout.
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    assert held.wait(10)
    store = SqliteStore(str(path))
    try:
        migrating = asyncio.create_task(store.migrate())
        await asyncio.sleep(6.0)  # past busy_timeout: before, migrate had failed by now
        assert not migrating.done()
        release.set()
        applied = await asyncio.wait_for(migrating, 30)
        assert applied  # it migrated once the lock was free, and the tables are there
        assert await store.migrate() == []
        conn = sqlite3.connect(path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        assert {"batches", "webhook_deliveries", "vector_store_files"} <= tables
    finally:
        release.set()
        thread.join(30)
        await store.close()


async def test_a_migration_gives_up_after_its_wait(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sqlite_store, "MIGRATION_WAIT_S", 0.0)
    path = tmp_path / "gateway.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    store = SqliteStore(str(path))
    try:
        try:
            await store.migrate()
        except sqlite_store.StoreUnavailableError as e:
            assert "OperationalError" in e.message
        else:
            raise AssertionError("migrate returned while another connection held the database")
    finally:
        conn.execute("ROLLBACK")
        conn.close()
        await store.close()
