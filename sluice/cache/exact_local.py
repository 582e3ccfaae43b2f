"""The exact cache of the embedded backend: every live entry in this process, so a lookup never
waits on SQLite. The ``cache_exact`` table is its copy for restarts, written in batches by a
background task and never on the request path.

Hits move an entry to the most recently used end in memory at once and update its ``last_used``
row with the next batch; ``start`` rebuilds the order from ``last_used``. Each process keeps its
own entries: workers sharing one file each see their own hits, and all the rows after a restart.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable

import msgspec

from sluice.cache.entries import Entry
from sluice.cache.writer import Connect, WriteBehind, write_batches
from sluice.errors import StoreUnavailableError

log = logging.getLogger("sluice.cache")

FLUSH_EVERY_S = 0.5
"""How long a write waits for others to share its transaction."""

_FIELDS = Entry.__struct_fields__
_COLUMNS = ", ".join(_FIELDS)
_UPSERT = f"INSERT OR REPLACE INTO cache_exact ({_COLUMNS}, last_used) VALUES ({', '.join('?' * (len(_FIELDS) + 1))})"
_DELETE = "DELETE FROM cache_exact WHERE tenant_id = ? AND exact_key = ?"
_TOUCH = "UPDATE cache_exact SET last_used = ? WHERE tenant_id = ? AND exact_key = ?"

_Key = tuple[str, str]
"""(tenant_id, exact_key)."""


class LocalExactCache:
    """An ``ExactCache`` in memory, backed by SQLite. ``get`` and ``put`` never await I/O (each
    runs whole on the event loop); only ``start``, ``close`` and the writer touch the database,
    through the store's writer connection (``connect``). ``clock`` gives Unix seconds (for what
    expired before ``start`` and for purge counts)."""

    def __init__(
        self, connect: Connect, clock: Callable[[], float] = time.time, flush_every_s: float = FLUSH_EVERY_S
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._tenants: dict[str, OrderedDict[str, Entry]] = {}
        """Tenant -> its entries, least recently used first."""
        self._dirty: dict[_Key, Entry | None] = {}
        """Rows to write: the entry, or None to delete it."""
        self._used: dict[_Key, float] = {}
        """Hits not yet written: when."""
        self._is_started = False
        self._writer = WriteBehind(self._flush, "the exact cache", flush_every_s)

    async def start(self) -> None:
        now = self._clock()
        try:
            async with self._connect() as conn:
                await conn.execute("DELETE FROM cache_exact WHERE expires_at <= ?", (now,))
                async with conn.execute(
                    f"SELECT {_COLUMNS} FROM cache_exact ORDER BY last_used, created_at"
                ) as cur:
                    rows = await cur.fetchall()
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot load the exact cache: {type(e).__name__}") from e
        for row in rows:
            entry = Entry(**dict(zip(_FIELDS, row, strict=True)))
            self._tenants.setdefault(entry.tenant_id, OrderedDict())[entry.exact_key] = entry
        self._is_started = True
        self._writer.start()

    async def get(self, tenant_id: str, exact_key: str, now: float) -> Entry | None:
        entries = self._tenants.get(tenant_id)
        if entries is None:
            return None
        entry = entries.get(exact_key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            self._drop(tenant_id, entries, exact_key)
            return None
        entries.move_to_end(exact_key)
        self._used[(tenant_id, exact_key)] = now
        self._writer.wake()
        return entry

    async def put(self, entry: Entry, max_entries: int) -> None:
        tenant_id = entry.tenant_id
        entries = self._tenants.setdefault(tenant_id, OrderedDict())
        entries[entry.exact_key] = entry
        entries.move_to_end(entry.exact_key)
        self._mark((tenant_id, entry.exact_key), entry)
        while len(entries) > max_entries:
            self._drop(tenant_id, entries, next(iter(entries)))

    async def purge(self, tenant_id: str, model: str | None = None, key_prefix: str | None = None) -> int:
        """Expired entries go too, uncounted."""
        entries = self._tenants.get(tenant_id)
        if entries is None:
            return 0
        now = self._clock()
        doomed = [
            e for e in entries.values()
            if (model is None or e.model == model) and (key_prefix is None or e.key_prefix == key_prefix)
        ]  # fmt: skip
        for e in doomed:
            self._drop(tenant_id, entries, e.exact_key)
        return sum(e.expires_at > now for e in doomed)

    async def close(self) -> None:
        """Writes what is still pending (before the store closes); raises ``StoreUnavailableError``
        if that fails."""
        if not self._is_started:
            return
        await self._writer.stop()
        self._is_started = False
        await self._flush()

    def _drop(self, tenant_id: str, entries: OrderedDict[str, Entry], exact_key: str) -> None:
        del entries[exact_key]
        if not entries:
            del self._tenants[tenant_id]
        self._mark((tenant_id, exact_key), None)

    def _mark(self, key: _Key, entry: Entry | None) -> None:
        self._dirty[key] = entry
        self._used.pop(key, None)
        self._writer.wake()

    async def _flush(self) -> None:
        """Everything pending, in one transaction; on failure it stays pending, under newer changes."""
        if not self._dirty and not self._used:
            return
        async with self._connect() as conn:  # taken first: changes made while it waits join this batch
            dirty, self._dirty = self._dirty, {}
            used, self._used = self._used, {}
            upserts = [(*msgspec.structs.astuple(e), e.created_at) for e in dirty.values() if e is not None]
            deletes = [k for k, e in dirty.items() if e is None]
            touches = [(at, *k) for k, at in used.items()]
            try:
                await write_batches(conn, ((_UPSERT, upserts), (_DELETE, deletes), (_TOUCH, touches)))
            except sqlite3.Error as e:
                for k, entry in dirty.items():
                    self._dirty.setdefault(k, entry)
                for k, at in used.items():
                    if k not in self._dirty:
                        self._used.setdefault(k, at)
                raise StoreUnavailableError(
                    f"the exact cache could not write to SQLite: {type(e).__name__}"
                ) from e
