"""Retrieval quality through the real store: recall@5 and nDCG@10 for full text alone (the store's
FTS5 ranking), vectors alone (the scan over the chunks' embeddings by the local model,
all-MiniLM-L6-v2) and hybrid (what ``sluice.knowledge.search.search`` returns), held-out questions
first, then dev.

    .venv/bin/python bench/knowledge_eval.py [--set pydoc|easy] [--limit N] [--no-vectors] [--postgres]

Two labelled sets:

- ``pydoc`` (``knowledge_eval_pydoc.jsonl``, the hard one): questions over the Python Language
  Reference's topics as CPython ships them in ``pydoc_data/topics.py`` (written out as one Markdown
  file per topic at run time; the text varies with the Python version, which is printed). Many
  topics are near each other (``assignment``/``augassign``, ``exceptions``/``try``/``raise``,
  ``integers``/``floating``/``numbers``) and pydoc repeats some text across topics.
- ``easy`` (``knowledge_eval_set.jsonl``): 72 questions over 24 short documents on distinct subjects
  in ``knowledge_corpus/``.

Each set is ingested into a fresh SQLite store (migrations applied) as the gateway does it: the
files uploaded and attached with the chunking strategy (``static`` 100/20, the smallest chunks the
API allows, and ``auto``), then the ingestion worker (``Ingestor``) parses, chunks (counting tokens
as the gateway does with the local model) and embeds them and ``finish_ingestion`` stores the
chunks and their FTS5 entries. Search runs ``search`` with ``max_results`` 10, and ``only`` for one
ranking alone.

A chunk answers a question when it holds at least half of a labelled span (spans are compared with
runs of whitespace as one space; for ``pydoc`` in any topic, since pydoc repeats text). recall@5:
the share of a question's answers held by a top-5 chunk; nDCG@10: binary gain for a chunk that
holds an answer no higher chunk held, over the ideal (every answer at the top).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's sluice, and tests/fixtures for --postgres

from sluice.knowledge import chunk as chunking  # noqa: E402
from sluice.knowledge.ingest import IngestLimits, Ingestor  # noqa: E402
from sluice.knowledge.search import ChunkCache, search  # noqa: E402
from sluice.knowledge.vectors import Embed, pack  # noqa: E402
from sluice.limits.tokens import text_tokens  # noqa: E402
from sluice.store.postgres.store import PostgresStore  # noqa: E402
from sluice.store.records import FileQuota, StoredFile, VectorStore, VectorStoreFile  # noqa: E402
from sluice.store.sqlite.store import SqliteStore  # noqa: E402

HERE = ROOT / "bench"
SETS = {"pydoc": HERE / "knowledge_eval_pydoc.jsonl", "easy": HERE / "knowledge_eval_set.jsonl"}
CORPUS = HERE / "knowledge_corpus"
STRATEGIES = {"static 100/20": chunking.static(100, 20), "auto 800/400": chunking.AUTO}
OWNER = "tenant:eval"
STORE_ID = "vs_eval"
Method = Literal["full text", "vectors", "hybrid"]
ONLY: dict[Method, Literal["text", "vectors"] | None] = {
    "full text": "text",
    "vectors": "vectors",
    "hybrid": None,
}


class Answer(msgspec.Struct):
    document: str
    quote: str


class EasyQuestion(msgspec.Struct):
    id: str
    split: str
    question: str
    answers: list[Answer]


class PydocQuestion(msgspec.Struct):
    id: str
    split: str
    question: str
    topic: str
    span: str


@dataclass(frozen=True)
class Question:
    id: str
    split: str
    text: str
    answers: list[list[tuple[str, int, int]]]  # per answer: where its span is (document, start, end)


@dataclass(frozen=True)
class EvalSet:
    name: str
    source: str
    documents: dict[str, str]  # file name to text
    questions: list[Question]


def _pattern(span: str) -> re.Pattern[str]:
    return re.compile(r"\s+".join(re.escape(w) for w in span.split()))


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip() and b'"_header"' not in line]


def load_pydoc() -> EvalSet:
    """The topics as files, and the questions with every place their span occurs; a span that is
    not in its labelled topic's text stops the run."""
    from pydoc_data.topics import topics

    documents = {f"{name}.md": text for name, text in topics.items()}
    decoder = msgspec.json.Decoder(PydocQuestion)
    questions = []
    for line in _lines(SETS["pydoc"]):
        q = decoder.decode(line)
        if q.topic not in topics:
            raise SystemExit(f"{q.id}: no topic {q.topic!r} in this Python's pydoc_data")
        pattern = _pattern(q.span)
        if pattern.search(topics[q.topic]) is None:
            raise SystemExit(f"{q.id}: the span is not in topic {q.topic!r}: {q.span!r}")
        places = [(d, m.start(), m.end()) for d, text in documents.items() for m in pattern.finditer(text)]
        questions.append(Question(q.id, q.split, q.question, [places]))
    version = ".".join(map(str, sys.version_info[:3]))
    return EvalSet("pydoc", f"pydoc_data topics of Python {version}", documents, questions)


def load_easy() -> EvalSet:
    documents = {p.name: p.read_text() for p in sorted(CORPUS.glob("*.md"))}
    decoder = msgspec.json.Decoder(EasyQuestion)
    questions = []
    for line in _lines(SETS["easy"]):
        q = decoder.decode(line)
        answers = []
        for a in q.answers:
            m = _pattern(a.quote).search(documents[a.document])
            if m is None:
                raise SystemExit(f"{q.id}: the quote is not in {a.document}: {a.quote!r}")
            answers.append([(a.document, m.start(), m.end())])
        questions.append(Question(q.id, q.split, q.question, answers))
    return EvalSet("easy", f"{len(documents)} documents in bench/knowledge_corpus", documents, questions)


def local_embedder() -> Embed | None:
    """The local model as the gateway runs it for ``knowledge.embedding: local``, each text embedded
    once per run (queries repeat across methods); None when it is not installed."""
    from sluice.cache.local_embed import LocalEmbedder, LocalEmbedderUnavailableError, available

    try:
        model = LocalEmbedder(available())
    except LocalEmbedderUnavailableError as e:
        print(f"vectors: not measured, the local embedder is unavailable ({e})")
        return None
    seen: dict[str, list[float]] = {}

    def embed_in_thread(texts: list[str]) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in seen]
        if todo:
            seen.update(zip(todo, model.embed(todo).tolist(), strict=True))
        return [seen[t] for t in texts]

    async def embed(texts: list[str], owner: str) -> list[list[float]]:
        return await asyncio.to_thread(embed_in_thread, texts)

    return embed


AnyStore = SqliteStore | PostgresStore


@dataclass(frozen=True)
class Ingested:
    store: AnyStore
    chunks: dict[tuple[str, int], tuple[str, int, int]]  # (file id, index) to (document, start, end)


async def ingest(
    store: AnyStore, documents: dict[str, str], how: chunking.ChunkingStrategy, embed: Embed | None
) -> Ingested:
    """``documents`` into a fresh store (migrated here), ingested by the gateway's worker."""
    await store.migrate()
    await store.create_vector_store(VectorStore(OWNER, STORE_ID, "eval", 1, 1))
    names = {}
    for n, (name, text) in enumerate(documents.items()):
        file_id = f"file-{n:04d}"
        names[file_id] = name
        data = text.encode()
        quota = FileQuota(10**12, 10**9)
        assert (
            await store.add_file(StoredFile(OWNER, file_id, len(data), 1, name, "assistants"), quota) is None
        )
        await store.put_blob(OWNER, file_id, [data])
        await store.attach_files([VectorStoreFile(OWNER, STORE_ID, file_id, 1, "in_progress", how.wire())])
    worker = Ingestor(store, store, embed, text_tokens, IngestLimits())
    while await worker.run_once():
        pass
    chunks = {}
    for file_id, name in names.items():
        f = await store.get_vector_store_file(OWNER, STORE_ID, file_id)
        if f is None or f.status != "completed":
            raise SystemExit(f"{name} was not ingested: {f}")
        for c in await store.file_chunks(OWNER, STORE_ID, file_id):
            assert documents[name][c.start : c.end] == c.text
            chunks[(file_id, c.index)] = (name, c.start, c.end)
    return Ingested(store, chunks)


Search = Callable[[str, Method], Awaitable[list[tuple[str, int, int]]]]


def searcher(ingested: Ingested, embed: Embed | None) -> Search:
    cache = ChunkCache(2**30)

    async def run(query: str, method: Method) -> list[tuple[str, int, int]]:
        vector = None if embed is None or method == "full text" else pack((await embed([query], OWNER))[0])
        found = await search(
            ingested.store,
            OWNER,
            STORE_ID,
            [query],
            query=vector,
            cache=cache,
            max_results=10,
            filters=None,
            score_threshold=0.0,
            max_scan_chunks=10**6,
            only=ONLY[method],
        )
        return [ingested.chunks[(f.hit.file_id, f.hit.index)] for f in found]

    return run


def held(q: Question, chunk: tuple[str, int, int]) -> set[int]:
    """The indexes of the question's answers the chunk holds (at least half of a place of its span)."""
    document, start, end = chunk
    return {
        n
        for n, places in enumerate(q.answers)
        if any(d == document and min(e, end) - max(s, start) >= (e - s) / 2 for d, s, e in places)
    }


def scores(q: Question, ranked: Sequence[tuple[str, int, int]]) -> tuple[float, float]:
    seen: set[int] = set()
    dcg = 0.0
    recall_at_5 = 0.0
    for r, c in enumerate(ranked[:10], 1):
        new = held(q, c) - seen
        if new:
            dcg += 1 / math.log2(r + 1)
            seen |= new
        if r == 5:
            recall_at_5 = len(seen) / len(q.answers)
    if len(ranked) < 5:
        recall_at_5 = len(seen) / len(q.answers)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(q.answers), 10) + 1))
    return recall_at_5, dcg / ideal


async def measure(run: Search, questions: Sequence[Question], method: Method) -> tuple[float, float]:
    """Mean recall@5 and nDCG@10 of ``method`` over ``questions``."""
    results = [scores(q, await run(q.text, method)) for q in questions]
    n = max(len(results), 1)
    return sum(r for r, _ in results) / n, sum(g for _, g in results) / n


async def evaluate(
    s: EvalSet, embed: Embed | None, limit: int | None = None, postgres: str | None = None
) -> list[str]:
    """The table rows for one set, held-out first: one per split and strategy; on a fresh SQLite
    store, or on PostgreSQL at the DSN ``postgres`` (its schema dropped and made anew each time)."""
    questions = s.questions if limit is None else s.questions[:limit]
    methods: list[Method] = ["full text", "vectors", "hybrid"] if embed is not None else ["full text"]
    print(f"\nset {s.name}: {len(questions)} questions over {len(s.documents)} documents ({s.source})")
    print(f"| split, chunking (chunks) | {' | '.join(methods)} |")
    print(f"|---|{'---|' * len(methods)}")
    rows = []
    results: dict[tuple[str, str], str] = {}
    for name, how in STRATEGIES.items():
        with tempfile.TemporaryDirectory() as directory:
            if postgres is not None:
                from tests.fixtures.services import reset_postgres_schema

                reset_postgres_schema(postgres)
            store = (
                SqliteStore(str(Path(directory) / "eval.db")) if postgres is None else PostgresStore(postgres)
            )
            ingested = await ingest(store, s.documents, how, embed)
            run = searcher(ingested, embed)
            try:
                for split in ("heldout", "dev"):
                    picked = [q for q in questions if q.split == split]
                    cells = []
                    for method in methods:
                        recall, ndcg = await measure(run, picked, method)
                        cells.append(f"{recall:.3f} / {ndcg:.3f}")
                    label = "held-out" if split == "heldout" else "dev"
                    results[(split, name)] = (
                        f"| {label} ({len(picked)}), {name} ({len(ingested.chunks)}) | {' | '.join(cells)} |"
                    )
            finally:
                await ingested.store.close()
    for split in ("heldout", "dev"):
        for name in STRATEGIES:
            rows.append(results[(split, name)])
            print(results[(split, name)])
    return rows


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    parser.add_argument("--no-vectors", action="store_true", help="full text only (no local model)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on PostgreSQL (the tests' throwaway server) instead of SQLite",
    )
    args = parser.parse_args(argv)
    embed = None if args.no_vectors else local_embedder()
    server = None
    if args.postgres:
        from tests.fixtures.services import pg_fetchval, start_postgres

        server = start_postgres(Path(tempfile.mkdtemp(prefix="knowledge-eval-")))
        version = pg_fetchval(server.url, "SHOW server_version")
        print(f"store: PostgreSQL {version} (pid {server.pid}), full text to_tsquery('english') / ts_rank")
    else:
        print("store: SQLite, full text FTS5 / bm25")
    print("cells: recall@5 / nDCG@10")
    try:
        for name in SETS if args.set == "all" else [args.set]:
            s = load_pydoc() if name == "pydoc" else load_easy()
            await evaluate(s, embed, args.limit, server.url if server is not None else None)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    asyncio.run(main())
