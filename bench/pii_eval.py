"""How well PII and secrets detection (``sluice/guardrails/pii.py``) does on the labelled sample
set ``tests/guardrails/pii_samples.py``: positives (a text and the value of one kind in it) and
near misses (texts that resemble a kind, in which nothing may be found).

Per kind: n, recall (the labelled value found whole, as its kind) and precision (of the findings
of that kind in all samples, the share that are a labelled value of that kind: a value found as
the wrong kind counts against the kind it was reported as); per kind a near miss resembles: the
share with any finding. Then recall on the structured PII kinds and on secrets, and the near-miss
false-positive rate. ``--verbose`` lists the misses and the false positives.

    .venv/bin/python bench/pii_eval.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the sample set lives in tests/

from sluice.guardrails.pii import SECRETS, Kind, find
from tests.guardrails.pii_samples import NEAR_MISSES, POSITIVES

STRUCTURED = (Kind.CARD, Kind.SSN, Kind.NATIONAL_ID, Kind.IBAN, Kind.EMAIL, Kind.PHONE, Kind.IP)
TARGET_RECALL = 0.98
TARGET_FP = 0.01


def found(text: str) -> list[tuple[Kind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find(text)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list misses and false positives")
    args = parser.parse_args()

    positives = [(p, found(p.full_text)) for p in POSITIVES]
    near = [(n, found(n.text)) for n in NEAR_MISSES]
    hit = [(p.kind, p.value) in hits for p, hits in positives]
    reported = Counter(kind for _, hits in positives + near for kind, _ in hits)
    true = Counter(p.kind for p, h in zip(POSITIVES, hit, strict=True) if h)

    print(f"== PII sample set: {len(POSITIVES)} positives, {len(NEAR_MISSES)} near misses ==")
    print(
        f"{'kind':<12} {'n':>4} {'recall':>7} {'reported':>9} {'precision':>9} {'near misses':>12} {'flagged':>8}"
    )
    for kind in Kind:
        n = sum(p.kind == kind for p in POSITIVES)
        recall = true[kind] / n if n else float("nan")
        precision = true[kind] / reported[kind] if reported[kind] else float("nan")
        resembling = [hits for m, hits in near if m.resembles == kind]
        flagged = sum(bool(hits) for hits in resembling)
        print(
            f"{kind:<12} {n:>4} {recall:>7.3f} {reported[kind]:>9} {precision:>9.3f} {len(resembling):>12} {flagged:>8}"
        )

    def recall_of(kinds: frozenset[Kind] | tuple[Kind, ...]) -> float:
        of = [h for p, h in zip(POSITIVES, hit, strict=True) if p.kind in kinds]
        return sum(of) / len(of)

    structured, secrets = recall_of(STRUCTURED), recall_of(SECRETS)
    fp = sum(bool(hits) for _, hits in near) / len(near)
    print(f"recall, structured PII ({', '.join(STRUCTURED)}): {structured:.3f} (target >= {TARGET_RECALL})")
    print(f"recall, secrets ({', '.join(sorted(SECRETS))}): {secrets:.3f}")
    ok = "ok" if structured >= TARGET_RECALL and fp <= TARGET_FP else "MISSED"
    print(f"near-miss false positives {fp:.3%} (target <= {TARGET_FP:.0%}): {ok}")
    if args.verbose:
        for (p, hits), h in zip(positives, hit, strict=True):
            if not h:
                print(f"  missed [{p.kind}] {p.value[:60]!r} in {p.full_text[:120]!r}, found {hits}")
        for m, hits in near:
            if hits:
                print(f"  false positive [resembles {m.resembles}] {m.text[:120]!r}: {hits}")


if __name__ == "__main__":
    main()
