"""The ingestion worker on a real SQLite store: a file whose claims keep dying ends failed after
the last attempt (never stuck in_progress); a parse failure ends failed with the parser's code;
the chunk quota holds; a file ingested has its chunks, offsets and embeddings stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sluice.knowledge.chunk import AUTO, ChunkingStrategy, static
from sluice.knowledge.ingest import IngestLimits, Ingestor
from sluice.limits.tokens import text_tokens
from sluice.store.records import FileQuota, StoredFile, VectorStore, VectorStoreFile
from sluice.store.sqlite.store import SqliteStore

OWNER = "tenant:t-a"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "k.db"))
    await s.migrate()
    await s.create_vector_store(VectorStore(OWNER, "vs_1", "n", 1, 1))
    yield s
    await s.close()


async def upload(
    store: SqliteStore, file_id: str, name: str, data: bytes, how: ChunkingStrategy = AUTO
) -> None:
    assert (
        await store.add_file(
            StoredFile(OWNER, file_id, len(data), 1, name, "assistants"), FileQuota(10**9, 10**6)
        )
        is None
    )
    await store.put_blob(OWNER, file_id, [data])
    await store.attach_files([VectorStoreFile(OWNER, "vs_1", file_id, 1, "in_progress", how.wire())])


async def fake_embed(texts: list[str], owner: str) -> list[list[float]]:
    assert owner == OWNER
    return [[float(len(t)), 1.0, 0.0] for t in texts]


async def test_a_file_whose_claims_keep_dying_ends_failed(store: SqliteStore) -> None:
    await upload(store, "file-1", "a.md", b"hello there")
    clock = Clock()
    worker = Ingestor(store, store, None, text_tokens, IngestLimits(lease_s=10, max_attempts=2), clock)
    for _ in range(2):  # two claims whose gateways died: never finished
        assert await store.claim_ingestion(clock.now, 10) is not None
        clock.now += 11
    assert await worker.run_once() is True
    f = await store.get_vector_store_file(OWNER, "vs_1", "file-1")
    assert f is not None and f.status == "failed" and f.error_code == "server_error"
    assert await worker.run_once() is False  # nothing left


async def test_parse_failure_and_success(store: SqliteStore) -> None:
    await upload(store, "file-bad", "x.bin", b"\x00\x01")
    await upload(store, "file-ok", "ok.md", b"# Title\n\nSome text here.\n")
    worker = Ingestor(store, store, fake_embed, text_tokens, IngestLimits(), Clock())
    assert await worker.run_once() and await worker.run_once()
    bad = await store.get_vector_store_file(OWNER, "vs_1", "file-bad")
    ok = await store.get_vector_store_file(OWNER, "vs_1", "file-ok")
    assert bad is not None and bad.status == "failed" and bad.error_code == "unsupported_file"
    assert ok is not None and ok.status == "completed"
    chunks = await store.store_chunks(OWNER, "vs_1", 10)
    assert [c.text for c in chunks] == ["# Title\n\nSome text here.\n"]
    assert chunks[0].embedding is not None and len(chunks[0].embedding) == 3 * 4


async def test_the_chunk_quota_fails_the_file(store: SqliteStore) -> None:
    await upload(store, "file-1", "a.md", b"one two three")
    worker = Ingestor(store, store, None, text_tokens, IngestLimits(max_owner_chunks=0), Clock())
    assert await worker.run_once()
    f = await store.get_vector_store_file(OWNER, "vs_1", "file-1")
    assert f is not None and f.status == "failed" and "quota" in (f.error_message or "")


async def test_a_long_ingestion_renews_its_lease(store: SqliteStore) -> None:
    """Each embedding batch passes time; the claim is renewed before half its lease is gone, so no
    other claim can take the file meanwhile, and the file completes on its first attempt."""
    await upload(store, "file-1", "a.md", b" ".join(b"word%d." % i for i in range(12000)), static(100, 0))
    clock = Clock()

    async def slow_embed(texts: list[str], owner: str) -> list[list[float]]:
        clock.now += 4  # a 10 s lease would run out after three batches
        assert await store.claim_ingestion(clock.now, 10) is None  # never free for another claim
        return [[1.0, 0.0] for _ in texts]

    limits = IngestLimits(lease_s=10)
    worker = Ingestor(store, store, slow_embed, text_tokens, limits, clock)
    assert await worker.run_once()
    f = await store.get_vector_store_file(OWNER, "vs_1", "file-1")
    assert f is not None and f.status == "completed" and f.attempts == 1
    assert len(await store.store_chunks(OWNER, "vs_1", 10**4)) > 3 * 64  # four batches: renewed twice


async def test_a_lost_claim_stores_nothing(store: SqliteStore) -> None:
    await upload(store, "file-1", "a.md", b" ".join(b"word%d." % i for i in range(3000)))
    clock = Clock()
    thief: list[object] = []

    async def stalled_embed(texts: list[str], owner: str) -> list[list[float]]:
        clock.now += 11  # past the lease: another claim takes the file
        if not thief:
            thief.append(await store.claim_ingestion(clock.now, 10))
        return [[1.0, 0.0] for _ in texts]

    worker = Ingestor(store, store, stalled_embed, text_tokens, IngestLimits(lease_s=10), clock)
    assert await worker.run_once()
    f = await store.get_vector_store_file(OWNER, "vs_1", "file-1")
    assert thief[0] is not None and f is not None and f.status == "in_progress" and f.attempts == 2
    assert await store.store_chunks(OWNER, "vs_1", 10) == []
