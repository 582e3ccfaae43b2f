"""How long to wait before retrying the same deployment."""

from __future__ import annotations

import random

from sluice.settings import RetrySettings


def backoff_s(
    retry: int, policy: RetrySettings, rng: random.Random, retry_after_s: float | None
) -> float | None:
    """Exponential backoff with full jitter, or the upstream's ``Retry-After`` when it gave one.

    Returns None when the upstream asks for a longer wait than the policy honours: the caller
    then moves on (next deployment or fallback) instead of holding the request.
    """
    if retry_after_s is not None:
        return retry_after_s if retry_after_s <= policy.max_retry_after_s else None
    cap = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** (retry - 1)))
    return rng.uniform(0, cap)
