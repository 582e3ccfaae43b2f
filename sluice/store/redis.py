"""The one way the project opens Redis: every call bounded by the timeout, never retried, and
failures translated to ``StoreUnavailableError`` where they enter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from sluice.errors import StoreUnavailableError

T = TypeVar("T")


def connect_redis(url: str, timeout_s: float) -> Redis:
    """A lazy client (it connects on first use); the caller decides whether to retry."""
    return Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0))


class BoundedRedis:
    """A client for a feature's Lua scripts: ``call`` bounds and translates one round trip;
    ``finish`` runs a write (a settle) to completion even when its caller is cancelled, and
    ``close`` waits for those still running."""

    def __init__(self, url: str, timeout_s: float, what: str) -> None:
        self.redis = connect_redis(url, timeout_s)
        self._timeout_s = timeout_s
        self._what = what
        self._pending: set[asyncio.Task[Any]] = set()

    def script(self, lua: str) -> AsyncScript:
        return self.redis.register_script(lua)

    async def call(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await call
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreUnavailableError(f"{self._what} (Redis) did not answer: {type(e).__name__}.") from None

    async def finish(self, call: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(self.call(call))
        self._pending.add(task)
        task.add_done_callback(self._done)
        await asyncio.shield(task)

    async def close(self) -> None:
        if self._pending:
            await asyncio.wait(self._pending, timeout=self._timeout_s)
        await self.redis.aclose()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled():
            task.exception()  # marked seen: the caller logs a failure, unless it was cancelled meanwhile
