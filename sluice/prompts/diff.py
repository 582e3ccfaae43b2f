"""Two versions of a prompt compared as a unified diff of a readable text form (its messages,
variables, model, params and note), for the admin API and the CLI."""

from __future__ import annotations

import difflib

import msgspec

from sluice.store.records import PromptVersion


def diff(a: PromptVersion, b: PromptVersion) -> str:
    """The unified diff from ``a`` to ``b``, headed ``name@a`` and ``name@b``; empty when alike."""
    return "".join(difflib.unified_diff(_text(a), _text(b), f"{a.name}@{a.version}", f"{b.name}@{b.version}"))


def _text(v: PromptVersion) -> list[str]:
    """One line a field, a message's content indented under its role, so a changed line of a
    template shows as itself. Values are JSON (a newline in a note stays on its line)."""
    lines = [f"model: {_json(v.model)}", f"variables: {_json(v.variables)}"]
    lines += [f"params.{k}: {_json(v.params[k])}" for k in sorted(v.params)]
    lines.append(f"note: {_json(v.note)}")
    for i, m in enumerate(v.messages):
        lines.append(f"messages[{i}] {m.role}:")
        lines += [f"  {line}" for line in m.content.split("\n")]
    return [line + "\n" for line in lines]


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()
