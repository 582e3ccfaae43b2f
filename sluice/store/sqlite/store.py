"""SqliteStore: the Store protocol on one aiosqlite connection (SQLite runs in its own thread,
so the event loop never blocks; WAL lets readers in other processes work alongside), and a
second one, the writer, shared by the background writers (the request log, the response
cache's copies), one transaction at a time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import aiosqlite
import msgspec

from sluice.errors import ConflictError, StoreUnavailableError
from sluice.obs.record import RequestRecord
from sluice.policies import Budget, Limits, Plan, ScopeKind, SpendPolicy
from sluice.store import experiment_rows, request_rows
from sluice.store.migrations import pending
from sluice.store.records import (
    POLICY_COLUMNS,
    AdminCredential,
    ApiKey,
    Experiment,
    Feedback,
    PolicyKind,
    SpendScope,
    StoredResponse,
    StoredSpend,
    Tenant,
    UsageQuery,
    UsageRow,
    User,
    VersionQuality,
)
from sluice.store.sqlite.background import SqliteBackground
from sluice.store.sqlite.batch_native import SqliteNativeBatches
from sluice.store.sqlite.batches import SqliteBatches
from sluice.store.sqlite.files import SqliteFiles
from sluice.store.sqlite.prompts import SqlitePrompts
from sluice.store.sqlite.vector_stores import SqliteVectorStores

_enc = msgspec.json.Encoder()
_spend = msgspec.json.Decoder(SpendPolicy)
_plan = msgspec.json.Decoder(Plan)
_json = msgspec.json.Decoder(dict[str, Any])
_models = msgspec.json.Decoder(list[str] | None)

_KEY_COLUMNS = "id, tenant_id, name, prefix, secret_sha256, created_at, user_id, allowed_models, metadata, expires_at, revoked_at"
_LIMIT_COLUMNS = ", ".join(Limits.__struct_fields__)
_LIMIT_UPDATES = ", ".join(f"{f} = excluded.{f}" for f in Limits.__struct_fields__)
_BUDGET_COLUMNS = ", ".join(Budget.__struct_fields__)
_BUDGET_UPDATES = ", ".join(f"{f} = excluded.{f}" for f in Budget.__struct_fields__)

_DIALECT = request_rows.Dialect(
    param=lambda n: "?",
    utc_text={
        "day": "strftime('%Y-%m-%d', {s}, 'unixepoch')",
        "hour": "strftime('%Y-%m-%dT%H:00Z', {s}, 'unixepoch')",
    },
    text_order="",  # SQLite's BINARY collation is code point order already
)
_INSERT_REQUEST = request_rows.insert_sql(_DIALECT)
_ROWS_PER_INSERT = 512
"""32 parameters a row: 16,384 a statement, under SQLite's 32,766."""

log = logging.getLogger("sluice.store")

MIGRATION_WAIT_S = 120.0
"""How long a process waits for another's migration of the same database before giving up."""
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _chunks(total: int) -> list[int]:
    """Statement sizes for ``total`` rows: full ones of ``_ROWS_PER_INSERT``, then the rest as
    powers of two, so at most ten distinct statements are ever compiled and cached (a statement
    per remainder size filled SQLite's statement cache with 128 large ones: +60 MiB)."""
    sizes = [_ROWS_PER_INSERT] * (total // _ROWS_PER_INSERT)
    rest = total % _ROWS_PER_INSERT
    bit = 1 << rest.bit_length()
    while bit:
        if rest & bit:
            sizes.append(bit)
        bit >>= 1
    return sizes


@functools.lru_cache(maxsize=16)
def _insert_rows(n: int) -> str:
    """``INSERT ... VALUES (?, ...), (?, ...)`` for ``n`` rows (SQLite keeps the compiled
    statement in its cache, so a full batch's statement is compiled once)."""
    one = "(" + ", ".join("?" * len(request_rows.COLUMNS)) + ")"
    return _INSERT_REQUEST.split(" VALUES ", 1)[0] + " VALUES " + ", ".join([one] * n)


def _tenant(r: sqlite3.Row) -> Tenant:
    policy, log_payloads, guardrails = r["cache_policy"], r["log_payloads"], r["guardrail_policy"]
    return Tenant(
        r["id"],
        r["name"],
        r["created_at"],
        bool(r["disabled"]),
        _json.decode(r["metadata"]),
        None if policy is None else _json.decode(policy),
        None if log_payloads is None else bool(log_payloads),
        None if guardrails is None else _json.decode(guardrails),
    )


def _user(r: sqlite3.Row) -> User:
    return User(r["id"], r["tenant_id"], r["external_id"], r["created_at"], _json.decode(r["metadata"]))


def _key(r: sqlite3.Row) -> ApiKey:
    models = r["allowed_models"]
    return ApiKey(
        r["id"],
        r["tenant_id"],
        r["name"],
        r["prefix"],
        r["secret_sha256"],
        r["created_at"],
        r["user_id"],
        _models.decode(models) if models is not None else None,
        _json.decode(r["metadata"]),
        r["expires_at"],
        r["revoked_at"],
    )


def _admin(r: sqlite3.Row) -> AdminCredential:
    return AdminCredential(
        r["id"], r["name"], r["prefix"], r["secret_sha256"], r["created_at"], r["revoked_at"]
    )


def _limits(r: sqlite3.Row) -> Limits:
    return Limits(*(r[f] for f in Limits.__struct_fields__))


def _budget(r: sqlite3.Row) -> Budget:
    return Budget(*(r[f] for f in Budget.__struct_fields__))


class SqliteStore(
    SqlitePrompts, SqliteFiles, SqliteVectorStores, SqliteBatches, SqliteNativeBatches, SqliteBackground
):
    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: aiosqlite.Connection | None = None
        # The background writers' transactions run on their own connection: on the shared one,
        # another caller's statement could land inside them. One transaction at a time on it.
        self._writer_conn: aiosqlite.Connection | None = None
        self._writer_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()

    async def _open(self) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(self._path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"cannot open the SQLite store at {self._path}: {e}") from e
        return conn

    async def _db(self) -> aiosqlite.Connection:
        if self._conn is None:
            async with self._open_lock:  # callers arriving at once share the one connection
                if self._conn is None:
                    self._conn = await self._open()
        return self._conn

    @contextlib.asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        """Driver errors are translated here, once: by type, never by message."""
        try:
            yield
        except sqlite3.IntegrityError as e:
            raise ConflictError(f"conflicts with an existing record: {e}") from e
        except sqlite3.Error as e:
            raise StoreUnavailableError(f"the SQLite store failed: {type(e).__name__}") from e

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run to completion in one call on SQLite's thread. A query left open between two calls
        (a cursor not yet fetched) holds a read transaction on the shared connection, and a write
        issued meanwhile by another caller then fails at once with "database is locked" when the
        request-log connection commits, instead of waiting out ``busy_timeout``."""
        db = await self._db()
        async with self._errors():
            return list(await db.execute_fetchall(sql, tuple(args)))

    async def _one(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self._all(sql, args)
        return rows[0] if rows else None

    async def _write(self, sql: str, args: Iterable[Any] = ()) -> int:
        db = await self._db()
        async with self._errors():
            cur = await db.execute(sql, tuple(args))
            return cur.rowcount

    # --- lifecycle ---------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        db = await self._db()
        async with self._errors():
            await self._migration_lock(db)
            try:
                async with db.execute("SELECT name FROM schema_migrations") as cur:
                    applied = {r[0] for r in await cur.fetchall()}
                names = []
                for name, sql in pending("sqlite", applied):
                    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
                    for statement in (s for s in code.split(";") if s.strip()):  # comments may hold a ';'
                        await db.execute(statement)
                    await db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, int(time.time())))
                    names.append(name)
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return names

    async def _migration_lock(self, db: aiosqlite.Connection) -> None:
        """One migrator at a time, even across processes (``BEGIN IMMEDIATE``). Another worker's
        migration of a new database can outlast ``busy_timeout`` on a loaded machine: this one
        waits for it (up to ``MIGRATION_WAIT_S``) rather than start without the tables."""
        deadline = time.monotonic() + MIGRATION_WAIT_S
        while True:
            try:
                await db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
                )
                await db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if e.sqlite_errorcode not in _BUSY or time.monotonic() > deadline:
                    raise
                log.info("store: waiting for another process's migration")
                await asyncio.sleep(0.2)

    async def ping(self) -> None:
        await self._all("SELECT 1")

    async def close(self) -> None:
        """After the stores sharing the writer have closed (they flush through it)."""
        for conn in (self._conn, self._writer_conn):
            if conn is not None:
                await conn.close()
        self._conn = self._writer_conn = None

    @contextlib.asynccontextmanager
    async def writer(self) -> AsyncIterator[aiosqlite.Connection]:
        """The writer connection, to this caller alone until the block ends: one background
        writer's transaction at a time in this process (other processes wait on the file's lock).
        Opening it may raise ``StoreUnavailableError``; driver errors inside the block are the
        caller's to translate."""
        async with self._writer_lock:
            if self._writer_conn is None:
                conn = await self._open()
                try:  # a crash may lose the last batch, never the file
                    await conn.execute("PRAGMA synchronous=NORMAL")
                except sqlite3.Error as e:
                    await conn.close()
                    raise StoreUnavailableError(f"cannot open the SQLite store at {self._path}: {e}") from e
                self._writer_conn = conn
            yield self._writer_conn

    # --- tenants -----------------------------------------------------------------------------

    async def create_tenant(self, tenant: Tenant) -> Tenant:
        await self._write(
            "INSERT INTO tenants (id, name, created_at, disabled, metadata, log_payloads) VALUES (?, ?, ?, ?, ?, ?)",
            (
                tenant.id,
                tenant.name,
                tenant.created_at,
                int(tenant.disabled),
                _enc.encode(tenant.metadata).decode(),
                tenant.log_payloads,
            ),
        )
        return tenant

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        r = await self._one("SELECT * FROM tenants WHERE id = ?", (tenant_id,))
        return _tenant(r) if r else None

    async def list_tenants(self) -> list[Tenant]:
        return [_tenant(r) for r in await self._all("SELECT * FROM tenants ORDER BY created_at, id")]

    async def update_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        disabled: bool | None = None,
        metadata: dict[str, Any] | None = None,
        log_payloads: bool | None = None,
    ) -> Tenant | None:
        sets, args = _sets(
            name=name,
            disabled=None if disabled is None else int(disabled),
            metadata=_opt_json(metadata),
            log_payloads=None if log_payloads is None else int(log_payloads),
        )
        if sets:
            await self._write(f"UPDATE tenants SET {sets} WHERE id = ?", (*args, tenant_id))
        return await self.get_tenant(tenant_id)

    async def set_policy(
        self, tenant_id: str, kind: PolicyKind, policy: dict[str, Any] | None
    ) -> Tenant | None:
        column = POLICY_COLUMNS[kind]
        await self._write(f"UPDATE tenants SET {column} = ? WHERE id = ?", (_opt_json(policy), tenant_id))
        return await self.get_tenant(tenant_id)

    # --- users -------------------------------------------------------------------------------

    async def create_user(self, user: User) -> User:
        await self._write(
            "INSERT INTO users (id, tenant_id, external_id, created_at, metadata) VALUES (?, ?, ?, ?, ?)",
            (user.id, user.tenant_id, user.external_id, user.created_at, _enc.encode(user.metadata).decode()),
        )
        return user

    async def ensure_user(self, user: User) -> User:
        await self._write(
            "INSERT INTO users (id, tenant_id, external_id, created_at, metadata) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, external_id) DO NOTHING",
            (user.id, user.tenant_id, user.external_id, user.created_at, _enc.encode(user.metadata).decode()),
        )
        found = await self.user_by_external_id(user.tenant_id, user.external_id)
        assert found is not None  # users are never deleted
        return found

    async def get_user(self, tenant_id: str, user_id: str) -> User | None:
        r = await self._one("SELECT * FROM users WHERE tenant_id = ? AND id = ?", (tenant_id, user_id))
        return _user(r) if r else None

    async def user_by_external_id(self, tenant_id: str, external_id: str) -> User | None:
        r = await self._one(
            "SELECT * FROM users WHERE tenant_id = ? AND external_id = ?", (tenant_id, external_id)
        )
        return _user(r) if r else None

    async def list_users(self, tenant_id: str) -> list[User]:
        rows = await self._all(
            "SELECT * FROM users WHERE tenant_id = ? ORDER BY created_at, id", (tenant_id,)
        )
        return [_user(r) for r in rows]

    # --- API keys ----------------------------------------------------------------------------

    async def create_key(self, key: ApiKey) -> ApiKey:
        await self._write(
            f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.id,
                key.tenant_id,
                key.name,
                key.prefix,
                key.secret_sha256,
                key.created_at,
                key.user_id,
                _opt_json(key.allowed_models),
                _enc.encode(key.metadata).decode(),
                key.expires_at,
                key.revoked_at,
            ),
        )
        return key

    async def key_by_secret_sha256(self, secret_sha256: str) -> ApiKey | None:
        r = await self._one(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE secret_sha256 = ?", (secret_sha256,))
        return _key(r) if r else None

    async def get_key(self, tenant_id: str, key_id: str) -> ApiKey | None:
        r = await self._one(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id = ?", (tenant_id, key_id)
        )
        return _key(r) if r else None

    async def list_keys(self, tenant_id: str) -> list[ApiKey]:
        rows = await self._all(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id", (tenant_id,)
        )
        return [_key(r) for r in rows]

    async def revoke_key(self, tenant_id: str, key_id: str, at: int) -> ApiKey | None:
        await self._write(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?",
            (at, tenant_id, key_id),
        )
        return await self.get_key(tenant_id, key_id)

    async def update_key(
        self,
        tenant_id: str,
        key_id: str,
        *,
        name: str | None = None,
        allowed_models: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: int | None = None,
    ) -> ApiKey | None:
        sets, args = _sets(
            name=name,
            allowed_models=_opt_json(allowed_models),
            metadata=_opt_json(metadata),
            expires_at=expires_at,
        )
        if sets:
            await self._write(
                f"UPDATE api_keys SET {sets} WHERE tenant_id = ? AND id = ?", (*args, tenant_id, key_id)
            )
        return await self.get_key(tenant_id, key_id)

    # --- admin credentials -------------------------------------------------------------------

    async def create_admin(self, admin: AdminCredential) -> AdminCredential:
        await self._write(
            "INSERT INTO admin_credentials (id, name, prefix, secret_sha256, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)",
            (admin.id, admin.name, admin.prefix, admin.secret_sha256, admin.created_at, admin.revoked_at),
        )
        return admin

    async def admin_by_secret_sha256(self, secret_sha256: str) -> AdminCredential | None:
        r = await self._one("SELECT * FROM admin_credentials WHERE secret_sha256 = ?", (secret_sha256,))
        return _admin(r) if r else None

    # --- limits ------------------------------------------------------------------------------

    async def set_limits(
        self, tenant_id: str, kind: ScopeKind, scope_id: str, limits: Limits, at: int
    ) -> Limits:
        # The WHERE keeps a row of another tenant untouched: then nothing is returned.
        r = await self._one(
            f"INSERT INTO limits (scope_kind, scope_id, tenant_id, {_LIMIT_COLUMNS}, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope_kind, scope_id) DO UPDATE SET"
            f" {_LIMIT_UPDATES}, updated_at = excluded.updated_at WHERE limits.tenant_id = excluded.tenant_id"
            f" RETURNING {_LIMIT_COLUMNS}",
            (kind, scope_id, tenant_id, *msgspec.structs.astuple(limits), at),
        )
        if r is None:
            raise ConflictError(f"The {kind} `{scope_id}` has limits in another tenant.")
        return _limits(r)

    async def get_limits(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> Limits | None:
        r = await self._one(
            f"SELECT {_LIMIT_COLUMNS} FROM limits WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ?",
            (tenant_id, kind, scope_id),
        )
        return _limits(r) if r else None

    async def delete_limits(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> bool:
        deleted = await self._write(
            "DELETE FROM limits WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ?",
            (tenant_id, kind, scope_id),
        )
        return deleted > 0

    async def limits_for(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> dict[ScopeKind, Limits]:
        rows = await self._all(
            f"SELECT scope_kind, {_LIMIT_COLUMNS} FROM limits WHERE tenant_id = ? AND ("
            "(scope_kind = 'tenant' AND scope_id = ?) OR (scope_kind = 'user' AND scope_id = ?)"
            " OR (scope_kind = 'key' AND scope_id = ?))",
            (tenant_id, tenant_id, user_id, key_id),
        )
        return {r["scope_kind"]: _limits(r) for r in rows}

    # --- budgets -----------------------------------------------------------------------------

    async def set_budget(
        self, tenant_id: str, kind: ScopeKind, scope_id: str, budget: Budget, at: int
    ) -> Budget:
        # Neither the NOT EXISTS nor the upsert's WHERE touches a scope of another tenant: then nothing returns.
        r = await self._one(
            f"INSERT INTO budgets (scope_kind, scope_id, tenant_id, {_BUDGET_COLUMNS}, updated_at)"
            " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM budgets"
            " WHERE scope_kind = ? AND scope_id = ? AND tenant_id <> ?) ON CONFLICT (scope_kind, scope_id, period)"
            f" DO UPDATE SET {_BUDGET_UPDATES}, updated_at = excluded.updated_at WHERE budgets.tenant_id = excluded.tenant_id"
            f" RETURNING {_BUDGET_COLUMNS}",
            (kind, scope_id, tenant_id, *msgspec.structs.astuple(budget), at, kind, scope_id, tenant_id),
        )
        if r is None:
            raise ConflictError(f"The {kind} `{scope_id}` has budgets in another tenant.")
        return _budget(r)

    async def get_budgets(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> list[Budget]:
        rows = await self._all(
            f"SELECT {_BUDGET_COLUMNS} FROM budgets WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ? ORDER BY period",
            (tenant_id, kind, scope_id),
        )
        return [_budget(r) for r in rows]

    async def delete_budgets(self, tenant_id: str, kind: ScopeKind, scope_id: str) -> int:
        return await self._write(
            "DELETE FROM budgets WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ?",
            (tenant_id, kind, scope_id),
        )

    async def tenant_budgets(self, limit: int) -> list[tuple[str, Budget]]:
        rows = await self._all(
            f"SELECT tenant_id, {_BUDGET_COLUMNS} FROM budgets WHERE scope_kind = 'tenant' AND scope_id = tenant_id"
            " ORDER BY tenant_id, period LIMIT ?",
            (limit,),
        )
        return [(r["tenant_id"], _budget(r)) for r in rows]

    async def budgets_for(
        self, tenant_id: str, user_id: str | None, key_id: str | None
    ) -> dict[ScopeKind, list[Budget]]:
        rows = await self._all(
            f"SELECT scope_kind, {_BUDGET_COLUMNS} FROM budgets WHERE tenant_id = ? AND ("
            "(scope_kind = 'tenant' AND scope_id = ?) OR (scope_kind = 'user' AND scope_id = ?)"
            " OR (scope_kind = 'key' AND scope_id = ?)) ORDER BY period",
            (tenant_id, tenant_id, user_id, key_id),
        )
        found: dict[ScopeKind, list[Budget]] = {}
        for r in rows:
            found.setdefault(r["scope_kind"], []).append(_budget(r))
        return found

    # --- spend policies ----------------------------------------------------------------------

    async def set_spend_policy(
        self, tenant_id: str, kind: SpendScope, scope_id: str, policy: SpendPolicy, at: int
    ) -> None:
        await self._write(
            "INSERT INTO spend_policies (tenant_id, scope_kind, scope_id, policy, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant_id, scope_kind, scope_id) DO UPDATE SET policy = excluded.policy,"
            " updated_at = excluded.updated_at",
            (tenant_id, kind, scope_id, _enc.encode(policy).decode(), at),
        )

    async def get_spend_policy(self, tenant_id: str, kind: SpendScope, scope_id: str) -> StoredSpend | None:
        r = await self._one(
            "SELECT policy, emergency_ended FROM spend_policies WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ?",
            (tenant_id, kind, scope_id),
        )
        return None if r is None else StoredSpend(_spend.decode(r[0]), r[1])

    async def delete_spend_policy(self, tenant_id: str, kind: SpendScope, scope_id: str) -> int:
        return await self._write(
            "DELETE FROM spend_policies WHERE tenant_id = ? AND scope_kind = ? AND scope_id = ?",
            (tenant_id, kind, scope_id),
        )

    async def spend_policies_for(self, tenant_id: str, user_id: str | None) -> dict[SpendScope, StoredSpend]:
        rows = await self._all(
            "SELECT scope_kind, policy, emergency_ended FROM spend_policies WHERE tenant_id = ? AND ("
            "(scope_kind = 'tenant' AND scope_id = ?) OR (scope_kind = 'user' AND scope_id = ?))",
            (tenant_id, tenant_id, user_id),
        )
        return {r[0]: StoredSpend(_spend.decode(r[1]), r[2]) for r in rows}

    async def end_emergency(self, tenant_id: str, day: str, at: int) -> bool:
        return bool(
            await self._write(
                "UPDATE spend_policies SET emergency_ended = ?, updated_at = ? WHERE tenant_id = ?"
                " AND scope_kind = 'tenant' AND scope_id = ?",
                (day, at, tenant_id, tenant_id),
            )
        )

    # --- plans -------------------------------------------------------------------------------

    async def put_plan(self, name: str, plan: Plan, at: int, *, only_new: bool = False) -> bool:
        update = (
            "NOTHING" if only_new else "UPDATE SET plan = excluded.plan, updated_at = excluded.updated_at"
        )
        return bool(
            await self._write(
                f"INSERT INTO plans (name, plan, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO {update}",
                (name, _enc.encode(plan).decode(), at),
            )
        )

    async def get_plan(self, name: str) -> Plan | None:
        r = await self._one("SELECT plan FROM plans WHERE name = ?", (name,))
        return None if r is None else _plan.decode(r[0])

    async def list_plans(self) -> dict[str, Plan]:
        return {
            r[0]: _plan.decode(r[1]) for r in await self._all("SELECT name, plan FROM plans ORDER BY name")
        }

    async def delete_plan(self, name: str) -> bool:
        used = await self._one(
            "SELECT 1 FROM tenants WHERE plan = ? UNION ALL SELECT 1 FROM users WHERE plan = ? LIMIT 1",
            (name, name),
        )
        if used is not None:
            raise ConflictError(f"Plan `{name}` is in use: move its tenants and users to another plan first.")
        return bool(await self._write("DELETE FROM plans WHERE name = ?", (name,)))

    async def set_plan_of(self, tenant_id: str, user_id: str | None, name: str | None) -> None:
        if user_id is None:
            await self._write("UPDATE tenants SET plan = ? WHERE id = ?", (name, tenant_id))
        else:
            await self._write(
                "UPDATE users SET plan = ? WHERE tenant_id = ? AND id = ?", (name, tenant_id, user_id)
            )

    async def plan_of(self, tenant_id: str, user_id: str | None) -> str | None:
        if user_id is None:
            r = await self._one("SELECT plan FROM tenants WHERE id = ?", (tenant_id,))
        else:
            r = await self._one("SELECT plan FROM users WHERE tenant_id = ? AND id = ?", (tenant_id, user_id))
        return None if r is None else r[0]

    async def plans_for(self, tenant_id: str, user_id: str | None) -> dict[SpendScope, Plan]:
        rows = await self._all(
            "SELECT 'tenant', p.plan FROM tenants t JOIN plans p ON p.name = t.plan WHERE t.id = ?"
            " UNION ALL SELECT 'user', p.plan FROM users u JOIN plans p ON p.name = u.plan"
            " WHERE u.tenant_id = ? AND u.id = ?",
            (tenant_id, tenant_id, user_id),
        )
        return {r[0]: _plan.decode(r[1]) for r in rows}

    # --- request log -------------------------------------------------------------------------

    async def write_requests(self, records: Sequence[RequestRecord]) -> None:
        """Multi-row INSERTs of up to ``_ROWS_PER_INSERT`` rows, in one transaction taken at once
        (``BEGIN IMMEDIATE``) so that a writer in another process waits for it rather than
        deadlocks. Not ``executemany``: it lets go of the GIL and takes it back for every row,
        which, against a busy event loop on the other thread, cost the gateway more than the rows."""
        rows = request_rows.rows(records)
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                k = 0
                for n in _chunks(len(rows)):
                    await db.execute(_insert_rows(n), list(itertools.chain.from_iterable(rows[k : k + n])))
                    k += n
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

    async def usage(self, query: UsageQuery) -> list[UsageRow]:
        sql, args = request_rows.usage_sql(query, _DIALECT)
        return [request_rows.usage_row(query.group_by, tuple(r)) for r in await self._all(sql, args)]

    async def list_requests(
        self,
        tenant_id: str | None,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[tuple[int, RequestRecord]]:
        sql, args = request_rows.list_sql(_DIALECT, tenant_id, since_ms, until_ms, limit, before_seq)
        return [(r[0], request_rows.record(tuple(r)[1:])) for r in await self._all(sql, args)]

    # --- experiments and feedback ------------------------------------------------------------

    async def create_experiment(self, experiment: Experiment) -> Experiment:
        cols = experiment_rows.EXPERIMENT_COLUMNS
        await self._write(
            f"INSERT INTO prompt_experiments ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            experiment_rows.experiment_row(experiment),
        )
        return experiment

    async def get_experiment(self, tenant_id: str, experiment_id: str) -> Experiment | None:
        r = await self._one(
            "SELECT body FROM prompt_experiments WHERE tenant_id = ? AND id = ?", (tenant_id, experiment_id)
        )
        return experiment_rows.experiment(r[0]) if r else None

    async def list_experiments(self, tenant_id: str, name: str | None = None) -> list[Experiment]:
        sql, args = "SELECT body FROM prompt_experiments WHERE tenant_id = ?", [tenant_id]
        if name is not None:
            sql, args = sql + " AND name = ?", [*args, name]
        rows = await self._all(sql + " ORDER BY created_at, id", args)
        return [experiment_rows.experiment(r[0]) for r in rows]

    async def running_experiments(self) -> list[Experiment]:
        rows = await self._all(
            "SELECT body FROM prompt_experiments WHERE state = 'running' ORDER BY tenant_id, created_at, id"
        )
        return [experiment_rows.experiment(r[0]) for r in rows]

    async def update_experiment(
        self, experiment: Experiment, expect_state: str = "running", expect_step: int | None = None
    ) -> bool:
        e = experiment
        args: list[Any] = [
            e.state,
            e.step,
            experiment_rows.experiment_row(e)[6],
            e.updated_at,
            e.tenant_id,
            e.id,
        ]
        args.append(expect_state)
        if expect_step is not None:
            args.append(expect_step)
        return await self._write(experiment_rows.update_sql(_DIALECT, expect_step is not None), args) > 0

    async def put_feedback(self, feedback: Feedback) -> bool:
        return (
            await self._write(
                experiment_rows.put_feedback_sql(_DIALECT), experiment_rows.feedback_row(feedback)
            )
            > 0
        )

    async def get_feedback(self, tenant_id: str, request_id: str) -> Feedback | None:
        r = await self._one(
            "SELECT tenant_id, request_id, score, comment, tags, at FROM feedback WHERE tenant_id = ? AND request_id = ?",
            (tenant_id, request_id),
        )
        return experiment_rows.feedback(tuple(r)) if r else None

    async def prompt_quality(
        self, tenant_id: str, name: str, since: int | None = None, experiment: str | None = None
    ) -> list[VersionQuality]:
        sql, args = experiment_rows.quality_sql(_DIALECT, tenant_id, name, since, experiment)
        found = []
        for row in await self._all(sql, args):
            sample, sample_args = experiment_rows.sample_sql(
                _DIALECT, tenant_id, name, since, experiment, row[0]
            )
            found.append(
                experiment_rows.quality(tuple(row), [tuple(s) for s in await self._all(sample, sample_args)])
            )
        return found

    # --- stored responses --------------------------------------------------------------------

    async def put_responses(self, responses: Sequence[StoredResponse]) -> None:
        rows = [(r.owner, r.id, r.created_at, r.payload, int(r.sealed)) for r in responses]
        async with self.writer() as db, self._errors():
            await db.execute("BEGIN IMMEDIATE")
            try:
                await db.executemany(
                    "INSERT INTO responses (owner, id, created_at, payload, sealed) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise

    async def get_response(self, owner: str, response_id: str) -> StoredResponse | None:
        r = await self._one(
            "SELECT created_at, payload, sealed FROM responses WHERE owner = ? AND id = ?",
            (owner, response_id),
        )
        if r is None:
            return None
        return StoredResponse(owner, response_id, r["created_at"], bytes(r["payload"]), bool(r["sealed"]))

    async def delete_response(self, owner: str, response_id: str) -> bool:
        return await self._write("DELETE FROM responses WHERE owner = ? AND id = ?", (owner, response_id)) > 0


def _opt_json(value: Any) -> str | None:
    return None if value is None else _enc.encode(value).decode()


def _sets(**fields: Any) -> tuple[str, list[Any]]:
    """``col = ?`` for every field given (None means unchanged)."""
    given = [(k, v) for k, v in fields.items() if v is not None]
    return ", ".join(f"{k} = ?" for k, _ in given), [v for _, v in given]
