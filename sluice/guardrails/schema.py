"""Checking a final answer against the JSON schema its request asked for (``response_format``
``json_schema``), with errors at JSON paths, and the messages of the one repair attempt.

No JSON Schema library is a dependency, so this validates the subset OpenAI's structured outputs
accept: ``type`` (a list of types for nullable), ``properties``, ``required``,
``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``, ``$ref`` (into ``$defs`` or
``#``), string ``pattern`` and lengths, number bounds and ``multipleOf``, array lengths. Other
keywords (``format``, ``description``, ...) are annotations and are not checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec

from sluice.types import Message, ResponseFormat

_FENCED = re.compile(r"\A\s*```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)\n?[ \t]*```\s*\Z", re.DOTALL)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_REF_HOPS = 32  # $refs followed without descending into the value: a cycle in the schema
_LISTED = 20  # errors listed in a repair prompt or a message


class SchemaError(NamedTuple):
    """Where (``$.items[2].name``) an answer breaks its schema, and how."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def strip_fences(text: str) -> str:
    """``text`` without the Markdown code fence (```` ```json ````) models like to wrap JSON in."""
    m = _FENCED.match(text)
    return m[1] if m else text


def check_answer(response_format: ResponseFormat | None, text: str) -> list[SchemaError]:
    """What is wrong with ``text`` as the answer to a request with ``response_format``: nothing
    unless it asked for ``json_schema`` with a schema. The answer may be fenced."""
    if response_format is None or response_format.type != "json_schema":
        return []
    if response_format.json_schema is None or response_format.json_schema.schema is None:
        return []
    try:
        value = msgspec.json.decode(strip_fences(text))
    except msgspec.DecodeError as e:
        return [SchemaError("$", f"not valid JSON ({e})")]
    return validate(response_format.json_schema.schema, value)


def validate(schema: dict[str, Any], value: Any) -> list[SchemaError]:
    """Every way ``value`` breaks ``schema``, in document order (empty when it conforms)."""
    errors: list[SchemaError] = []
    try:
        _check(schema, value, "$", schema, errors, 0)
    except RecursionError:
        errors.append(SchemaError("$", "nested too deeply to check"))
    return errors


def summary(errors: Sequence[SchemaError]) -> str:
    """The errors one per line, at most twenty of them."""
    lines = [f"- {e}" for e in errors[:_LISTED]]
    if len(errors) > _LISTED:
        lines.append(f"- and {len(errors) - _LISTED} more")
    return "\n".join(lines)


def repair_prompt(schema: dict[str, Any], bad_text: str, errors: Sequence[SchemaError]) -> list[Message]:
    """The messages of the one repair attempt, to append to the request's own messages (sent again
    with the same ``response_format``): the answer that failed, then what is wrong with it."""
    pretty = msgspec.json.format(msgspec.json.encode(schema), indent=2).decode()
    return [
        Message(role="assistant", content=bad_text),
        Message(
            role="user",
            content=(
                "Your previous answer does not match the required JSON schema:\n"
                f"{summary(errors)}\n\nThe schema:\n{pretty}\n\n"
                "Reply again with only the corrected JSON value: no explanation and no code fences."
            ),
        ),
    ]


# --- the validator ------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _has_type(value: Any, name: str) -> bool:
    actual = _type_name(value)
    return actual == name or (name == "number" and actual == "integer")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1.0`` is ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _NAME.fullmatch(key) else f"{path}[{msgspec.json.encode(key).decode()}]"


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if ref != "#" and not ref.startswith("#/"):
        raise LookupError(ref)
    node: Any = root
    for part in ref[2:].split("/") if ref != "#" else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise LookupError(ref)
    return node


def _check(
    schema: Any, value: Any, path: str, root: dict[str, Any], errors: list[SchemaError], hops: int
) -> None:
    if schema is True:
        return
    if schema is False or not isinstance(schema, dict):
        errors.append(SchemaError(path, "is not allowed here"))
        return
    if "$ref" in schema:
        if hops >= _MAX_REF_HOPS:
            errors.append(SchemaError(path, f"$ref {schema['$ref']!r} loops without end"))
            return
        try:
            target = _resolve(root, schema["$ref"])
        except LookupError:
            errors.append(SchemaError(path, f"$ref {schema['$ref']!r} points nowhere in the schema"))
            return
        _check(target, value, path, root, errors, hops + 1)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_has_type(value, t) for t in types):
            errors.append(SchemaError(path, f"expected {' or '.join(types)}, got {_type_name(value)}"))
            return
    if "const" in schema and not _same(value, schema["const"]):
        errors.append(SchemaError(path, f"must be {_show(schema['const'])}"))
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        errors.append(SchemaError(path, f"must be one of {', '.join(map(_show, schema['enum']))}"))
    if "anyOf" in schema:
        _check_any_of(schema["anyOf"], value, path, root, errors, hops)
    if isinstance(value, dict):
        _check_object(schema, value, path, root, errors)
    elif isinstance(value, list):
        _check_array(schema, value, path, root, errors)
    elif isinstance(value, str):
        _check_string(schema, value, path, errors)
    elif _has_type(value, "number"):
        _check_number(schema, value, path, errors)


def _show(value: Any) -> str:
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _check_any_of(
    branches: list[Any], value: Any, path: str, root: dict[str, Any], errors: list[SchemaError], hops: int
) -> None:
    firsts: list[str] = []
    for branch in branches:
        found: list[SchemaError] = []
        _check(branch, value, path, root, found, hops)
        if not found:
            return
        firsts.append(str(found[0]))
    errors.append(
        SchemaError(path, f"matches none of the {len(branches)} anyOf schemas ({'; '.join(firsts)})")
    )


def _check_object(
    schema: dict[str, Any], value: dict[str, Any], path: str, root: dict[str, Any], errors: list[SchemaError]
) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            errors.append(SchemaError(_key_path(path, name), "is required"))
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(properties[key], item, _key_path(path, key), root, errors, 0)
        elif extra is False:
            errors.append(SchemaError(_key_path(path, key), "is not an allowed property"))
        elif extra is not True:
            _check(extra, item, _key_path(path, key), root, errors, 0)


def _check_array(
    schema: dict[str, Any], value: list[Any], path: str, root: dict[str, Any], errors: list[SchemaError]
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(SchemaError(path, f"has {len(value)} items, fewer than {schema['minItems']}"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(SchemaError(path, f"has {len(value)} items, more than {schema['maxItems']}"))
    if "items" in schema:
        for i, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{i}]", root, errors, 0)


def _check_string(schema: dict[str, Any], value: str, path: str, errors: list[SchemaError]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(SchemaError(path, f"is shorter than {schema['minLength']} characters"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(SchemaError(path, f"is longer than {schema['maxLength']} characters"))
    if "pattern" in schema:
        try:
            if re.search(schema["pattern"], value) is None:
                errors.append(SchemaError(path, f"does not match the pattern {schema['pattern']!r}"))
        except re.error:
            errors.append(
                SchemaError(path, f"cannot be checked: the pattern {schema['pattern']!r} is invalid")
            )


def _check_number(schema: dict[str, Any], value: float, path: str, errors: list[SchemaError]) -> None:
    bounds = (
        ("minimum", lambda b: value >= b, "at least"),
        ("maximum", lambda b: value <= b, "at most"),
        ("exclusiveMinimum", lambda b: value > b, "more than"),
        ("exclusiveMaximum", lambda b: value < b, "less than"),
        ("multipleOf", lambda b: abs(value / b - round(value / b)) < 1e-9, "a multiple of"),
    )
    for keyword, holds, words in bounds:
        if keyword in schema and not holds(schema[keyword]):
            errors.append(SchemaError(path, f"must be {words} {schema[keyword]}"))
