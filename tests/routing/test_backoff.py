import random

from sluice.routing.backoff import backoff_s
from sluice.settings import RetrySettings

POLICY = RetrySettings(backoff_base_s=0.5, backoff_max_s=3.0, max_retry_after_s=10)


def test_full_jitter_within_exponential_cap() -> None:
    rng = random.Random(3)
    for retry, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        waits = [backoff_s(retry, POLICY, rng, None) for _ in range(200)]
        assert all(w is not None and 0 <= w <= cap for w in waits)
        assert max(w for w in waits if w is not None) > cap * 0.8  # jitter spans the range


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    rng = random.Random(0)
    assert backoff_s(1, POLICY, rng, 4.0) == 4.0
    assert backoff_s(1, POLICY, rng, 30.0) is None
