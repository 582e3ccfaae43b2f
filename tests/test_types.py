"""The chat request decoder field by field, against OpenAI's published request schema and what
the SDKs send back (docs/compatibility.md has the table): accepted fields decode and re-encode
for an OpenAI upstream unchanged; refused ones name their param in OpenAI's words."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from openai.types.chat import ChatCompletion

from sluice.api.body import decode
from sluice.errors import InvalidRequestError
from sluice.types import chat_request_decoder, encoder

# A response as OpenAI sends it, every optional field present (several as null).
RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "logprobs": None,
            "message": {
                "role": "assistant",
                "content": "Checking. [1]",
                "refusal": None,
                "audio": None,
                "function_call": None,
                "annotations": [
                    {
                        "type": "url_citation",
                        "url_citation": {
                            "start_index": 10,
                            "end_index": 13,
                            "url": "https://a.example",
                            "title": "A",
                        },
                    }
                ],
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
                ],
            },
        }
    ],
}


def request(*messages: Any, **fields: Any) -> bytes:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}, *messages], **fields}
    return msgspec.json.encode(body)


def round_trip(body: bytes) -> dict[str, Any]:
    """What the openai provider would send upstream for this client body."""
    return msgspec.json.decode(encoder.encode(decode(body, chat_request_decoder)))


def refused(body: bytes) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        decode(body, chat_request_decoder)
    return info.value


def sdk_message() -> Any:
    return ChatCompletion.model_validate(RESPONSE).choices[0].message


def test_the_sdks_response_message_model_dump_is_accepted_and_forwarded() -> None:
    dumped = sdk_message().model_dump()
    assert {"annotations", "refusal", "audio", "function_call", "tool_calls"} <= dumped.keys()
    sent = round_trip(request(dumped))["messages"][1]
    # Nulls are left out (an upstream sees only what means something); the rest goes as sent.
    assert sent == {
        "role": "assistant",
        "content": "Checking. [1]",
        "tool_calls": RESPONSE["choices"][0]["message"]["tool_calls"],
        "annotations": RESPONSE["choices"][0]["message"]["annotations"],
        "audio": None,
        "function_call": None,
    }


def test_a_message_without_tool_calls_dumps_tool_calls_null() -> None:
    data = {**RESPONSE["choices"][0]["message"], "tool_calls": None, "annotations": []}
    message = (
        ChatCompletion.model_validate(
            {**RESPONSE, "choices": [{**RESPONSE["choices"][0], "message": data, "finish_reason": "stop"}]}
        )
        .choices[0]
        .message
    )
    sent = round_trip(request(message.model_dump(), {"role": "user", "content": "go on"}))
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": "Checking. [1]",
        "annotations": [],
        "audio": None,
        "function_call": None,
    }


def test_an_audio_answer_echoed_back_by_id() -> None:
    sent = round_trip(request({"role": "assistant", "audio": {"id": "audio_1"}, "content": None}))
    assert sent["messages"][1] == {"role": "assistant", "audio": {"id": "audio_1"}}


@pytest.mark.parametrize(
    "part",
    [
        {"type": "text", "text": "hi", "prompt_cache_breakpoint": {"mode": "explicit"}},
        {"type": "image_url", "image_url": {"url": "https://a.example/x.png", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
        {"type": "file", "file": {"file_id": "file-1"}},
    ],
)
def test_user_content_parts_are_forwarded_unchanged(part: dict[str, Any]) -> None:
    sent = round_trip(msgspec.json.encode({"model": "m", "messages": [{"role": "user", "content": [part]}]}))
    assert sent["messages"][0]["content"] == [part]


def test_assistant_refusal_and_text_parts() -> None:
    parts = [{"type": "refusal", "refusal": "I can't help with that."}]
    assert round_trip(request({"role": "assistant", "content": parts}))["messages"][1]["content"] == parts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("store", True),
        ("metadata", {"team": "search"}),
        ("prediction", {"type": "content", "content": "old text"}),
        ("modalities", ["text", "audio"]),
        ("audio", {"voice": "alloy", "format": "wav"}),
        ("service_tier", "flex"),
        ("prompt_cache_key", "user-42"),
        ("prompt_cache_retention", "24h"),
        ("prompt_cache_options", {"mode": "explicit", "ttl": "30m"}),
        ("safety_identifier", "hash-42"),
        ("verbosity", "low"),
        ("reasoning_effort", "minimal"),
        ("web_search_options", {"search_context_size": "low"}),
        ("parallel_tool_calls", False),
        ("logit_bias", {"50256": -100}),
        ("logprobs", True),
        ("top_logprobs", 3),
        ("moderation", {"model": "omni-moderation-latest"}),
        ("seed", 7),
        ("user", "u-1"),
        ("stop", ["\n\n"]),
        ("n", 2),
        ("stream_options", {"include_usage": True, "include_obfuscation": False}),
        ("functions", [{"name": "f", "parameters": {"type": "object"}}]),
        ("function_call", "auto"),
    ],
)
def test_top_level_fields_openai_accepts_are_forwarded(field: str, value: Any) -> None:
    body = request(**{field: value, **({"stream": True} if field == "stream_options" else {})})
    assert round_trip(body)[field] == value


def test_nullable_fields_take_null() -> None:
    nulls = ("stream", "stop", "n", "temperature", "max_completion_tokens", "store", "metadata", "audio")
    chat = decode(request(**dict.fromkeys(nulls)), chat_request_decoder)
    assert not chat.stream


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        (request(temprature=0.2), "temprature", "Unrecognized request argument supplied: temprature"),
        (
            request({"role": "assistant", "content": "x", "colour": "y"}),
            "messages[1].colour",
            "Unrecognized request argument supplied: messages[1].colour",
        ),
        (request(top_logprobs=21), "top_logprobs", "Invalid value for 'top_logprobs': Expected `int` <= 20."),
        (
            request(logit_bias={"1": 101}),
            "logit_bias[...]",
            "Invalid value for 'logit_bias[...]': Expected `float` <= 100.0.",
        ),
    ],
)
def test_what_openai_refuses_is_refused_in_its_words(body: bytes, param: str, message: str) -> None:
    err = refused(body)
    assert (err.param, err.message) == (param, message)


def test_the_sdk_sends_what_it_received() -> None:
    """The SDK's own serialisation of an appended message object (``exclude_unset``) is what
    the first test decodes: the fields the upstream sent, nulls included."""
    sent = msgspec.json.decode(msgspec.json.encode(sdk_message().model_dump(exclude_unset=True, mode="json")))
    assert sent["annotations"] == RESPONSE["choices"][0]["message"]["annotations"]
    assert round_trip(request(sent))["messages"][1]["annotations"] == sent["annotations"]
