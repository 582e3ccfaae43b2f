"""JSON-schema checks of final answers: conforming answers pass, each error names its JSON path,
fences are stripped, $refs (recursive ones too) resolve, Draft 2020-12 keywords and ECMA-262
patterns hold, compiled schemas are cached, hostile schemas are a 400 naming ``response_format``
(never a fetch, a hang or a crash), and the repair prompt says what to fix."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.errors import InvalidRequestError
from sluice.guardrails import schema as schema_module
from sluice.guardrails.schema import (
    SchemaCache,
    SchemaError,
    compile_schema,
    repair_prompt,
    strip_fences,
    summary,
)

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


def validate(schema: dict[str, Any], value: Any) -> list[SchemaError]:
    return compile_schema(schema).validate(value)


def check_answer(schema: dict[str, Any], text: str) -> list[SchemaError]:
    return compile_schema(schema).check(text)


def refused(schema: Any) -> str:
    """The 400's message for a schema that cannot be compiled."""
    with pytest.raises(InvalidRequestError) as e:
        compile_schema(schema)
    assert e.value.param == "response_format.json_schema.schema"
    return str(e.value)


def test_a_conforming_answer_has_no_errors() -> None:
    assert validate(PERSON, GOOD) == []
    assert check_answer(PERSON, msgspec.json.encode(GOOD).decode()) == []


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
    assert sorted(str(e) for e in validate(PERSON, bad)) == sorted(
        [
            "$.name: is required",
            "$.age: expected integer, got string",
            "$.email: expected null or string, got integer",
            '$.role: must be one of "admin", "user"',
            '$.kind: must be "person"',
            "$.tags: has 4 items, more than 3",
            "$.tags[1]: expected string, got integer",
            "$.address.zip: matches none of the 2 anyOf schemas "
            "($.address.zip: expected string, got boolean; $.address.zip: expected integer, got boolean)",
            "$.address.country: is not an allowed property",
            '$["extra key"]: is not an allowed property',
        ]
    )


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
        ({"type": "string", "minLength": 2}, "😀", "is shorter than 2 characters"),  # code points, not bytes
        ({"type": "number", "minimum": 10**30}, 5, f"must be at least {10**30}"),
        ({"type": "string", "pattern": "^[a-z]+$"}, "ab1", "does not match the pattern '^[a-z]+$'"),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 1, "matches more than one of the oneOf schemas"),
        ({"not": {"type": "string"}}, "x", None),  # the library's own words, checked below
    ],
)
def test_keywords(schema: dict[str, Any], value: Any, message: str | None) -> None:
    found = [e.message for e in validate(schema, value)]
    if "not" in schema:
        assert len(found) == 1 and found[0]
    else:
        assert found == ([message] if message else [])


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
    assert check_answer(PERSON, f"```json\n{body}\n```") == []


def test_an_answer_that_is_not_json_is_one_error_at_the_root() -> None:
    [error] = check_answer(PERSON, "Sure! Here is the JSON: {")
    assert error.path == "$" and error.message.startswith("not valid JSON")


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


# --- Draft 2020-12 and ECMA-262, which the hand-written subset did not check --------------------


@pytest.mark.parametrize(
    ("schema", "value", "errors"),
    [
        (
            {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
            ["a", "b", 3],
            ["$[1]: expected integer, got string", "$[2]: is not allowed here"],
        ),
        (
            {
                "$defs": {"id": {"type": "integer", "minimum": 1}},
                "properties": {"ids": {"items": {"$ref": "#/$defs/id"}}},
            },
            {"ids": [1, 0]},
            ["$.ids[1]: must be at least 1"],
        ),
        (
            {"allOf": [{"properties": {"a": {}}}], "properties": {"b": {}}, "unevaluatedProperties": False},
            {"a": 1, "b": 2, "c": 3},
            ["$.c: is not an allowed property"],
        ),
        (
            {"prefixItems": [{"type": "string"}], "unevaluatedItems": False},
            ["a", 1, 2],
            ["$[1]: is not an allowed item", "$[2]: is not an allowed item"],
        ),
        ({"dependentRequired": {"card": ["billing"]}}, {"card": "4111"}, ["$.billing: is required"]),
        ({"dependentRequired": {"card": ["billing"]}}, {"name": "x"}, []),
        (
            {"dependentSchemas": {"card": {"properties": {"cvv": {"type": "string"}}}}},
            {"card": 1, "cvv": 123},
            ["$.cvv: expected string, got integer"],
        ),
        ({"type": "array", "contains": {"type": "integer"}, "minContains": 2}, [1, "a"], None),
        ({"type": "array", "uniqueItems": True}, [1, 1.0], None),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"Bad": 1}, None),
        (
            {"if": {"properties": {"kind": {"const": "a"}}}, "then": {"required": ["x"]}},
            {"kind": "a"},
            ["$.x: is required"],
        ),
        (
            {"$anchor": "top", "properties": {"next": {"$ref": "#top"}}, "type": "object"},
            {"next": {"next": 1}},
            None,
        ),
    ],
)
def test_draft_2020_12_keywords(schema: dict[str, Any], value: Any, errors: list[str] | None) -> None:
    found = [str(e) for e in validate(schema, value)]
    if errors is None:  # the library's own words: one error, at a JSON path
        assert len(found) == 1 and found[0].startswith("$"), found
    else:
        assert sorted(found) == errors


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (r"^\d+$", "123", True),
        (r"^\d+$", "١٢٣", False),  # ECMA-262: \d is [0-9]; Python's re matches Arabic-Indic digits
        (r"^\w+$", "été", False),  # \w is [A-Za-z0-9_]
        (r"^\p{L}+$", "été", True),  # Unicode property escapes
        (r"^(?=.*\d)(?=.*[a-z]).{8,}$", "abcdefg1", True),  # lookahead
        (r"^(?=.*\d)(?=.*[a-z]).{8,}$", "abcdefgh", False),
        ("abc", "xxabcxx", True),  # unanchored: a search, not a match
    ],
)
def test_patterns_follow_ecma_262(pattern: str, value: str, matches: bool) -> None:
    assert (validate({"type": "string", "pattern": pattern}, value) == []) is matches


def test_an_integral_float_is_an_integer_and_true_is_not_one() -> None:
    assert validate({"type": "integer", "enum": [1]}, 1.0) == []
    assert [e.message for e in validate({"const": 1}, True)] == ["must be 1"]


def test_a_schema_is_compiled_once_per_canonical_json_and_the_cache_is_bounded() -> None:
    cache = SchemaCache(size=2)
    first = cache.compile({"type": "object", "required": ["a"]})
    assert cache.compile({"required": ["a"], "type": "object"}) is first  # key order does not matter
    cache.compile({"type": "string"})
    cache.compile({"type": "integer"})  # evicts the least recently used: the object schema
    assert cache.compile({"type": "object", "required": ["a"]}) is not first
    assert cache.compile({"type": "integer"}).validate("x") == [
        SchemaError("$", "expected integer, got string")
    ]


# --- schemas a client should not be able to use against the gateway -----------------------------


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        ({"type": 5}, "anyOf"),  # not a valid schema under its meta-schema
        ({"type": "string", "pattern": "("}, "regex"),
        ({"$ref": "#/$defs/missing"}, "/$defs/missing"),
        ({"$schema": "https://example.com/my-meta", "type": "string"}, "meta-schema"),
        ({"$ref": "file:///etc/passwd"}, "Retrieval is disabled"),
        ({"properties": {"a": {"$ref": "https://example.com/a.json"}}}, "Retrieval is disabled"),
        ({"$id": "https://example.com/root.json", "items": {"$ref": "other.json"}}, "Retrieval is disabled"),
        ({"type": "string", "pattern": "^(a{1000}){1000}$"}, "regex"),  # compiles to more than the size limit
        ({"anyOf": [{"pattern": "a" * 5000}] * 8}, "patterns are longer than 32768 characters"),
        ({"properties": {f"p{i}": {"description": "x" * 100} for i in range(3000)}}, "bytes long"),
    ],
)
def test_a_schema_that_cannot_be_used_is_a_400_naming_response_format(
    schema: dict[str, Any], why: str
) -> None:
    message = refused(schema)
    assert why in message and len(message) < 400, message


def test_data_under_const_and_enum_does_not_count_as_patterns() -> None:
    schema = {"properties": {"a": {"const": {"pattern": "a" * 40_000}}}}
    assert validate(schema, {"a": {"pattern": "a" * 40_000}}) == []


def test_a_remote_ref_is_refused_without_a_fetch(tmp_path: Any) -> None:
    """The library is never handed a retriever: an http(s) or file $ref is a 400 (the e2e test
    proves no request reaches a real server); a $ref into the schema's own $id still resolves."""
    local = {
        "$id": "https://example.com/root.json",
        "$defs": {"a": {"type": "string"}},
        "items": {"$ref": "#/$defs/a"},
    }
    assert validate(local, ["x", 1]) == [SchemaError("$[1]", "expected string, got integer")]
    secret = tmp_path / "schema.json"
    secret.write_text('{"type": "string"}')
    assert "Retrieval is disabled" in refused({"$ref": secret.as_uri()})


def test_a_catastrophic_pattern_is_bounded() -> None:
    """A backreference makes the pattern backtrack: the limit stops it, and the answer cannot pass."""
    checker = compile_schema({"type": "array", "items": {"type": "string", "pattern": r"^(a*)*\1$"}})
    assert checker.validate(["a" * 40 + "!"] * 50) == [
        SchemaError("$[0]", "cannot be checked: its pattern needs too many steps on this value")
    ]  # the library stops listing at the first such value
    assert checker.validate(["a" * 40 + "!", "x"]) != []  # it may list only the other value, never none
    # Without a backreference or lookaround a pattern runs on a linear-time engine.
    nested = compile_schema({"type": "string", "pattern": "^(a+)+$"})
    assert [e.message for e in nested.validate("a" * 5000 + "!")] == ["does not match the pattern '^(a+)+$'"]


def test_a_self_referencing_schema_neither_loops_nor_crashes() -> None:
    assert validate({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, 1) == []
    loop = {
        "$defs": {"a": {"anyOf": [{"$ref": "#/$defs/b"}]}, "b": {"$ref": "#/$defs/a"}},
        "$ref": "#/$defs/a",
    }
    assert validate(loop, 1) == []


def test_a_deeply_nested_answer_is_refused_without_a_walk() -> None:
    tree = {"anyOf": [{"type": "array", "items": {"$ref": "#"}}, {"type": "integer"}]}
    checker = compile_schema(tree)
    ok = "[" * schema_module.MAX_ANSWER_DEPTH + "1" + "]" * schema_module.MAX_ANSWER_DEPTH
    assert checker.check(ok) == []
    too_deep = "[" + ok + "]"
    assert checker.check(too_deep) == [SchemaError("$", "nested more than 128 levels deep")]
    beyond_the_decoder = "[" * 5000 + "]" * 5000
    assert checker.check(beyond_the_decoder) == [SchemaError("$", "nested more than 128 levels deep")]


def test_errors_quote_no_more_than_a_bounded_part_of_the_answer() -> None:
    checker = compile_schema({"not": {"type": "string"}})
    [error] = checker.validate("x" * 10_000)
    assert len(error.message) <= 200
