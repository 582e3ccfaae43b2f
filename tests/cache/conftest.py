"""Fixtures shared by the cache store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from sluice.cache.writer import Connect
from sluice.store.postgres.store import PostgresStore
from sluice.store.sqlite.store import SqliteStore

WriterOf = Callable[[str], Connect]


@pytest.fixture
async def sqlite_writer() -> AsyncIterator[WriterOf]:
    """Factory: the writer connection of a ``SqliteStore`` on a file, as the embedded backend gives
    it to the caches; every store made is closed after the test."""
    stores: list[SqliteStore] = []

    def make(path: str) -> Connect:
        stores.append(store := SqliteStore(path))
        return store.writer

    yield make
    for store in stores:
        await store.close()


PoolOf = Callable[[], Awaitable[asyncpg.Pool]]


@pytest.fixture
async def postgres_pool() -> AsyncIterator[Callable[..., Awaitable[PoolOf]]]:
    """Factory: the pool of a ``PostgresStore`` on a DSN, migrated first unless ``migrate=False``,
    as the distributed backend gives it to the semantic index; every store made is closed after
    the test."""
    stores: list[PostgresStore] = []

    async def make(dsn: str, *, timeout_s: float = 5.0, migrate: bool = True) -> PoolOf:
        stores.append(store := PostgresStore(dsn, timeout_s=timeout_s))
        if migrate:
            await store.migrate()
        return store.pool

    yield make
    for store in stores:
        await store.close()
