"""What the retrieval stage costs a request: ``RetrievalStage.before`` (the store checks, full text
and the vector scan over the store's chunks fused, the passages' message) on a real SQLite store of
``CHUNKS`` chunks with 384-dimension embeddings, against a request without ``sluice.retrieval``
(the stage's check alone). Chunks are 60 words drawn from 5,000, so each query word is in about one
chunk in a hundred (a query whose words are in every chunk costs full text far more). The query's embedding is a fixed vector returned at once, so the figure
is the gateway's own work, not the embedding model's (all-MiniLM-L6-v2 adds its own milliseconds,
an alias an upstream call). Wall time per request, best of several rounds.

    .venv/bin/python bench/retrieval_stage.py
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.auth.principal import Principal
from sluice.knowledge.chunk import AUTO
from sluice.knowledge.search import Searcher
from sluice.knowledge.vectors import pack
from sluice.pipeline.context import RequestContext
from sluice.pipeline.retrieval import RetrievalStage
from sluice.store.records import FileQuota, StoredChunk, StoredFile, VectorStore, VectorStoreFile
from sluice.store.sqlite.store import SqliteStore
from sluice.types import ChatRequest

ROUNDS = 5
REQUESTS = 300
CHUNKS = 2_000
DIM = 384
OWNER = "tenant:bench"
WORDS = [f"word{i}" for i in range(5_000)]  # Zipf-free, so a query word is in about 1% of chunks
QUERY = "What does word17 say about word4242 and word999?"


def unit(rng: random.Random) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(DIM)]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v]


async def main() -> None:
    rng = random.Random(7)
    query_vector = unit(rng)

    async def embed(texts: list[str], owner: str) -> list[list[float]]:
        return [query_vector for _ in texts]

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(str(Path(tmp) / "bench.db"))
        await store.migrate()
        await store.create_vector_store(VectorStore(OWNER, "vs_bench", "kb", 1, 1))
        for f in range(CHUNKS // 100):
            file_id = f"file-{f}"
            await store.add_file(
                StoredFile(OWNER, file_id, 1, 1, f"{file_id}.md", "assistants"), FileQuota(10**12, 10**6)
            )
            await store.attach_files(
                [VectorStoreFile(OWNER, "vs_bench", file_id, 1, "in_progress", AUTO.wire(), {})]
            )
            claimed = await store.claim_ingestion(60.0, 10)
            assert claimed is not None
            chunks, at = [], 0
            for i in range(100):
                text = " ".join(rng.choice(WORDS) for _ in range(60))
                chunks.append(StoredChunk(i, at, at + len(text), text, pack(unit(rng))))
                at += len(text)
            assert await store.finish_ingestion(claimed, chunks, None)
        stage = RetrievalStage(Searcher(store, embed, max_scan_chunks=50_000, cache_bytes=256 << 20))

        def ctx(retrieves: bool) -> RequestContext:
            body: dict = {
                "model": "m",
                "messages": [{"role": "user", "content": QUERY}],
            }
            if retrieves:
                body["sluice"] = {"retrieval": {"vector_store_ids": ["vs_bench"], "max_results": 5}}
            c = RequestContext("r", "sk", msgspec.convert(body, ChatRequest))
            c.principal = Principal("k", tenant_id="bench")
            return c

        for retrieves in (False, True):
            await stage.before(ctx(retrieves))  # warm: the chunk cache filled
            best = float("inf")
            for _ in range(ROUNDS):
                batch = [ctx(retrieves) for _ in range(REQUESTS)]
                t = time.perf_counter()
                for c in batch:
                    await stage.before(c)
                best = min(best, (time.perf_counter() - t) / REQUESTS)
            label = f"retrieval over {CHUNKS} chunks" if retrieves else "no retrieval asked"
            print(f"{label:>32}: {best * 1e6:9.1f} us per request")
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
