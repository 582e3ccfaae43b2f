"""Rollback rules: what makes an experiment's candidate worse than its control, checked on the
versions' summed requests. Each rule is JSON: ``{"metric": "error_rate", "ratio": 2.0,
"min_requests": 100}``, ``{"metric": "p95_ms", "max": 2000}``, ``{"metric":
"cost_per_request_usd", "max": 0.01}``, ``{"metric": "feedback", "alpha": 0.05}``.

The feedback rule is a sequential test, so checking it at every evaluation (peeking) does not
inflate its false alarms: the mixture sequential probability ratio test (mSPRT) of Johari,
Koomen, Pekelis and Walsh, "Peeking at A/B Tests: Why it matters, and what to do about it"
(KDD 2017, section 4; Robbins 1970 for the mixture martingale). For the difference of the two
arms' mean scores, d = control - candidate, with variance v = s_c^2/n_c + s_k^2/n_k (scores in
[0, 1]; thumbs are Bernoulli) and a normal mixing distribution N(0, tau^2) over the effect,

    Lambda = sqrt(v / (v + tau^2)) * exp(tau^2 * d^2 / (2 * v * (v + tau^2)))

is (asymptotically) a martingale under "no difference", so by Ville's inequality
P(Lambda ever >= 1/alpha) <= alpha however often it is looked at. The rule trips when
Lambda >= 1/alpha and d > 0 (the candidate scores lower): one-sided, so its false-alarm rate is
at most alpha. tests/prompts/test_rules.py simulates repeated peeking under the null."""

from __future__ import annotations

import math
from typing import Any

from sluice.errors import InvalidRequestError
from sluice.prompts.quality import mean, percentile
from sluice.store.records import VersionQuality

METRICS = ("error_rate", "p95_ms", "cost_per_request_usd", "feedback")
_KNOWN = {
    "error_rate": {"ratio", "min_requests", "min_errors"},
    "p95_ms": {"max", "min_requests"},
    "cost_per_request_usd": {"max", "min_requests"},
    "feedback": {"alpha", "tau", "min_feedback"},
}
_DEFAULT_TAU = 0.1
"""The mixing spread: effects of about 0.1 on the score are those the test is tuned to find fastest."""


def validate(rules: list[dict[str, Any]]) -> None:
    """``InvalidRequestError`` naming ``rules[i].<field>`` for a rule that is not one of the shapes."""
    for i, rule in enumerate(rules):
        metric = rule.get("metric")
        if metric not in _KNOWN:
            raise InvalidRequestError(
                f"rules[{i}].metric must be one of {', '.join(METRICS)}.", param=f"rules[{i}].metric"
            )
        for field, value in rule.items():
            if field == "metric":
                continue
            if field not in _KNOWN[metric]:
                raise InvalidRequestError(
                    f"rules[{i}]: unknown field `{field}` for the metric {metric}.",
                    param=f"rules[{i}].{field}",
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidRequestError(
                    f"rules[{i}].{field} must be a positive number.", param=f"rules[{i}].{field}"
                )
        needed = {"error_rate": "ratio", "p95_ms": "max", "cost_per_request_usd": "max"}.get(metric)
        if needed is not None and needed not in rule:
            raise InvalidRequestError(f"rules[{i}] needs `{needed}`.", param=f"rules[{i}].{needed}")
        if metric == "feedback" and not 0 < rule.get("alpha", 0.05) < 1:
            raise InvalidRequestError(f"rules[{i}].alpha must be below 1.", param=f"rules[{i}].alpha")


def tripped(rules: list[dict[str, Any]], control: VersionQuality, candidate: VersionQuality) -> str | None:
    """The first rule the candidate breaks, said in words with its figures; None when healthy."""
    for rule in rules:
        found = _check(rule, control, candidate)
        if found is not None:
            return found
    return None


def _check(rule: dict[str, Any], control: VersionQuality, cand: VersionQuality) -> str | None:
    metric = rule["metric"]
    v = cand.version
    if metric == "feedback":
        return _feedback(rule, control, cand)
    if cand.requests < rule.get("min_requests", 100):
        return None
    if metric == "error_rate":
        rate = cand.errors / cand.requests
        # Laplace-smoothed, so a control without errors yet is not a zero every error is "twice" of.
        base = (control.errors + 1) / (control.requests + 2)
        if cand.errors >= rule.get("min_errors", 5) and rate >= rule["ratio"] * base:
            return (
                f"error_rate: version {v} failed {cand.errors} of {cand.requests} requests ({rate:.3f}), at least "
                f"{rule['ratio']:g} times the control's {base:.3f} ({control.errors} of {control.requests})"
            )
        return None
    if metric == "p95_ms":
        p95 = percentile(cand.latency_ms, 0.95).value
        if p95 is not None and p95 > rule["max"]:
            return f"p95_ms: version {v}'s p95 latency {p95:.0f} ms is above {rule['max']:g} ms"
        return None
    cost = cand.cost_micros / cand.requests / 1e6
    if cost > rule["max"]:
        return f"cost_per_request_usd: version {v} costs {cost:.6f} USD a request, above {rule['max']:g}"
    return None


def log_msprt(
    n_a: int, mean_a: float, var_a: float, n_b: int, mean_b: float, var_b: float, tau: float
) -> float:
    """log Lambda of the module docstring for the difference mean_a - mean_b."""
    v = var_a / n_a + var_b / n_b
    t2 = tau * tau
    d = mean_a - mean_b
    return 0.5 * math.log(v / (v + t2)) + t2 * d * d / (2 * v * (v + t2))


def _feedback(rule: dict[str, Any], control: VersionQuality, cand: VersionQuality) -> str | None:
    least = rule.get("min_feedback", 30)
    if control.feedback_count < least or cand.feedback_count < least:
        return None
    c = mean(control.feedback_sum, control.feedback_sq, control.feedback_count)
    k = mean(cand.feedback_sum, cand.feedback_sq, cand.feedback_count)
    assert c.value is not None and k.value is not None
    if k.value >= c.value:
        return None
    alpha = rule.get("alpha", 0.05)
    # A floor on each variance: a run of identical scores must not make the test certain.
    var_c = max(_variance(control), 0.01)
    var_k = max(_variance(cand), 0.01)
    log_l = log_msprt(
        control.feedback_count,
        c.value,
        var_c,
        cand.feedback_count,
        k.value,
        var_k,
        rule.get("tau", _DEFAULT_TAU),
    )
    if log_l >= math.log(1 / alpha):
        return (
            f"feedback: version {cand.version} scores {k.value:.3f} ({cand.feedback_count} ratings), below the "
            f"control's {c.value:.3f} ({control.feedback_count}); sequential test (mSPRT) at alpha {alpha:g}"
        )
    return None


def _variance(q: VersionQuality) -> float:
    n = q.feedback_count
    m = q.feedback_sum / n
    return max(0.0, q.feedback_sq / n - m * m)
