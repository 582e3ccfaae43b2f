"""The ``x-ratelimit-*`` headers byte for byte, for a few quota states, formatted fresh and again
from the cache of reset texts (and after the cache was emptied for being full)."""

from __future__ import annotations

import pytest

from sluice.api import context
from sluice.api.context import rate_limit_headers, raw_headers
from sluice.limits.counters import Quota, Window, duration_text

CASES = [
    (Quota(None, None), []),
    (
        Quota(Window(3, 2, 60.7), None),
        [
            (b"x-ratelimit-limit-requests", b"3"),
            (b"x-ratelimit-remaining-requests", b"2"),
            (b"x-ratelimit-reset-requests", b"1m0.7s"),
        ],
    ),
    (
        Quota(None, Window(100, 0, 0.02)),
        [
            (b"x-ratelimit-limit-tokens", b"100"),
            (b"x-ratelimit-remaining-tokens", b"0"),
            (b"x-ratelimit-reset-tokens", b"20ms"),
        ],
    ),
    (
        Quota(Window(1_000_000, 999_999, 60.001), Window(90_000, 12_345, 8.64)),
        [
            (b"x-ratelimit-limit-requests", b"1000000"),
            (b"x-ratelimit-remaining-requests", b"999999"),
            (b"x-ratelimit-reset-requests", b"1m0.001s"),
            (b"x-ratelimit-limit-tokens", b"90000"),
            (b"x-ratelimit-remaining-tokens", b"12345"),
            (b"x-ratelimit-reset-tokens", b"8.64s"),
        ],
    ),
    (
        Quota(Window(2, 0, 0.0), Window(10, 10, 0.0)),
        [
            (b"x-ratelimit-limit-requests", b"2"),
            (b"x-ratelimit-remaining-requests", b"0"),
            (b"x-ratelimit-reset-requests", b"0s"),
            (b"x-ratelimit-limit-tokens", b"10"),
            (b"x-ratelimit-remaining-tokens", b"10"),
            (b"x-ratelimit-reset-tokens", b"0s"),
        ],
    ),
]


@pytest.mark.parametrize(("quota", "expected"), CASES)
def test_rate_limit_headers_are_pinned_byte_for_byte(
    quota: Quota, expected: list[tuple[bytes, bytes]]
) -> None:
    context._RESET_TEXT.clear()
    assert raw_headers(rate_limit_headers(quota)) == expected  # formatted
    assert raw_headers(rate_limit_headers(quota)) == expected  # from the cache


def test_the_reset_text_cache_is_bounded_and_never_changes_a_text() -> None:
    context._RESET_TEXT.clear()
    for ms in range(0, 3 * context._RESET_TEXT_MAX, 3):
        seconds = 60 + ms / 1000
        for _ in range(2):
            got = rate_limit_headers(Quota(Window(5, 1, seconds), None))["x-ratelimit-reset-requests"]
            assert got == duration_text(seconds)
        assert len(context._RESET_TEXT) <= context._RESET_TEXT_MAX
