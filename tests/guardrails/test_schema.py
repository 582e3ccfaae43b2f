"""JSON-schema checks of final answers: conforming answers pass, each error names its JSON path,
fences are stripped, $refs (recursive ones too) resolve, and the repair prompt says what to fix."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.guardrails.schema import SchemaError, check_answer, repair_prompt, strip_fences, summary, validate
from sluice.types import JsonSchemaFormat, ResponseFormat

PERSON: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "age": {"type": "integer", "minimum": 0},
        "email": {"type": ["string", "null"], "pattern": "@"},
        "role": {"enum": ["admin", "user"]},
        "kind": {"const": "person"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "address": {"$ref": "#/$defs/address"},
    },
    "required": ["name", "age", "email", "role", "kind", "tags", "address"],
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
GOOD = {
    "name": "Ada",
    "age": 36,
    "email": None,
    "role": "admin",
    "kind": "person",
    "tags": ["math"],
    "address": {"city": "London", "zip": "NW1"},
}


def fmt(schema: dict[str, Any]) -> ResponseFormat:
    return ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="person", schema=schema, strict=True)
    )


def test_a_conforming_answer_has_no_errors() -> None:
    assert validate(PERSON, GOOD) == []
    assert check_answer(fmt(PERSON), msgspec.json.encode(GOOD).decode()) == []


def test_each_error_names_its_json_path() -> None:
    bad = {
        **GOOD,
        "age": "36",
        "email": 5,
        "role": "root",
        "kind": "robot",
        "tags": ["a", 2, "c", "d"],
        "address": {"city": "Paris", "zip": True, "country": "FR"},
        "extra key": 1,
    }
    del bad["name"]
    assert [str(e) for e in validate(PERSON, bad)] == [
        "$.name: is required",
        "$.age: expected integer, got string",
        "$.email: expected string or null, got integer",
        '$.role: must be one of "admin", "user"',
        '$.kind: must be "person"',
        "$.tags: has 4 items, more than 3",
        "$.tags[1]: expected string, got integer",
        "$.address.zip: matches none of the 2 anyOf schemas "
        "($.address.zip: expected string, got boolean; $.address.zip: expected integer, got boolean)",
        "$.address.country: is not an allowed property",
        '$["extra key"]: is not an allowed property',
    ]


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"type": "integer"}, 1.0, None),
        ({"type": "number"}, 3, None),
        ({"type": "integer"}, True, "expected integer, got boolean"),
        ({"const": 1}, True, "must be 1"),
        ({"enum": [[1, 2]]}, [1, 2], None),
        ({"type": "number", "exclusiveMaximum": 1}, 1, "must be less than 1"),
        ({"type": "number", "multipleOf": 0.1}, 0.3, None),
        ({"type": "string", "maxLength": 2}, "abc", "is longer than 2 characters"),
        ({"type": "array", "minItems": 1}, [], "has 0 items, fewer than 1"),
        (
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"a": 1},
            "expected string, got integer",
        ),
        ({"$ref": "#/$defs/missing"}, 1, "$ref '#/$defs/missing' points nowhere in the schema"),
        (
            {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
            1,
            "$ref '#/$defs/a' loops without end",
        ),
    ],
)
def test_keywords(schema: dict[str, Any], value: Any, message: str | None) -> None:
    assert [e.message for e in validate(schema, value)] == ([message] if message else [])


def test_a_recursive_ref_checks_every_level() -> None:
    tree = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
        "required": ["name", "children"],
        "additionalProperties": False,
    }
    value = {"name": "root", "children": [{"name": "a", "children": [{"name": 3, "children": []}]}]}
    assert validate(tree, value) == [
        SchemaError("$.children[0].children[0].name", "expected string, got integer")
    ]


def test_fenced_answers_are_parsed_without_their_fence() -> None:
    body = msgspec.json.encode(GOOD).decode()
    assert strip_fences(f"```json\n{body}\n```") == body
    assert strip_fences(f"  ```\n{body}```\n") == body
    assert strip_fences("no fence") == "no fence"
    assert check_answer(fmt(PERSON), f"```json\n{body}\n```") == []


def test_an_answer_that_is_not_json_is_one_error_at_the_root() -> None:
    [error] = check_answer(fmt(PERSON), "Sure! Here is the JSON: {")
    assert error.path == "$" and error.message.startswith("not valid JSON")


@pytest.mark.parametrize(
    "response_format",
    [
        None,
        ResponseFormat(type="text"),
        ResponseFormat(type="json_object"),
        ResponseFormat(type="json_schema"),
    ],
)
def test_only_a_json_schema_format_with_a_schema_is_checked(response_format: ResponseFormat | None) -> None:
    assert check_answer(response_format, "not json") == []


def test_repair_prompt_shows_the_bad_answer_the_errors_and_the_schema() -> None:
    errors = [SchemaError("$.age", "expected integer, got string"), SchemaError("$.name", "is required")]
    assistant, user = repair_prompt(PERSON, '{"age": "36"}', errors)
    assert assistant.role == "assistant" and assistant.content == '{"age": "36"}'
    assert user.role == "user" and isinstance(user.content, str)
    assert "- $.age: expected integer, got string\n- $.name: is required" in user.content
    assert '"$defs": {' in user.content and "only the corrected JSON" in user.content


def test_long_error_lists_are_cut_in_the_summary() -> None:
    errors = [SchemaError(f"$[{i}]", "is required") for i in range(25)]
    lines = summary(errors).splitlines()
    assert len(lines) == 21 and lines[-1] == "- and 5 more"
