"""Rollback rules and the sequential feedback test: its false-alarm rate under repeated peeking
stays at most alpha (where a naive z-test's does not), and it finds a real drop."""

from __future__ import annotations

import math
import random

import pytest

from sluice.errors import InvalidRequestError
from sluice.prompts.quality import mean, percentile, wilson
from sluice.prompts.rules import log_msprt, tripped, validate
from sluice.store.records import VersionQuality

ALPHA = 0.05


def q(version: int, requests: int = 0, errors: int = 0, **fields: object) -> VersionQuality:
    return VersionQuality(version, requests, errors, **fields)  # type: ignore[arg-type]


def test_error_rate_rule_trips_at_the_ratio_over_min_requests() -> None:
    rule = [{"metric": "error_rate", "ratio": 2.0, "min_requests": 100}]
    control = q(1, 1000, 50)
    assert tripped(rule, control, q(2, 99, 30)) is None  # not enough requests yet
    why = tripped(rule, control, q(2, 100, 15))
    assert why is not None and why.startswith("error_rate: version 2 failed 15 of 100")
    assert tripped(rule, control, q(2, 100, 9)) is None  # 9% < 2 x 5%
    assert tripped(rule, q(1, 1000, 0), q(2, 100, 4)) is None  # fewer than min_errors (5)


def test_p95_and_cost_rules() -> None:
    slow = q(2, 100, latency_ms=[float(i) for i in range(100)] + [5000.0] * 10)
    assert tripped([{"metric": "p95_ms", "max": 2000}], q(1), slow) is not None
    assert tripped([{"metric": "p95_ms", "max": 6000}], q(1), slow) is None
    dear = q(2, 100, cost_micros=2_000_000)  # 0.02 USD a request
    assert tripped([{"metric": "cost_per_request_usd", "max": 0.01}], q(1), dear) is not None
    assert tripped([{"metric": "cost_per_request_usd", "max": 0.05}], q(1), dear) is None


@pytest.mark.parametrize(
    ("rules", "param"),
    [
        ([{"metric": "latency"}], "rules[0].metric"),
        ([{"metric": "error_rate"}], "rules[0].ratio"),
        ([{"metric": "error_rate", "ratio": -1}], "rules[0].ratio"),
        ([{"metric": "p95_ms", "max": 10, "ratio": 2}], "rules[0].ratio"),
        ([{"metric": "feedback"}, {"metric": "feedback", "alpha": 1.5}], "rules[1].alpha"),
        ([{"metric": "cost_per_request_usd", "max": True}], "rules[0].max"),
    ],
)
def test_bad_rules_name_the_param(rules: list[dict[str, object]], param: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        validate(rules)  # type: ignore[arg-type]
    assert e.value.param == param


def test_intervals() -> None:
    r = wilson(0, 20)
    assert r.value == 0.0 and r.low == 0.0 and r.high is not None and 0.1 < r.high < 0.2  # not the normal's 0
    m = mean(10.0, 30.0, 5)  # values with mean 2 and variance 2.5
    assert m.value == 2.0 and m.low is not None and abs((2.0 - m.low) - 2.776 * math.sqrt(2.5 / 5)) < 1e-9
    p = percentile([float(i) for i in range(1, 101)], 0.95)
    assert p.value == 95.0 and p.low is not None and p.high is not None and p.low < 95.0 < p.high <= 100.0


def bernoulli(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def peeks(
    rng: random.Random, p_control: float, p_cand: float, looks: int, per_look: int
) -> tuple[bool, bool]:
    """One experiment looked at ``looks`` times: whether the mSPRT ever rejected, and whether a
    naive z-test at the same alpha ever did."""
    kc = kk = n = 0
    msprt_hit = naive_hit = False
    for _ in range(looks):
        n += per_look
        kc += bernoulli(rng, per_look, p_control)
        kk += bernoulli(rng, per_look, p_cand)
        control = q(1, feedback_count=n, feedback_sum=float(kc), feedback_sq=float(kc))
        cand = q(2, feedback_count=n, feedback_sum=float(kk), feedback_sq=float(kk))
        if tripped([{"metric": "feedback", "alpha": ALPHA, "min_feedback": 20}], control, cand):
            msprt_hit = True
        pc, pk = kc / n, kk / n
        se = math.sqrt(max(pc * (1 - pc) / n + pk * (1 - pk) / n, 1e-12))
        if (pc - pk) / se > 1.645:  # one-sided at 0.05, ignoring that it is looked at again and again
            naive_hit = True
    return msprt_hit, naive_hit


def test_sequential_test_false_alarms_stay_at_most_alpha_under_peeking() -> None:
    """300 experiments with no difference, each looked at 50 times: the mSPRT's rate of ever
    rejecting stays <= alpha; the naive test's, on the same data, does not (the simulation can tell)."""
    rng = random.Random(20260416)
    runs = 300
    results = [peeks(rng, 0.7, 0.7, looks=50, per_look=20) for _ in range(runs)]
    msprt_rate = sum(m for m, _ in results) / runs
    naive_rate = sum(n for _, n in results) / runs
    assert msprt_rate <= ALPHA, msprt_rate
    assert naive_rate > 2 * ALPHA, naive_rate


def test_sequential_test_finds_a_real_drop() -> None:
    rng = random.Random(7)
    found = sum(peeks(rng, 0.8, 0.6, looks=30, per_look=20)[0] for _ in range(40))
    assert found >= 36  # power well above 90% at a 0.2 drop within 600 ratings an arm


def test_msprt_statistic_grows_with_evidence() -> None:
    small = log_msprt(50, 0.8, 0.16, 50, 0.7, 0.21, 0.1)
    large = log_msprt(500, 0.8, 0.16, 500, 0.7, 0.21, 0.1)
    assert large > small and large > math.log(1 / ALPHA)
    assert log_msprt(500, 0.7, 0.21, 500, 0.7, 0.21, 0.1) < 0  # no difference: below 1
