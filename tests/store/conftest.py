"""Stores of each backend on an empty database, migrated and closed by the fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sluice.store.postgres.store import PostgresStore
from sluice.store.protocols import Store
from sluice.store.sqlite.store import SqliteStore


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where this test's empty database lives: a fresh SQLite file, or the DSN of a reset PostgreSQL one."""
    if backend == "sqlite":
        return str(tmp_path / "sluice.db")
    return request.getfixturevalue("postgres_clean")


@pytest.fixture
async def new_store(backend: str, database: str) -> AsyncIterator[Callable[[], Store]]:
    """Factory: an unmigrated store on this test's database; every one is closed after the test."""
    opened: list[Store] = []

    def make() -> Store:
        store: Store = SqliteStore(database) if backend == "sqlite" else PostgresStore(database)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(new_store: Callable[[], Store]) -> Store:
    """A migrated, empty store of each backend."""
    store = new_store()
    await store.migrate()
    return store
