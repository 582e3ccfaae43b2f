"""The exact cache of the distributed backend, on Redis and shared by every replica: one Lua call
looks an entry up and marks it used, one stores an entry and evicts beyond the tenant's cap, and a
purge walks the tenant's entries a bounded batch per call. Every Redis command of the exact cache
lives in this module.

Per tenant, each entry is a hash (``e``: the msgpack entry; ``m``, ``p``: its model and key prefix,
for purges) expiring at the entry's ``expires_at``, and one sorted set holds the entries' keys
scored by last use (Unix ms); eviction pops its lowest scores. An entry that expired leaves its
member behind until eviction or a purge removes it, and the set expires with its last entry."""

from __future__ import annotations

import msgspec

from sluice.cache.entries import Entry
from sluice.store.redis import BoundedRedis

EVICT_PER_PUT = 100
"""The most entries one put evicts: after a cap is lowered, later puts shrink the tenant in steps
rather than one script blocking Redis for the whole difference."""
PURGE_BATCH = 500
"""Entries one purge call examines (a hint to ZSCAN: small sets come whole)."""

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(Entry)


def cache_key(tenant_id: str, exact_key: str | None = None) -> str:
    """Every key of the exact cache, here and nowhere else: the tenant's LRU set
    (``sluice:cache:<tenant>:exact:lru``) or one entry (``sluice:cache:<tenant>:exact:<key>``)."""
    return f"sluice:cache:{tenant_id}:exact:{'lru' if exact_key is None else exact_key}"


# KEYS: the LRU set, the entry. ARGV: now (ms). Replies the msgpack entry, or nil.
_GET = BoundedRedis.script("""
local entry = redis.call('HGET', KEYS[2], 'e')
if entry then redis.call('ZADD', KEYS[1], 'XX', ARGV[1], KEYS[2]) end
return entry
""")

# KEYS: the LRU set, the entry. ARGV: msgpack entry, model, key prefix, time to live (ms), created_at
# (ms: its first use), max_entries, the most to evict. The set lives as long as its last entry. The
# time to live is relative, so Redis's own clock never shortens an entry the gateway's clock says is
# fresh (a get checks ``expires_at`` against the gateway's clock as well).
_PUT = BoundedRedis.script("""
local lru, key = KEYS[1], KEYS[2]
redis.call('HSET', key, 'e', ARGV[1], 'm', ARGV[2], 'p', ARGV[3])
redis.call('PEXPIRE', key, ARGV[4])
local expires = redis.call('PEXPIRETIME', key)
redis.call('ZADD', lru, ARGV[5], key)
if redis.call('PEXPIRETIME', lru) < expires then redis.call('PEXPIREAT', lru, expires) end
local over = math.min(redis.call('ZCARD', lru) - tonumber(ARGV[6]), tonumber(ARGV[7]))
if over > 0 then
  local evicted = redis.call('ZPOPMIN', lru, over)
  for i = 1, #evicted, 2 do redis.call('DEL', evicted[i]) end
end
return 0
""")

# KEYS: the LRU set. ARGV: ZSCAN cursor, count, model, key prefix, whether to match the model
# ('1'/'0'), whether to match the key prefix. Replies {next cursor, entries deleted}; members whose
# entry expired are removed, uncounted. ZSCAN returns every member present for the whole walk.
_PURGE = BoundedRedis.script("""
local lru = KEYS[1]
local model, prefix = ARGV[3], ARGV[4]
local by_model, by_prefix = ARGV[5] == '1', ARGV[6] == '1'
local scan = redis.call('ZSCAN', lru, ARGV[1], 'COUNT', ARGV[2])
local members, deleted = scan[2], 0
for i = 1, #members, 2 do
  local key = members[i]
  local found = redis.call('HMGET', key, 'm', 'p')
  if not found[1] then
    redis.call('ZREM', lru, key)
  elseif (not by_model or found[1] == model) and (not by_prefix or found[2] == prefix) then
    redis.call('DEL', key)
    redis.call('ZREM', lru, key)
    deleted = deleted + 1
  end
end
return {scan[1], deleted}
""")


class RedisExactCache:
    """An ``ExactCache`` on Redis. Each call is bounded by the client's timeout and never retried;
    errors and timeouts become ``StoreUnavailableError``. Redis drops an entry its time to live after
    the put, and a get also refuses one that expired by ``now`` (the gateway's clock), so replicas'
    clocks must agree (NTP); Redis's own clock may differ."""

    def __init__(self, redis: BoundedRedis) -> None:
        self._redis = redis

    async def start(self) -> None:
        """Nothing to load: the client connects on first use."""

    async def get(self, tenant_id: str, exact_key: str, now: float) -> Entry | None:
        keys = [cache_key(tenant_id), cache_key(tenant_id, exact_key)]
        reply = await self._redis.eval(_GET, keys, [int(now * 1000)])
        if reply is None:
            return None
        try:
            entry = _dec.decode(reply)
        except (
            msgspec.DecodeError
        ):  # written by a replica of another version: a miss, replaced by the next put
            return None
        return entry if entry.expires_at > now else None

    async def put(self, entry: Entry, max_entries: int) -> None:
        """Completes even when the caller is cancelled."""
        keys = [cache_key(entry.tenant_id), cache_key(entry.tenant_id, entry.exact_key)]
        args = [
            _enc.encode(entry),
            entry.model,
            entry.key_prefix,
            max(1, int((entry.expires_at - entry.created_at) * 1000)),
            int(entry.created_at * 1000),
            max_entries,
            EVICT_PER_PUT,
        ]
        await self._redis.finish(self._redis.eval(_PUT, keys, args))

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int:
        """One call per ``PURGE_BATCH`` entries; an entry stored meanwhile may stay."""
        args = [
            0,
            PURGE_BATCH,
            model or "",
            key_prefix or "",
            int(model is not None),
            int(key_prefix is not None),
        ]
        purged = 0
        while True:
            cursor, deleted = await self._redis.eval(_PURGE, [cache_key(tenant_id)], args)
            purged += deleted
            if int(cursor) == 0:
                return purged
            args[0] = int(cursor)

    async def close(self) -> None:
        """Nothing of its own: the shared client is closed by whoever made it."""
