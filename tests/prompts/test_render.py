"""Strict templates: what compiles, what is refused (a 400 naming where), and rendering that
inserts values verbatim, so a variable's value can never add template syntax."""

from __future__ import annotations

from typing import Any

import pytest

from sluice.errors import InvalidRequestError
from sluice.prompts.render import CompiledPrompt, Template, render
from sluice.store.records import PromptMessage, PromptVersion
from sluice.types import Message


def version(*contents: str, variables: list[str], roles: tuple[Any, ...] = ()) -> PromptVersion:
    roles = roles or ("system",) + ("user",) * (len(contents) - 1)
    messages = [PromptMessage(r, c) for r, c in zip(roles, contents, strict=True)]
    return PromptVersion("t", "p", 1, messages, variables, 0, "ops")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", ("",)),
        ("plain text", ("plain text",)),
        ("{a}", ("", "a", "")),
        ("Hi {name}, {_x1}!", ("Hi ", "name", ", ", "_x1", "!")),
        ("{{literal}} {{{a}}} }}{{", ("{literal} {", "a", "} }{")),
        ("{a}{a}", ("", "a", "", "a", "")),
        ('JSON: {{"k": {v}}}', ('JSON: {"k": ', "v", "}")),
        ("é {b} ✓", ("é ", "b", " ✓")),
    ],
)
def test_templates_compile_to_text_and_slots(text: str, parts: tuple[str, ...]) -> None:
    assert Template.compile(text).parts == parts


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "}",
        "a { b",
        "a } b",
        "{a",
        "a}",
        "{}",
        "{ a }",
        "{1a}",
        "{a-b}",
        "{a.b}",
        "{a[0]}",
        "{a!r}",
        "{a:>10}",
        "{ü}",
        "{a{b}}",
        "{{a}",
        "{a}}}}",
    ],
)
def test_anything_else_with_a_brace_is_refused_naming_where(text: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        Template.compile(text, param="messages[3].content")
    assert e.value.status == 400 and e.value.param == "messages[3].content"
    assert "messages[3].content" in e.value.message


def test_a_version_is_checked_message_by_message() -> None:
    with pytest.raises(InvalidRequestError) as e:
        CompiledPrompt(version("fine {a}", "broken {b", variables=["a", "b"]))
    assert e.value.param == "messages[1].content"


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (["a"], "used but not declared: b"),
        (["a", "b", "c"], "declared but not used: c"),
        (["b", "z"], "used but not declared: a; declared but not used: z"),
        (["a", "b", "a"], "more than once"),
    ],
)
def test_declared_variables_must_be_exactly_the_slots(variables: list[str], said: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        CompiledPrompt(version("{a}", "{b} {a}", variables=variables))
    assert e.value.param == "variables" and said in e.value.message


def test_render_fills_every_slot_in_order() -> None:
    v = version(
        "You are {role}. Answer in {lang}.", "{question}", "no slots", variables=["role", "lang", "question"]
    )
    v = PromptVersion(
        v.tenant_id, v.name, 1, [*v.messages[:2], PromptMessage("assistant", "ok")], v.variables, 0, "a"
    )
    assert render(v, {"role": "a helper", "lang": "French", "question": "Why?"}) == [
        Message("system", "You are a helper. Answer in French."),
        Message("user", "Why?"),
        Message("assistant", "ok"),
    ]


@pytest.mark.parametrize(
    "value",
    [
        "{x}",
        "{{",
        "}}",
        "{",
        "{a} {b}",
        "{{x}}",
        "{0}",
        "%(x)s ${x} {{ x }} {% x %}",
        "\\{x\\}",
        "\x00{x}\n",
    ],
)
def test_values_are_inserted_verbatim_and_never_read_as_syntax(value: str) -> None:
    v = version("A={a} B={b}", variables=["a", "b"])
    compiled = CompiledPrompt(v)
    assert compiled.render({"a": value, "b": "secret"}) == [Message("system", f"A={value} B=secret")]
    # Rendering twice (a value that looks like a slot of the prompt) changes nothing either.
    again = compiled.render({"a": value.replace("x", "b"), "b": "{a}"})
    assert again == [Message("system", f"A={value.replace('x', 'b')} B={{a}}")]


@pytest.mark.parametrize(("value", "text"), [(3, "3"), (2.5, "2.5"), (True, "True"), (-0.0, "-0.0")])
def test_numbers_and_booleans_are_written_out(value: object, text: str) -> None:
    assert render(version("[{a}]", variables=["a"]), {"a": value}) == [Message("system", f"[{text}]")]


@pytest.mark.parametrize(
    ("variables", "name", "said"),
    [
        ({"a": "x"}, "b", "is missing"),
        ({"a": "x", "b": "y", "c": "z"}, "c", "is not a variable"),
        ({"a": "x", "b": {"k": 1}}, "b", "string, number or boolean"),
        ({"a": "x", "b": [1]}, "b", "string, number or boolean"),
        ({"a": None, "b": "y"}, "a", "string, number or boolean"),
        ({}, "a", "is missing"),
    ],
)
def test_a_missing_extra_or_unfit_variable_is_a_400_naming_it(
    variables: dict[str, Any], name: str, said: str
) -> None:
    with pytest.raises(InvalidRequestError) as e:
        render(version("{a}", "{b}", variables=["a", "b"]), variables)
    assert e.value.status == 400 and e.value.param == f"sluice.prompt.variables.{name}"
    assert said in e.value.message


def test_a_prompt_without_variables_renders_with_none() -> None:
    assert render(version("{{static}}", variables=[]), {}) == [Message("system", "{static}")]
