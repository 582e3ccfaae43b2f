"""How well do cosine similarity alone, and cosine plus the structural verifier, tell a paraphrase (the
cached answer may be served) from a near miss (it must not be)? Picks the semantic cache's default
threshold from ``cache_eval_set.jsonl`` and times the local embedder and the verifier.

    .venv/bin/python bench/cache_eval.py
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from sluice.cache.local_embed import LocalEmbedder
from sluice.cache.verify import compare

EVAL_SET = Path(__file__).with_name("cache_eval_set.jsonl")
THRESHOLDS = [round(0.80 + i / 100, 2) for i in range(19)]
MIN_PRECISION = 0.99


class Pair(msgspec.Struct):
    a: str
    b: str
    same: bool
    category: str


@dataclass
class Scored:
    pair: Pair
    cosine: float
    verified: bool


@dataclass
class Counts:
    precision: float | None
    recall: float
    false_hit_rate: float
    hits: int


def load() -> list[Pair]:
    decoder = msgspec.json.Decoder(Pair)
    return [decoder.decode(line) for line in EVAL_SET.read_bytes().splitlines() if line.strip()]


def score(pairs: list[Pair], embedder: LocalEmbedder) -> list[Scored]:
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))
    return [Scored(p, float(vectors[p.a] @ vectors[p.b]), compare(p.a, p.b).ok) for p in pairs]


def counts(scored: list[Scored], threshold: float, verify: bool) -> Counts:
    hit = [s.cosine >= threshold and (s.verified or not verify) for s in scored]
    tp = sum(h and s.pair.same for h, s in zip(hit, scored, strict=True))
    fp = sum(h and not s.pair.same for h, s in zip(hit, scored, strict=True))
    positives = sum(s.pair.same for s in scored)
    return Counts(
        tp / (tp + fp) if tp + fp else None, tp / positives, fp / (len(scored) - positives), tp + fp
    )


def roc_auc(scored: list[Scored]) -> float:
    """The chance that a random paraphrase scores above a random near miss (ties count half)."""
    pos = np.array([s.cosine for s in scored if s.pair.same])
    neg = np.array([s.cosine for s in scored if not s.pair.same])
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def pick(scored: list[Scored]) -> float | None:
    """Highest recall with verify at precision >= MIN_PRECISION; of equal recalls, the highest threshold."""
    ok = [
        (c.recall, t)
        for t in THRESHOLDS
        if (c := counts(scored, t, True)).precision and c.precision >= MIN_PRECISION
    ]
    return max(ok)[1] if ok else None


def fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def print_thresholds(scored: list[Scored]) -> None:
    print(
        "threshold | cosine alone: precision recall false-hit hits | cosine + verify: precision recall false-hit hits"
    )
    for t in THRESHOLDS:
        alone, verified = counts(scored, t, False), counts(scored, t, True)
        print(
            f"   {t:.2f}   |              {fmt(alone.precision)} {fmt(alone.recall)} {fmt(alone.false_hit_rate)}"
            f"  {alone.hits:3d} |                 {fmt(verified.precision)} {fmt(verified.recall)}"
            f" {fmt(verified.false_hit_rate)}  {verified.hits:3d}"
        )


def served(items: list[Scored], threshold: float, verify: bool) -> int:
    return sum(s.cosine >= threshold and (s.verified or not verify) for s in items)


def mean_cosine(items: list[Scored]) -> str:
    return f"{np.mean([s.cosine for s in items]):13.3f}" if items else "            -"


def print_categories(scored: list[Scored], threshold: float) -> None:
    by_category: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        by_category[s.pair.category].append(s)
    print(f"per category at {threshold:.2f}: paraphrases served / total; near misses served / total")
    print(
        "category     | mean cos same | mean cos diff | served same: cosine  +verify | served diff: cosine  +verify"
    )
    for category, group in sorted(by_category.items()):
        same = [s for s in group if s.pair.same]
        diff = [s for s in group if not s.pair.same]
        print(
            f"{category:12} | {mean_cosine(same)} | {mean_cosine(diff)} |"
            f"         {served(same, threshold, False):3d}/{len(same):<3d} {served(same, threshold, True):3d}/{len(same):<3d} |"
            f"         {served(diff, threshold, False):3d}/{len(diff):<3d} {served(diff, threshold, True):3d}/{len(diff):<3d}"
        )


def print_misses(scored: list[Scored], threshold: float) -> None:
    wrong = [s for s in scored if (s.cosine >= threshold and s.verified) != s.pair.same]
    print(f"\nwrong decisions at {threshold:.2f} with verify ({len(wrong)}):")
    for s in sorted(wrong, key=lambda s: (s.pair.same, s.pair.category)):
        kind = "missed paraphrase" if s.pair.same else "served near miss "
        reason = compare(s.pair.a, s.pair.b).reason or "verify passed"
        reason = reason if s.cosine >= threshold else "cosine below threshold"
        print(f"  {kind} {s.pair.category:10} {s.cosine:.3f} {s.pair.a!r} / {s.pair.b!r}: {reason}")


def throughput(embedder: LocalEmbedder, texts: list[str]) -> tuple[float, float]:
    embedder.embed(texts[:32])
    start = time.perf_counter()
    for text in texts[:64]:
        embedder.embed([text])
    single = 64 / (time.perf_counter() - start)
    start = time.perf_counter()
    embedder.embed(texts)
    return single, len(texts) / (time.perf_counter() - start)


def verify_time_us(pairs: list[Pair], rounds: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for p in pairs:
            compare(p.a, p.b)
    return (time.perf_counter() - start) / (rounds * len(pairs)) * 1e6


def main() -> None:
    pairs = load()
    started = time.perf_counter()
    embedder = LocalEmbedder()
    print(f"loaded all-MiniLM-L6-v2 in {time.perf_counter() - started:.2f} s")
    scored = score(pairs, embedder)
    hard = [s for s in scored if s.pair.category != "unrelated"]
    positives = sum(p.same for p in pairs)
    print(f"{len(pairs)} pairs: {positives} paraphrases, {len(pairs) - positives} near misses or unrelated\n")
    print(
        f"ROC-AUC of cosine alone: {roc_auc(scored):.3f} (all pairs), {roc_auc(hard):.3f} (without unrelated)\n"
    )
    print_thresholds(scored)
    chosen = pick(scored)
    print(
        f"\nrule: the threshold with the highest recall whose precision with verify is >= {MIN_PRECISION}"
        " (of equal recalls, the highest threshold)"
    )
    if chosen is None:
        print("no threshold reaches that precision")
        return
    c = counts(scored, chosen, True)
    print(
        f"recommended default threshold: {chosen:.2f} (precision {fmt(c.precision)}, recall {fmt(c.recall)})"
    )
    top = max((s for s in scored if not s.pair.same and s.verified), key=lambda s: s.cosine)
    print(
        f"margin: the closest near miss that verify passes scores {top.cosine:.3f} ({top.pair.a!r} / {top.pair.b!r})"
    )
    if counts(scored, THRESHOLDS[0], True).recall == c.recall:
        print(
            f"note: recall is at its best from the lowest threshold swept ({THRESHOLDS[0]:.2f}); a lower one may do better"
        )
    print()
    print_categories(scored, chosen)
    print_misses(scored, chosen)
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    single, batched = throughput(embedder, texts)
    print(
        f"\nembedding throughput: {single:.0f} texts/s at batch 1, {batched:.0f} texts/s at batch 32 ({len(texts)} texts)"
    )
    print(f"mean verify time: {verify_time_us(pairs):.0f} us per pair")


if __name__ == "__main__":
    main()
