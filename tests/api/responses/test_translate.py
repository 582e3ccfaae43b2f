"""Request translation edge cases: hostile or unsupported input is a 400 naming the param."""

from __future__ import annotations

import msgspec
import pytest

from sluice.api.responses.translate import decode_request, input_items, to_chat_request
from sluice.errors import InvalidRequestError
from sluice.types import ChatRequest


def _chat(body: dict) -> ChatRequest:
    req = decode_request(msgspec.json.encode({"model": "m", **body}))
    return to_chat_request(req, input_items(req))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": [1]}, "input[0]"),
        ({"input": [{"type": 5}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "input[0].content[0].type"),
        (
            {"input": [{"role": "user", "content": [{"type": "refusal", "refusal": "x"}]}]},
            "input[0].content[0]",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].file_id",
        ),
        ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
        ({"input": []}, "input"),
        ({"input": "x", "tools": ["f"]}, "tools[0]"),
        ({"input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        (
            {"input": "x", "tools": [{"type": "function", "name": "f"}], "tool_choice": {"name": "f"}},
            "tool_choice.type",
        ),
        ({"input": "x", "stream_options": {}}, "stream_options"),
        ({"input": "x", "max_output_tokens": 10**40}, "max_output_tokens"),
        (
            {"input": "x", "prompt": {"id": "p", "variables": {"v": {"type": "input_image"}}}},
            "prompt.variables.v",
        ),
        ({"input": "x", "prompt": {"id": "no spaces"}}, "prompt.id"),
        ({"input": "x", "prompt": {"id": "p"}, "sluice": {"prompt": {"name": "p"}}}, "prompt"),
        ({"input": "x", "text": {"format": {"type": "json_schema", "name": "n"}}}, "text.format.schema"),
    ],
)
def test_bad_input_names_the_param(body: dict, param: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        _chat(body)
    assert e.value.param == param, e.value.message


def test_function_output_images_follow_as_a_user_message() -> None:
    chat = _chat(
        {
            "input": [
                {"type": "function_call", "call_id": "c1", "name": "shot", "arguments": "{}"},
                {
                    "type": "function_call_output",
                    "call_id": "c1",
                    "output": [
                        {"type": "input_text", "text": "a screenshot"},
                        {"type": "input_image", "image_url": "https://x/img.png"},
                    ],
                },
            ]
        }
    )
    roles = [m.role for m in chat.messages]
    assert roles == ["assistant", "tool", "user"]
    assert chat.messages[1].content == "a screenshot"
    parts = chat.messages[2].content
    assert isinstance(parts, list) and parts[0].image_url is not None
    assert parts[0].image_url.url == "https://x/img.png"


def test_null_for_unsupported_features_is_accepted() -> None:
    chat = _chat({"input": "x", "conversation": None, "prompt": None, "background": False})
    assert chat.messages[0].content == "x"


def test_openai_prompt_becomes_the_registrys_prompt() -> None:
    by_number = _chat(
        {"input": "x", "prompt": {"id": "support", "version": "3", "variables": {"who": "Ann"}}}
    )
    assert by_number.sluice is not None and by_number.sluice.prompt is not None
    ref = by_number.sluice.prompt
    assert (ref.name, ref.version, ref.label, ref.variables) == ("support", 3, None, {"who": "Ann"})
    by_label = _chat(
        {
            "input": "x",
            "prompt": {
                "id": "support",
                "version": "staging",
                "variables": {"who": {"type": "input_text", "text": "Bo"}},
            },
        }
    )
    assert by_label.sluice is not None and by_label.sluice.prompt is not None
    assert (by_label.sluice.prompt.label, by_label.sluice.prompt.version) == ("staging", None)
    assert by_label.sluice.prompt.variables == {"who": "Bo"}
