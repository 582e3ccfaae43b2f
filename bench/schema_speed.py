"""What structured output's JSON Schema check costs per answer: microseconds to check one answer
(decode the text, then validate) against four realistic schemas, a conforming answer and one
with a few errors, for the validator in use (jsonschema-rs) beside the hand-written subset it
replaced (read from git at ``OLD``) and, when it is importable, python-jsonschema; then what
compiling a schema costs, once per distinct schema, and a cache hit (canonical JSON + lookup).
Each figure is the best of several rounds.

    .venv/bin/python bench/schema_speed.py
    PYTHONPATH=/tmp/pyjs .venv/bin/python bench/schema_speed.py   # with python-jsonschema there
"""

from __future__ import annotations

import subprocess
import sys
import timeit
import types
from pathlib import Path
from typing import Any

import msgspec

from sluice.guardrails.schema import SchemaCache, compile_schema

OLD = "5eeb7ee"
"""The last commit with the hand-written validator (sluice/guardrails/schema.py)."""

CITY: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": ["string", "null"], "pattern": "^[^@]+@[^@]+$"},
        "role": {"enum": ["admin", "user"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        "address": {"$ref": "#/$defs/address"},
    },
    "required": ["name", "age", "email", "role", "tags", "address"],
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "zip": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "required": ["city", "zip"],
            "additionalProperties": False,
        }
    },
}
INVOICE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "number": {"type": "string", "pattern": "^INV-\\d{6}$"},
        "date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "customer": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "vat": {"type": ["string", "null"]}},
            "required": ["name", "vat"],
            "additionalProperties": False,
        },
        "lines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
                    "description": {"type": "string", "maxLength": 200},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "number", "exclusiveMinimum": 0},
                    "tax_rate": {"enum": [0, 0.07, 0.19, 0.2]},
                },
                "required": ["sku", "description", "quantity", "unit_price", "tax_rate"],
                "additionalProperties": False,
            },
        },
        "total": {"type": "number", "minimum": 0},
    },
    "required": ["number", "date", "currency", "customer", "lines", "total"],
    "additionalProperties": False,
}
TREE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "size": {"type": "integer", "minimum": 0},
        "children": {"type": "array", "items": {"$ref": "#"}},
    },
    "required": ["name", "size", "children"],
    "additionalProperties": False,
}


def tree(depth: int, fan: int) -> dict[str, Any]:
    return {
        "name": f"n{depth}",
        "size": depth * 10,
        "children": [tree(depth - 1, fan) for _ in range(fan)] if depth else [],
    }


LINES = [
    {
        "sku": f"ABC-{i:04d}",
        "description": f"Item number {i}",
        "quantity": i + 1,
        "unit_price": 9.5 + i,
        "tax_rate": 0.19,
    }
    for i in range(20)
]
CASES: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("city (2 properties)", CITY, {"city": "Paris", "population": 2102650}, {"city": "Paris"}),
    (
        "person ($ref, anyOf, enum, pattern)",
        PERSON,
        {
            "name": "Ada",
            "age": 36,
            "email": "ada@example.com",
            "role": "admin",
            "tags": ["math"],
            "address": {"city": "London", "zip": "NW1"},
        },
        {
            "name": "",
            "age": "36",
            "email": "nope",
            "role": "root",
            "tags": [1],
            "address": {"city": "London", "zip": True},
        },
    ),
    (
        "invoice (20 lines, patterns)",
        INVOICE,
        {
            "number": "INV-000123",
            "date": "2026-11-30",
            "currency": "EUR",
            "customer": {"name": "ACME", "vat": None},
            "lines": LINES,
            "total": 1234.5,
        },
        {
            "number": "INV-123",
            "date": "30/11/2026",
            "currency": "EUR",
            "customer": {"name": "ACME", "vat": None},
            "lines": [*LINES[:19], {**LINES[19], "quantity": 0, "sku": "abc"}],
            "total": -1,
        },
    ),
    ("tree (recursive $ref, 40 nodes)", TREE, tree(3, 3), {**tree(3, 3), "size": -1, "extra": 1}),
]


def best_us(fn: Any, number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def old_validator() -> types.ModuleType | None:
    """The hand-written validator as it was at ``OLD``, or None without git."""
    root = Path(__file__).resolve().parent.parent
    try:
        source = subprocess.run(
            ["git", "-C", str(root), "show", f"{OLD}:sluice/guardrails/schema.py"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_schema")
    exec(compile(source, "old_schema.py", "exec"), module.__dict__)
    return module


def python_jsonschema() -> Any:
    try:
        import jsonschema
        import referencing
    except ImportError:
        return None
    return jsonschema, referencing


def pyjs_compile(pyjs: Any, schema: dict[str, Any]) -> Any:
    js, ref = pyjs
    js.Draft202012Validator.check_schema(schema)
    return js.Draft202012Validator(schema, registry=ref.Registry())


def main() -> None:
    old = old_validator()
    pyjs = python_jsonschema()
    cols = ["jsonschema-rs"] + (["hand-written"] if old else []) + (["python-jsonschema"] if pyjs else [])
    print(f"Python {sys.version.split()[0]}; microseconds per answer (decode + validate), best of 5")
    print(f"{'schema':34} {'answer':7} " + " ".join(f"{c:>17}" for c in cols) + "  errors (new)")
    for name, schema, good, bad in CASES:
        checker = compile_schema(schema)
        if pyjs:
            v202012 = pyjs_compile(pyjs, schema)
        for label, value in (("valid", good), ("invalid", bad)):
            text = msgspec.json.encode(value).decode()
            row = [best_us(lambda t=text, c=checker: c.check(t), 2000)]
            if old:
                row.append(best_us(lambda t=text, s=schema: old.validate(s, msgspec.json.decode(t)), 2000))
            if pyjs:
                row.append(
                    best_us(lambda t=text, v=v202012: list(v.iter_errors(msgspec.json.decode(t))), 200)
                )
            print(
                f"{name:34} {label:7} "
                + " ".join(f"{x:>17.1f}" for x in row)
                + f"  {len(checker.check(text))}"
            )
    print()
    print("compile, microseconds per schema (once per distinct schema; the cache keeps 256)")
    print(
        f"{'schema':34} {'jsonschema-rs':>17} {'cache hit':>17}"
        + (f" {'python-jsonschema':>17}" if pyjs else "")
    )
    for name, schema, _, _ in CASES:
        cache = SchemaCache()
        cache.compile(schema)
        row = [
            best_us(lambda s=schema: compile_schema(s), 200),
            best_us(lambda s=schema, c=cache: c.compile(s), 5000),
        ]
        if pyjs:
            row.append(best_us(lambda s=schema: pyjs_compile(pyjs, s), 50))
        print(f"{name:34} " + " ".join(f"{x:>17.1f}" for x in row))
    big = {
        "type": "object",
        "properties": {f"field_{i}": {"type": "string", "description": "x" * 20} for i in range(2000)},
    }
    size = len(msgspec.json.encode(big))
    print(f"{f'2,000 properties ({size // 1024} KiB)':34} {best_us(lambda: compile_schema(big), 5):>17.1f}")


if __name__ == "__main__":
    main()
