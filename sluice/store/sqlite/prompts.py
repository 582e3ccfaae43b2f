"""The prompt registry's part of ``SqliteStore``: versions numbered in their inserting statement
(SQLite runs one write at a time, across processes too), label moves and their audit events in
one ``BEGIN IMMEDIATE`` transaction on the writer connection."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from typing import Any, Protocol

import aiosqlite
import msgspec
from msgspec import UNSET, UnsetType

from sluice.store.prompt_rows import label_after
from sluice.store.records import PromptLabel, PromptLabelEvent, PromptMessage, PromptVersion

_enc = msgspec.json.Encoder()
_messages = msgspec.json.Decoder(list[PromptMessage])
_names = msgspec.json.Decoder(list[str])
_params = msgspec.json.Decoder(dict[str, Any])

_VERSION = "tenant_id, name, version, messages, variables, created_at, author, model, params, note"
_EVENT = "tenant_id, name, label, from_version, to_version, actor, reason, at"


class _Connections(Protocol):
    """What the registry needs of ``SqliteStore``."""

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]: ...

    def _errors(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def writer(self) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]: ...


def _version(r: sqlite3.Row) -> PromptVersion:
    return PromptVersion(
        r["tenant_id"],
        r["name"],
        r["version"],
        _messages.decode(r["messages"]),
        _names.decode(r["variables"]),
        r["created_at"],
        r["author"],
        r["model"],
        _params.decode(r["params"]),
        r["note"],
    )


class SqlitePrompts:
    async def create_prompt_version(self: _Connections, v: PromptVersion) -> PromptVersion:
        rows = await self._all(
            f"INSERT INTO prompt_versions ({_VERSION}) SELECT ?, ?, COALESCE(MAX(version), 0) + 1,"
            " ?, ?, ?, ?, ?, ?, ? FROM prompt_versions WHERE tenant_id = ? AND name = ? RETURNING version",
            (
                v.tenant_id,
                v.name,
                _enc.encode(v.messages).decode(),
                _enc.encode(v.variables).decode(),
                v.created_at,
                v.author,
                v.model,
                _enc.encode(v.params).decode(),
                v.note,
                v.tenant_id,
                v.name,
            ),
        )
        return msgspec.structs.replace(v, version=rows[0]["version"])

    async def get_prompt_version(
        self: _Connections, tenant_id: str, name: str, version: int
    ) -> PromptVersion | None:
        rows = await self._all(
            f"SELECT {_VERSION} FROM prompt_versions WHERE tenant_id = ? AND name = ? AND version = ?",
            (tenant_id, name, version),
        )
        return _version(rows[0]) if rows else None

    async def list_prompt_versions(self: _Connections, tenant_id: str, name: str) -> list[PromptVersion]:
        rows = await self._all(
            f"SELECT {_VERSION} FROM prompt_versions WHERE tenant_id = ? AND name = ? ORDER BY version",
            (tenant_id, name),
        )
        return [_version(r) for r in rows]

    async def list_prompts(self: _Connections, tenant_id: str) -> list[str]:
        rows = await self._all(
            "SELECT DISTINCT name FROM prompt_versions WHERE tenant_id = ? ORDER BY name", (tenant_id,)
        )
        return [r["name"] for r in rows]

    async def set_prompt_label(
        self: _Connections,
        tenant_id: str,
        name: str,
        label: str,
        version: int | None,
        actor: str,
        reason: str,
        at: int,
        expect: int | UnsetType | None = UNSET,
    ) -> PromptLabel | None:
        key = (tenant_id, name, label)
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")  # the read below and the writes: one transaction
            try:
                rows = list(
                    await db.execute_fetchall(
                        "SELECT version, updated_at FROM prompt_labels"
                        " WHERE tenant_id = ? AND name = ? AND label = ?",
                        key,
                    )
                )
                was = PromptLabel(*key, rows[0]["version"], rows[0]["updated_at"]) if rows else None
                current = None if was is None else was.version
                result = label_after(key, was, version, at, expect)
                if result is not None:
                    await _apply(db, key, version, at)
                    await db.execute(
                        f"INSERT INTO prompt_label_events (seq, {_EVENT}) SELECT COALESCE(MAX(seq), 0) + 1,"
                        " ?, ?, ?, ?, ?, ?, ?, ? FROM prompt_label_events WHERE tenant_id = ? AND name = ?",
                        (*key, current, version, actor, reason, at, tenant_id, name),
                    )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return result

    async def get_prompt_labels(self: _Connections, tenant_id: str, name: str) -> list[PromptLabel]:
        rows = await self._all(
            "SELECT tenant_id, name, label, version, updated_at FROM prompt_labels"
            " WHERE tenant_id = ? AND name = ? ORDER BY label",
            (tenant_id, name),
        )
        return [PromptLabel(*r) for r in rows]

    async def prompt_history(self: _Connections, tenant_id: str, name: str) -> list[PromptLabelEvent]:
        rows = await self._all(
            f"SELECT {_EVENT} FROM prompt_label_events WHERE tenant_id = ? AND name = ? ORDER BY seq",
            (tenant_id, name),
        )
        return [PromptLabelEvent(*r) for r in rows]


async def _apply(db: aiosqlite.Connection, key: tuple[str, str, str], version: int | None, at: int) -> None:
    if version is None:
        await db.execute("DELETE FROM prompt_labels WHERE tenant_id = ? AND name = ? AND label = ?", key)
    else:
        await db.execute(
            "INSERT INTO prompt_labels (tenant_id, name, label, version, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, name, label) DO UPDATE SET version = excluded.version,"
            " updated_at = excluded.updated_at",
            (*key, version, at),
        )
