"""The vector store methods of the Store contract, on SQLite and PostgreSQL: owner scoping,
counts, the ingestion queue's claims and leases, full-text search, and a file's deletion taking
its chunks out of every store."""

from __future__ import annotations

import asyncio

import msgspec

from sluice.store.protocols import Store
from sluice.store.records import FileQuota, StoredChunk, StoredFile, VectorStore, VectorStoreFile

T0 = 1_700_000_000
ROOMY = FileQuota(max_bytes=10**12, max_files=10**6)
A, B = "tenant:t-a", "tenant:t-b"
STATIC = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


def a_store(store_id: str, owner: str = A, created_at: int = T0) -> VectorStore:
    return VectorStore(owner, store_id, f"name {store_id}", created_at, created_at, {"k": "v"})


def attached(store_id: str, file_id: str, owner: str = A, created_at: int = T0) -> VectorStoreFile:
    return VectorStoreFile(
        owner, store_id, file_id, created_at, "in_progress", STATIC, {"author": "ana", "year": 2024}
    )


async def with_files(store: Store, owner: str, *file_ids: str) -> None:
    for i, f in enumerate(file_ids):
        assert await store.add_file(StoredFile(owner, f, 10, T0 + i, f"{f}.md", "assistants"), ROOMY) is None


async def test_vector_stores_are_scoped_by_owner(store: Store) -> None:
    await store.create_vector_store(a_store("vs_1"))
    await store.create_vector_store(a_store("vs_2", created_at=T0 + 1))
    await store.create_vector_store(a_store("vs_3", owner=B))
    got = await store.get_vector_store(A, "vs_1")
    assert got is not None and got.metadata == {"k": "v"} and got.usage_bytes == 0
    assert got.file_counts == {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0}
    assert await store.get_vector_store(B, "vs_1") is None
    listed = await store.list_vector_stores(A, order="desc", after=None, limit=10)
    assert [v.id for v in listed] == ["vs_2", "vs_1"]
    assert [v.id for v in await store.list_vector_stores(A, order="asc", after="vs_1", limit=10)] == ["vs_2"]
    assert (
        await store.update_vector_store(msgspec.structs.replace(a_store("vs_1", owner=B), name="x")) is False
    )
    renamed = msgspec.structs.replace(
        got, name="renamed", expires_after={"anchor": "last_active_at", "days": 2}
    )
    assert await store.update_vector_store(renamed) is True
    again = await store.get_vector_store(A, "vs_1")
    assert again is not None and again.name == "renamed" and again.expires_after == renamed.expires_after
    assert await store.delete_vector_store(B, "vs_1") is False
    assert await store.delete_vector_store(A, "vs_1") is True
    assert await store.get_vector_store(A, "vs_1") is None


async def test_ingestion_claims_leases_and_finishes(store: Store) -> None:
    await with_files(store, A, "file-1", "file-2")
    await store.create_vector_store(a_store("vs_1"))
    await store.attach_files([attached("vs_1", "file-1"), attached("vs_1", "file-2", created_at=T0 + 1)])
    first = await store.claim_ingestion(now=100.0, lease_s=30)
    second = await store.claim_ingestion(now=100.0, lease_s=30)
    assert (
        first is not None and second is not None and {first.file_id, second.file_id} == {"file-1", "file-2"}
    )
    assert first.attempts == 1 and first.lease_until == 130.0
    assert await store.claim_ingestion(now=110.0, lease_s=30) is None  # both leased
    retaken = await store.claim_ingestion(now=131.0, lease_s=30)  # a lease ran out: claimed again
    assert retaken is not None and retaken.file_id == first.file_id and retaken.attempts == 2
    # The stale claim can no longer finish; the fresh one can, once.
    chunks = [StoredChunk(0, 0, 11, "vacation 25", b"\x00" * 8), StoredChunk(1, 12, 20, "holidays")]
    assert await store.finish_ingestion(first, chunks, None) is False
    assert await store.renew_lease(first, 500.0) is None  # lost
    renewed = await store.renew_lease(retaken, 500.0)
    assert renewed is not None and renewed.lease_until == 500.0
    held = await store.get_vector_store_file(A, "vs_1", retaken.file_id)
    assert held is not None and held.lease_until == 500.0
    assert await store.finish_ingestion(retaken, chunks, None) is False  # the old lease is gone
    retaken = renewed
    assert await store.finish_ingestion(retaken, chunks, None) is True
    assert await store.file_chunks(A, "vs_1", retaken.file_id) == [
        StoredChunk(0, 0, 11, "vacation 25"),
        StoredChunk(1, 12, 20, "holidays"),
    ]
    assert await store.file_chunks(B, "vs_1", retaken.file_id) == []
    assert await store.finish_ingestion(retaken, chunks, None) is False
    assert await store.finish_ingestion(second, [], ("invalid_file", "not UTF-8")) is True
    done = await store.get_vector_store_file(A, "vs_1", retaken.file_id)
    failed = await store.get_vector_store_file(A, "vs_1", second.file_id)
    assert done is not None and done.status == "completed" and done.usage_bytes == len("vacation 25holidays")
    assert failed is not None and (failed.status, failed.error_code, failed.error_message) == (
        "failed",
        "invalid_file",
        "not UTF-8",
    )
    vs = await store.get_vector_store(A, "vs_1")
    assert vs is not None and vs.file_counts["completed"] == 1 and vs.file_counts["failed"] == 1
    assert vs.file_counts["total"] == 2 and vs.usage_bytes == done.usage_bytes
    assert await store.get_vector_store_file(B, "vs_1", retaken.file_id) is None
    listed = await store.list_vector_store_files(
        A, "vs_1", status="failed", batch_id=None, order="asc", after=None, limit=10
    )
    assert [f.file_id for f in listed] == [second.file_id]
    assert (
        await store.list_vector_store_files(
            B, "vs_1", status=None, batch_id=None, order="asc", after=None, limit=10
        )
        == []
    )


async def test_concurrent_claims_never_share_a_file(store: Store) -> None:
    ids = [f"file-{i}" for i in range(6)]
    await with_files(store, A, *ids)
    await store.create_vector_store(a_store("vs_1"))
    await store.attach_files([attached("vs_1", f) for f in ids])
    claims = await asyncio.gather(*(store.claim_ingestion(now=100.0, lease_s=30) for _ in range(10)))
    got = [c.file_id for c in claims if c is not None]
    assert sorted(got) == ids


async def test_search_text_is_owner_scoped_and_deleting_a_file_removes_its_chunks(store: Store) -> None:
    await with_files(store, A, "file-1", "file-2")
    await with_files(store, B, "file-1")
    for owner in (A, B):
        await store.create_vector_store(a_store("vs_1", owner=owner))
        await store.create_vector_store(a_store("vs_2", owner=owner))
    await store.attach_files(
        [attached("vs_1", "file-1"), attached("vs_2", "file-1"), attached("vs_1", "file-2")]
    )
    await store.attach_files([attached("vs_1", "file-1", owner=B)])
    texts = {"file-1": "Employees get 25 vacation days a year.", "file-2": "The office opens at nine."}
    while (c := await store.claim_ingestion(now=100.0, lease_s=30)) is not None:
        text = "Tenant B secret vacation plan." if c.owner == B else texts[c.file_id]
        assert await store.finish_ingestion(c, [StoredChunk(0, 0, len(text), text, b"\x01\x02")], None)
    hits = await store.search_text(A, "vs_1", ["vacation", "holiday"], 10)
    assert [(h.file_id, h.text, h.filename) for h in hits] == [("file-1", texts["file-1"], "file-1.md")]
    assert hits[0].attributes == {"author": "ana", "year": 2024}
    assert [h.file_id for h in await store.search_text(B, "vs_1", ["vacation"], 10)] == ["file-1"]
    assert (await store.search_text(B, "vs_1", ["vacation"], 10))[0].text.startswith("Tenant B")
    assert [h.file_id for h in await store.search_text(A, "vs_1", ["office", "vacation"], 1)] != []
    assert (await store.chunk_count(A), await store.chunk_count(B)) == (3, 1)
    everything = await store.store_chunks(A, "vs_1", 100)
    assert sorted(h.file_id for h in everything) == ["file-1", "file-2"]
    assert everything[0].embedding == b"\x01\x02"
    before = await store.chunks_version(A, "vs_1")
    assert before[0] == 2 and await store.chunks_version(B, "vs_2") == (0, 0)
    assert await store.delete_file(A, "file-1") is True
    assert await store.chunks_version(A, "vs_1") != before
    assert await store.search_text(A, "vs_1", ["vacation"], 10) == []
    assert await store.store_chunks(A, "vs_2", 100) == []
    assert await store.get_vector_store_file(A, "vs_2", "file-1") is None
    assert len(await store.search_text(B, "vs_1", ["vacation"], 10)) == 1  # B's is untouched
    assert await store.detach_file(A, "vs_1", "file-2") is True
    assert await store.detach_file(A, "vs_1", "file-2") is False
    assert await store.store_chunks(A, "vs_1", 100) == []
    assert (await store.chunks_version(A, "vs_1"))[0] == 0


async def test_chunk_ids_are_never_reused(store: Store) -> None:
    """So a store's (count, greatest id) changes when its newest file is replaced by another."""
    await with_files(store, A, "file-1", "file-2")
    await store.create_vector_store(a_store("vs_1"))
    await store.attach_files([attached("vs_1", "file-1")])
    c = await store.claim_ingestion(now=100.0, lease_s=30)
    assert c is not None and await store.finish_ingestion(c, [StoredChunk(0, 0, 1, "a")], None)
    first = await store.chunks_version(A, "vs_1")
    assert await store.detach_file(A, "vs_1", "file-1")
    await store.attach_files([attached("vs_1", "file-2")])
    c = await store.claim_ingestion(now=100.0, lease_s=30)
    assert c is not None and await store.finish_ingestion(c, [StoredChunk(0, 0, 1, "b")], None)
    second = await store.chunks_version(A, "vs_1")
    assert first[0] == second[0] == 1 and second[1] > first[1]


async def test_attributes_update_and_batch_cancel(store: Store) -> None:
    await with_files(store, A, "file-1", "file-2", "file-3")
    await store.create_vector_store(a_store("vs_1"))
    batch = [msgspec.structs.replace(attached("vs_1", f), batch_id="vsfb_1") for f in ("file-1", "file-2")]
    await store.attach_files([*batch, attached("vs_1", "file-3")])
    c = await store.claim_ingestion(now=100.0, lease_s=30)
    assert c is not None and c.file_id == "file-1"
    assert await store.finish_ingestion(c, [StoredChunk(0, 0, 5, "alpha")], None)
    changed = await store.set_file_attributes(A, "vs_1", "file-1", {"team": "hr"})
    assert changed is not None and changed.attributes == {"team": "hr"} and changed.status == "completed"
    assert (await store.search_text(A, "vs_1", ["alpha"], 5))[0].attributes == {"team": "hr"}
    assert await store.set_file_attributes(B, "vs_1", "file-1", {}) is None
    taken = await store.claim_ingestion(now=100.0, lease_s=30)  # file-2, then cancelled under it
    assert taken is not None and taken.file_id == "file-2"
    assert await store.cancel_batch(B, "vs_1", "vsfb_1") == 0
    assert await store.cancel_batch(A, "vs_1", "vsfb_1") == 1
    assert await store.finish_ingestion(taken, [StoredChunk(0, 0, 4, "beta")], None) is False
    got = await store.get_vector_store_file(A, "vs_1", "file-2")
    assert got is not None and got.status == "cancelled"
    left = await store.claim_ingestion(now=100.0, lease_s=30)
    assert left is not None and left.file_id == "file-3"


async def test_vector_search_is_owner_scoped_nearest_first(store: Store, backend: str, database: str) -> None:
    """PostgreSQL searches pgvector's HNSW index; SQLite has none and says so (None: scan)."""
    from sluice.knowledge.vectors import pack

    await with_files(store, A, "file-1", "file-2")
    await with_files(store, B, "file-1")
    await store.create_vector_store(a_store("vs_1"))
    await store.create_vector_store(a_store("vs_1", owner=B))
    await store.attach_files([attached("vs_1", "file-1"), attached("vs_1", "file-2")])
    await store.attach_files([attached("vs_1", "file-1", owner=B)])
    vectors = {(A, "file-1"): [1.0, 0.0, 0.0], (A, "file-2"): [0.6, 0.8, 0.0], (B, "file-1"): [1.0, 0.0, 0.0]}
    while (c := await store.claim_ingestion(now=100.0, lease_s=30)) is not None:
        v = vectors[(c.owner, c.file_id)]
        assert await store.finish_ingestion(
            c, [StoredChunk(0, 0, 1, "x", pack(v)), StoredChunk(1, 1, 2, "y")], None
        )
    found = await store.search_vectors(A, "vs_1", pack([0.0, 1.0, 0.0]), 10)
    if backend == "sqlite":
        assert found is None
        return
    assert found is not None and [h.file_id for h in found] == ["file-2", "file-1"]  # no B's, no unembedded
    assert found[0].filename == "file-2.md" and found[0].attributes == {"author": "ana", "year": 2024}
    assert await store.search_vectors(A, "vs_1", pack([0.0, 1.0]), 10) == []  # another dimension
    assert [h.file_id for h in await store.search_vectors(B, "vs_1", pack([0.0, 1.0, 0.0]), 10) or []] == [
        "file-1"
    ]


async def test_the_vector_store_cap_holds_under_concurrent_creates(store: Store) -> None:
    made = await asyncio.gather(
        *(store.create_vector_store(a_store(f"vs_{i}"), max_stores=3) for i in range(10))
    )
    assert sum(made) == 3  # never past the cap, however the creates interleave
    assert await store.create_vector_store(a_store("vs_b", owner=B), max_stores=3) is True  # per owner
    kept = await store.list_vector_stores(A, order="asc", after=None, limit=100)
    assert len(kept) == 3
    assert await store.delete_vector_store(A, kept[0].id)
    assert await store.create_vector_store(a_store("vs_again"), max_stores=3) is True  # room again
    assert await store.create_vector_store(a_store("vs_more"), max_stores=3) is False
