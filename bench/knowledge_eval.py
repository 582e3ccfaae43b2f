"""Retrieval quality on a labelled set: recall@5 and nDCG@10 for full text alone (BM25 over the
chunks, a stand-in for SQLite FTS5 / PostgreSQL full text until the store has them), vectors alone
(the local embedder, all-MiniLM-L6-v2) and hybrid (``sluice.knowledge.rank.fuse``), held-out
questions first, then dev.

    .venv/bin/python bench/knowledge_eval.py

The corpus (``knowledge_corpus/``) is chunked with ``sluice.knowledge.chunk`` (static 100/20, the
smallest chunks the API allows, so each document has several; and ``auto``), counting tokens with
tiktoken's cl100k_base (text-embedding-3-small's encoding). A chunk is relevant to a question when it
is from the labelled document and covers at least half of the labelled quote. recall@5: the share
of a question's labelled passages covered by a top-5 chunk; nDCG@10: binary gain for a chunk that
covers a passage no higher chunk covered, over the ideal (every passage at the top).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import msgspec

from sluice.knowledge import chunk as chunking
from sluice.knowledge.rank import fuse
from sluice.limits.tokenizer import Tokenizers

HERE = Path(__file__).parent
EVAL_SET = HERE / "knowledge_eval_set.jsonl"
CORPUS = HERE / "knowledge_corpus"
STRATEGIES = {"static 100/20": chunking.static(100, 20), "auto 800/400": chunking.AUTO}
_TERM = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by do does for from how i in is it my of on or the to what when which why".split()
)


class Answer(msgspec.Struct):
    document: str
    quote: str


class Question(msgspec.Struct):
    id: str
    split: str
    question: str
    answers: list[Answer]


@dataclass(frozen=True)
class Passage:
    document: str
    start: int
    end: int
    text: str


def load() -> list[Question]:
    decoder = msgspec.json.Decoder(Question)
    return [decoder.decode(line) for line in EVAL_SET.read_bytes().splitlines() if b'"_header"' not in line]


def terms(text: str) -> list[str]:
    return [t for t in _TERM.findall(text.lower()) if t not in _STOP]


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75) over the chunks."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.docs = [Counter(terms(t)) for t in texts]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.lengths)
        df = Counter(t for d in self.docs for t in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.k1, self.b = k1, b

    def rank(self, query: str) -> list[int]:
        q = terms(query)
        scores = []
        for i, (d, length) in enumerate(zip(self.docs, self.lengths, strict=True)):
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            s = sum(self.idf.get(t, 0.0) * d[t] * (self.k1 + 1) / (d[t] + norm) for t in q if t in d)
            if s > 0:
                scores.append((s, i))
        return [i for _, i in sorted(scores, key=lambda p: -p[0])]


def passages(strategy: chunking.ChunkingStrategy, count: chunking.Count) -> list[Passage]:
    out = []
    for path in sorted(CORPUS.glob("*.md")):
        text = path.read_text()
        out += [Passage(path.name, c.start, c.end, c.text) for c in chunking.chunk(text, strategy, count)]
    return out


def covered(q: Question, p: Passage, texts: dict[str, str]) -> set[int]:
    """The indexes of the question's answers that passage ``p`` covers (at least half the quote)."""
    found = set()
    for n, a in enumerate(q.answers):
        if a.document != p.document:
            continue
        start = texts[a.document].index(a.quote)
        end = start + len(a.quote)
        if min(end, p.end) - max(start, p.start) >= len(a.quote) / 2:
            found.add(n)
    return found


def scores(q: Question, ranked: list[Passage], texts: dict[str, str]) -> tuple[float, float]:
    seen: set[int] = set()
    dcg = 0.0
    recall_at_5 = 0.0
    for r, p in enumerate(ranked[:10], 1):
        new = covered(q, p, texts) - seen
        if new:
            dcg += 1 / math.log2(r + 1)
            seen |= new
        if r == 5:
            recall_at_5 = len(seen) / len(q.answers)
    if len(ranked) < 5:
        recall_at_5 = len(seen) / len(q.answers)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(q.answers), 10) + 1))
    return recall_at_5, dcg / ideal


def main() -> None:
    tokenizers = Tokenizers()
    count = tokenizers.counter("text-embedding-3-small")
    count("warm up")
    tokenizers.wait_ready()
    questions = load()
    texts = {p.name: p.read_text() for p in CORPUS.glob("*.md")}
    try:
        from sluice.cache.local_embed import LocalEmbedder, available

        available()
        embedder: LocalEmbedder | None = LocalEmbedder()
    except Exception as e:  # the local model is optional: report without vectors
        print(f"vectors: not measured, the local embedder is unavailable ({e})")
        embedder = None
    print(f"{len(questions)} questions over {len(texts)} documents")
    for name, strategy in STRATEGIES.items():
        chunks = passages(strategy, count)
        bm25 = BM25([c.text for c in chunks])
        methods: dict[str, list[list[int]]] = {"full text": [bm25.rank(q.question) for q in questions]}
        if embedder is not None:
            vectors = embedder.embed([c.text for c in chunks])
            queries = embedder.embed([q.question for q in questions])
            methods["vectors"] = [list((vectors @ qv).argsort()[::-1]) for qv in queries]
            methods["hybrid"] = [
                [i for i, _ in fuse([ft, vec])]
                for ft, vec in zip(methods["full text"], methods["vectors"], strict=True)
            ]
        print(f"\nchunking {name}: {len(chunks)} chunks")
        for split in ("heldout", "dev"):
            picked = [n for n, q in enumerate(questions) if q.split == split]
            for method, rankings in methods.items():
                results = [scores(questions[n], [chunks[i] for i in rankings[n]], texts) for n in picked]
                recall = sum(r for r, _ in results) / len(results)
                ndcg = sum(g for _, g in results) / len(results)
                print(f"  {split:8} n={len(picked):3}  {method:10} recall@5 {recall:.3f}  nDCG@10 {ndcg:.3f}")


if __name__ == "__main__":
    main()
