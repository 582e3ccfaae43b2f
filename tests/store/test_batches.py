"""Batches' rows on both stores: a batch past its window is not ended while a line runs under a
live lease (the line keeps its result; only lines never started expire), a batch stored with its
lines at once (a Message Batch), listing by kind both ways, and deleting only an ended batch."""

from __future__ import annotations

from sluice.store.protocols import Store
from sluice.store.records import BatchCaller, LineResult, NewBatchLine, StoredBatch

T0 = 4_102_444_800
EXPIRED = LineResult("failed", error_code="batch_expired", error_message="expired")


def batch(batch_id: str, created_at: int = T0, kind: str = "anthropic", window_s: int = 10) -> StoredBatch:
    return StoredBatch(
        "tenant:t",
        batch_id,
        "/v1/messages",
        "",
        "24h",
        "in_progress",
        BatchCaller("k", "t"),
        created_at,
        created_at + window_s,
        in_progress_at=created_at,
        total=2,
        kind=kind,
    )


def lines(n: int = 2) -> list[NewBatchLine]:
    return [NewBatchLine(f"c-{i}", i + 1, f"r-{i}", "{}") for i in range(n)]


async def test_a_line_running_when_the_window_passes_finishes_and_only_the_rest_expire(store: Store) -> None:
    b = batch("msgbatch_1")
    await store.create_batch(b, lines())
    running = await store.claim_lines(b, T0 + 1, 60, 1)
    assert [x.custom_id for x in running] == ["c-0"]
    past = T0 + 11.0  # the window has passed; the line's lease (T0 + 61) has not
    await store.advance_batches(past)
    assert await store.claim_batch(past, 30) is None  # not ended under the running line
    assert await store.pending_batch(past, []) is None  # and no new line starts
    assert await store.finish_line(running[0], LineResult("completed", 200, "req_1", "{}", output_tokens=3))
    await store.advance_batches(past + 1)
    claimed = await store.claim_batch(past + 1, 30)
    assert claimed is not None and (claimed.status, claimed.ending) == ("finalizing", "expired")
    assert await store.expire_lines(b.id, EXPIRED) == 1
    done = {x.custom_id: x.result for x in await store.batch_results(b.id)}
    assert done["c-0"].status == "completed" and done["c-0"].output_tokens == 3
    assert done["c-1"].error_code == "batch_expired"
    got = await store.get_batch("tenant:t", b.id)
    assert got is not None and (got.completed, got.failed, got.expired, got.cancelled) == (1, 1, 1, 0)


async def test_a_line_whose_process_died_does_not_hold_the_end(store: Store) -> None:
    b = batch("msgbatch_2")
    await store.create_batch(b, lines())
    await store.claim_lines(b, T0 + 1, 5, 1)  # its lease runs out at T0 + 6
    await store.advance_batches(T0 + 11)
    claimed = await store.claim_batch(T0 + 11, 30)
    assert claimed is not None and claimed.ending == "expired"
    assert await store.expire_lines(b.id, EXPIRED) == 2


async def test_listing_by_kind_pages_both_ways_and_only_an_ended_batch_is_deleted(store: Store) -> None:
    for i in range(4):
        await store.create_batch(batch(f"msgbatch_{i}", T0 + i), lines(1))
    await store.create_batch(batch("batch_x", T0 + 9, kind="batch"))
    ids = [x.id for x in await store.list_batches("tenant:t", after=None, limit=10, kind="anthropic")]
    assert ids == ["msgbatch_3", "msgbatch_2", "msgbatch_1", "msgbatch_0"]
    older = await store.list_batches("tenant:t", after="msgbatch_2", limit=10, kind="anthropic")
    assert [x.id for x in older] == ["msgbatch_1", "msgbatch_0"]
    newer = await store.list_batches("tenant:t", after=None, limit=2, kind="anthropic", before="msgbatch_0")
    assert [x.id for x in newer] == ["msgbatch_2", "msgbatch_1"]  # the two just newer, newest first
    assert [x.id for x in await store.list_batches("tenant:t", after=None, limit=10)] == ["batch_x"]
    assert await store.list_batches("tenant:other", after=None, limit=10, kind="anthropic") == []
    assert not await store.delete_batch("tenant:t", "msgbatch_0")  # in progress
    await store.cancel_batch_run("tenant:t", "msgbatch_0", T0 + 5)
    await store.advance_batches(T0 + 5)
    claimed = await store.claim_batch(T0 + 5, 30)
    assert claimed is not None and claimed.id == "msgbatch_0" and claimed.ending == "cancelled"
    assert await store.end_batch(claimed, "cancelled", None, None, T0 + 5)
    assert not await store.delete_batch("tenant:other", "msgbatch_0")  # another owner's
    assert await store.delete_batch("tenant:t", "msgbatch_0")
    assert await store.get_batch("tenant:t", "msgbatch_0") is None
    assert await store.batch_results("msgbatch_0") == []
