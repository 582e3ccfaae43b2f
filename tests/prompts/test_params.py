"""A version's params: only the listed keys, each typed as a chat request types it."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.prompts.params import PARAMS, check_params


def test_every_listed_param_is_kept_as_json() -> None:
    params = {
        "temperature": 0.2,
        "top_p": 1,
        "max_tokens": 10,
        "max_completion_tokens": 20,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object"}},
        },
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "stop": ["END"],
        "seed": -5,
    }
    assert sorted(params) == sorted(PARAMS)
    assert check_params(params) == params
    assert check_params({"temperature": None, "tool_choice": "auto"}) == {"tool_choice": "auto"}


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"temperature": 2.5}, "at `$.temperature`"),
        ({"temperature": "0.2"}, "at `$.temperature`"),
        ({"max_tokens": 0}, "at `$.max_tokens`"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "at `$.stop`"),
        ({"response_format": {"type": "yaml"}}, "at `$.response_format.type`"),
        ({"tools": [{"type": "function", "function": {}}]}, "`name`"),
        ({"tool_choice": "sometimes"}, "at `$.tool_choice`"),
        ({"n": 2}, "unknown field `n`"),
        ({"model": "x"}, "unknown field `model`"),
    ],
)
def test_unlisted_keys_and_wrong_types_are_refused(params: dict[str, Any], said: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=said.replace("$", r"\$").replace("[", r"\[")):
        check_params(params)
