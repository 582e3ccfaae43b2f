"""The semantic index of the embedded backend: every live entry and its embedding in this process,
grouped by tenant, model and partition, so a search never waits on SQLite. The ``cache_semantic``
table is its copy for restarts, written in batches by a background task and never on the request
path; ``start`` rebuilds the groups from it.

A group is searched by one matrix-vector product while it is small (the usual case: the entries
sharing one context) and through a usearch HNSW index once it grows past ``hnsw_above``: the index
is built in a worker thread (after ``start`` too), the group searched by brute force meanwhile,
then extended entry by entry.
Returned similarities are always the exact dot products. Each process keeps its own entries, as
the exact cache does.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from sluice.cache.entries import Entry
from sluice.cache.writer import Connect, WriteBehind, write_batches
from sluice.errors import StoreUnavailableError

if TYPE_CHECKING:
    import numpy as np
    from usearch.index import Index

# numpy and usearch (~20 MiB with the local embedder's packages) are imported by the first entry,
# search or index build, not at startup: a gateway with the cache on whose policies never turn the
# semantic layer on (or whose index starts empty) does not load them. Each method below that
# computes imports numpy itself (a dict lookup once loaded).

log = logging.getLogger("sluice.cache")

HNSW_ABOVE = 5000
"""Entries a group holds before it gets an HNSW index. Below, brute force is exact and about as
fast: at 384 dimensions on one core, a product costs ~33 us per 1,000 rows and an HNSW search
~130 us at 2,000 rows, ~400 us at 20,000."""
_ADD_INLINE = 64
"""When an index build leaves this few rows to add, the event loop adds them itself."""
FLUSH_EVERY_S = 0.5
"""How long a write waits for others to share its transaction."""

_FIELDS = Entry.__struct_fields__
_COLUMNS = ", ".join(_FIELDS)
_UPSERT = f"INSERT OR REPLACE INTO cache_semantic ({_COLUMNS}, embedding) VALUES ({', '.join('?' * (len(_FIELDS) + 1))})"
_DELETE = "DELETE FROM cache_semantic WHERE tenant_id = ? AND exact_key = ?"

_Key = tuple[str, str]
"""(tenant_id, exact_key): a row."""
_GroupKey = tuple[str, str, str]
"""(tenant_id, model, partition): what a search compares within."""


class _Group:
    """One tenant, model and partition: row ``r`` of ``vectors`` is entry ``ids[r]``, expiring at
    ``expires[r]``; the arrays double when full and a removal moves the last row into the gap.
    Above the threshold ``hnsw`` indexes the same ids."""

    __slots__ = ("building", "expires", "hnsw", "ids", "rows", "size", "soonest", "vectors")

    def __init__(self, dimensions: int) -> None:
        import numpy as np

        self.vectors = np.empty((8, dimensions), np.float32)
        self.ids = np.empty(8, np.int64)
        self.expires = np.empty(8, np.float64)
        self.size = 0
        self.rows: dict[int, int] = {}
        self.soonest = math.inf
        """No entry expires before this (it may be earlier than the true soonest, never later)."""
        self.hnsw: Index | None = None
        self.building = False

    def append(self, entry_id: int, vector: np.ndarray, expires_at: float) -> None:
        import numpy as np

        if self.size == len(self.ids):
            self.vectors = np.concatenate([self.vectors, np.empty_like(self.vectors)])
            self.ids = np.concatenate([self.ids, np.empty_like(self.ids)])
            self.expires = np.concatenate([self.expires, np.empty_like(self.expires)])
        r = self.size
        self.vectors[r], self.ids[r], self.expires[r] = vector, entry_id, expires_at
        self.rows[entry_id] = r
        self.size += 1
        self.soonest = min(self.soonest, expires_at)
        if self.hnsw is not None:
            self.hnsw.add(entry_id, vector)

    def remove(self, entry_id: int) -> None:
        r = self.rows.pop(entry_id)
        last = self.size - 1
        if r != last:
            moved = int(self.ids[last])
            self.vectors[r], self.ids[r], self.expires[r] = self.vectors[last], moved, self.expires[last]
            self.rows[moved] = r
        self.size = last
        if self.hnsw is not None:
            self.hnsw.remove(entry_id)

    def expired(self, now: float) -> list[int]:
        if now < self.soonest:
            return []
        expires = self.expires[: self.size]
        is_live = expires > now
        self.soonest = float(expires[is_live].min()) if is_live.any() else math.inf
        return self.ids[: self.size][~is_live].tolist()

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` (entry id, similarity), most similar first."""
        import numpy as np

        if self.hnsw is not None:
            found = self.hnsw.search(query, k).keys.tolist()
            rows = np.array([self.rows[i] for i in found if i in self.rows], np.int64)
            similarities = self.vectors[rows] @ query
        else:
            n = self.size
            similarities = self.vectors[:n] @ query
            rows = np.arange(n) if n <= k else np.argpartition(similarities, n - k)[n - k :]
            similarities = similarities[rows]
        order = np.argsort(-similarities, kind="stable")
        return [(int(self.ids[rows[i]]), float(similarities[i])) for i in order]


@dataclass(slots=True)
class _Tenant:
    ids: dict[str, int] = field(default_factory=dict)
    """exact_key -> entry id."""
    by_age: list[tuple[float, int]] = field(default_factory=list)
    """A heap of (created_at, entry id); ids removed since stay until popped or compacted."""


class LocalSemanticIndex:
    """A ``SemanticIndex`` in memory, backed by SQLite. ``search`` and ``add`` never await I/O;
    only ``start``, ``close`` and the writer touch the database, through the store's writer
    connection (``connect``).
    ``clock`` gives Unix seconds (for what expired before ``start`` and for purge counts)."""

    def __init__(
        self,
        connect: Connect,
        dimensions: int,
        *,
        clock: Callable[[], float] = time.time,
        hnsw_above: int = HNSW_ABOVE,
        flush_every_s: float = FLUSH_EVERY_S,
    ) -> None:
        self._connect = connect
        self._dimensions = dimensions
        self._clock = clock
        self._hnsw_above = hnsw_above
        self._entries: dict[int, Entry] = {}
        self._tenants: dict[str, _Tenant] = {}
        self._groups: dict[_GroupKey, _Group] = {}
        self._next_id = itertools.count(1)
        self._dirty: dict[_Key, tuple[Entry, bytes] | None] = {}
        """Rows to write: the entry and its embedding, or None to delete it."""
        self._builds: set[asyncio.Task[None]] = set()
        self._is_started = False
        self._writer = WriteBehind(self._flush, "the semantic cache", flush_every_s)

    async def start(self) -> None:
        """Loads the live rows (rows of another dimension, from another embedding model, are
        deleted) and starts building the large groups' HNSW indexes without waiting for them."""
        now = self._clock()
        try:
            async with self._connect() as conn:
                await conn.execute("DELETE FROM cache_semantic WHERE expires_at <= ?", (now,))
                async with conn.execute(f"SELECT {_COLUMNS}, embedding FROM cache_semantic") as cur:
                    rows = await cur.fetchall()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot load the semantic cache: {type(e).__name__}") from e
        size = self._dimensions * 4
        for row in rows:
            entry = Entry(**dict(zip(_FIELDS, row[:-1], strict=True)))
            if len(row[-1]) == size:
                import numpy as np

                self._insert(entry, np.frombuffer(row[-1], "<f4"))
            else:
                self._dirty[(entry.tenant_id, entry.exact_key)] = None
        for key, group in self._groups.items():
            if group.size > self._hnsw_above:
                self._start_build(key, group)
        self._is_started = True
        self._writer.start()
        self._writer.wake()

    async def search(
        self, tenant_id: str, model: str, partition: str, vector: Sequence[float], now: float, k: int
    ) -> list[tuple[Entry, float]]:
        group = self._groups.get((tenant_id, model, partition))
        if group is None or k <= 0:
            return []
        query = self._vector(vector)
        for entry_id in group.expired(now):
            self._drop(entry_id)
        if group.size == 0:
            return []
        return [(self._entries[i], similarity) for i, similarity in group.nearest(query, k)]

    async def add(self, entry: Entry, vector: Sequence[float], max_entries: int) -> None:
        v = self._vector(vector)
        key, group = self._insert(entry, v)
        if group.size > self._hnsw_above and group.hnsw is None and not group.building:
            self._start_build(key, group)
        self._mark((entry.tenant_id, entry.exact_key), (entry, v.astype("<f4").tobytes()))
        self._evict(entry.tenant_id, max_entries)

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int:
        """Expired entries go too, uncounted."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            return 0
        now = self._clock()
        doomed = [
            self._entries[i] for i in tenant.ids.values()
            if (model is None or self._entries[i].model == model)
            and (key_prefix is None or self._entries[i].key_prefix == key_prefix)
        ]  # fmt: skip
        for e in doomed:
            self._drop(tenant.ids[e.exact_key])
        return sum(e.expires_at > now for e in doomed)

    async def close(self) -> None:
        """Writes what is still pending (before the store closes); raises ``StoreUnavailableError``
        if that fails."""
        for task in self._builds:
            task.cancel()
        await asyncio.gather(*self._builds, return_exceptions=True)
        await self._writer.stop()
        if not self._is_started:
            return
        self._is_started = False
        await self._flush()

    def _vector(self, vector: Sequence[float]) -> np.ndarray:
        import numpy as np

        v = np.asarray(vector, dtype=np.float32)
        if v.shape != (self._dimensions,):
            raise ValueError(f"the semantic index holds {self._dimensions}-dimension vectors, not {v.shape}")
        return v

    def _insert(self, entry: Entry, vector: np.ndarray) -> tuple[_GroupKey, _Group]:
        """In memory only. An entry of the same tenant and exact key is replaced."""
        tenant = self._tenants.get(entry.tenant_id)
        if tenant is not None and entry.exact_key in tenant.ids:
            self._remove(tenant.ids[entry.exact_key])
        entry_id = next(self._next_id)
        self._entries[entry_id] = entry
        tenant = self._tenants.setdefault(entry.tenant_id, _Tenant())
        tenant.ids[entry.exact_key] = entry_id
        heapq.heappush(tenant.by_age, (entry.created_at, entry_id))
        key = (entry.tenant_id, entry.model, entry.partition)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(self._dimensions)
        group.append(entry_id, vector, entry.expires_at)
        return key, group

    def _remove(self, entry_id: int) -> None:
        """In memory only."""
        entry = self._entries.pop(entry_id)
        tenant = self._tenants[entry.tenant_id]
        del tenant.ids[entry.exact_key]
        if not tenant.ids:
            del self._tenants[entry.tenant_id]
        key = (entry.tenant_id, entry.model, entry.partition)
        group = self._groups[key]
        group.remove(entry_id)
        if group.size == 0:
            del self._groups[key]
        elif group.size <= self._hnsw_above // 2:
            group.hnsw = None  # hysteresis: a group around the threshold is not rebuilt back and forth

    def _drop(self, entry_id: int) -> None:
        entry = self._entries[entry_id]
        self._remove(entry_id)
        self._mark((entry.tenant_id, entry.exact_key), None)

    def _evict(self, tenant_id: str, max_entries: int) -> None:
        """The tenant's oldest-created entries beyond ``max_entries``."""
        tenant = self._tenants.get(tenant_id)
        while tenant is not None and len(tenant.ids) > max_entries:
            _, entry_id = heapq.heappop(tenant.by_age)
            if entry_id in self._entries:
                self._drop(entry_id)
                tenant = self._tenants.get(tenant_id)
        if tenant is not None and len(tenant.by_age) > 2 * len(tenant.ids) + 64:
            tenant.by_age = [(self._entries[i].created_at, i) for i in tenant.ids.values()]
            heapq.heapify(tenant.by_age)

    def _start_build(self, key: _GroupKey, group: _Group) -> None:
        group.building = True  # at once: the task starts later, maybe after more adds
        task = asyncio.create_task(self._build(key, group))
        self._builds.add(task)
        task.add_done_callback(self._built)

    async def _build(self, key: _GroupKey, group: _Group) -> None:
        """The group's HNSW index, filled off the event loop from copies of its rows (again with
        the rows added meanwhile, until few are left), then brought up to date and put to use."""
        import numpy as np
        from usearch.index import Index

        index = Index(ndim=self._dimensions, metric="cos", dtype="f32")
        built: set[int] = set()
        try:
            while True:
                ids = [i for i in group.rows if i not in built]
                if len(ids) <= _ADD_INLINE or self._groups.get(key) is not group:
                    break
                vectors = group.vectors[[group.rows[i] for i in ids]]
                # One thread: the event loop keeps the other core.
                await asyncio.to_thread(index.add, np.array(ids, np.uint64), vectors, threads=1)
                built.update(ids)
        finally:
            group.building = False
        if self._groups.get(key) is not group or group.size <= self._hnsw_above // 2:
            return
        gone = [i for i in built if i not in group.rows]
        if gone:
            index.remove(np.array(gone, np.uint64))
        if ids:
            index.add(np.array(ids, np.uint64), group.vectors[[group.rows[i] for i in ids]], threads=1)
        group.hnsw = index

    def _built(self, task: asyncio.Task[None]) -> None:
        self._builds.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("the semantic cache could not build an HNSW index; that group stays on brute force",
                      exc_info=task.exception())  # fmt: skip

    def _mark(self, key: _Key, row: tuple[Entry, bytes] | None) -> None:
        self._dirty[key] = row
        self._writer.wake()

    async def _flush(self) -> None:
        """Everything pending, in one transaction; on failure it stays pending, under newer changes."""
        if not self._dirty:
            return
        async with self._connect() as conn:  # taken first: changes made while it waits join this batch
            dirty, self._dirty = self._dirty, {}
            upserts = [
                (*msgspec.structs.astuple(row[0]), row[1]) for row in dirty.values() if row is not None
            ]
            deletes = [k for k, row in dirty.items() if row is None]
            try:
                await write_batches(conn, ((_UPSERT, upserts), (_DELETE, deletes)))
            except sqlite3.Error as e:
                for k, row in dirty.items():
                    self._dirty.setdefault(k, row)
                raise StoreUnavailableError(
                    f"the semantic cache could not write to SQLite: {type(e).__name__}"
                ) from e
