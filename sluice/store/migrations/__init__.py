"""Schema migrations: one folder of numbered SQL files per backend, applied in name order and
recorded in ``schema_migrations``; never edited once released, only added to.

A PostgreSQL migration whose first line is ``-- requires extension: NAME`` is optional: where the
extension is missing or this role may not create it, the migration is skipped, unrecorded, and
tried again at the next start (the feature that needs it reports itself off meanwhile)."""

from __future__ import annotations

import re
from importlib import resources

_REQUIRES = re.compile(r"-- requires extension: (\w+)")


def pending(dialect: str, applied: set[str]) -> list[tuple[str, str]]:
    """(name, sql) of every migration of ``dialect`` not yet in ``applied``, in order."""
    folder = resources.files(__package__) / dialect
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in files if name not in applied]


def required_extension(sql: str) -> str | None:
    """The extension a migration needs to be applied (see the module's docstring), if any."""
    found = _REQUIRES.match(sql)
    return found.group(1) if found else None
