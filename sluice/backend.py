"""The one map from ``state.backend`` to what it builds: the store, the rate-limit counters, the
budget ledger, the response cache's exact and semantic stores, the invalidation channel, and
where files' bytes live (the store's database, or an object store by ``files.blob_store``).
Nothing else decides embedded vs distributed. Each backend closes what it built in reverse order,
so the caches flush through the store's connections before the store closes."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from sluice.auth.invalidation import AuthCaches, Invalidation, LocalInvalidation
from sluice.batch.queue import BatchQueue, StoreBatchQueue
from sluice.budgets.ledger import Ledger, MemoryLedger
from sluice.cache.entries import ExactCache, SemanticIndex
from sluice.limits.counters import CounterStore
from sluice.limits.memory import MemoryCounterStore
from sluice.settings import BatchSettings, FilesSettings, StateSettings
from sluice.store.protocols import FileBlobs, Store

if TYPE_CHECKING:  # each backend's drivers are imported only when it is built (redis-py: ~14 MiB)
    from sluice.store.postgres.store import PostgresStore
    from sluice.store.redis import BoundedRedis
    from sluice.store.sqlite.store import SqliteStore


class _Closable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class Backend(Protocol):
    store: Store
    blobs: FileBlobs
    """Uploaded files' bytes: the store's database, or an object store (files.blob_store: s3)."""
    blob_ping: Callable[[], Awaitable[None]] | None
    """Readiness's object store check; None when the bytes are in the database."""
    limits: CounterStore
    budgets: Ledger
    commits_together: bool
    """Admission and the budget commit in one round trip (their counters share one Redis client)."""
    redis_ping_ms: Callable[[], Awaitable[float]] | None
    """Readiness's Redis check; None without Redis."""

    def invalidation(self, caches: AuthCaches) -> Invalidation: ...

    def exact_cache(self) -> ExactCache: ...

    def semantic_index(self, dimensions: int) -> SemanticIndex: ...

    def batch_queue(self, batches: BatchSettings) -> BatchQueue:
        """Where batch lines wait: the store's rows (embedded), procrastinate (distributed)."""
        ...

    async def start(self) -> None:
        """Connect what needs connecting before the first request (the object store's client)."""
        ...

    async def close(self) -> None: ...


class _Owner:
    """Closes what it was given, last given first, each even when an earlier one failed; starts
    what needs starting."""

    blob_ping: Callable[[], Awaitable[None]] | None = None

    def __init__(self) -> None:
        self._closing = contextlib.AsyncExitStack()
        self._starting: list[Callable[[], Awaitable[None]]] = []

    def _own(self, part: C) -> C:
        self._closing.push_async_callback(part.close)
        return part

    def _blobs(self, files: FilesSettings, database: FileBlobs) -> FileBlobs:
        """Where files' bytes go: the database given, or the configured object store."""
        if files.blob_store == "database":
            return database
        from sluice.store.s3 import S3FileBlobs

        assert files.s3 is not None  # checked by Settings
        s3 = self._own(S3FileBlobs(files.s3))
        self._starting.append(s3.start)
        self.blob_ping = s3.ping
        return s3

    async def start(self) -> None:
        for start in self._starting:
            await start()

    async def close(self) -> None:
        await self._closing.aclose()


class EmbeddedBackend(_Owner):
    """One host: SQLite for the store and the caches' copies for restarts (written through the
    store's one writer connection); counters, ledger and the exact cache in memory, invalidation in
    place, each per process. With ``state.redis_url`` those four live in Redis instead, so the
    workers of ``--workers N`` (or several gateways sharing the file) enforce one limit and one
    budget, share one exact cache and drop a revoked key together (docs/operations.md)."""

    redis_ping_ms: Callable[[], Awaitable[float]] | None = None

    def __init__(
        self, state: StateSettings, files: FilesSettings, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        from sluice.store.sqlite.store import SqliteStore

        self._state = state
        self._sqlite: SqliteStore = self._own(SqliteStore(state.sqlite_path))
        self.store: Store = self._sqlite
        self.blobs: FileBlobs = self._blobs(files, self._sqlite)
        self._redis: BoundedRedis | None = None
        if state.redis_url is None:
            self.limits: CounterStore = MemoryCounterStore()
            self.budgets: Ledger = MemoryLedger(clock)
            self.commits_together = False
            return
        from sluice.budgets.redis import RedisLedger
        from sluice.limits.redis import RedisCounterStore
        from sluice.store.redis import BoundedRedis

        self._redis = self._own(BoundedRedis(state.redis_url.get_secret_value(), state.redis_timeout_s))
        self.limits = RedisCounterStore(self._redis)
        self.budgets = RedisLedger(self._redis, clock)
        self.commits_together = True
        self.redis_ping_ms = self._redis.ping_ms

    def invalidation(self, caches: AuthCaches) -> Invalidation:
        if self._state.redis_url is None:
            return self._own(LocalInvalidation(caches))
        from sluice.auth.redis import RedisInvalidation

        url = self._state.redis_url.get_secret_value()
        return self._own(RedisInvalidation(url, self._state.redis_timeout_s, caches))

    def exact_cache(self) -> ExactCache:
        if self._redis is not None:
            from sluice.cache.exact_redis import RedisExactCache

            return self._own(RedisExactCache(self._redis))
        from sluice.cache.exact_local import LocalExactCache

        return self._own(LocalExactCache(self._sqlite.writer))

    def semantic_index(self, dimensions: int) -> SemanticIndex:
        from sluice.cache.semantic_local import LocalSemanticIndex

        return self._own(LocalSemanticIndex(self._sqlite.writer, dimensions))

    def batch_queue(self, batches: BatchSettings) -> BatchQueue:
        return StoreBatchQueue(self._sqlite, batches.lease_s, batches.tenant_concurrency)


class DistributedBackend(_Owner):
    """Replicas sharing state: PostgreSQL for the store and the semantic cache (one asyncpg pool),
    Redis for counters, ledger and the exact cache (one pipelining client) and for invalidation."""

    commits_together = True

    def __init__(
        self, state: StateSettings, files: FilesSettings, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        from sluice.budgets.redis import RedisLedger
        from sluice.limits.redis import RedisCounterStore
        from sluice.store.postgres.store import PostgresStore
        from sluice.store.redis import BoundedRedis

        assert state.redis_url is not None and state.postgres_dsn is not None  # checked by Settings
        self._state = state
        self._redis: BoundedRedis = self._own(
            BoundedRedis(state.redis_url.get_secret_value(), state.redis_timeout_s)
        )
        self._postgres: PostgresStore = self._own(PostgresStore(state.postgres_dsn.get_secret_value()))
        self.store: Store = self._postgres
        self.blobs: FileBlobs = self._blobs(files, self._postgres)
        self.limits: CounterStore = RedisCounterStore(self._redis)
        self.budgets: Ledger = RedisLedger(self._redis, clock)
        self.redis_ping_ms: Callable[[], Awaitable[float]] | None = self._redis.ping_ms

    def invalidation(self, caches: AuthCaches) -> Invalidation:
        from sluice.auth.redis import RedisInvalidation

        assert self._state.redis_url is not None
        url = self._state.redis_url.get_secret_value()
        return self._own(RedisInvalidation(url, self._state.redis_timeout_s, caches))

    def exact_cache(self) -> ExactCache:
        from sluice.cache.exact_redis import RedisExactCache

        return self._own(RedisExactCache(self._redis))

    def semantic_index(self, dimensions: int) -> SemanticIndex:
        from sluice.cache.semantic_pg import PgSemanticIndex

        return self._own(PgSemanticIndex(self._postgres.pool, dimensions, self._state.redis_timeout_s * 4))

    def batch_queue(self, batches: BatchSettings) -> BatchQueue:
        from sluice.batch.procrastinate_queue import ProcrastinateBatchQueue

        assert self._state.postgres_dsn is not None
        return ProcrastinateBatchQueue(
            self._postgres,
            self._state.postgres_dsn.get_secret_value(),
            lease_s=batches.lease_s,
            tenant_concurrency=batches.tenant_concurrency,
            hold=batches.concurrency,
            heartbeat_s=batches.heartbeat_s,
        )


BACKENDS: dict[str, Callable[[StateSettings, FilesSettings, Callable[[], float]], Backend]] = {
    "embedded": EmbeddedBackend,
    "distributed": DistributedBackend,
}


def build_backend(
    state: StateSettings, files: FilesSettings | None = None, clock: Callable[[], float] = time.time
) -> Backend:
    """The backend ``state`` names; files' bytes where ``files`` says (the database without it);
    ``clock`` names the budget ledger's periods (``budgets.clock_offset_s``)."""
    return BACKENDS[state.backend](state, files or FilesSettings(), clock)
