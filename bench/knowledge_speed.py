"""Knowledge bases, speed and memory: ingestion throughput with the local embedder, search latency
at 10k and 100k chunks in one vector store on each backend, and what 100k chunks cost in memory.

    .venv/bin/python bench/knowledge_speed.py [--sizes 10000,100000] [--backends sqlite,pg-hnsw,pg-scan]
        [--queries 100] [--seeds 1000] [--ingest-chunks 60]

**Ingestion.** The real ``Ingestor`` (``sluice/knowledge/ingest.py``) with the local embedder as
the gateway builds it (``sluice/api/knowledge_embed.py``: all-MiniLM-L6-v2 in a worker thread)
over generated Markdown files attached to a vector store of a real store; wall time and process CPU
time (every thread), and the split: parse and chunk, embed, store (``finish_ingestion``), each
timed around the very calls the Ingestor makes.

**Search.** One vector store per backend is filled through the store's own ingestion path
(``claim_ingestion`` then ``finish_ingestion`` with ``StoredChunk`` rows, 100 chunks a file) with
generated text: sentences of words drawn from the vocabulary of ``bench/knowledge_corpus`` with
Zipf-like frequencies (so full text has common and rare words to rank). Embedding 100k chunks with
the local model would take hours here, so ``--seeds`` texts are embedded for real and every chunk
gets the embedding of one of them (its text starts with that seed text) plus Gaussian noise
(sigma 0.03 a dimension, cosine about 0.86 to the seed's), renormalised. The store grows to each
size in turn; at each, a fresh ``ChunkCache`` and ``sluice.knowledge.search.search`` as the API
calls it (``max_scan_chunks`` raised to the store's size, so the scan covers every chunk) with
queries (generated sentences of 4 to 9 words) embedded beforehand: the first search (cold: the
cache empty) and then each query once (warm). The query embedding is timed on its own. Backends:
``sqlite`` (FTS5 + the numpy scan), ``pg-hnsw`` (PostgreSQL, tsvector + pgvector's HNSW index),
``pg-scan`` (PostgreSQL without pgvector: its database drops the extension after migrating, so
the store scans the BYTEA copies like SQLite). PostgreSQL is started on loopback as the tests
start it (``tests/fixtures/services.py``) and stopped by PID at the end.

**Memory.** For the scan backends, the process's RSS growth over the cold search (the store's
chunks and embeddings read into the ``ChunkCache``) and the cache's own byte accounting; for
PostgreSQL, ``pg_total_relation_size('chunks')`` and its indexes; for SQLite, the database file.
Each is also shown per 100k chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not an installed copy

from sluice.api.knowledge_embed import build_embedder  # noqa: E402
from sluice.knowledge import ingest as ingest_module  # noqa: E402
from sluice.knowledge.chunk import AUTO, ChunkingStrategy, static  # noqa: E402
from sluice.knowledge.ingest import IngestLimits, Ingestor  # noqa: E402
from sluice.knowledge.search import CANDIDATES, ChunkCache, search  # noqa: E402
from sluice.knowledge.search import words as query_words  # noqa: E402
from sluice.knowledge.vectors import Embed, nearest, pack  # noqa: E402
from sluice.limits.tokens import text_tokens  # noqa: E402
from sluice.settings import KnowledgeSettings, Settings  # noqa: E402
from sluice.store.postgres.store import PostgresStore  # noqa: E402
from sluice.store.protocols import Store  # noqa: E402
from sluice.store.records import FileQuota, StoredChunk, StoredFile, VectorStore, VectorStoreFile  # noqa: E402
from sluice.store.sqlite.store import SqliteStore  # noqa: E402
from tests.fixtures.services import Server, pg_fetchval, start_postgres  # noqa: E402

OWNER = "tenant:bench"
STORE_ID = "vs_bench"
CHUNKS_PER_FILE = 100
CHUNK_CHARS = 800  # about 200 tokens by the 4-character estimate
NOISE = 0.03
QUOTA = FileQuota(10**12, 10**7)
BACKENDS = ("sqlite", "pg-hnsw", "pg-scan")
_WORD = re.compile(r"[a-z]+")


# --- text ----------------------------------------------------------------------------------------


class Words:
    """Sentences of words from the knowledge corpus's vocabulary, Zipf-like by its frequencies."""

    def __init__(self, seed: int = 17) -> None:
        counts = Counter(
            w
            for p in sorted((ROOT / "bench/knowledge_corpus").glob("*.md"))
            for w in _WORD.findall(p.read_text().lower())
        )
        self.vocab = [w for w, _ in counts.most_common()]
        ranks = np.arange(1, len(self.vocab) + 1, dtype=np.float64)
        p = 1.0 / (ranks + 2.7)  # Zipf-Mandelbrot
        self.p = p / p.sum()
        self.rng = np.random.default_rng(seed)

    def sentences(self, n: int, low: int = 6, high: int = 18) -> list[str]:
        lengths = self.rng.integers(low, high + 1, size=n)
        picks = self.rng.choice(len(self.vocab), size=int(lengths.sum()), p=self.p)
        out, at = [], 0
        for length in lengths:
            words = [self.vocab[i] for i in picks[at : at + length]]
            at += length
            out.append(" ".join(words).capitalize() + ".")
        return out

    def paragraph(self, chars: int, start: str = "") -> str:
        parts = [start] if start else []
        size = len(start)
        while size < chars:
            for s in self.sentences(8):
                parts.append(s)
                size += len(s) + 1
                if size >= chars:
                    break
        return " ".join(parts)


# --- measuring -----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """The process's resident memory after a collection, with glibc's free pages given back (so
    what is freed does not count)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def disk_bytes(folder: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(pattern))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def mib(n: float) -> str:
    return f"{n / 2**20:.1f}"


# --- stores --------------------------------------------------------------------------------------


async def open_store(backend: str, tmp: Path, pg: Server | None, prefix: str = "") -> Store | None:
    """A migrated store of ``backend`` with the bench's vector store; None without pgvector for
    ``pg-hnsw``. Each PostgreSQL one has a database of its own."""
    if backend == "sqlite":
        s: Store = SqliteStore(str(tmp / f"{prefix}{backend}.db"))
        await s.migrate()
    else:
        assert pg is not None
        db = f"{prefix}sluice_" + backend.split("-")[1]
        admin = pg.url.rsplit("/", 1)[0] + "/postgres"
        pg_fetchval(admin, f"CREATE DATABASE {db}")
        dsn = pg.url.rsplit("/", 1)[0] + "/" + db
        first = PostgresStore(dsn)
        await first.migrate()
        await first.close()
        has_vec = bool(pg_fetchval(dsn, "SELECT count(*) FROM pg_extension WHERE extname = 'vector'"))
        if backend == "pg-hnsw" and not has_vec:
            print(f"{backend}: skipped, this PostgreSQL has no pgvector")
            return None
        if backend == "pg-scan" and has_vec:
            pg_fetchval(dsn, "DROP EXTENSION vector CASCADE")  # chunks.vec goes with it
        s = PostgresStore(dsn)
    await s.create_vector_store(VectorStore(OWNER, STORE_ID, "bench", 1, 1))
    return s


async def add_file(store: Store, file_id: str, size: int, how: ChunkingStrategy, data: bytes | None) -> None:
    found = await store.add_file(StoredFile(OWNER, file_id, size, 1, f"{file_id}.md", "assistants"), QUOTA)
    assert found is None, found
    if data is not None:
        await store.put_blob(OWNER, file_id, [data])
    await store.attach_files([VectorStoreFile(OWNER, STORE_ID, file_id, 1, "in_progress", how.wire())])


async def store_file(store: Store, file_id: str, chunks: list[StoredChunk]) -> None:
    """One file's chunks through the ingestion path: attached, claimed, finished."""
    await add_file(store, file_id, sum(len(c.text) for c in chunks), AUTO, None)
    claimed = await store.claim_ingestion(time.time(), 300.0)
    assert claimed is not None and claimed.file_id == file_id
    assert await store.finish_ingestion(claimed, chunks, None)


# --- ingestion -----------------------------------------------------------------------------------


class TimedStore:
    """The store as the Ingestor sees it, with ``finish_ingestion`` timed."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.seconds, self.chunks = inner, 0.0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def finish_ingestion(self, claimed: Any, chunks: Sequence[StoredChunk], error: Any) -> bool:
        t = time.perf_counter()
        try:
            return await self.inner.finish_ingestion(claimed, chunks, error)
        finally:
            self.seconds += time.perf_counter() - t
            self.chunks += len(chunks)


async def ingest_row(
    backend: str, store: Store, embed: Embed, how: ChunkingStrategy, name: str, target: int, words: Words
) -> list[str]:
    # Markdown files of headed sections, sized for about ``target`` chunks of this strategy.
    stride = (how.max_chunk_size_tokens - how.chunk_overlap_tokens) * 4
    files = 4
    per_file = max(1, target // files) * stride + how.chunk_overlap_tokens * 4
    for n in range(files):
        sections = []
        size = 0
        while size < per_file:
            body = words.paragraph(600)
            sections.append(f"## {words.sentences(1, 2, 5)[0][:-1]}\n\n{body}\n")
            size += len(sections[-1])
        data = (f"# Document {n}\n\n" + "\n".join(sections)).encode()
        await add_file(store, f"file-ingest-{name}-{n}", len(data), how, data)
    spent = {"parse": 0.0, "embed": 0.0}
    parse_and_chunk = ingest_module._parse_and_chunk

    def timed_parse(*args: Any) -> Any:
        t = time.perf_counter()
        try:
            return parse_and_chunk(*args)
        finally:
            spent["parse"] += time.perf_counter() - t

    async def timed_embed(texts: list[str], owner: str) -> list[list[float]]:
        t = time.perf_counter()
        try:
            return await embed(texts, owner)
        finally:
            spent["embed"] += time.perf_counter() - t

    timed = TimedStore(store)
    worker = Ingestor(cast(Store, timed), cast(Any, store), timed_embed, text_tokens, IngestLimits())
    ingest_module._parse_and_chunk = timed_parse  # type: ignore[assignment]
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        while await worker.run_once():
            pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        ingest_module._parse_and_chunk = parse_and_chunk  # type: ignore[assignment]
    n = timed.chunks
    return [
        backend, name, str(n), f"{wall:.1f}", f"{cpu:.1f}", f"{n / wall:.1f}", f"{n / cpu:.1f}",
        f"{spent['parse']:.2f}", f"{spent['embed']:.1f}", f"{timed.seconds:.2f}",
    ]  # fmt: skip


# --- search --------------------------------------------------------------------------------------


class Corpus:
    """Chunks made on demand, each from a seed text (really embedded) and more sentences."""

    def __init__(self, words: Words, seeds: list[str], vectors: np.ndarray) -> None:
        self.words, self.seeds, self.vectors = words, seeds, vectors
        self.rng = np.random.default_rng(1017)

    def chunks(self, first: int, n: int) -> list[StoredChunk]:
        picks = np.arange(first, first + n) % len(self.seeds)
        noisy = self.vectors[picks] + self.rng.normal(0.0, NOISE, size=(n, self.vectors.shape[1]))
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        out, at = [], 0
        for i, seed in enumerate(picks):
            text = self.words.paragraph(CHUNK_CHARS, self.seeds[seed])
            out.append(StoredChunk(i, at, at + len(text), text, noisy[i].astype("<f4").tobytes()))
            at += len(text) + 1
        return out


async def fill(store: Store, corpus: Corpus, have: int, want: int) -> float:
    t = time.perf_counter()
    while have < want:
        n = min(CHUNKS_PER_FILE, want - have)
        await store_file(store, f"file-{have // CHUNKS_PER_FILE:07d}", corpus.chunks(have, n))
        have += n
    return time.perf_counter() - t


async def relation_sizes(store: Store) -> tuple[int, int]:
    """PostgreSQL: (chunks with its TOAST and indexes, its indexes alone)."""
    rows = await cast(PostgresStore, store)._fetch(
        "SELECT pg_total_relation_size('chunks'), pg_indexes_size('chunks')"
    )
    return int(rows[0][0]), int(rows[0][1])


async def search_rows(
    backend: str,
    store: Store,
    size: int,
    fill_s: float,
    queries: list[str],
    qvec: dict[str, list[float]],
    tmp: Path,
) -> tuple[list[str], list[str]]:
    cache = ChunkCache(KnowledgeSettings().vector_cache_bytes)
    max_scan = max(size, KnowledgeSettings().max_scan_chunks)

    async def one(q: str) -> float:
        t = time.perf_counter()
        found = await search(
            store, OWNER, STORE_ID, [q], query=pack(qvec[q]), cache=cache, max_results=10, filters=None,
            score_threshold=0.0, max_scan_chunks=max_scan,
        )  # fmt: skip
        assert found, q
        return time.perf_counter() - t

    gc.collect()
    rss0 = rss_bytes()
    cold = await one(queries[0])
    gc.collect()
    grown = rss_bytes() - rss0
    warm = [await one(q) for q in queries]
    text, vector = [], []  # each half of the search alone, as search() calls it
    for q in queries:
        t = time.perf_counter()
        await store.search_text(OWNER, STORE_ID, query_words([q]), CANDIDATES)
        text.append(time.perf_counter() - t)
        t = time.perf_counter()
        query = pack(qvec[q])
        if await store.search_vectors(OWNER, STORE_ID, query, CANDIDATES) is None:
            _, matrix = await cache.get(store, OWNER, STORE_ID, max_scan)
            await asyncio.to_thread(nearest, query, matrix, CANDIDATES)
        vector.append(time.perf_counter() - t)
    timing = [
        backend, f"{size:,}", f"{fill_s:.0f}", ms(cold), ms(statistics.median(warm)), ms(pct(warm, 0.99)),
        ms(statistics.median(text)), ms(statistics.median(vector)),
    ]  # fmt: skip
    per = 100_000 / size
    if backend == "sqlite":
        disk = disk_bytes(tmp, f"{backend}.db*")
        on_disk = f"{mib(disk)} (file)"
    else:
        disk, indexes = await relation_sizes(store)
        on_disk = f"{mib(disk)} (indexes {mib(indexes)})"
    scanned = backend != "pg-hnsw"  # the others read the store into the ChunkCache
    memory = [
        backend, f"{size:,}", mib(grown) if scanned else "-", mib(cache.bytes) if scanned else "-", on_disk,
        mib(grown * per) if scanned else "-", mib(disk * per),
    ]  # fmt: skip
    return timing, memory


# --- output --------------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(
            "| "
            + " | ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            + " |"
        )


async def embed_timed(embed: Embed, texts: list[str], batch: int) -> tuple[np.ndarray, list[float]]:
    out: list[list[float]] = []
    times = []
    for i in range(0, len(texts), batch):
        t = time.perf_counter()
        out += await embed(texts[i : i + batch], OWNER)
        times.append(time.perf_counter() - t)
    return np.asarray(out, dtype=np.float64), times


async def main(args: argparse.Namespace) -> None:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            raise SystemExit(f"unknown backend {b!r}: one of {', '.join(BACKENDS)}")
    embed, _, ready = build_embedder(Settings(), cast(Any, None))
    if embed is None:
        raise SystemExit(f"the local embedder is unavailable: {ready.get('detail')}")
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load average {load[0]:.2f} at the start; numpy {np.__version__};"
        f" sizes {', '.join(f'{s:,}' for s in sizes)}; backends {', '.join(backends)}"
    )
    words = Words()
    await embed(["warm up"], OWNER)  # the model's weights load on the first call
    ingest: list[list[str]] = []
    timing: list[list[str]] = []
    memory: list[list[str]] = []
    pg: Server | None = None
    with tempfile.TemporaryDirectory(prefix="sluice-kbspeed-") as name:
        tmp = Path(name)
        try:
            if any(b.startswith("pg") for b in backends):
                pg = start_postgres(tmp)
                print(f"PostgreSQL pid {pg.pid} on loopback, {pg.extra['bindir']}")
            if args.ingest_chunks > 0:
                strategies = [("auto 800/400", AUTO), ("static 200/50", static(200, 50))]
                for backend in [b for b in backends if b != "pg-scan"]:  # the scan changes no write
                    for n, (label, how) in enumerate(strategies if backend == "sqlite" else strategies[:1]):
                        ingest_store = await open_store(backend, tmp, pg, prefix=f"ingest{n}_")
                        if ingest_store is None:
                            continue
                        try:
                            ingest.append(
                                await ingest_row(
                                    backend, ingest_store, embed, how, label, args.ingest_chunks, words
                                )
                            )
                        finally:
                            await ingest_store.close()
            seeds = [" ".join(words.sentences(2)) for _ in range(args.seeds)]
            vectors, seed_times = await embed_timed(embed, seeds, 64)
            print(
                f"{len(seeds)} seed texts embedded in {sum(seed_times):.1f} s"
                f" ({len(seeds) / sum(seed_times):.0f} a second, 64 a call)"
            )
            queries = [" ".join(words.sentences(1, 4, 9))[:-1] for _ in range(args.queries)]
            qv, q_times = await embed_timed(embed, queries, 1)
            qvec = {q: [float(x) for x in v] for q, v in zip(queries, qv, strict=True)}
            print(
                f"query embedding (one query a call, as search does): p50 {ms(statistics.median(q_times))} ms,"
                f" p99 {ms(pct(q_times, 0.99))} ms over {len(queries)} queries"
            )
            for backend in backends:
                store = await open_store(backend, tmp, pg)
                if store is None:
                    continue
                try:
                    corpus = Corpus(words, seeds, vectors)
                    have = 0
                    for size in sizes:
                        fill_s = await fill(store, corpus, have, size)
                        have = size
                        t, m = await search_rows(backend, store, size, fill_s, queries, qvec, tmp)
                        timing.append(t)
                        memory.append(m)
                        print(f"  {backend} at {size:,}: done", flush=True)
                finally:
                    await store.close()
        finally:
            if pg is not None:
                pg.stop()
    if ingest:
        table(
            "Ingestion (real Ingestor, local embedder; seconds)",
            ["backend", "chunking", "chunks", "wall s", "CPU s", "chunks/s", "chunks/CPU-s", "parse+chunk s", "embed s", "store s"],
            ingest,
        )  # fmt: skip
    table(
        f"Search ({len(queries)} queries, 10 results, ms; fill s = time to store the chunks added for this size)",
        ["backend", "chunks", "fill s", "cold", "warm p50", "warm p99", "full text p50", "vectors p50"],
        timing,
    )
    table(
        "Memory (MiB; RSS growth: the process over the cold search, which fills the ChunkCache)",
        [
            "backend",
            "chunks",
            "RSS growth",
            "cache's count",
            "on disk",
            "RSS growth per 100k",
            "disk per 100k",
        ],
        memory,
    )
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="10000,100000", help="store sizes in chunks, comma-separated")
    p.add_argument("--backends", default=",".join(BACKENDS), help="of " + ", ".join(BACKENDS))
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--seeds", type=int, default=1000, help="texts really embedded for the search corpus")
    p.add_argument("--ingest-chunks", type=int, default=60, help="about this many chunks ingested; 0 skips")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows as it goes
    asyncio.run(main(parse_args()))
