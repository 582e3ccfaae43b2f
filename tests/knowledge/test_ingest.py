"""The ingestion worker on a real SQLite store: a file whose claims keep dying ends failed after
the last attempt (never stuck in_progress); a parse failure ends failed with the parser's code;
the chunk quota holds; a file ingested has its chunks, offsets and embeddings stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sluice.knowledge.chunk import AUTO
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


async def upload(store: SqliteStore, file_id: str, name: str, data: bytes) -> None:
    assert (
        await store.add_file(
            StoredFile(OWNER, file_id, len(data), 1, name, "assistants"), FileQuota(10**9, 10**6)
        )
        is None
    )
    await store.put_blob(OWNER, file_id, [data])
    await store.attach_files([VectorStoreFile(OWNER, "vs_1", file_id, 1, "in_progress", AUTO.wire())])


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
