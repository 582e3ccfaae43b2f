"""The request log's writer against a real SQLite store: batches, the full-queue policies, a
database that refuses writes for a while, and flush and close writing everything still queued.
Tests wait for the background task through hooks (``on_written``, a refusal, ``flush``), never
for a guessed time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from sluice.errors import StoreUnavailableError
from sluice.obs.record import RequestRecord
from sluice.store.log_writer import RequestLogWriter
from sluice.store.sqlite.store import SqliteStore


class Flaky:
    """The real store, refusing the next ``fail`` writes as a database outage would."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.fail = 0
        self.batches: list[int] = []
        self.refused = asyncio.Event()
        """Set at each refusal."""

    async def write_requests(self, records: Sequence[RequestRecord]) -> None:
        if self.fail:
            self.fail -= 1
            self.refused.set()
            raise StoreUnavailableError("database is locked")
        self.batches.append(len(records))
        await self.store.write_requests(records)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "log.db"))
    await s.migrate()
    yield s
    await s.close()


def record(n: int) -> RequestRecord:
    return RequestRecord(f"req_{n}", 1_700_000_000_000 + n, "chat", 200, 1.0, cost_micros=n)


async def stored(store: SqliteStore) -> list[str]:
    return sorted((r.id for _, r in await store.list_requests(None, limit=10_000)), key=lambda i: int(i[4:]))


def writer(target: Flaky, **kw: object) -> RequestLogWriter:
    args: dict = {"queue_max": 1000, "when_full": "drop", "batch_max": 50, "flush_s": 0.02, **kw}
    return RequestLogWriter(target, **args)  # type: ignore[arg-type]


async def test_records_reach_the_store_in_batches(store: SqliteStore) -> None:
    target = Flaky(store)
    written: list[int] = []
    all_written = asyncio.Event()

    def on_written(n: int) -> None:
        written.append(n)
        if sum(written) == 120:
            all_written.set()

    w = writer(target, on_written=on_written)
    w.start()
    for n in range(120):
        await w.put(record(n))
    await asyncio.wait_for(all_written.wait(), 5)  # the last 20 wait for the flush_s timer, not a flush
    assert await stored(store) == [f"req_{n}" for n in range(120)]
    assert target.batches == [50, 50, 20]  # two full batches at once, the rest after flush_s
    assert len(w) == 0
    await w.close()


async def test_an_outage_keeps_the_queue_and_retries(store: SqliteStore) -> None:
    target = Flaky(store)
    target.fail = 3
    w = writer(target, retry_min_s=0.05)
    w.start()
    for n in range(30):
        await w.put(record(n))
    await asyncio.wait_for(target.refused.wait(), 5)
    assert len(w) == 30 and await stored(store) == []
    await asyncio.wait_for(w.flush(), 5)  # 0.05 + 0.1 + 0.2 of backoff, then a write that works
    assert target.fail == 0 and target.batches == [30]
    assert await stored(store) == [f"req_{n}" for n in range(30)]
    assert len(w) == 0
    await w.close()


async def test_a_full_queue_drops_new_records_and_counts_them(store: SqliteStore) -> None:
    target = Flaky(store)
    target.fail = 1_000
    dropped: list[int] = []
    w = writer(target, queue_max=100, on_dropped=lambda: dropped.append(1))
    w.start()
    for n in range(130):
        await w.put(record(n))
    assert len(w) == 100 and w.dropped == 30 and len(dropped) == 30
    target.fail = 0
    await w.close()
    assert await stored(store) == [f"req_{n}" for n in range(100)]  # the oldest are kept


async def test_a_full_queue_can_make_requests_wait_instead(store: SqliteStore) -> None:
    target = Flaky(store)
    target.fail = 2
    w = writer(target, queue_max=100, when_full="wait", retry_min_s=0.05)
    w.start()
    for n in range(100):
        await w.put(record(n))
    late = asyncio.create_task(w.put(record(100)))
    await asyncio.wait_for(target.refused.wait(), 5)
    assert not late.done()  # waits for room while the database is down
    await asyncio.wait_for(late, 2)
    await w.close()
    assert await stored(store) == [f"req_{n}" for n in range(101)]
    assert w.dropped == 0


async def test_flush_writes_what_is_queued_now_and_returns_when_it_is_stored(store: SqliteStore) -> None:
    target = Flaky(store)
    w = writer(target, flush_s=60, batch_max=40)  # nothing would be written for a minute
    w.start()
    await asyncio.wait_for(w.flush(), 1)  # an empty queue: at once
    for n in range(100):
        await w.put(record(n))
    await asyncio.wait_for(w.flush(), 5)
    assert len(w) == 0 and target.batches == [40, 40, 20]
    assert await stored(store) == [f"req_{n}" for n in range(100)]
    await w.close()


async def test_close_writes_everything_queued(store: SqliteStore) -> None:
    target = Flaky(store)
    w = writer(target, flush_s=60, batch_max=1000, queue_max=5000)  # nothing would be written for a minute
    w.start()
    for n in range(2500):
        await w.put(record(n))
    await w.close()
    assert len(await stored(store)) == 2500
    assert target.batches == [1000, 1000, 500]


async def test_close_retries_through_a_short_outage(store: SqliteStore) -> None:
    target = Flaky(store)
    target.fail = 2
    w = writer(target, flush_s=60)
    w.start()
    for n in range(10):
        await w.put(record(n))
    await w.close(deadline_s=5)
    assert len(await stored(store)) == 10


async def test_close_gives_up_at_its_deadline_and_says_so(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    target = Flaky(store)
    target.fail = 10_000
    w = writer(target, flush_s=60)
    w.start()
    for n in range(10):
        await w.put(record(n))
    await asyncio.wait_for(w.close(deadline_s=0.3), 2)
    assert "10 records lost at shutdown" in caplog.text


async def test_a_record_the_database_refuses_is_dropped_alone(store: SqliteStore) -> None:
    target = Flaky(store)
    w = writer(target)
    w.start()
    bad = RequestRecord(None, 1, "chat", 200, 1.0)  # type: ignore[arg-type]  # id is NOT NULL
    for r in (record(1), bad, record(2)):
        await w.put(r)
    await w.close()
    assert await stored(store) == ["req_1", "req_2"]
    assert w.dropped == 1
