"""The configured backend's Store, built once by the composition root and the CLI."""

from __future__ import annotations

from sluice.settings import StateSettings
from sluice.store.protocols import Store


def build_store(state: StateSettings) -> Store:
    if state.backend == "distributed":
        from sluice.store.postgres.store import PostgresStore

        assert state.postgres_dsn is not None  # checked by Settings
        return PostgresStore(state.postgres_dsn.get_secret_value())
    from sluice.store.sqlite.store import SqliteStore

    return SqliteStore(state.sqlite_path)
