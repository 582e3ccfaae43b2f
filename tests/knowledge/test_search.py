"""Hybrid search over a real SQLite store: the vector ranking finds what full text cannot, the
two are fused, filters apply before fusing; the per-process chunk cache is reused until the
store's chunks change, and bounded."""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from sluice.knowledge.chunk import AUTO
from sluice.knowledge.rank import parse_filter
from sluice.knowledge.search import MAX_QUERY_WORDS, ChunkCache, Searcher, search, words
from sluice.knowledge.vectors import Matrix, nearest, pack
from sluice.store.records import FileQuota, StoredChunk, StoredFile, VectorStore, VectorStoreFile
from sluice.store.sqlite.store import SqliteStore

OWNER = "tenant:t-a"
# Toy embeddings: axis 0 is "time off", axis 1 is "cooking".
TEXTS = {
    "file-1": ("Every employee gets 25 vacation days.", [1.0, 0.0], {"year": 2024}),
    "file-2": ("Stir the risotto slowly.", [0.0, 1.0], {"year": 2023}),
}


async def embed(texts: list[str], owner: str) -> list[list[float]]:
    return [[1.0, 0.1] if "holiday" in t else [0.1, 1.0] for t in texts]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(str(tmp_path / "k.db"))
    await s.migrate()
    await s.create_vector_store(VectorStore(OWNER, "vs_1", "n", 1, 1))
    for file_id, (text, vector, attributes) in TEXTS.items():
        await s.add_file(
            StoredFile(OWNER, file_id, 1, 1, f"{file_id}.md", "assistants"), FileQuota(10**9, 10**6)
        )
        await s.attach_files(
            [VectorStoreFile(OWNER, "vs_1", file_id, 1, "in_progress", AUTO.wire(), attributes)]
        )
        claimed = await s.claim_ingestion(1.0, 10)
        assert claimed is not None
        assert await s.finish_ingestion(claimed, [StoredChunk(0, 0, len(text), text, pack(vector))], None)
    yield s
    await s.close()


async def run(store: SqliteStore, query: str, cache: ChunkCache, **kw: object) -> list[tuple[str, float]]:
    found = await search(
        store,
        OWNER,
        "vs_1",
        [query],
        query=pack((await embed([query], OWNER))[0]),
        cache=cache,
        max_results=int(kw.get("max_results", 10)),  # type: ignore[call-overload]
        filters=kw.get("filters"),  # type: ignore[arg-type]
        score_threshold=float(kw.get("threshold", 0.0)),  # type: ignore[arg-type]
        max_scan_chunks=100,
        only=kw.get("only"),  # type: ignore[arg-type]
    )
    return [(f.hit.file_id, round(f.score, 3)) for f in found]


async def test_hybrid_ranking_filters_and_threshold(store: SqliteStore) -> None:
    cache = ChunkCache(10**6)
    # No word in common: the vectors alone rank it, first of one of two rankings.
    assert (await run(store, "holiday allowance", cache))[0] == ("file-1", 0.5)
    # Words and meaning agree: first in both.
    assert (await run(store, "vacation holiday", cache))[0] == ("file-1", 1.0)
    assert await run(store, "vacation holiday", cache, threshold=0.9) == [("file-1", 1.0)]
    only_2023 = parse_filter({"type": "eq", "key": "year", "value": 2023})
    assert [f for f, _ in await run(store, "holiday", cache, filters=only_2023)] == ["file-2"]


async def test_one_ranking_alone(store: SqliteStore) -> None:
    """``only`` (for bench/knowledge_eval.py) keeps one ranking: full text alone finds no chunk
    sharing no word with the query, vectors alone rank every chunk by meaning."""
    cache = ChunkCache(10**6)
    assert await run(store, "holiday allowance", cache, only="text") == []
    assert await run(store, "holiday vacation", cache, only="text") == [("file-1", 1.0)]
    assert await run(store, "holiday risotto", cache, only="vectors") == [("file-1", 1.0), ("file-2", 0.917)]
    assert await run(store, "risotto", cache, only="vectors") == [("file-2", 1.0), ("file-1", 0.917)]


def test_full_text_leaves_out_english_stop_words() -> None:
    """PostgreSQL's English stop words (its 'english' configuration drops them too) are left out of
    the full text query, unless nothing else is left; case and repeats are folded, and the count is
    bounded after the stop words are gone."""
    assert words(["How does the Varne Point light flash?", "varne"]) == ["varne", "point", "light", "flash"]
    assert words(["What is it?"]) == ["what", "is", "it"]
    assert words(["naïve café Straße"]) == ["naïve", "café", "straße"]
    many = " ".join(["the"] * 100 + [f"w{i}" for i in range(100)])
    assert words([many]) == [f"w{i}" for i in range(MAX_QUERY_WORDS)]


async def test_a_stop_word_does_not_rank(store: SqliteStore) -> None:
    cache = ChunkCache(10**6)
    # "the" is in both chunks' text... were it searched; "slowly" only in file-2's
    assert await run(store, "the risotto", cache, only="text") == [("file-2", 1.0)]
    assert await run(store, "what every", cache, only="text") == [("file-1", 1.0)]


async def test_the_cache_is_reused_until_the_chunks_change(store: SqliteStore) -> None:
    cache = ChunkCache(10**6)
    first = await cache.get(store, OWNER, "vs_1", 100)
    assert (await cache.get(store, OWNER, "vs_1", 100))[1] is first[1]
    assert await store.detach_file(OWNER, "vs_1", "file-2")
    hits, matrix = await cache.get(store, OWNER, "vs_1", 100)
    assert matrix is not first[1] and [h.file_id for h in hits] == ["file-1"]
    assert [f for f, _ in await run(store, "risotto", cache)] == ["file-1"]  # file-2 is gone
    tiny = ChunkCache(0)  # a store over the bound is read on every search, never kept
    assert (await tiny.get(store, OWNER, "vs_1", 100))[1] is not (await tiny.get(store, OWNER, "vs_1", 100))[
        1
    ]


async def test_searcher_embeds_once_and_keeps_the_best_over_stores(store: SqliteStore) -> None:
    text = "Holiday rules: the office closes in August."
    await store.create_vector_store(VectorStore(OWNER, "vs_2", "n", 1, 1))
    await store.add_file(
        StoredFile(OWNER, "file-3", 1, 1, "file-3.md", "assistants"), FileQuota(10**9, 10**6)
    )
    await store.attach_files([VectorStoreFile(OWNER, "vs_2", "file-3", 1, "in_progress", AUTO.wire(), {})])
    claimed = await store.claim_ingestion(1.0, 10)
    assert claimed is not None
    assert await store.finish_ingestion(claimed, [StoredChunk(0, 0, len(text), text, pack([1.0, 0.0]))], None)
    calls: list[list[str]] = []

    async def counted(texts: list[str], owner: str) -> list[list[float]]:
        calls.append(texts)
        return await embed(texts, owner)

    searcher = Searcher(store, counted, max_scan_chunks=100, cache_bytes=10**6)
    found = await searcher.search(OWNER, ["vs_1", "vs_2"], ["holiday"], max_results=2)
    assert calls == [["holiday"]]
    assert [(f.store_id, f.hit.file_id) for f in found] == [("vs_2", "file-3"), ("vs_1", "file-1")]
    assert found[0].score >= found[1].score


def test_nearest_skips_other_dimensions() -> None:
    m = Matrix([pack([1, 0]), None, pack([0, 1, 0]), pack([0.6, 0.8])])
    assert m.rows == [0, 3]
    assert nearest(pack([0, 1]), m, 5) == [3, 0]
    assert nearest(pack([0, 1, 0]), m, 5) == []


async def test_the_rerank_step_reorders_rescales_and_may_be_skipped(store: SqliteStore) -> None:
    """The reranker sees the fused candidates best first, its scores replace the fused ones (the
    threshold applies to them), ``rerank=False`` keeps the fused order, and no ratings keep it too."""
    seen: list[tuple[str, str, list[str]]] = []
    ratings: list[list[float] | None] = []

    async def rerank(owner: str, query: str, texts: Sequence[str]) -> list[float] | None:
        seen.append((owner, query, list(texts)))
        return ratings.pop(0)

    searcher = Searcher(
        store, embed, max_scan_chunks=100, cache_bytes=10**6, rerank=rerank, rerank_candidates=5
    )
    fused = [
        (f.hit.file_id, f.score)
        for f in await searcher.search(OWNER, ["vs_1"], ["holiday"], max_results=2, rerank=False)
    ]
    assert [file_id for file_id, _ in fused] == ["file-1", "file-2"] and seen == []
    ratings.append([0.1, 0.9])
    found = await searcher.search(OWNER, ["vs_1"], ["holiday"], max_results=2)
    assert seen == [(OWNER, "holiday", [TEXTS["file-1"][0], TEXTS["file-2"][0]])]
    assert [(f.hit.file_id, f.score) for f in found] == [("file-2", 0.9), ("file-1", 0.1)]
    ratings.append([0.1, 0.9])
    found = await searcher.search(OWNER, ["vs_1"], ["holiday"], max_results=2, score_threshold=0.5)
    assert [f.hit.file_id for f in found] == ["file-2"]
    ratings.append(None)  # the model gave no ratings: the fused order and scores stand
    found = await searcher.search(OWNER, ["vs_1"], ["holiday"], max_results=1)
    assert [(f.hit.file_id, f.score) for f in found] == fused[:1]


def test_nearest_takes_the_best_in_order_with_ties_by_row() -> None:
    # Scores on a coarse grid, so many tie, around the cut too: the best ``limit`` are exactly
    # what a stable sort of all of them gives (the scan sorts only the best; this is the check).
    rng = random.Random(7)
    angles = [rng.randrange(12) * 0.1 for _ in range(400)]
    vectors = [pack([math.cos(a), math.sin(a)]) for a in angles]
    vectors[5] = None  # a chunk without an embedding is skipped, and rows keep their indexes
    m = Matrix(vectors)
    query = pack([1, 0])
    scores = {i: math.cos(angles[i]) for i in range(400) if i != 5}
    stable = [i for i, _ in sorted(scores.items(), key=lambda p: -p[1])]  # ties keep row order
    for limit in (1, 7, 50, 200, 399, 400, 1000):
        got = nearest(query, m, limit)
        assert got == stable[:limit], limit
        assert 5 not in got
