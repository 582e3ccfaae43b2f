"""The batch queue on each backend: a claim's order, and the figures for the metrics:
``Store.batch_queue_stats`` (lines of running batches by status, the oldest pending line's
start, live batches by status) and the gauges ``BatchQueueGauges`` sets from it when
``/metrics`` is scraped."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from sluice.api.observability import BatchQueueGauges
from sluice.obs.metrics import Metrics
from sluice.store.protocols import Store
from sluice.store.records import BatchCaller, BatchQueueStats, NewBatchLine, StoredBatch

T0 = 1_700_000_000


def a_batch(batch_id: str, created_at: int, status: str = "validating") -> StoredBatch:
    return StoredBatch(
        "tenant:acme",
        batch_id,
        "/v1/chat/completions",
        "file-in",
        "24h",
        status,
        BatchCaller("k", tenant_id="acme", key_id="key-1"),
        created_at,
        created_at + 86_400,
    )


async def running(store: Store, batch_id: str, at: int, lines: int) -> StoredBatch:
    """A batch validated at ``at`` with ``lines`` pending lines."""
    await store.create_batch(a_batch(batch_id, at))
    claimed = await store.claim_batch(at, 60)
    assert claimed is not None and claimed.id == batch_id
    new = [NewBatchLine(f"c-{i}", i + 1, f"batch_req_{batch_id}_{i}", "{}") for i in range(lines)]
    assert await store.start_batch(claimed, new, "gpt-4o-mini", at)
    got = await store.get_batch("tenant:acme", batch_id)
    assert got is not None
    return got


def gauges(m: Metrics) -> dict[tuple[str, str], float]:
    out = {}
    for family in text_string_to_metric_families(m.scrape().decode()):
        for s in family.samples:
            if s.name in (
                "sluice_batch_queue_lines",
                "sluice_batches",
                "sluice_batch_oldest_pending_seconds",
            ):
                out[(s.name, s.labels.get("status", ""))] = s.value
    return out


async def test_an_empty_store_has_an_empty_queue(store: Store) -> None:
    assert await store.batch_queue_stats() == BatchQueueStats({}, None, {})


async def test_queue_stats_count_running_batches_lines_and_the_oldest_pending(store: Store) -> None:
    first = await running(store, "batch_a", T0 + 10, 3)
    await running(store, "batch_b", T0 + 20, 2)
    await store.create_batch(a_batch("batch_v", T0 + 25))  # still validating: no lines yet
    claimed = await store.claim_lines(first, T0 + 30, 60, 2)
    assert len(claimed) == 2
    stats = await store.batch_queue_stats()
    assert stats.lines == {"pending": 3, "running": 2}
    assert stats.oldest_pending_at == T0 + 10  # batch_a still has a pending line
    assert stats.batches == {"validating": 1, "in_progress": 2}

    # batch_a's last pending line claimed: the oldest pending is batch_b's
    assert len(await store.claim_lines(first, T0 + 31, 60, 5)) == 1
    stats = await store.batch_queue_stats()
    assert (stats.lines, stats.oldest_pending_at) == ({"pending": 2, "running": 3}, T0 + 20)

    # a cancelled batch's lines wait for nothing: out of the depth
    assert await store.cancel_batch_run("tenant:acme", "batch_b", T0 + 40) is not None
    stats = await store.batch_queue_stats()
    assert (stats.lines, stats.oldest_pending_at) == ({"running": 3}, None)
    assert stats.batches == {"validating": 1, "in_progress": 1, "cancelling": 1}


async def test_gauges_read_the_store_when_scraped_at_most_once_per_interval(store: Store) -> None:
    now = [float(T0 + 100)]
    m = Metrics()
    g = BatchQueueGauges(store.batch_queue_stats, m, every_s=5, clock=lambda: now[0])
    await running(store, "batch_a", T0 + 10, 4)
    await g.refresh()
    assert gauges(m) == {
        ("sluice_batch_queue_lines", "pending"): 4,
        ("sluice_batch_queue_lines", "running"): 0,
        ("sluice_batches", "validating"): 0,
        ("sluice_batches", "in_progress"): 1,
        ("sluice_batches", "finalizing"): 0,
        ("sluice_batches", "cancelling"): 0,
        ("sluice_batch_oldest_pending_seconds", ""): 90,
    }
    assert await store.cancel_batch_run("tenant:acme", "batch_a", T0 + 101) is not None
    now[0] += 1
    await g.refresh()  # within every_s: the figures read 1 s ago stand
    assert gauges(m)[("sluice_batch_queue_lines", "pending")] == 4
    now[0] += 5
    await g.refresh()
    after = gauges(m)
    assert after[("sluice_batch_queue_lines", "pending")] == 0
    assert after[("sluice_batches", "in_progress")] == 0 and after[("sluice_batches", "cancelling")] == 1
    assert after[("sluice_batch_oldest_pending_seconds", "")] == 0


async def test_a_store_that_fails_leaves_the_last_figures(store: Store) -> None:
    m = Metrics()
    await running(store, "batch_a", T0, 2)
    g = BatchQueueGauges(store.batch_queue_stats, m, every_s=0, clock=lambda: float(T0 + 5))
    await g.refresh()
    await store.close()  # the store away: the scrape still answers, with what it read before
    await g.refresh()
    assert gauges(m)[("sluice_batch_queue_lines", "pending")] == 2


async def test_a_claim_takes_pending_and_lapsed_lines_in_file_order(store: Store) -> None:
    """The claim reads pending lines and lines whose lease ran out (a dead process's) in index
    order, merged by line number; a line under a live lease is not taken."""
    batch = await running(store, "batch_a", T0, 6)
    first = await store.claim_lines(batch, T0 + 1, 10, 3)  # lines 1-3, leased until T0 + 11
    assert [x.line_no for x in first] == [1, 2, 3]
    assert [x.line_no for x in await store.claim_lines(batch, T0 + 5, 100, 2)] == [4, 5]
    later = await store.claim_lines(batch, T0 + 20, 60, 3)  # 1-3 lapsed at T0 + 11; 4-5 still held
    assert [(x.line_no, x.attempts) for x in later] == [(1, 2), (2, 2), (3, 2)]
    assert [x.line_no for x in await store.claim_lines(batch, T0 + 21, 60, 5)] == [6]
    assert await store.claim_lines(batch, T0 + 22, 60, 5) == []
