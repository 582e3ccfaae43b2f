"""Assignment: split ratios over 10,000 users within binomial bounds, uniform and independent
buckets (chi-square against tabulated critical values), sticky, and the same in another process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from msgspec.structs import replace

from sluice.prompts.assign import bucket, choose
from sluice.store.records import Experiment, ExperimentArm

USERS = [f"user-{i}" for i in range(10_000)]

# Upper critical values of the chi-square distribution at alpha = 0.001 (any statistics table,
# e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4): a correct hash fails one of these one time in 1,000
# salts; the salts below are fixed, so the outcome is too.
CHI2_001 = {1: 10.828, 9: 27.877, 19: 43.820}


def ab(weights: list[float], salt: str = "salt-ab") -> Experiment:
    arms = [ExperimentArm(v, w) for v, w in enumerate(weights, start=1)]
    return Experiment("exp_ab", "t-a", "support", "production", "ab", 1, arms, salt=salt)


def canary(step: int, salt: str = "salt-canary") -> Experiment:
    return Experiment(
        "exp_c",
        "t-a",
        "support",
        "production",
        "canary",
        1,
        [ExperimentArm(1, 1.0), ExperimentArm(2, 0.0)],
        salt=salt,
        steps=[1.0, 5.0, 25.0, 100.0],
        step=step,
    )


def within_binomial(count: int, n: int, p: float) -> bool:
    """``count`` within 4.5 standard deviations of n*p (a false alarm about once in 150,000)."""
    return abs(count - n * p) <= 4.5 * math.sqrt(n * p * (1 - p)) + 1


def chi_square(observed: list[int], expected: float) -> float:
    return sum((o - expected) ** 2 / expected for o in observed)


def test_bucket_is_in_unit_interval_and_deterministic() -> None:
    values = [bucket("s", u) for u in USERS[:1000]]
    assert all(0.0 <= v < 1.0 for v in values)
    assert values == [bucket("s", u) for u in USERS[:1000]]
    assert bucket("ab", "c") != bucket("a", "bc")  # the separator keeps them apart


@pytest.mark.parametrize("weights", [[50, 50], [90, 10], [1, 2, 7], [0.2, 0.3, 0.25, 0.25]])
def test_ab_split_ratios_within_binomial_bounds(weights: list[float]) -> None:
    e = ab(weights)
    counts = [0] * len(weights)
    for u in USERS:
        counts[choose(e, u) - 1] += 1
    total = sum(weights)
    for count, w in zip(counts, weights, strict=True):
        assert within_binomial(count, len(USERS), w / total), (counts, weights)


def test_a_zero_weight_arm_gets_nobody() -> None:
    assert {choose(ab([1, 0, 1]), u) for u in USERS} == {1, 3}


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_canary_step_ratios_within_binomial_bounds(step: int) -> None:
    e = canary(step)
    on_candidate = sum(choose(e, u) == 2 for u in USERS)
    p = e.steps[step] / 100
    if p == 1.0:
        assert on_candidate == len(USERS)
    else:
        assert within_binomial(on_candidate, len(USERS), p), on_candidate


def test_canary_users_stay_on_the_candidate_as_it_widens() -> None:
    before: set[str] = set()
    for step in range(4):
        now = {u for u in USERS if choose(canary(step), u) == 2}
        assert before <= now
        before = now


def test_assignment_is_sticky() -> None:
    e = ab([1, 1, 1])
    first = {u: choose(e, u) for u in USERS}
    assert all(choose(e, u) == first[u] for u in reversed(USERS))
    # Changing weights moves only the users at the edges that moved, not everyone.
    moved = sum(
        choose(replace(e, arms=[ExperimentArm(1, 1), ExperimentArm(2, 1.1), ExperimentArm(3, 0.9)]), u)
        != first[u]
        for u in USERS
    )
    assert moved < len(USERS) * 0.1


def test_buckets_are_uniform_by_chi_square() -> None:
    bins = [0] * 20
    for u in USERS:
        bins[int(bucket("salt-uniform", u) * 20)] += 1
    assert chi_square(bins, len(USERS) / 20) < CHI2_001[19], bins


def test_a_non_uniform_sample_fails_the_same_check() -> None:
    """The check has power: 1.5% of users moved from the second bin to the first fail it."""
    bins = [0] * 20
    for u in USERS:
        b = bucket("salt-uniform", u)
        bins[0 if 0.05 <= b < 0.065 else int(b * 20)] += 1
    assert chi_square(bins, len(USERS) / 20) > CHI2_001[19]


def test_two_experiments_assign_independently() -> None:
    """A 4x4 contingency table of the two experiments' buckets: chi-square with 9 degrees of freedom."""
    table = [[0] * 4 for _ in range(4)]
    for u in USERS:
        table[int(bucket("exp-one", u) * 4)][int(bucket("exp-two", u) * 4)] += 1
    rows = [sum(r) for r in table]
    cols = [sum(table[i][j] for i in range(4)) for j in range(4)]
    n = len(USERS)
    stat = sum(
        (table[i][j] - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n)
        for i in range(4)
        for j in range(4)
    )
    assert stat < CHI2_001[9], table
    # The same salt is perfectly dependent: the statistic then explodes.
    same = [[0] * 4 for _ in range(4)]
    for u in USERS[:1000]:
        same[int(bucket("exp-one", u) * 4)][int(bucket("exp-one", u) * 4)] += 1
    assert sum(same[i][j] for i in range(4) for j in range(4) if i != j) == 0


def test_another_process_assigns_the_same() -> None:
    """No per-process seed (``hash()`` is salted per process; PYTHONHASHSEED differs here)."""
    code = (
        "import json, sys; from sluice.prompts.assign import bucket, choose; "
        "from sluice.store.records import Experiment, ExperimentArm; "
        "e = Experiment('exp_ab', 't-a', 'support', 'production', 'ab', 1, "
        "[ExperimentArm(1, 1.0), ExperimentArm(2, 2.0), ExperimentArm(3, 1.0)], salt='salt-ab'); "
        "users = [f'user-{i}' for i in range(2000)]; "
        "print(json.dumps([[choose(e, u) for u in users], [bucket('x', u) for u in users]]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    chosen, buckets = json.loads(out.stdout)
    e = ab([1.0, 2.0, 1.0])
    assert chosen == [choose(e, u) for u in USERS[:2000]]
    assert buckets == [bucket("x", u) for u in USERS[:2000]]
