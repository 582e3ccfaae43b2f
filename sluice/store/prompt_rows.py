"""What both backends decide alike when a prompt's label moves."""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from sluice.store.records import PromptLabel


def label_after(
    key: tuple[str, str, str],
    was: PromptLabel | None,
    version: int | None,
    at: int,
    expect: int | UnsetType | None,
) -> PromptLabel | None:
    """The label as it will be (a deleted one as it was), or None when nothing is to change: the
    compare-and-set failed, or there is no label to delete."""
    if expect is not UNSET and expect != (None if was is None else was.version):
        return None
    return was if version is None else PromptLabel(*key, version, at)
