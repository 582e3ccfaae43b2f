"""The budget ledger on Redis for the distributed backend: one Lua call reserves, one settles.
Every Redis command of the budgets feature lives in this module (like ``limits/redis.py``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.exceptions import RedisError

from sluice.budgets.ledger import KEEP_S, Cap, Refusal, Reservation, budget_key, period_end_s
from sluice.errors import StoreUnavailableError
from sluice.store.redis import connect_redis

T = TypeVar("T")

# KEYS: one hash (fields t: tokens, c: micro-dollars) per cap. ARGV: tokens, micros, then per cap
# its token cap, cost cap (-1: none) and when the key expires (Unix seconds). Pass 1 checks every
# cap; only if all pass does pass 2 add to them all. Replies 0 (reserved) or {cap index, 1 tokens | 2 cost}.
_RESERVE = """
local tokens, micros = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local max_t, max_c = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local used = redis.call('HMGET', key, 't', 'c')
  if max_t >= 0 and (tonumber(used[1]) or 0) + tokens > max_t then return {i, 1} end
  if max_c >= 0 and (tonumber(used[2]) or 0) + micros > max_c then return {i, 2} end
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 't', tokens)
  redis.call('HINCRBY', key, 'c', micros)
  redis.call('EXPIREAT', key, ARGV[3 * i + 2])
end
return 0
"""

# KEYS: the reservation's hashes. ARGV: token delta, micro-dollar delta. An expired key is not brought back.
_SETTLE = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    redis.call('HINCRBY', key, 't', ARGV[1])
    redis.call('HINCRBY', key, 'c', ARGV[2])
  end
end
return 0
"""


class RedisLedger:
    """A ``Ledger`` on Redis, shared by every replica. Each call is bounded by ``timeout_s`` and
    never retried (a reservation is not idempotent); Redis errors and timeouts become
    ``StoreUnavailableError``. ``clock`` gives Unix seconds (replicas agree by NTP)."""

    def __init__(self, url: str, timeout_s: float, clock: Callable[[], float] = time.time) -> None:
        self._redis = connect_redis(url, timeout_s)
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        self._timeout_s = timeout_s
        self._clock = clock
        self._settling: set[asyncio.Task[Any]] = set()

    async def reserve(self, caps: Sequence[Cap], tokens: int, cost_micros: int) -> Reservation | Refusal:
        now = self._clock()
        keys = [budget_key(c.tenant_id, c.kind, c.scope_id, c.period, now) for c in caps]
        args: list[Any] = [tokens, cost_micros]
        for c in caps:
            args += (
                -1 if c.max_tokens is None else c.max_tokens,
                -1 if c.max_cost_micros is None else c.max_cost_micros,
                period_end_s(c.period, now) + KEEP_S,
            )
        reply = await self._call(self._reserve(keys=keys, args=args))
        if reply == 0:
            return Reservation(tuple(keys), tokens, cost_micros)
        return Refusal(caps[int(reply[0]) - 1], "tokens" if int(reply[1]) == 1 else "cost")

    async def settle(self, reservation: Reservation, tokens: int, cost_micros: int) -> None:
        """Completes even when the caller is cancelled (a client disconnect): the unused part of
        the reservation must be released; ``close`` waits for settles still running."""
        args = [tokens - reservation.tokens, cost_micros - reservation.cost_micros]
        if args == [0, 0]:
            return
        task = asyncio.ensure_future(self._call(self._settle(keys=list(reservation.keys), args=args)))
        self._settling.add(task)
        task.add_done_callback(self._settled)
        await asyncio.shield(task)

    async def close(self) -> None:
        if self._settling:
            await asyncio.wait(self._settling, timeout=self._timeout_s)
        await self._redis.aclose()

    def _settled(self, task: asyncio.Task[Any]) -> None:
        self._settling.discard(task)
        if not task.cancelled():
            task.exception()  # marked seen: the stage logs a failure, unless its caller was cancelled meanwhile

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await call
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreUnavailableError(f"The budget ledger (Redis) did not answer: {type(e).__name__}.") from None
