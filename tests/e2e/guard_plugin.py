"""A guardrail plugin as a tenant would write one (imported by the gateway under test as
``tests.e2e.guard_plugin:no_project_names``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def no_project_names(texts: Sequence[str], info: Mapping[str, Any]) -> dict[str, str] | None:
    if any("project bluebird" in t.lower() for t in texts):
        return {"action": "block", "category": "confidential_project"}
    if any("bluebird" in t.lower() for t in texts):
        return {"action": "flag", "category": "maybe_confidential"}
    return None


def broken(texts: Sequence[str], info: Mapping[str, Any]) -> None:
    raise RuntimeError("a bug in the tenant's plugin")
