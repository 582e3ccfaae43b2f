"""The write-behind loop both in-process cache stores use to keep their SQLite copy: the request
path only marks what changed and wakes the loop; the loop waits a moment for more changes, then
runs the store's ``flush`` (one transaction, on the store's writer connection), and retries later
when the database refuses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from sluice.errors import StoreUnavailableError

log = logging.getLogger("sluice.cache")

Connect = Callable[[], AbstractAsyncContextManager[aiosqlite.Connection]]
"""The store's writer connection (``SqliteStore.writer``), to one caller at a time."""

RETRY_S = 5.0
"""How long after a failed write the next attempt waits."""


class WriteBehind:
    def __init__(self, flush: Callable[[], Awaitable[None]], what: str, every_s: float) -> None:
        self._flush = flush
        self._what = what
        self._every_s = every_s
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop the loop between transactions (never cancelled in one); the caller then flushes
        what is left itself."""
        if self._task is None:
            return
        self._closing.set()
        self._wake.set()
        await self._task
        self._task = None

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            await self._pause(self._every_s)
            if self._closing.is_set():
                return
            self._wake.clear()
            try:
                await self._flush()
            except StoreUnavailableError as e:
                log.warning("%s; %s retries its writes in %ss", e.message, self._what, RETRY_S)
                await self._pause(RETRY_S)

    async def _pause(self, seconds: float) -> None:
        """Sleep, cut short by ``stop``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()


async def write_batches(conn: aiosqlite.Connection, batches: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Each ``(sql, rows)`` with rows through ``executemany``, all in one transaction (taken at
    once, so a second writer on the file waits rather than deadlocks); rolled back on error,
    which propagates as ``sqlite3.Error``."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, rows in batches:
            if rows:
                await conn.executemany(sql, rows)
        await conn.execute("COMMIT")
    except sqlite3.Error:
        await conn.execute("ROLLBACK")
        raise
