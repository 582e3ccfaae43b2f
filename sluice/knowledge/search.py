"""Searching one vector store: full text (the store's index) and vectors (a scan over the store's
chunk embeddings) fused by reciprocal rank, then filtered on the files' attributes and cut at the
score threshold."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sluice.knowledge import rank
from sluice.knowledge.rerank import Rerank, reorder
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
    store_id: str = ""


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


# PostgreSQL's English stop words (tsearch_data/english.stop, Snowball's list), which its 'english'
# configuration already leaves out of a query: left out for SQLite's FTS5 too, where a question's
# "how", "does" or "which", rare in the documents, would otherwise weigh most in bm25.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
    her hers herself it its itself they them their theirs themselves what which who whom this that
    these those am is are was were be been being have has had having do does did doing a an the and
    but if or because as until while of at by for with about against between into through during
    before after above below to from up down in out on off over under again further then once here
    there when where why how all any both each few more most other some such no nor not only own same
    so than too very s t can will just don should now""".split()
)


def words(queries: Sequence[str]) -> list[str]:
    """The query's words for full text: runs of letters and digits, lowercased, once each, without
    English stop words (all of them when the query has nothing else)."""
    found = list(dict.fromkeys(w.lower() for q in queries for w in _WORD.findall(q)))
    kept = [w for w in found if w not in STOP_WORDS] or found
    return kept[:MAX_QUERY_WORDS]


class Searcher:
    """Search over an owner's vector stores, shared by ``/v1/vector_stores/{id}/search`` and the
    retrieval stage (chat, Messages and the Responses API's ``file_search``): the store, the
    embedder of the query (None: full text only), the optional rerank step (``rerank.py``) and the
    per-process chunk cache, built once."""

    def __init__(
        self,
        store: Store,
        embed: Embed | None,
        *,
        max_scan_chunks: int,
        cache_bytes: int,
        rerank: Rerank | None = None,
        rerank_candidates: int = 20,
    ) -> None:
        self.store = store
        self._embed = embed
        self._cache = ChunkCache(cache_bytes)
        self._max_scan = max_scan_chunks
        self._rerank = rerank
        self._candidates = rerank_candidates

    @property
    def reranks(self) -> bool:
        return self._rerank is not None

    async def search(
        self,
        owner: str,
        store_ids: Sequence[str],
        queries: Sequence[str],
        *,
        max_results: int,
        filters: rank.Filter | None = None,
        score_threshold: float = 0.0,
        rerank: bool = True,
    ) -> list[Found]:
        """The best ``max_results`` chunks for ``queries`` over the owner's stores (each one
        already checked to be the owner's), best first. The query is embedded once, whatever
        the number of stores (an alias's embedding is an own call charged to the owner). With a
        rerank model configured (and ``rerank``), the best ``rerank_candidates`` fused results are
        rated by it and reordered, and ``score_threshold`` applies to its scores."""
        reranking = rerank and self._rerank is not None
        wanted = max(max_results, self._candidates) if reranking else max_results
        query = None
        if self._embed is not None:
            query = pack((await self._embed([" ".join(queries)], owner))[0])
        found: list[Found] = []
        for store_id in dict.fromkeys(store_ids):
            found += await search(
                self.store,
                owner,
                store_id,
                queries,
                query=query,
                cache=self._cache,
                max_results=wanted,
                filters=filters,
                score_threshold=0.0 if reranking else score_threshold,
                max_scan_chunks=self._max_scan,
            )
        found.sort(key=lambda f: -f.score)  # stable: a tie keeps the order of the stores named
        if reranking and found and self._rerank is not None:
            candidates = found[: self._candidates]
            scores = await self._rerank(owner, " ".join(queries), [f.hit.text for f in candidates])
            if scores is not None:
                found = [Found(f.hit, s, f.store_id) for f, s in reorder(candidates, scores)]
            else:
                found = candidates
            found = [f for f in found if f.score >= score_threshold]
        return found[:max_results]


async def search(
    store: Store,
    owner: str,
    store_id: str,
    queries: Sequence[str],
    *,
    query: bytes | None,
    cache: ChunkCache,
    max_results: int,
    filters: rank.Filter | None,
    score_threshold: float,
    max_scan_chunks: int,
    only: Literal["text", "vectors"] | None = None,
) -> list[Found]:
    """The best ``max_results`` chunks for ``queries`` among the owner's store's; ``query`` is
    their packed embedding (None: full text only). ``only`` keeps one ranking (the full text or the
    vector one) for measuring each alone (bench/knowledge_eval.py); requests always search both."""
    rankings: list[list[tuple[str, int]]] = []
    hits: dict[tuple[str, int], ChunkHit] = {}
    if only != "vectors":
        text_hits = await store.search_text(owner, store_id, words(queries), CANDIDATES)
        rankings.append([(h.file_id, h.index) for h in text_hits])
        hits.update(((h.file_id, h.index), h) for h in text_hits)
    if query is not None and only != "text":
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
    return [Found(hits[key], score, store_id) for key, score in fused]
