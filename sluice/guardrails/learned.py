"""The learned prompt-injection detector: a logistic model over hashed byte n-grams (3 to 6 bytes
of the normalised UTF-8 text), scanned in overlapping windows, joined with the rules' score into one
score (``Calibration``: it confirms findings the rules were unsure of). Weights are a small committed file (``injection_model.npz``), made by
``bench/injection_train.py`` from public attack data and loaded once at startup; the run-time
cost is numpy over the text's bytes, no Python loop per n-gram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MODEL = Path(__file__).with_name("injection_model.npz")
NGRAMS = (3, 4, 5, 6)
BUCKETS = 1 << 18
WINDOW_BYTES = 512
STRIDE_BYTES = 256
_FNV_OFFSET = np.uint32(2166136261)
_FNV_PRIME = np.uint32(16777619)

Indices = npt.NDArray[np.int64]


def ngram_indices(data: bytes) -> list[Indices]:
    """Per n in ``NGRAMS``, the bucket of the n-gram starting at each byte (FNV-1a, folded)."""
    b = np.frombuffer(data, dtype=np.uint8).astype(np.uint32)
    out: list[Indices] = []
    h = np.full(len(b), _FNV_OFFSET, dtype=np.uint32)
    for n in range(1, max(NGRAMS) + 1):
        if len(b) < n:
            break
        h = (h[: len(b) - n + 1] ^ b[n - 1 :]) * _FNV_PRIME
        if n in NGRAMS:
            out.append(((h ^ (h >> np.uint32(15))) & np.uint32(BUCKETS - 1)).astype(np.int64))
    return out


def features(data: bytes) -> tuple[Indices, float]:
    """A window's n-gram buckets and the value each carries (1/sqrt(count): length-normalised)."""
    idx = ngram_indices(data)
    if not idx:
        return np.zeros(0, dtype=np.int64), 0.0
    flat = np.concatenate(idx)
    return flat, 1.0 / math.sqrt(len(flat))


@dataclass(frozen=True, slots=True)
class Calibration:
    """How the model's logit joins the rules' score: it is consulted only where the rules found
    some evidence (``rule_score >= low``), and there the score is the larger of the rules' and
    ``sigmoid(slope * (logit - threshold))``. ``threshold`` is the logit at which the model alone
    says 0.5, chosen on the training families out of fold so that it adds no near-miss and at most
    one benign false positive in a thousand there. With no rule evidence the rules' score stands:
    the model confirms doubtful findings, it does not make new ones from style alone."""

    low: float
    threshold: float
    slope: float

    def consulted(self, rule_score: float) -> bool:
        return rule_score >= self.low

    def probability(self, logit: float, rule_score: float) -> float:
        if rule_score < self.low:
            return rule_score
        z = self.slope * (logit - self.threshold)
        return max(rule_score, 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))))


class LearnedDetector:
    """``logit(text)``: the model's highest window logit over the text (already normalised)."""

    def __init__(self, weights: npt.NDArray[np.float32], bias: float, calibration: Calibration) -> None:
        if weights.shape != (BUCKETS,):
            raise ValueError(f"expected {BUCKETS} weights, got {weights.shape}")
        self._w = weights.astype(np.float32)
        self._bias = bias
        self.calibration = calibration

    @classmethod
    def load(cls, path: Path = MODEL) -> LearnedDetector:
        with np.load(path, allow_pickle=False) as z:
            cal = z["calibration"].astype(float)
            return cls(z["weights"].astype(np.float32), float(z["bias"]), Calibration(*map(float, cal)))

    def logit(self, text: str) -> float:
        data = text.encode("utf-8", "replace")
        idx = ngram_indices(data)
        if not idx:
            return self._bias
        # Per starting byte, the summed weight of its n-grams and how many there are; a window's
        # logit is its sum over sqrt(count): cumulative sums make every window O(1).
        n = len(idx[0])
        per_byte = np.zeros(n + 1, dtype=np.float64)
        count = np.zeros(n + 1, dtype=np.float64)
        for grams in idx:
            per_byte[1 : len(grams) + 1] += self._w[grams]
            count[1 : len(grams) + 1] += 1.0
        csum = np.cumsum(per_byte)
        ccount = np.cumsum(count)
        if n <= WINDOW_BYTES:
            return float(csum[n] / math.sqrt(ccount[n])) + self._bias
        starts = np.arange(0, n - WINDOW_BYTES + STRIDE_BYTES, STRIDE_BYTES)
        ends = np.minimum(starts + WINDOW_BYTES, n)
        starts = np.maximum(0, ends - WINDOW_BYTES)
        sums = csum[ends] - csum[starts]
        counts = ccount[ends] - ccount[starts]
        return float(np.max(sums / np.sqrt(counts))) + self._bias
