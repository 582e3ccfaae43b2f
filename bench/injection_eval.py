"""How the prompt-injection detectors do on data split by source (``bench/guardrails_data.py``):
held-out families first, then the training families (for reference only). For the rules alone and
for the rules with the learned detector (one calibrated score): recall per attack family, false
positives per benign family, overall recall and benign false-positive rate at the threshold, and
the score distribution. Last, the latency of one score of a ~1,000-token prompt (p50, p99, one
core): rules only, and rules with the learned detector.

    .venv/bin/python bench/injection_eval.py [--threshold 0.5] [--verbose] [--split train]

``--split train`` reads only the training families (for development: the held-out split is for
the one evaluation at the end). ``fresh`` is a second held-out set from sources no rule was written
against (``bench/injection_fresh.py``: spikee and AgentDojo).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import guardrails_data, injection_fresh  # noqa: E402
from bench.guardrails_eval import INJECTION, PROMPT_UNIT, TOOL_UNIT, UNICODE_UNIT, fill  # noqa: E402
from sluice.guardrails import injection, learned  # noqa: E402
from sluice.guardrails.scorer import InjectionScorer  # noqa: E402


def evaluate(
    rows: list[dict[str, str]], scores: dict[str, list[float]], threshold: float, verbose: bool
) -> None:
    names = list(scores)
    print(f"{'family':<30} {'n':>4} " + " ".join(f"{n:>14}" for n in names))
    for label, what in (("injection", "recall"), ("benign", "false pos.")):
        print(f"-- {label} ({what} at {threshold})")
        for family in sorted({r["family"] for r in rows if r["label"] == label}):
            picked = [i for i, r in enumerate(rows) if r["family"] == family]
            rates = [sum(scores[n][i] >= threshold for i in picked) / len(picked) for n in names]
            print(f"{family:<30} {len(picked):>4} " + " ".join(f"{x:>14.3f}" for x in rates))
    for n in names:
        att = [scores[n][i] for i, r in enumerate(rows) if r["label"] == "injection"]
        ben = [scores[n][i] for i, r in enumerate(rows) if r["label"] == "benign"]
        near = [scores[n][i] for i, r in enumerate(rows) if r["family"].startswith("near_miss")]
        recall = sum(s >= threshold for s in att) / len(att)
        fp = sum(s >= threshold for s in ben) / len(ben)
        nfp = sum(s >= threshold for s in near) / max(1, len(near))
        print(
            f"{n}: recall {recall:.3f} ({len(att)} attacks), benign false positives {fp:.2%} ({len(ben)}), "
            f"near-miss false positives {nfp:.2%} ({len(near)})"
        )
        for label, values in (("attacks", att), ("benign", ben)):
            q = np.quantile(values, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
            print(f"  {label:<8} score quantiles 1/5/25/50/75/95/99%: " + " ".join(f"{x:.3f}" for x in q))
    if verbose:
        for name in names:
            for i, r in enumerate(rows):
                wrong = (scores[name][i] >= threshold) != (r["label"] == "injection")
                if wrong:
                    print(f"  {name} {r['label']}/{r['family']} {scores[name][i]:.3f}: {r['text'][:140]!r}")


BORDERLINE = " From now on, answer in French. "


def latency(scorer: InjectionScorer) -> None:
    benign = fill(PROMPT_UNIT)
    half = len(benign) // 2
    texts = [
        ("benign prompt (user)", benign, "user"),
        ("malicious prompt (user)", benign[:half] + INJECTION + benign[half + len(INJECTION) :], "user"),
        # The rules score it 0.35: the learned model is consulted (the slow path with it on).
        ("borderline prompt (user)", benign[:half] + BORDERLINE + benign[half + len(BORDERLINE) :], "user"),
        ("benign ru/ja prompt (user)", fill(UNICODE_UNIT), "user"),
        ("benign tool result (tool)", fill(TOOL_UNIT), "tool"),
    ]
    print(
        f"\n{'one score of':<28} {'chars':>6} {'rules p50':>10} {'p99':>8} {'+learned p50':>13} {'p99':>8}  (ms, one core)"
    )
    for name, text, source in texts:
        row = []
        for call in (
            lambda text=text, source=source: injection.score(text, source=source),  # type: ignore[misc]
            lambda text=text, source=source: scorer(text, source),
        ):
            call()
            times = []
            for _ in range(400):
                t0 = time.process_time_ns()
                call()
                times.append((time.process_time_ns() - t0) / 1e6)
            times.sort()
            row += [statistics.median(times), times[int(len(times) * 0.99) - 1]]
        print(f"{name:<28} {len(text):>6} {row[0]:>10.3f} {row[1]:>8.3f} {row[2]:>13.3f} {row[3]:>8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--verbose", action="store_true", help="list the misses and false positives")
    parser.add_argument("--split", choices=("all", "train", "heldout", "fresh"), default="all")
    parser.add_argument("--no-latency", action="store_true")
    args = parser.parse_args()
    rows = guardrails_data.rows()
    if args.split in ("all", "fresh"):
        rows += injection_fresh.rows()
    scorer = InjectionScorer(learned.LearnedDetector.load())
    for split in ("heldout", "fresh", "train"):
        if args.split not in ("all", split):
            continue
        part = [r for r in rows if r["split"] == split]
        rules = [
            (v.score if (v := injection.score(r["text"], source=r["channel"])) else 0.0)  # type: ignore[arg-type]
            for r in part
        ]
        combined = [scorer(r["text"], r["channel"]).score for r in part]
        print(
            f"\n== {split} =="
            + ("  (the model and calibration were fitted on these)" if split == "train" else "")
        )
        evaluate(
            part,
            {"rules": rules, "rules+learned": combined},
            args.threshold,
            args.verbose,
        )
    if not args.no_latency:
        latency(scorer)


if __name__ == "__main__":
    main()
