"""Trains the learned prompt-injection detector (``sluice/guardrails/learned.py``) on the
training split of ``bench/guardrails_data.py`` and writes ``sluice/guardrails/injection_model.npz``.

Deterministic (full-batch Adam from zeros, no sampling): the same data gives the same file. The
held-out split is never read. Calibration: the model is fitted twice on two halves of the
training families, each half's texts scored by the model that did not see them, and on those
out-of-fold logits the threshold at which the model may confirm a finding the rules were unsure
of is chosen (``calibrate``). It prints the rules' and the combined score's out-of-fold recall and
false positives on the training families.

    .venv/bin/python bench/injection_train.py
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import guardrails_data  # noqa: E402
from sluice.guardrails import injection, learned  # noqa: E402
from sluice.guardrails.normalize import normalize  # noqa: E402

EPOCHS = 250
L2 = 2e-5
LR = 0.05
MAX_CHUNKS = 6


def chunks(text: str) -> list[bytes]:
    data = normalize(text).text.encode("utf-8", "replace")
    parts = [data[i : i + learned.WINDOW_BYTES] for i in range(0, max(1, len(data)), learned.WINDOW_BYTES)]
    if len(parts) > MAX_CHUNKS:
        step = len(parts) / MAX_CHUNKS
        parts = [parts[int(i * step)] for i in range(MAX_CHUNKS)]
    return [p for p in parts if len(p) >= 8] or [data]


def fit(rows: list[dict[str, str]]) -> tuple[np.ndarray, float]:
    """Weighted logistic regression over the rows' chunks: each family weighs as much as the
    square root of its size, each class half of the total."""
    fam = Counter(r["family"] for r in rows)
    idx_parts, val_parts, row_parts, y, w = [], [], [], [], []
    k = 0
    for r in rows:
        parts = chunks(r["text"])
        for c in parts:
            flat, value = learned.features(c)
            idx_parts.append(flat)
            val_parts.append(np.full(len(flat), value))
            row_parts.append(np.full(len(flat), k, dtype=np.int64))
            y.append(1.0 if r["label"] == "injection" else 0.0)
            w.append(1.0 / math.sqrt(fam[r["family"]]) / len(parts))
            k += 1
    idx = np.concatenate(idx_parts)
    val = np.concatenate(val_parts)
    row = np.concatenate(row_parts)
    ya = np.array(y)
    wa = np.array(w)
    for label in (0.0, 1.0):
        wa[ya == label] *= 0.5 / wa[ya == label].sum()
    weights = np.zeros(learned.BUCKETS)
    bias = 0.0
    m = np.zeros(learned.BUCKETS)
    v = np.zeros(learned.BUCKETS)
    mb = vb = 0.0
    for t in range(1, EPOCHS + 1):
        z = np.bincount(row, weights=weights[idx] * val, minlength=k) + bias
        p = 1.0 / (1.0 + np.exp(-z))
        err = (p - ya) * wa
        grad = np.bincount(idx, weights=val * err[row], minlength=learned.BUCKETS) + L2 * weights
        gb = float(err.sum())
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        weights -= LR * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb * gb
        bias -= LR * (mb / (1 - 0.9**t)) / (math.sqrt(vb / (1 - 0.999**t)) + 1e-8)
    return weights.astype(np.float16).astype(np.float32), bias


def text_logit(det: learned.LearnedDetector, text: str) -> float:
    norm = normalize(text)
    return max(det.logit(body) for body in [norm.text, *(b for _, b in norm.readings)])


LOW = 0.2
"""The rules' score from which the model is consulted: below it the rules found nothing worth a doubt."""


def calibrate(logits: np.ndarray, rules: np.ndarray, y: np.ndarray, near: np.ndarray) -> learned.Calibration:
    """The smallest logit threshold (steps of 0.25) at which the model, consulted where the rules
    scored at least ``LOW``, adds no near-miss and at most one benign false positive in a thousand
    out of fold; the threshold is a logit, so the model's own scale keeps its meaning."""
    base = rules >= 0.5
    benign = y == 0
    for threshold in np.arange(0.0, 10.01, 0.25):
        cal = learned.Calibration(LOW, float(threshold), 1.0)
        hit = np.array([cal.probability(lg, r) >= 0.5 for lg, r in zip(logits, rules, strict=True)])
        added = hit & ~base
        if not (added & near).any() and (added & benign).sum() <= benign.sum() / 1000:
            return cal
    return learned.Calibration(LOW, math.inf, 1.0)


def half(family: str) -> int:
    return hashlib.sha256(family.encode()).digest()[0] % 2


def main() -> None:
    rows = [r for r in guardrails_data.rows() if r["split"] == "train"]
    print(f"training rows: {len(rows)} ({sum(r['label'] == 'injection' for r in rows)} injections)")
    logits = np.zeros(len(rows))
    for fold in (0, 1):
        train = [r for r in rows if half(r["family"]) != fold]
        w, b = fit(train)
        det = learned.LearnedDetector(w, b, learned.Calibration(1.0, 0.0, 0.0))
        for i, r in enumerate(rows):
            if half(r["family"]) == fold:
                logits[i] = text_logit(det, r["text"])
    rule = np.array(
        [(v.score if (v := injection.score(r["text"], source=r["channel"])) else 0.0) for r in rows]  # type: ignore[arg-type]
    )
    y = np.array([1.0 if r["label"] == "injection" else 0.0 for r in rows])
    near = np.array([r["family"].startswith("near_miss") for r in rows])
    cal = calibrate(logits, rule, y, near)
    print(f"calibration: {cal}")
    oof = np.array([cal.probability(lg, r) for lg, r in zip(logits, rule, strict=True)])
    for name, p in (("rules", rule), ("rules+learned, out of fold", oof)):
        hit = p >= 0.5
        print(
            f"{name}: recall {hit[y == 1].mean():.3f}, benign false positives {hit[y == 0].mean():.2%}, "
            f"near-miss false positives {hit[near].mean():.2%} (training families, threshold 0.5)"
        )
    w, b = fit(rows)
    np.savez_compressed(
        learned.MODEL,
        weights=w.astype(np.float16),
        bias=np.float64(b),
        calibration=np.array([cal.low, cal.threshold, cal.slope]),
    )
    print(f"wrote {learned.MODEL.relative_to(ROOT)} ({learned.MODEL.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
