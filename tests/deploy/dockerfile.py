"""A small reader of the repo's Dockerfile for the image tests: logical instructions (continuations
joined, comments dropped), each with the index of the build stage it belongs to."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from tests.fixtures.procs import REPO

DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY...
    args: str
    stage: int  # -1 before the first FROM (global ARGs)


def parse(path: Path = DOCKERFILE) -> list[Instruction]:
    out: list[Instruction] = []
    stage, buf = -1, ""
    for line in path.read_text().splitlines():
        s = line.strip()
        if s.startswith("#") or (not s and not buf):
            continue  # comments (the syntax directive too) and blank lines between instructions
        if s.endswith("\\"):
            buf += s[:-1].rstrip() + " "
            continue
        buf += s
        keyword, _, args = buf.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
        buf = ""
    return out


def stage(instructions: list[Instruction], index: int) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    want = last if index == -1 else index
    return [i for i in instructions if i.stage == want]


def args_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """Every ARG with a default, by name (a later stage's redeclaration keeps the same default)."""
    out: dict[str, str] = {}
    for i in instructions:
        if i.keyword == "ARG" and "=" in i.args:
            name, _, value = i.args.partition("=")
            out[name] = value
    return out


def exec_form(args: str) -> list[str]:
    """A JSON-array instruction argument (CMD, ENTRYPOINT, HEALTHCHECK's CMD) as a list."""
    import json

    m = re.search(r"\[.*\]\s*$", args)
    assert m is not None, f"not in exec form: {args}"
    value = json.loads(m.group(0))
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def copies(instructions: list[Instruction]) -> list[tuple[list[str], str, dict[str, str]]]:
    """Each COPY as (sources, destination, --flags)."""
    out = []
    for i in instructions:
        if i.keyword != "COPY":
            continue
        words = shlex.split(i.args)
        flags = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
        paths = [w for w in words if not w.startswith("--")]
        out.append((paths[:-1], paths[-1], flags))
    return out
