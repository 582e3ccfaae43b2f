"""Key, tenant and plan changes on a Redis pub/sub channel, applied by every replica as they arrive.
Every Redis command of the auth package lives in this module."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from sluice.auth.invalidation import AuthCaches
from sluice.store.redis import connect_redis

CHANNEL = "sluice:auth:changes"
FALLBACK_CACHE_S = 1.0
"""The auth caches' TTL while this process may miss a change (it is not subscribed)."""
HEARTBEAT_S = 1.0
"""A quiet subscriber PINGs after this long; no answer within as long again means the link is dead."""
BACKOFF_S = (0.1, 5.0)
"""First and longest wait between reconnection attempts; the wait doubles after each failure."""

log = logging.getLogger("sluice.auth")


class _Change(msgspec.Struct, frozen=True):
    kind: str
    """``key`` (id: the secret's SHA-256 hex), ``tenant`` (id: the tenant's) or ``plan`` (id: its
    name; every cached caller is forgotten, since any may be on it)."""
    id: str


class RedisInvalidation:
    """Each change is applied here, then published; one subscriber connection per process applies
    every replica's changes, this one's included (forgetting twice is harmless).

    Staleness stays bounded while the subscriber is not subscribed (before the first SUBSCRIBE is
    confirmed, after Redis dropped, or when a heartbeat PING goes unanswered): the caches are
    emptied and keep entries at most ``FALLBACK_CACHE_S`` until it is subscribed again, reconnecting
    with exponential backoff. A failed publish is logged, never raised: the store holds the change,
    and the other replicas apply it within their cache TTL."""

    def __init__(self, url: str, timeout_s: float, caches: AuthCaches) -> None:
        self._redis = connect_redis(url, timeout_s)
        self._timeout_s = timeout_s
        self._caches = caches
        self._forget = {
            "key": caches.forget_key,
            "tenant": caches.forget_tenant,
            "plan": self._forget_all,
        }
        self._is_subscribed = False
        self._listener: asyncio.Task[None] | None = None
        caches.bound_staleness(FALLBACK_CACHE_S)

    async def key_changed(self, secret_sha256: str) -> None:
        self._caches.forget_key(secret_sha256)
        await self._publish(_Change("key", secret_sha256))

    async def tenant_changed(self, tenant_id: str) -> None:
        self._caches.forget_tenant(tenant_id)
        await self._publish(_Change("tenant", tenant_id))

    def _forget_all(self, plan: str) -> None:
        self._caches.forget_all()

    async def plan_changed(self, name: str) -> None:
        self._caches.forget_all()
        await self._publish(_Change("plan", name))

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen())

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()

    def apply(self, data: bytes) -> None:
        """One message from the channel; one not understood (a newer replica's kind) is logged and skipped."""
        try:
            change = msgspec.json.decode(data, type=_Change)
        except msgspec.DecodeError:
            log.warning(
                "auth change message not understood, ignored",
                extra={"data": data[:200].decode(errors="replace")},
            )
            return
        forget = self._forget.get(change.kind)
        if forget is None:
            log.warning("auth change of unknown kind %r, ignored", change.kind)
            return
        forget(change.id)

    async def _publish(self, change: _Change) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._redis.publish(CHANNEL, msgspec.json.encode(change))
        except (RedisError, OSError, TimeoutError) as e:
            log.error(
                "could not announce a %s change to the other replicas (%s); they apply it within auth.key_cache_s",
                change.kind,
                type(e).__name__,
            )

    async def _listen(self) -> None:
        wait_s = BACKOFF_S[0]
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    await self._follow(pubsub)
            except (RedisError, OSError, TimeoutError) as e:
                if self._is_subscribed:
                    log.warning(
                        "auth change subscriber lost Redis (%s); caching for %ss until back",
                        type(e).__name__,
                        FALLBACK_CACHE_S,
                    )
                    self._is_subscribed = False
                    self._caches.bound_staleness(FALLBACK_CACHE_S)
                    wait_s = BACKOFF_S[0]
            await asyncio.sleep(wait_s)
            wait_s = min(wait_s * 2, BACKOFF_S[1])

    async def _follow(self, pubsub: PubSub) -> None:
        """Apply messages until the link fails; returns only by raising."""
        is_pinged = False
        while True:
            message = await pubsub.get_message(timeout=HEARTBEAT_S)
            if message is None:
                if is_pinged:
                    raise TimeoutError("no answer to the heartbeat PING")
                await pubsub.ping()
                is_pinged = True
                continue
            is_pinged = False
            if message["type"] == "subscribe":
                self._subscribed()
            elif message["type"] == "message":
                self.apply(message["data"])

    def _subscribed(self) -> None:
        if not self._is_subscribed:
            self._is_subscribed = True
            self._caches.bound_staleness(None)
            log.info("auth change subscriber listening on %s", CHANNEL)
