"""The budget ledger on Redis for the distributed backend: one Lua call reserves, one settles.
Every Redis command of the budgets feature lives in this module (like ``limits/redis.py``)."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from sluice.budgets.ledger import ONCE_KEEP_S, Cap, PeriodKeys, Refusal, Reservation, held_key, once_key
from sluice.store.redis import BoundedRedis

# KEYS: one hash (fields t: tokens, c: micro-dollars) per cap. ARGV: tokens, micros, then per cap
# its token cap, cost cap (-1: none) and how many seconds the key has left to live. Pass 1 checks
# every cap; only if all pass does pass 2 add to them all. Replies {0, then each key's micro-dollars
# before this reservation} (reserved: what spend policies compare) or {cap index, 1 tokens | 2 cost}. The time to live is relative: the gateway's clock names the period (and so the
# key), so the gateway's clock, not Redis's, says when the key may go; a Redis whose clock is
# ahead of the gateway's (or a test's clock behind the real one) cannot expire a live counter.
_RESERVE = BoundedRedis.script("""
local tokens, micros = tonumber(ARGV[1]), tonumber(ARGV[2])
local spent = {0}
for i, key in ipairs(KEYS) do
  local max_t, max_c = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local used = redis.call('HMGET', key, 't', 'c')
  if max_t >= 0 and (tonumber(used[1]) or 0) + tokens > max_t then return {i, 1} end
  if max_c >= 0 and (tonumber(used[2]) or 0) + micros > max_c then return {i, 2} end
  spent[i + 1] = tonumber(used[2]) or 0
end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 't', tokens)
  redis.call('HINCRBY', key, 'c', micros)
  redis.call('EXPIRE', key, ARGV[3 * i + 2])
end
return spent
""")

# KEYS: the reservation's hashes. ARGV: token delta, micro-dollar delta. An expired key is not
# brought back. Replies each key's {tokens, micros} after (HINCRBY's own replies; {0, 0}: gone).
_SETTLE = BoundedRedis.script("""
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    out[i] = {redis.call('HINCRBY', key, 't', ARGV[1]), redis.call('HINCRBY', key, 'c', ARGV[2])}
  else
    out[i] = {0, 0}
  end
end
return out
""")


# KEYS: the caps' hashes, then the key's held reservation (last). ARGV: as _RESERVE's, then the
# run's id and the held hash's time to live. A reservation an earlier run of the key left (its
# process died before it settled) is released first; this run's is then held in its place.
_RESERVE_ONCE = BoundedRedis.script("""
local n = #KEYS - 1
local held = KEYS[#KEYS]
local tokens, micros = tonumber(ARGV[1]), tonumber(ARGV[2])
local prev = redis.call('HMGET', held, 't', 'c')
if prev[1] then
  for i = 1, n do
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('HINCRBY', KEYS[i], 't', 0 - tonumber(prev[1]))
      redis.call('HINCRBY', KEYS[i], 'c', 0 - tonumber(prev[2]))
    end
  end
  redis.call('DEL', held)
end
local spent = {0}
for i = 1, n do
  local max_t, max_c = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local used = redis.call('HMGET', KEYS[i], 't', 'c')
  if max_t >= 0 and (tonumber(used[1]) or 0) + tokens > max_t then return {i, 1} end
  if max_c >= 0 and (tonumber(used[2]) or 0) + micros > max_c then return {i, 2} end
  spent[i + 1] = tonumber(used[2]) or 0
end
for i = 1, n do
  redis.call('HINCRBY', KEYS[i], 't', tokens)
  redis.call('HINCRBY', KEYS[i], 'c', micros)
  redis.call('EXPIRE', KEYS[i], ARGV[3 * i + 2])
end
redis.call('HSET', held, 't', tokens, 'c', micros, 'run', ARGV[3 * n + 3])
redis.call('EXPIRE', held, ARGV[3 * n + 4])
return spent
""")

# KEYS: the reservation's hashes, then the key's held reservation and its charged mark (last two).
# ARGV: the actual tokens and micros, the reserved ones, the run's id, the mark's time to live.
# Charged already: this run's reservation is released. Not yet: charged, and marked (unless it
# served nothing: cancelled, an error answer; the key stays to be charged by a later run). A run whose
# reservation a later run released (it was taken for dead) has nothing left to release.
_SETTLE_ONCE = BoundedRedis.script("""
local n = #KEYS - 2
local held, mark = KEYS[n + 1], KEYS[n + 2]
local t, c = tonumber(ARGV[1]), tonumber(ARGV[2])
local rt, rc = tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('HGET', held, 'run') == ARGV[5] then
  redis.call('DEL', held)
else
  rt, rc = 0, 0
end
if (t ~= 0 or c ~= 0) and not redis.call('SET', mark, '1', 'NX', 'EX', ARGV[6]) then t, c = 0, 0 end
local out = {}
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    out[i] = {redis.call('HINCRBY', KEYS[i], 't', t - rt), redis.call('HINCRBY', KEYS[i], 'c', c - rc)}
  else
    out[i] = {0, 0}
  end
end
return out
""")


class RedisLedger:
    """A ``Ledger`` on Redis, shared by every replica. Each call is bounded by the client's
    timeout and never retried (a reservation is not idempotent); Redis errors and timeouts become
    ``StoreUnavailableError``. ``clock`` gives Unix seconds (replicas agree by NTP); it names the
    period a request is counted in and how long that period's counters live."""

    def __init__(self, redis: BoundedRedis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._keys = PeriodKeys()

    async def reserve(
        self, caps: Sequence[Cap], tokens: int, cost_micros: int, once: tuple[str, str] | None = None
    ) -> Reservation | Refusal:
        now = self._clock()
        keys, ends = self._keys.at(caps, now)
        args: list[Any] = [tokens, cost_micros]
        for c, end in zip(caps, ends, strict=True):
            ttl_s = max(1, math.ceil(end - now))
            args += (
                -1 if c.max_tokens is None else c.max_tokens,
                -1 if c.max_cost_micros is None else c.max_cost_micros,
                ttl_s,
            )
        reservation = Reservation(tuple(keys), tokens, cost_micros, once)

        async def undo(reply: Any) -> None:
            if int(reply[0]) == 0:
                await self.settle(reservation, 0, 0)

        if once is None:
            reply = await self._redis.run(_RESERVE, keys, args, undo)
        else:
            args += [once[1], ONCE_KEEP_S]
            reply = await self._redis.run(_RESERVE_ONCE, [*keys, held_key(once[0])], args, undo)
        if int(reply[0]) == 0:
            return dataclasses.replace(reservation, spent=tuple(int(c) for c in reply[1:]))
        return Refusal(caps[int(reply[0]) - 1], "tokens" if int(reply[1]) == 1 else "cost")

    async def settle(
        self, reservation: Reservation, tokens: int, cost_micros: int
    ) -> list[tuple[int, int]] | None:
        """Completes even when the caller is cancelled (a client disconnect): the unused part of
        the reservation must be released; ``close`` waits for settles still running. Under a
        ``once`` key, the charge and the mark that it was made are one script."""
        once = reservation.once
        if once is not None:
            keys = [*reservation.keys, held_key(once[0]), once_key(once[0])]
            args = [tokens, cost_micros, reservation.tokens, reservation.cost_micros, once[1], ONCE_KEEP_S]
            return _counts(await self._redis.finish(self._redis.eval(_SETTLE_ONCE, keys, args)))
        args = [tokens - reservation.tokens, cost_micros - reservation.cost_micros]
        if args == [0, 0]:
            return None
        return _counts(await self._redis.finish(self._redis.eval(_SETTLE, reservation.keys, args)))

    async def used(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        """One pipelined HMGET per key, in one round trip, bounded like every Redis call."""
        if not keys:
            return []
        pipe = self._redis.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "t", "c")
        replies = await self._redis.call(pipe.execute())
        return [(int(t or 0), int(c or 0)) for t, c in replies]

    async def claim(self, key: str, ttl_s: int) -> bool:
        return bool(await self._redis.call(self._redis.redis.set(key, "1", nx=True, ex=ttl_s)))

    async def close(self) -> None:
        await self._redis.close()


def _counts(reply: Any) -> list[tuple[int, int]]:
    return [(int(t), int(c)) for t, c in reply]
