"""The one way the project opens Redis: every call bounded by the timeout, never retried."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def connect_redis(url: str, timeout_s: float) -> Redis:
    """A lazy client (it connects on first use); the caller decides whether to retry."""
    return Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0))
