"""A prompt version's quality from its summed requests (``Store.prompt_quality``): rates with
Wilson score intervals, means with normal (Student t for few) intervals, percentiles with
distribution-free order-statistic intervals. All intervals are 95% two-sided."""

from __future__ import annotations

import math

import msgspec

from sluice.store.records import VersionQuality

Z = 1.959964
"""The normal quantile of a 95% two-sided interval."""
# Student t, 97.5% quantile, by degrees of freedom 1..30 (any statistics table); past 30 ~ Z.
_T975: tuple[float, ...] = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


class Estimate(msgspec.Struct, frozen=True):
    value: float | None
    """None when there is nothing to estimate from."""
    low: float | None = None
    high: float | None = None
    n: int = 0
    """How many observations it rests on."""


class Quality(msgspec.Struct, frozen=True):
    """What the admin API shows for a version (or an experiment's arm)."""

    version: int
    requests: int
    error_rate: Estimate
    latency_p50_ms: Estimate
    latency_p95_ms: Estimate
    ttft_p50_ms: Estimate
    input_tokens_per_request: float | None
    output_tokens_per_request: float | None
    cost_per_request_usd: Estimate
    cache_hit_rate: Estimate
    """Of the requests the response cache applied to."""
    guardrail_refusal_rate: Estimate
    structured_failure_rate: Estimate
    feedback: Estimate
    """The mean score in [0, 1] (thumbs up 1, down 0)."""


def wilson(k: int, n: int, z: float = Z) -> Estimate:
    """k successes of n: the rate and its Wilson score interval (Wilson 1927; good at rates near
    0 or 1 and at small n, where the normal interval fails)."""
    if n <= 0:
        return Estimate(None)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), n)


def mean(total: float, squares: float, n: int) -> Estimate:
    """The mean of n values from their sum and sum of squares, with a t interval (normal past 30)."""
    if n <= 0:
        return Estimate(None)
    m = total / n
    if n == 1:
        return Estimate(m, None, None, 1)
    var = max(0.0, (squares - n * m * m) / (n - 1))
    crit = _T975[n - 2] if n - 1 <= len(_T975) else Z
    half = crit * math.sqrt(var / n)
    return Estimate(m, m - half, m + half, n)


def percentile(sample: list[float], q: float) -> Estimate:
    """The q-quantile of the sample (nearest rank) and an order-statistic interval: the ranks
    n*q -/+ Z*sqrt(n*q*(1-q)) of the sorted sample (the normal approximation to the binomial
    count of values below the true quantile; no distributional assumption on the values)."""
    n = len(sample)
    if n == 0:
        return Estimate(None)
    s = sorted(sample)
    rank = min(n - 1, max(0, math.ceil(n * q) - 1))
    spread = Z * math.sqrt(n * q * (1 - q))
    lo = max(0, math.floor(n * q - spread) - 1)
    hi = min(n - 1, math.ceil(n * q + spread))
    return Estimate(s[rank], s[lo], s[hi], n)


def summarize(v: VersionQuality) -> Quality:
    n = v.requests
    cost = mean(v.cost_micros / 1e6, v.cost_sq / 1e12, n)
    return Quality(
        version=v.version,
        requests=n,
        error_rate=wilson(v.errors, n),
        latency_p50_ms=percentile(v.latency_ms, 0.5),
        latency_p95_ms=percentile(v.latency_ms, 0.95),
        ttft_p50_ms=percentile(v.ttft_ms, 0.5),
        input_tokens_per_request=v.input_tokens / n if n else None,
        output_tokens_per_request=v.output_tokens / n if n else None,
        cost_per_request_usd=cost,
        cache_hit_rate=wilson(v.cache_hits, v.cache_lookups),
        guardrail_refusal_rate=wilson(v.guardrail_refusals, n),
        structured_failure_rate=wilson(v.structured_failures, n),
        feedback=mean(v.feedback_sum, v.feedback_sq, v.feedback_count),
    )
