"""The prompt registry's part of ``PostgresStore``. Every write to a prompt (a new version, a
label move and its audit event) runs in one transaction that first takes a transaction-scoped
advisory lock on the prompt, so version numbers and compare-and-sets are atomic across replicas."""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

import msgspec
from asyncpg.pool import PoolConnectionProxy
from msgspec import UNSET, UnsetType

from sluice.store.prompt_rows import label_after
from sluice.store.records import PromptLabel, PromptLabelEvent, PromptMessage, PromptVersion

_VERSION = "tenant_id, name, version, messages, variables, created_at, author, model, params, note"
_EVENT = "tenant_id, name, label, from_version, to_version, actor, reason, at"
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('sluice:prompt:' || $1::text || ':' || $2::text, 0))"


class _Connections(Protocol):
    """What the registry needs of ``PostgresStore``."""

    def _conn(self) -> contextlib.AbstractAsyncContextManager[PoolConnectionProxy]: ...


def _version(r: Any) -> PromptVersion:
    return PromptVersion(
        r["tenant_id"],
        r["name"],
        r["version"],
        msgspec.convert(r["messages"], list[PromptMessage]),
        r["variables"],
        r["created_at"],
        r["author"],
        r["model"],
        r["params"],
        r["note"],
    )


class PostgresPrompts:
    async def create_prompt_version(self: _Connections, v: PromptVersion) -> PromptVersion:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(_LOCK, v.tenant_id, v.name)
            number = await conn.fetchval(
                f"INSERT INTO prompt_versions ({_VERSION}) SELECT $1::text, $2::text,"
                " COALESCE(MAX(version), 0) + 1, $3::jsonb, $4::jsonb, $5::bigint, $6::text, $7::text,"
                " $8::jsonb, $9::text FROM prompt_versions WHERE tenant_id = $1 AND name = $2"
                " RETURNING version",
                v.tenant_id,
                v.name,
                msgspec.to_builtins(v.messages),
                v.variables,
                v.created_at,
                v.author,
                v.model,
                v.params,
                v.note,
            )
        return msgspec.structs.replace(v, version=number)

    async def get_prompt_version(
        self: _Connections, tenant_id: str, name: str, version: int
    ) -> PromptVersion | None:
        async with self._conn() as conn:
            r = await conn.fetchrow(
                f"SELECT {_VERSION} FROM prompt_versions WHERE tenant_id = $1 AND name = $2 AND version = $3",
                tenant_id,
                name,
                version,
            )
        return _version(r) if r else None

    async def list_prompt_versions(self: _Connections, tenant_id: str, name: str) -> list[PromptVersion]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_VERSION} FROM prompt_versions WHERE tenant_id = $1 AND name = $2 ORDER BY version",
                tenant_id,
                name,
            )
        return [_version(r) for r in rows]

    async def list_prompts(self: _Connections, tenant_id: str) -> list[str]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                'SELECT DISTINCT name COLLATE "C" AS name FROM prompt_versions WHERE tenant_id = $1 ORDER BY 1',
                tenant_id,
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
        async with self._conn() as conn, conn.transaction():
            await conn.execute(_LOCK, tenant_id, name)
            r = await conn.fetchrow(
                "SELECT version, updated_at FROM prompt_labels WHERE tenant_id = $1 AND name = $2 AND label = $3",
                *key,
            )
            was = PromptLabel(*key, r["version"], r["updated_at"]) if r else None
            result = label_after(key, was, version, at, expect)
            if result is None:
                return None
            if version is None:
                await conn.execute(
                    "DELETE FROM prompt_labels WHERE tenant_id = $1 AND name = $2 AND label = $3", *key
                )
            else:
                await conn.execute(
                    "INSERT INTO prompt_labels (tenant_id, name, label, version, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, name, label)"
                    " DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
                    *key,
                    version,
                    at,
                )
            await conn.execute(
                f"INSERT INTO prompt_label_events (seq, {_EVENT}) SELECT COALESCE(MAX(seq), 0) + 1,"
                " $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::text, $7::text, $8::bigint FROM prompt_label_events WHERE tenant_id = $1 AND name = $2",
                *key,
                None if was is None else was.version,
                version,
                actor,
                reason,
                at,
            )
        return result

    async def get_prompt_labels(self: _Connections, tenant_id: str, name: str) -> list[PromptLabel]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                "SELECT tenant_id, name, label, version, updated_at FROM prompt_labels"
                ' WHERE tenant_id = $1 AND name = $2 ORDER BY label COLLATE "C"',
                tenant_id,
                name,
            )
        return [PromptLabel(*r) for r in rows]

    async def prompt_history(self: _Connections, tenant_id: str, name: str) -> list[PromptLabelEvent]:
        async with self._conn() as conn:
            rows = await conn.fetch(
                f"SELECT {_EVENT} FROM prompt_label_events WHERE tenant_id = $1 AND name = $2 ORDER BY seq",
                tenant_id,
                name,
            )
        return [PromptLabelEvent(*r) for r in rows]
