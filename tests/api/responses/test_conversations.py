"""Stored responses reach the store behind the request: served from memory until stored, found by
another process (its own store connection to the same SQLite file) once its writer got there,
deleted even while queued, kept through an outage and written at close. The writer is held back
by a gate on a real store, so the tests see each state for as long as they look."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from sluice.api.responses.conversations import RECENT_S, Conversations
from sluice.api.responses.translate import minted_ms, new_response_id
from sluice.api.responses.wire import ResponseObject
from sluice.errors import StoreUnavailableError
from sluice.store.records import StoredResponse
from sluice.store.sqlite.store import SqliteStore

NOW = 1_900_000_000.0
OWNER = "tenant:t-a"


class Gated:
    """The real store; ``put_responses`` waits for ``gate`` and refuses while ``down``."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.gate = asyncio.Event()
        self.gate.set()
        self.down = False
        self.refused = asyncio.Event()
        self.stored = asyncio.Event()

    async def put_responses(self, rows: Sequence[StoredResponse]) -> None:
        await self.gate.wait()
        if self.down:
            self.refused.set()
            raise StoreUnavailableError("database is locked")
        await self.store.put_responses(rows)
        self.stored.set()

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, SqliteStore]]:
    a, b = SqliteStore(str(tmp_path / "r.db")), SqliteStore(str(tmp_path / "r.db"))
    await a.migrate()
    yield a, b
    await a.close()
    await b.close()


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps += 1
        self.now += s
        await asyncio.sleep(0)


def answer(text: str, now: float = NOW) -> ResponseObject:
    rid = new_response_id(int(now * 1000))
    return ResponseObject(id=rid, created_at=int(now), status="completed", model="m", output=[], user=text)


def test_an_id_carries_the_time_it_was_made() -> None:
    rid = new_response_id(int(NOW * 1000))
    assert len(rid) == len("resp_") + 48 and minted_ms(rid) == int(NOW * 1000)
    assert minted_ms("resp_" + "z" * 48) is None
    assert minted_ms("resp_abc") is None
    assert minted_ms("msg_" + "0" * 49) is None


async def test_served_from_memory_until_stored_then_from_the_store(stores) -> None:
    a, _ = stores
    gated = Gated(a)
    gated.gate.clear()
    conv = Conversations(gated, [])  # type: ignore[arg-type]
    conv.start()
    r = answer("hello")
    await conv.save(OWNER, r, [])
    assert await a.get_response(OWNER, r.id) is None  # not yet written
    found = await conv.load(OWNER, r.id)
    assert found is not None and b"hello" in bytes(found.response)
    assert await conv.load("tenant:t-b", r.id) is None  # another owner's, queued or not
    gated.gate.set()
    await asyncio.wait_for(gated.stored.wait(), 10)
    assert await a.get_response(OWNER, r.id) is not None
    await conv.close()


async def test_another_process_waits_for_a_recent_id_on_its_way(stores) -> None:
    a, b = stores
    gated = Gated(a)
    gated.gate.clear()
    writer = Conversations(gated, [])  # type: ignore[arg-type]
    writer.start()
    r = answer("on its way", time.time())  # the reader's clock is the real one
    await writer.save(OWNER, r, [])
    reader = Conversations(b, [])
    lookup = asyncio.create_task(reader.load(OWNER, r.id))
    await asyncio.sleep(0.1)
    assert not lookup.done()  # polling the store: the id was made a moment ago
    gated.gate.set()
    found = await asyncio.wait_for(lookup, 10)
    assert found is not None and b"on its way" in bytes(found.response)
    await writer.close()


async def test_a_miss_on_an_old_or_foreign_id_does_not_wait(stores) -> None:
    _, b = stores
    clock = Clock()
    reader = Conversations(b, [], clock=clock, sleep=clock.sleep)
    old = new_response_id(int((NOW - RECENT_S - 60) * 1000))
    assert await reader.load(OWNER, old) is None
    assert await reader.load(OWNER, "resp_" + "f" * 48) is None  # a time far in the future
    assert await reader.load(OWNER, "resp_123") is None
    assert clock.sleeps == 0
    recent = new_response_id(int((NOW - 30) * 1000))  # never stored: waits SETTLE_S, then 404
    assert await reader.load(OWNER, recent) is None
    assert 0 < clock.sleeps <= 100


async def test_a_queued_response_is_deleted(stores) -> None:
    a, _ = stores
    gated = Gated(a)
    gated.gate.clear()
    conv = Conversations(gated, [])  # type: ignore[arg-type]
    conv.start()
    r = answer("delete me")
    await conv.save(OWNER, r, [])
    deleting = asyncio.create_task(conv.delete(OWNER, r.id))
    await asyncio.sleep(0.05)
    gated.gate.set()
    assert await asyncio.wait_for(deleting, 10) is True
    assert await a.get_response(OWNER, r.id) is None
    clock = Clock()
    assert await Conversations(a, [], clock=clock, sleep=clock.sleep).load(OWNER, r.id) is None
    await conv.close()


async def test_an_outage_keeps_it_in_memory_and_close_writes_it(stores) -> None:
    a, _ = stores
    gated = Gated(a)
    gated.down = True
    conv = Conversations(gated, [])  # type: ignore[arg-type]
    conv.start()
    r = answer("kept")
    await conv.save(OWNER, r, [])
    await asyncio.wait_for(gated.refused.wait(), 10)
    assert await conv.load(OWNER, r.id) is not None  # still served here
    gated.down = False
    await conv.close(deadline_s=10)
    assert await a.get_response(OWNER, r.id) is not None


async def test_a_refused_row_is_dropped_not_kept_forever(stores) -> None:
    a, _ = stores
    conv = Conversations(a, [])
    conv.start()
    r = answer("first")
    await a.put_responses([StoredResponse(OWNER, r.id, r.created_at, b"{}", False)])  # the id is taken
    await conv.save(OWNER, r, [])
    await conv.close()
    assert conv._pending == {}  # refused (a conflict), dropped and logged
