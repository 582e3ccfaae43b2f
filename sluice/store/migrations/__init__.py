"""Schema migrations: one folder of numbered SQL files per backend, applied in name order and
recorded in ``schema_migrations``; never edited once released, only added to."""

from __future__ import annotations

from importlib import resources


def pending(dialect: str, applied: set[str]) -> list[tuple[str, str]]:
    """(name, sql) of every migration of ``dialect`` not yet in ``applied``, in order."""
    folder = resources.files(__package__) / dialect
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return [(name, (folder / name).read_text(encoding="utf-8")) for name in files if name not in applied]
