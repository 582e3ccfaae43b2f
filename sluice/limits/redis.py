"""Rate-limit counters on Redis for the distributed backend: one Lua call admits, one settles.
Every Redis command of the limits feature lives in this module (STYLE puts Redis commands under
``store/``; the counters are the limits' own store, kept in one module beside their protocol)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from sluice.limits.counters import (
    BUCKET_MS,
    CONCURRENCY_RETRY_MS,
    SPAN_BUCKETS,
    Decision,
    Outcome,
    Plan,
    Ticket,
    decide,
)
from sluice.store.redis import BoundedRedis

LEASE_MS = 15 * 60 * 1000
"""An in-flight slot frees itself this long after admission even if settle never comes (the
replica died): longer than a request may run (``routing.timeouts.stream_total_s``: 600 s)."""

# KEYS: one counter per check. ARGV: now_ms, bucket, cost, lease, lease_until_ms, span, bucket_ms,
# retry_ms for a full in-flight set, then per check its metric ('rpm', 'tpm', 'inflight') and limit.
# Pass 1 reads every counter (dropping what left the window); only if every check passes does
# pass 2 record them all. Replies: admitted (1/0), then per check used, reset_ms, retry_ms, where
# retry_ms is 0 (passes), -1 (the request alone exceeds the limit) or the wait until it would pass.
_ADMIT = BoundedRedis.script("""
local now, bucket, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lease, lease_until = ARGV[4], tonumber(ARGV[5])
local span, bucket_ms, busy_ms = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local oldest = bucket - span  -- the oldest bucket still counted
local used, reset, retry, want = {}, {}, {}, {}
local admitted = 1
for i, key in ipairs(KEYS) do
  local metric, limit = ARGV[7 + 2 * i], tonumber(ARGV[8 + 2 * i])
  reset[i], retry[i] = 0, 0
  if metric == 'inflight' then
    want[i] = 1
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    used[i] = redis.call('ZCARD', key)
    if used[i] + 1 > limit then retry[i] = busy_ms end
  else
    want[i] = metric == 'rpm' and 1 or cost
    local flat = redis.call('HGETALL', key)
    local live, stale, total, newest = {}, {}, 0, nil
    for j = 1, #flat, 2 do
      local b, n = tonumber(flat[j]), tonumber(flat[j + 1])
      if b < oldest then
        stale[#stale + 1] = flat[j]
      else
        total = total + n
        live[#live + 1] = {b, n}
        if newest == nil or b > newest then newest = b end
      end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
    used[i] = total
    if newest then reset[i] = (newest + span + 1) * bucket_ms - now end
    if total + want[i] > limit then
      if want[i] > limit then
        retry[i] = -1
      else
        table.sort(live, function(x, y) return x[1] < y[1] end)
        local need, freed = total + want[i] - limit, 0
        for _, e in ipairs(live) do
          freed = freed + e[2]
          if freed >= need then
            retry[i] = (e[1] + span + 1) * bucket_ms - now
            break
          end
        end
      end
    end
  end
  if retry[i] ~= 0 then admitted = 0 end
end
if admitted == 1 then
  for i, key in ipairs(KEYS) do
    if ARGV[7 + 2 * i] == 'inflight' then
      redis.call('ZADD', key, lease_until, lease)
      redis.call('PEXPIRE', key, lease_until - now)
    else
      redis.call('HINCRBY', key, ARGV[2], want[i])
      redis.call('PEXPIRE', key, (span + 1) * bucket_ms)
      reset[i] = (bucket + span + 1) * bucket_ms - now
    end
    used[i] = used[i] + want[i]
  end
end
local out = {admitted}
for i = 1, #KEYS do
  out[#out + 1] = used[i]
  out[#out + 1] = reset[i]
  out[#out + 1] = retry[i]
end
return out
""")

# KEYS: the TPM counters, then the in-flight sets. ARGV: how many TPM keys, bucket, delta, lease.
# A bucket that already left the window (and the key with it) is not brought back.
_SETTLE = BoundedRedis.script("""
local ntpm, bucket, delta, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
for i, key in ipairs(KEYS) do
  if i <= ntpm then
    if delta ~= 0 and redis.call('HEXISTS', key, bucket) == 1 then
      redis.call('HINCRBY', key, bucket, delta)
    end
  else
    redis.call('ZREM', key, lease)
  end
end
return 0
""")


class RedisCounterStore:
    """A ``CounterStore`` on Redis, shared by every replica. Each call is bounded by the client's
    timeout and never retried (an admission is not idempotent); Redis errors and timeouts become
    ``StoreUnavailableError``. ``clock`` gives Unix seconds: replicas' clocks must agree (NTP) to
    well under the one-second bucket."""

    def __init__(self, redis: BoundedRedis, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._clock = clock
        self._lease_prefix = os.urandom(6).hex() + ":"
        self._leases = 0

    async def admit(self, plan: Plan, cost_tokens: int) -> Decision:
        now_ms = int(self._clock() * 1000)
        bucket = now_ms // BUCKET_MS
        self._leases += 1
        lease = f"{self._lease_prefix}{self._leases}"
        args: list[Any] = [
            now_ms,
            bucket,
            cost_tokens,
            lease,
            now_ms + LEASE_MS,
            SPAN_BUCKETS,
            BUCKET_MS,
            CONCURRENCY_RETRY_MS,
        ]
        for c in plan.checks:
            args += (c.metric, c.limit)

        def decision(reply: list[Any]) -> Decision:
            outcomes = [
                Outcome(int(reply[i]), int(reply[i + 1]), int(reply[i + 2])) for i in range(1, len(reply), 3)
            ]
            return decide(plan, outcomes, cost_tokens, bucket, lease)

        async def undo(reply: list[Any]) -> None:
            ticket = decision(reply).ticket
            if ticket is not None:
                await self.settle(ticket, 0)

        return decision(await self._redis.run(_ADMIT, [c.key for c in plan.checks], args, undo))

    async def settle(self, ticket: Ticket, actual_tokens: int | None) -> None:
        """Completes even when the caller is cancelled (a client disconnect): the slot must be
        released; ``close`` waits for settles still running."""
        delta = 0 if actual_tokens is None else actual_tokens - ticket.cost_tokens
        if not ticket.inflight_keys and (delta == 0 or not ticket.tpm_keys):
            return
        keys = [*ticket.tpm_keys, *ticket.inflight_keys]
        args = [len(ticket.tpm_keys), ticket.bucket, delta, ticket.lease]
        await self._redis.finish(self._redis.eval(_SETTLE, keys, args))

    async def close(self) -> None:
        await self._redis.close()
