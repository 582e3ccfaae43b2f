"""Searching one vector store: full text (the store's index) and vectors (a scan over the store's
chunk embeddings) fused by reciprocal rank, then filtered on the files' attributes and cut at the
score threshold."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sluice.knowledge import rank
from sluice.knowledge.vectors import Embed, Matrix, nearest, pack
from sluice.store.protocols import Store
from sluice.store.records import ChunkHit

CANDIDATES = 200  # taken from each ranking before fusing
MAX_QUERY_WORDS = 64
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Found:
    hit: ChunkHit
    score: float


class ChunkCache:
    """Per process: each searched store's chunks with their embeddings ready to scan, as last
    read; checked against the store's ``chunks_version`` on every search (so a change made on any
    replica is seen by the next search), the least recently searched stores dropped past
    ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[tuple[str, str], tuple[tuple[int, int], list[ChunkHit], Matrix, int]] = (
            OrderedDict()
        )

    @property
    def bytes(self) -> int:
        """What the kept stores take, as the cache counts it (against ``max_bytes``)."""
        return self._bytes

    async def get(self, store: Store, owner: str, store_id: str, limit: int) -> tuple[list[ChunkHit], Matrix]:
        key = (owner, store_id)
        version = await store.chunks_version(owner, store_id)
        found = self._entries.get(key)
        if found is not None and found[0] == version:
            self._entries.move_to_end(key)
            return found[1], found[2]
        hits = await store.store_chunks(owner, store_id, limit)
        matrix = await asyncio.to_thread(Matrix, [h.embedding for h in hits])
        size = matrix.nbytes + sum(len(h.text) + 64 for h in hits)
        if found is not None:
            self._bytes -= found[3]
            del self._entries[key]
        self._entries[key] = (version, hits, matrix, size)
        self._bytes += size
        while self._bytes > self._max_bytes and self._entries:  # a store over it alone: never kept
            _, (_, _, _, gone) = self._entries.popitem(last=False)
            self._bytes -= gone
        return hits, matrix


def words(queries: Sequence[str]) -> list[str]:
    """The query's words for full text: runs of letters and digits, lowercased, once each."""
    found = dict.fromkeys(w.lower() for q in queries for w in _WORD.findall(q))
    return list(found)[:MAX_QUERY_WORDS]


async def search(
    store: Store,
    owner: str,
    store_id: str,
    queries: Sequence[str],
    *,
    embed: Embed | None,
    cache: ChunkCache,
    max_results: int,
    filters: rank.Filter | None,
    score_threshold: float,
    max_scan_chunks: int,
) -> list[Found]:
    """The best ``max_results`` chunks for ``queries`` among the owner's store's."""
    text_hits = await store.search_text(owner, store_id, words(queries), CANDIDATES)
    rankings: list[list[tuple[str, int]]] = [[(h.file_id, h.index) for h in text_hits]]
    hits = {(h.file_id, h.index): h for h in text_hits}
    if embed is not None:
        query = pack((await embed([" ".join(queries)], owner))[0])
        indexed = await store.search_vectors(owner, store_id, query, CANDIDATES)
        if indexed is not None:  # the database's vector index (pgvector)
            rankings.append([(h.file_id, h.index) for h in indexed])
            for h in indexed:
                hits.setdefault((h.file_id, h.index), h)
        else:
            chunks, matrix = await cache.get(store, owner, store_id, max_scan_chunks)
            best = await asyncio.to_thread(nearest, query, matrix, CANDIDATES)
            rankings.append([(chunks[i].file_id, chunks[i].index) for i in best])
            for i in best:
                hits.setdefault((chunks[i].file_id, chunks[i].index), chunks[i])
    if filters is not None:  # before fusing, so ranks are among the files the filter keeps
        f = filters
        rankings = [[key for key in r if rank.matches(f, hits[key].attributes)] for r in rankings]
    fused = rank.above(rank.fuse(rankings), score_threshold)[:max_results]
    return [Found(hits[key], score) for key, score in fused]
