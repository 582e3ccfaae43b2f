"""The Redis change channel on the session's real Redis: messages applied by every subscriber,
the publisher's own included; unknown or malformed ones logged and skipped; a dropped subscriber
bounds the caches' staleness until it is back; an unreachable Redis never fails the change."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis

from sluice.auth.invalidation import AuthCaches
from sluice.auth.redis import FALLBACK_CACHE_S, RedisInvalidation
from tests.fixtures.procs import free_port
from tests.fixtures.wait import eventually_async

Call = tuple[str, str | float | None]


class RecordedCaches(AuthCaches):
    """Caches that note what they were told, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []

    def forget_key(self, secret_sha256: str) -> None:
        self.calls.append(("key", secret_sha256))

    def forget_tenant(self, tenant_id: str) -> None:
        self.calls.append(("tenant", tenant_id))

    def bound_staleness(self, max_s: float | None) -> None:
        self.calls.append(("bound", max_s))


@pytest.fixture
async def subscribed(
    redis_clean: str,
) -> AsyncIterator[Callable[[], Awaitable[tuple[RedisInvalidation, RecordedCaches]]]]:
    """Factory: a started RedisInvalidation whose subscription is confirmed; closed after the test."""
    started: list[RedisInvalidation] = []

    async def make() -> tuple[RedisInvalidation, RecordedCaches]:
        caches = RecordedCaches()
        inv = RedisInvalidation(redis_clean, 1.0, caches)
        started.append(inv)
        await inv.start()
        await eventually_async(lambda: ("bound", None) in caches.calls)
        caches.calls.clear()
        return inv, caches

    yield make
    for inv in started:
        await inv.close()


def test_a_message_of_unknown_kind_is_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caches = RecordedCaches()
    inv = RedisInvalidation(f"redis://127.0.0.1:{free_port()}", 0.25, caches)
    with caplog.at_level(logging.WARNING, "sluice.auth"):
        inv.apply(b'{"kind": "model", "id": "gpt-4o"}')
    assert caches.calls == [("bound", FALLBACK_CACHE_S)]
    assert [r.getMessage() for r in caplog.records] == ["auth change of unknown kind 'model', ignored"]


def test_a_malformed_message_is_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caches = RecordedCaches()
    inv = RedisInvalidation(f"redis://127.0.0.1:{free_port()}", 0.25, caches)
    with caplog.at_level(logging.WARNING, "sluice.auth"):
        inv.apply(b'{"kind": "key"}')
        inv.apply(b"not json")
    assert caches.calls == [("bound", FALLBACK_CACHE_S)]
    assert [r.getMessage() for r in caplog.records] == ["auth change message not understood, ignored"] * 2


async def test_every_subscriber_applies_a_change_the_publisher_included(subscribed) -> None:
    (a, a_caches), (b, b_caches) = await subscribed(), await subscribed()
    await a.key_changed("ab" * 32)
    await b.tenant_changed("acme")
    await eventually_async(lambda: len(a_caches.calls) == 3 and len(b_caches.calls) == 3)
    key, tenant = ("key", "ab" * 32), ("tenant", "acme")
    assert a_caches.calls == [key, key, tenant]  # applied here at once, then heard back, then B's
    assert sorted(b_caches.calls) == [key, tenant, tenant]


async def test_a_dropped_subscriber_bounds_staleness_until_it_is_back(subscribed, redis_clean: str) -> None:
    a, caches = await subscribed()
    with redis.Redis.from_url(redis_clean, socket_timeout=5) as client:
        assert client.client_kill_filter(_type="pubsub") == 1
    await eventually_async(lambda: caches.calls == [("bound", FALLBACK_CACHE_S), ("bound", None)])
    await a.tenant_changed("acme")
    await eventually_async(lambda: caches.calls[2:] == [("tenant", "acme")] * 2)


async def test_an_unreachable_redis_never_fails_the_change(caplog: pytest.LogCaptureFixture) -> None:
    caches = RecordedCaches()
    inv = RedisInvalidation(f"redis://127.0.0.1:{free_port()}", 0.25, caches)
    await inv.start()
    try:
        with caplog.at_level(logging.ERROR, "sluice.auth"):
            await inv.key_changed("cd" * 32)
    finally:
        await inv.close()
    assert caches.calls == [("bound", FALLBACK_CACHE_S), ("key", "cd" * 32)]
    assert [r.getMessage() for r in caplog.records] == [
        "could not announce a key change to the other replicas (ConnectionError); they apply it within auth.key_cache_s"
    ]
