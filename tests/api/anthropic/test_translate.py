"""The Messages surface's translation: client bodies -> ChatRequest, ChatResponse and chunk
batches -> Anthropic JSON and SSE, checked exactly and through the real ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import anthropic
import msgspec
import pytest

from sluice.api.anthropic.translate import decode_messages_request, to_chat_request, to_messages_response
from sluice.errors import InvalidRequestError, UpstreamError
from sluice.types import (
    ChatResponse,
    chat_response_decoder,
    encoder,
)
from tests.api.anthropic.conftest import Canned, CannedServer

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def translate(**body: Any) -> dict[str, Any]:
    body.setdefault("model", "claude-haiku")
    body.setdefault("max_tokens", 100)
    body.setdefault("messages", [{"role": "user", "content": "Hi"}])
    chat = to_chat_request(decode_messages_request(msgspec.json.encode(body)))
    return msgspec.json.decode(encoder.encode(chat))


def refused(**body: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        translate(**body)
    return info.value


# --- decoding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"model": "m", "max_tokens": 1, "messages": [', None),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}', "max_tokens"),
        (b'{"model": "m", "max_tokens": 1, "messages": []}', "messages"),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], "temprature": 1}',
            "temprature",
        ),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], "temperature": 1.5}',
            "temperature",
        ),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "human", "content": "x"}]}',
            "messages[0].role",
        ),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "search_result"}]}]}',
            "messages[0].content[0].type",
        ),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "text"}]}]}',
            "messages[0].content[0].text",
        ),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search_20250305", "name": "web_search", "input_schema": {}}]}',
            "tools[0].type",
        ),
    ],
)
def test_bad_bodies_are_400s_naming_the_param(body: bytes, param: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_messages_request(body)
    assert info.value.status == 400
    assert info.value.param == param


# --- request -----------------------------------------------------------------------------


def test_full_request() -> None:
    chat = translate(
        system=[{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Metric units.", "cache_control": {"type": "ephemeral"}}],
        messages=[
            {"role": "user", "content": [
                {"type": "text", "text": "Compare"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig"},
                {"type": "text", "text": "Checking "},
                {"type": "text", "text": "both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": True, "content": [
                    {"type": "text", "text": "timeout"},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/err.png"}},
                ]},
                {"type": "text", "text": "Summarise."},
            ]},
        ],
        tools=[WEATHER],
        tool_choice={"type": "any", "disable_parallel_tool_use": True},
        stop_sequences=["###"],
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        metadata={"user_id": "user-42"},
        thinking={"type": "enabled", "budget_tokens": 2048},
        service_tier="auto",
        stream=True,
    )  # fmt: skip
    assert chat == {
        "model": "claude-haiku",
        "messages": [
            {
                "role": "system",
                "content": [
                    {"type": "text", "text": "You are terse."},
                    {"type": "text", "text": "Metric units.", "cache_control": {"type": "ephemeral"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Checking both.",
                "thinking_blocks": [
                    {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig"}
                ],
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "toolu_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "content": "18C", "tool_call_id": "toolu_1"},
            {"role": "tool", "content": "timeout", "tool_call_id": "toolu_2"},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://example.com/err.png"}},
                    {"type": "text", "text": "Summarise."},
                ],
            },
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["###"],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": WEATHER["input_schema"],
                },
            }
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "user": "user-42",
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }


def test_minimal_request() -> None:
    assert translate() == {
        "model": "claude-haiku",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 100,
    }


def test_system_role_messages_and_structured_output() -> None:
    chat = translate(
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "Be kind."}]},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
        ],
        output_config={"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}},
    )
    assert chat["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    assert chat["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": {"type": "object"}, "strict": True},
    }


def test_response_blocks_echoed_back_by_the_sdk_are_accepted() -> None:
    blocks = [
        anthropic.types.TextBlock(type="text", text="Checking.").model_dump(),
        anthropic.types.ToolUseBlock(type="tool_use", id="toolu_1", name="f", input={"a": 1}).model_dump(),
    ]
    chat = translate(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": blocks}])
    assert chat["messages"][1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
        ],
    }


@pytest.mark.parametrize(
    ("tool_choice", "expected", "parallel"),
    [
        ({"type": "auto"}, "auto", None),
        ({"type": "auto", "disable_parallel_tool_use": True}, "auto", False),
        ({"type": "any"}, "required", None),
        ({"type": "none"}, "none", None),
        (
            {"type": "tool", "name": "get_weather"},
            {"type": "function", "function": {"name": "get_weather"}},
            None,
        ),
    ],
)
def test_tool_choice(tool_choice: dict[str, Any], expected: Any, parallel: bool | None) -> None:
    chat = translate(tools=[WEATHER], tool_choice=tool_choice)
    assert chat["tool_choice"] == expected
    assert chat.get("parallel_tool_calls") == parallel


def test_tool_choice_without_tools_is_dropped() -> None:
    assert "tool_choice" not in translate(tool_choice={"type": "any", "disable_parallel_tool_use": True})


def test_what_cannot_be_served_is_refused_by_name() -> None:
    assert refused(container="container_abc").param == "container"
    assert refused(inference_geo="eu").param == "inference_geo"
    tool_use = {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    err = refused(messages=[{"role": "user", "content": [tool_use]}])
    assert (err.message, err.param) == (
        "tool_use blocks are not allowed in user messages",
        "messages[0].content[0]",
    )
    image = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
    err = refused(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": [image]}])
    assert (err.message, err.param) == (
        "image blocks are not allowed in assistant messages",
        "messages[1].content[0]",
    )
    err = refused(messages=[{"role": "system", "content": [image]}])
    assert err.param == "messages[0].content"


# --- response ----------------------------------------------------------------------------


def chat_response(message: dict[str, Any], finish_reason: str = "stop", **usage: Any) -> ChatResponse:
    body = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}
        ],
        "usage": usage or {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
    }
    return chat_response_decoder.decode(msgspec.json.encode(body))


def test_response_with_text_and_tool_use() -> None:
    resp = chat_response(
        {
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "now", "arguments": ""}},
            ],
        },
        "tool_calls",
        prompt_tokens=1200,
        completion_tokens=30,
        total_tokens=1230,
        prompt_tokens_details={"cached_tokens": 1024},
    )
    assert msgspec.json.decode(to_messages_response(resp, "claude-haiku")) == {
        "id": "msg_abc123",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku",
        "content": [
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "call_2", "name": "now", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 176,
            "output_tokens": 30,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 1024,
        },
    }


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
    ],
)
def test_stop_reasons(finish_reason: str, stop_reason: str) -> None:
    body = msgspec.json.decode(to_messages_response(chat_response({"content": "x"}, finish_reason), "m"))
    assert body["stop_reason"] == stop_reason


def test_refusal_becomes_text_with_stop_reason_refusal() -> None:
    body = msgspec.json.decode(
        to_messages_response(chat_response({"content": None, "refusal": "I can't."}), "m")
    )
    assert (body["content"], body["stop_reason"]) == ([{"type": "text", "text": "I can't."}], "refusal")


def test_anthropic_ids_are_kept() -> None:
    resp = msgspec.structs.replace(chat_response({"content": "x"}), id="msg_01XYZ")
    assert msgspec.json.decode(to_messages_response(resp, "m"))["id"] == "msg_01XYZ"


def test_tool_arguments_that_are_not_an_object_are_an_upstream_error() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"city": '}}
    with pytest.raises(UpstreamError) as info:
        to_messages_response(chat_response({"content": None, "tool_calls": [call]}, "tool_calls"), "m")
    assert info.value.message == "the model produced tool arguments that are not a JSON object"


async def test_response_parses_in_the_sdk(canned: CannedServer, sdk: anthropic.AsyncAnthropic) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
    }
    resp = chat_response({"content": "On it.", "tool_calls": [call]}, "tool_calls")
    canned.reply = Canned(body=to_messages_response(resp, "claude-haiku"))
    m = await sdk.messages.create(
        model="claude-haiku", max_tokens=10, messages=[{"role": "user", "content": "Oslo"}]
    )
    assert m.id == "msg_abc123" and m.model == "claude-haiku" and m.stop_reason == "tool_use"
    assert [b.type for b in m.content] == ["text", "tool_use"]
    assert m.content[1].input == {"city": "Oslo"}  # type: ignore[union-attr]
    assert (m.usage.input_tokens, m.usage.output_tokens, m.usage.cache_read_input_tokens) == (20, 5, 0)


# --- documents and stop sequences (docs/compatibility.md) ---------------------------------

PDF = "JVBERi0xLjQK"


def test_document_blocks_become_file_parts() -> None:
    docs = [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
         "title": "Report", "context": "Q3", "citations": {"enabled": True}, "cache_control": {"type": "ephemeral"}},
        {"type": "document", "source": {"type": "url", "url": "https://a.example/r.pdf"}},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "héllo"}},
        {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "inline"}]}},
        {"type": "text", "text": "Summarise."},
    ]  # fmt: skip
    chat = translate(messages=[{"role": "user", "content": docs}])
    assert chat["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "Report"}},
                {"type": "file", "file": {"file_url": "https://a.example/r.pdf"}},
                {"type": "file", "file": {"file_data": "data:text/plain;base64,aMOpbGxv"}},
                {"type": "text", "text": "inline"},
                {"type": "text", "text": "Summarise."},
            ],
        }
    ]  # fmt: skip


def test_a_document_in_a_tool_result_follows_as_a_user_part() -> None:
    doc = {"type": "document", "source": {"type": "url", "url": "https://a.example/r.pdf"}}
    chat = translate(
        messages=[
            {"role": "user", "content": "read it"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "fetch", "input": {}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [doc]}]},
        ]
    )
    assert chat["messages"][2:] == [
        {"role": "tool", "content": "", "tool_call_id": "t1"},
        {"role": "user", "content": [{"type": "file", "file": {"file_url": "https://a.example/r.pdf"}}]},
    ]


def test_a_document_source_that_does_not_exist_is_a_400_naming_it() -> None:
    body = msgspec.json.encode(
        {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "file", "file_id": "file_1"}}]}]}
    )  # fmt: skip
    with pytest.raises(InvalidRequestError) as info:
        decode_messages_request(body)
    assert info.value.param == "messages[0].content[0].source.type"


def response(finish: str, stop_reason: str | int | None) -> ChatResponse:
    body = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": finish, "stop_reason": stop_reason,
                     "message": {"role": "assistant", "content": "Hello"}}],
    }  # fmt: skip
    return chat_response_decoder.decode(msgspec.json.encode(body))


@pytest.mark.parametrize(
    ("finish", "stop_reason", "stops", "expected"),
    [
        ("stop", "###", ["###"], ("stop_sequence", "###")),
        ("stop", "###", ["END"], ("end_turn", None)),  # not one the client asked for
        ("stop", 50256, ["###"], ("end_turn", None)),  # a token id (vLLM): no sequence matched
        ("stop", None, ["###"], ("end_turn", None)),  # OpenAI does not say which stop matched
        ("length", "###", ["###"], ("max_tokens", None)),
    ],
)
def test_stop_sequence(
    finish: str, stop_reason: Any, stops: list[str], expected: tuple[str, str | None]
) -> None:
    out = msgspec.json.decode(to_messages_response(response(finish, stop_reason), "claude", stops))
    assert (out["stop_reason"], out["stop_sequence"]) == expected


def test_document_indexes_follow_the_messages_they_became() -> None:
    body = {
        "model": "claude",
        "max_tokens": 10,
        "system": "Answer from the pages.",
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "page text"},
                    {"type": "text", "text": "and?"},
                ],
            },
        ],
        "sluice": {"guardrails": {"documents": [0, 2]}},
    }
    chat = to_chat_request(decode_messages_request(msgspec.json.encode(body)))
    assert chat.sluice is not None and chat.sluice.guardrails is not None
    marked = [chat.messages[i] for i in chat.sluice.guardrails.documents]
    # The system prompt became message 0; Anthropic message 2 became a tool message and a user message.
    assert [m.role for m in marked] == ["user", "tool", "user"]
    assert marked[0].content == "first"
    err = refused(
        model="claude",
        max_tokens=10,
        messages=[{"role": "user", "content": "hi"}],
        sluice={"guardrails": {"documents": [1]}},
    )
    assert err.param == "sluice.guardrails.documents[0]"
