"""PostgreSQL-only behaviour: replicas migrating together, and failing fast when the database is away."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from sluice.errors import StoreUnavailableError
from sluice.store.migrations import pending
from sluice.store.postgres.store import PostgresStore
from tests.fixtures.procs import free_port


@pytest.fixture
async def two_stores(postgres_clean: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores on the same empty database, as two replicas would have."""
    a, b = PostgresStore(postgres_clean), PostgresStore(postgres_clean)
    yield a, b
    await a.close()
    await b.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel's backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


async def test_concurrent_migrations_apply_each_file_once(
    two_stores: tuple[PostgresStore, PostgresStore],
) -> None:
    a, b = two_stores
    applied = await asyncio.gather(a.migrate(), b.migrate())
    assert sorted(applied, key=len) == [[], [name for name, _ in pending("postgres", set())]]
    assert await a.migrate() == []
    assert await b.list_tenants() == []


@pytest.mark.parametrize("call", ["ping", "migrate", "list_tenants"])
async def test_closed_port_fails_fast(call: str) -> None:
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{free_port()}/sluice", timeout_s=1.0)
    started = time.monotonic()
    async with asyncio.timeout(10):
        with pytest.raises(StoreUnavailableError):
            await getattr(store, call)()
    assert time.monotonic() - started < 2.0
    await store.close()


async def test_silent_server_times_out_within_the_bound(silent_port: int) -> None:
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{silent_port}/sluice", timeout_s=0.5)
    started = time.monotonic()
    async with asyncio.timeout(10):
        with pytest.raises(StoreUnavailableError):
            await store.ping()
    assert 0.4 < time.monotonic() - started < 2.0
    await store.close()
