"""Internal chat types <-> the Anthropic Messages wire format, both directions, exact values."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.errors import InvalidRequestError, UpstreamError
from sluice.providers.anthropic.request import to_messages_request
from sluice.providers.anthropic.response import StreamTranslator, to_chat_response
from sluice.providers.anthropic.wire import message_decoder
from sluice.types import ChatChunk, ChatRequest, chat_request_decoder, encoder


def chat(**body: Any) -> ChatRequest:
    body.setdefault("model", "smart")
    body.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return chat_request_decoder.decode(msgspec.json.encode(body))


def wire(request: ChatRequest, model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    return msgspec.json.decode(encoder.encode(to_messages_request(request, model)))


def as_json(value: Any) -> Any:
    return msgspec.json.decode(encoder.encode(value))


# --- internal -> Anthropic request -------------------------------------------------------


def test_full_request() -> None:
    request = chat(
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare these."},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.jpg", "detail": "high"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                    },
                    {"id": "call_2", "type": "function", "function": {"name": "time", "arguments": ""}},
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "09:00"}]},
            {"role": "user", "content": "And tomorrow?"},
        ],
        max_tokens=256,
        temperature=0.5,
        top_p=0.9,
        stop=["###", "END"],
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "weather",
                    "description": "Weather for a city",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                    "strict": True,
                },
            },
            {"type": "function", "function": {"name": "time"}},
        ],
        tool_choice={"type": "function", "function": {"name": "weather"}},
        parallel_tool_calls=False,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": {"type": "object"}},
        },
        safety_identifier="user-42",
        seed=7,
        frequency_penalty=0.5,
    )
    assert wire(request) == {
        "model": "claude-sonnet-4-5",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare these."},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "time", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": "09:00"},
                    {"type": "text", "text": "And tomorrow?"},
                ],
            },
        ],
        "max_tokens": 256,
        "system": "You are terse.\n\nUse metric units.",
        "stop_sequences": ["###", "END"],
        "temperature": 0.5,
        "top_p": 0.9,
        "metadata": {"user_id": "user-42"},
        "tools": [
            {
                "name": "weather",
                "description": "Weather for a city",
                "input_schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
            {"name": "time", "input_schema": {"type": "object", "properties": {}}},
        ],
        "tool_choice": {"type": "tool", "name": "weather", "disable_parallel_tool_use": True},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    }


def test_minimal_request_defaults() -> None:
    assert wire(chat(stream=True, max_completion_tokens=10, user="u")) == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "max_tokens": 10,
        "stream": True,
        "metadata": {"user_id": "u"},
    }
    assert wire(chat())["max_tokens"] == 4096


def test_temperature_is_clamped_to_anthropics_range() -> None:
    assert wire(chat(temperature=1.7))["temperature"] == 1.0
    assert wire(chat(temperature=0))["temperature"] == 0


def test_consecutive_user_turns_merge_and_assistant_text_precedes_tool_use() -> None:
    request = chat(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "text", "text": ""}]},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        ]
    )  # fmt: skip
    assert wire(request)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "t", "name": "f", "input": {}},
            ],
        },
    ]


TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


@pytest.mark.parametrize(
    ("tool_choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        (None, None, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
    ],
)
def test_tool_choice(tool_choice: str | None, parallel: bool | None, expected: dict[str, Any] | None) -> None:
    body: dict[str, Any] = {"tools": TOOLS}
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    if parallel is not None:
        body["parallel_tool_calls"] = parallel
    assert wire(chat(**body)).get("tool_choice") == expected


def test_tool_choice_without_tools_is_not_sent() -> None:
    assert "tool_choice" not in wire(chat(tool_choice="required", parallel_tool_calls=False))


def bad_call(arguments: str) -> dict[str, Any]:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}
    return {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call]}]}


def image(url: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]}


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"n": 2}, "n > 1 is not supported by anthropic deployments", "n"),
        ({"logprobs": True}, "logprobs are not supported by anthropic deployments", "logprobs"),
        (
            {"modalities": ["text", "audio"]},
            "audio output is not supported by anthropic deployments",
            "modalities",
        ),
        (
            {"functions": [{"name": "f"}]},
            "functions/function_call are not supported by anthropic deployments; use tools",
            "functions",
        ),
        (
            {"web_search_options": {}},
            "web_search_options is not supported by anthropic deployments",
            "web_search_options",
        ),
        (
            {"response_format": {"type": "json_object"}},
            "anthropic deployments support response_format json_schema with a schema, not json_object",
            "response_format",
        ),
        (
            bad_call("{not json"),
            "tool call arguments must be a JSON object",
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            bad_call("[1, 2]"),
            "tool call arguments must be a JSON object",
            "messages[1].tool_calls[0].function.arguments",
        ),
        (
            image("ftp://example.com/a.png"),
            "image URLs must be http(s) or base64 data URLs",
            "messages[0].content[0]",
        ),
        (
            image("data:image/png,abc"),
            "image data URLs must look like data:<media type>;base64,<data>",
            "messages[0].content[0]",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}],
                    }
                ]
            },
            "content parts of type 'input_audio' are not supported by anthropic deployments",
            "messages[0].content[0]",
        ),
        (
            {"messages": [{"role": "tool", "content": "x"}]},
            "tool messages need a tool_call_id",
            "messages[0].tool_call_id",
        ),
        (
            {"messages": [{"role": "function", "name": "f", "content": "x"}]},
            "function messages are not supported by anthropic deployments; use tool messages",
            "messages[0].role",
        ),
        (
            {
                "messages": [
                    {
                        "role": "system",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                    }
                ]
            },
            "system messages may only contain text parts, got 'image_url'",
            "messages[0].content[0]",
        ),
    ],
)
def test_unsupported_requests_are_refused(body: dict[str, Any], message: str, param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        to_messages_request(chat(**body), "claude")
    assert (info.value.message, info.value.param) == (message, param)


def test_null_pass_through_fields_are_not_refused() -> None:
    assert "messages" in wire(chat(functions=None, audio=None))


# --- Anthropic response -> internal ------------------------------------------------------


def message(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }
    return msgspec.json.encode({**base, **fields})


def test_text_response() -> None:
    resp = to_chat_response(message_decoder.decode(message()), created=123)
    assert as_json(resp) == {
        "id": "msg_1",
        "object": "chat.completion",
        "created": 123,
        "model": "claude-haiku-4-5",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 3,
            "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        },
    }


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
        ("pause_turn", "stop"),
        ("something_new", "stop"),
    ],
)
def test_stop_reasons(stop_reason: str, finish_reason: str) -> None:
    resp = to_chat_response(message_decoder.decode(message(stop_reason=stop_reason)), created=0)
    assert resp.choices[0].finish_reason == finish_reason


def test_response_with_thinking_and_blocks_we_do_not_translate() -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "server_tool_use", "id": "srv_1", "name": "web_search", "input": {}},
        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
    ]
    resp = to_chat_response(
        message_decoder.decode(message(content=content, stop_reason="tool_use")), created=0
    )
    assert as_json(resp.choices[0].message) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        "reasoning_content": "hmm",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
        ],
    }


# --- Anthropic stream -> internal chunks -------------------------------------------------


def events(*items: dict[str, Any]) -> list[bytes]:
    return [msgspec.json.encode(e) for e in items]


START = {
    "type": "message_start",
    "message": {"id": "msg_s", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "content": [],
                "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": 5, "cache_read_input_tokens": 2, "output_tokens": 1}},
}  # fmt: skip


def deltas(chunks: list[ChatChunk]) -> list[Any]:
    return [as_json(c.choices[0].delta) if c.choices else as_json(c.usage) for c in chunks]


def test_stream_carries_thinking_and_ignores_pings_and_unknown_events() -> None:
    t = StreamTranslator(created=1, include_usage=True)
    chunks = t.feed(
        events(
            START,
            {"type": "ping"},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "s"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "opaque"}},
            {"type": "content_block_stop", "index": 1},
            {"type": "brand_new_event", "whatever": [1]},
            {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "Hi"}},
            {"type": "content_block_stop", "index": 2},
            {"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "tu", "name": "f", "input": {}}},
            {"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{}"}},
            {"type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
             "usage": {"input_tokens": 7, "output_tokens": 9, "output_tokens_details": {"thinking_tokens": 4}}},
        )
    )  # fmt: skip
    assert not t.is_done
    chunks += t.feed(events({"type": "message_stop"}))
    assert t.is_done
    assert deltas(chunks) == [
        {"role": "assistant", "content": ""},
        {"reasoning_content": "hmm"},
        {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "s"}]},
        {"thinking_blocks": [{"type": "redacted_thinking", "data": "opaque"}]},
        {"content": "Hi"},
        {"tool_calls": [{"index": 0, "id": "tu", "type": "function", "function": {"name": "f", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
        {},
        # message_delta's cumulative input count replaces message_start's; cache reads are kept.
        {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18,
         "prompt_tokens_details": {"cached_tokens": 2, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 4}},
    ]  # fmt: skip
    assert chunks[7].choices[0].finish_reason == "length"
    assert {(c.id, c.model, c.created) for c in chunks} == {("msg_s", "claude-haiku-4-5", 1)}


def test_stream_without_include_usage_ends_with_the_finish_chunk() -> None:
    t = StreamTranslator(created=1, include_usage=False)
    stop = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}
    chunks = t.feed(events(START, stop, {"type": "message_stop"}))
    assert [c.choices[0].finish_reason for c in chunks] == [None, "stop"]


def test_stream_error_events() -> None:
    t = StreamTranslator(created=1, include_usage=False)
    with pytest.raises(InvalidRequestError) as bad:
        t.feed(
            events(
                {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}
            )
        )
    assert (
        bad.value.message
        == "anthropic rejected the request: invalid_request_error in the stream: prompt is too long"
    )
    with pytest.raises(UpstreamError) as failed:
        t.feed(events({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}))
    assert failed.value.upstream_status == 500
    with pytest.raises(UpstreamError) as garbled:
        t.feed([b"{not json"])
    assert garbled.value.message.startswith("anthropic sent an invalid stream event: ")


# --- compatibility (docs/compatibility.md) -----------------------------------------------


def test_an_echoed_openai_assistant_message_translates() -> None:
    """``completion.choices[0].message.model_dump()`` sent back: annotations, null audio and
    function_call are accepted and dropped; a refusal part is what the assistant said."""
    request = chat(
        messages=[
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "audio": None,
                "function_call": None,
                "tool_calls": None,
                "annotations": [{"type": "url_citation", "url_citation": {"url": "https://a.example"}}],
            },
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}]},
            {"role": "user", "content": "ok"},
        ],
        store=True,
        metadata={"a": "b"},
        prediction={"type": "content", "content": "x"},
        service_tier="auto",
        prompt_cache_key="k",
        verbosity="low",
        logit_bias={},
    )
    assert wire(request)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "I can't."}]},
        {"role": "user", "content": [{"type": "text", "text": "ok"}]},
    ]


PDF = "JVBERi0xLjQK"


@pytest.mark.parametrize(
    ("file", "document"),
    [
        (
            {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "a.pdf"},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
             "title": "a.pdf"},
        ),
        (
            {"file_data": PDF},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
        ),
        (
            {"file_data": "data:text/plain;base64,aMOpbGxv"},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "héllo"}},
        ),
        (
            {"file_url": "https://a.example/a.pdf", "filename": "A"},
            {"type": "document", "source": {"type": "url", "url": "https://a.example/a.pdf"}, "title": "A"},
        ),
    ],
)  # fmt: skip
def test_file_parts_become_documents(file: dict[str, Any], document: dict[str, Any]) -> None:
    request = chat(messages=[{"role": "user", "content": [{"type": "file", "file": file}]}])
    assert wire(request)["messages"][0]["content"] == [document]


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        (
            {"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]},
            "file parts need file_data on anthropic deployments (uploaded file ids are OpenAI's)",
            "messages[0].content[0].file.file_id",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "file", "file": {"file_data": "data:x"}}]}]},
            "file_data data URLs must look like data:<media type>;base64,<data>",
            "messages[0].content[0].file.file_data",
        ),
        (
            {"logit_bias": {"50256": -100}},
            "logit_bias is not supported by anthropic deployments",
            "logit_bias",
        ),
        (
            {"moderation": {"model": "omni-moderation-latest"}},
            "moderation is not supported by anthropic deployments",
            "moderation",
        ),
    ],
)
def test_what_anthropic_cannot_do_is_refused_by_name(body: dict[str, Any], message: str, param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        to_messages_request(chat(**body), "claude")
    assert (info.value.message, info.value.param) == (message, param)


def test_the_matched_stop_sequence_is_carried() -> None:
    resp = to_chat_response(
        message_decoder.decode(message(stop_reason="stop_sequence", stop_sequence="###")), created=1
    )
    assert (resp.choices[0].finish_reason, resp.choices[0].stop_reason) == ("stop", "###")
    plain = to_chat_response(message_decoder.decode(message()), created=1)
    assert plain.choices[0].stop_reason is None
    t = StreamTranslator(created=1, include_usage=False)
    stop = {
        "type": "message_delta",
        "delta": {"stop_reason": "stop_sequence", "stop_sequence": "###"},
        "usage": {"output_tokens": 1},
    }
    last = t.feed(events(START, stop))[-1].choices[0]
    assert (last.finish_reason, last.stop_reason) == ("stop", "###")


# --- prompt caching and reasoning ---------------------------------------------------------

EPHEMERAL = {"type": "ephemeral"}


def test_breakpoints_land_on_the_blocks_they_end() -> None:
    out = wire(
        chat(
            cache_control=EPHEMERAL,
            messages=[
                {"role": "system", "content": "Rules.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "a", "cache_control": EPHEMERAL},
                        {"type": "text", "text": "b", "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "30m"}},
                        {"type": "image_url", "image_url": {"url": "https://x.test/i.png"}, "cache_control": EPHEMERAL},
                    ],
                },
                {"role": "assistant", "content": "c", "cache_control": EPHEMERAL},
                {"role": "user", "content": "d", "cache_control": EPHEMERAL},
            ],
            tools=[{"type": "function", "function": {"name": "f"}, "cache_control": EPHEMERAL}],
        )
    )  # fmt: skip
    assert out["cache_control"] == EPHEMERAL
    assert out["system"] == [
        {"type": "text", "text": "Rules.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]
    assert out["messages"] == [
        {"role": "user", "content": [
            {"type": "text", "text": "a", "cache_control": EPHEMERAL},
            # OpenAI's breakpoints promise 30 minutes at least: Anthropic's 1-hour cache.
            {"type": "text", "text": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "image", "source": {"type": "url", "url": "https://x.test/i.png"}, "cache_control": EPHEMERAL},
        ]},
        {"role": "assistant", "content": [{"type": "text", "text": "c", "cache_control": EPHEMERAL}]},
        {"role": "user", "content": [{"type": "text", "text": "d", "cache_control": EPHEMERAL}]},
    ]  # fmt: skip
    assert out["tools"][0]["cache_control"] == EPHEMERAL


def test_a_system_prompt_without_breakpoints_stays_one_string() -> None:
    out = wire(chat(messages=[{"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "user", "content": "q"}]))  # fmt: skip
    assert out["system"] == "ab"  # parts of one message join as before, messages with a blank line


def test_tool_results_keep_their_breakpoint() -> None:
    out = wire(
        chat(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "r", "cache_control": EPHEMERAL},
            ]
        )
    )  # fmt: skip
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "r", "cache_control": EPHEMERAL}
    ]


@pytest.mark.parametrize(
    ("effort", "cap", "thinking", "max_tokens"),
    [
        ("minimal", None, {"type": "enabled", "budget_tokens": 1024}, 4096),
        ("low", None, {"type": "enabled", "budget_tokens": 2048}, 4096),
        ("medium", None, {"type": "enabled", "budget_tokens": 8192}, 8192 + 4096),
        ("high", 20000, {"type": "enabled", "budget_tokens": 16384}, 20000),
        ("high", 3000, {"type": "enabled", "budget_tokens": 2999}, 3000),  # below the client's cap
        ("xhigh", None, {"type": "enabled", "budget_tokens": 24576}, 24576 + 4096),
        ("max", None, {"type": "enabled", "budget_tokens": 32000}, 32000 + 4096),
        ("high", 1024, None, 1024),  # no room for Anthropic's smallest budget: no thinking
        ("none", None, None, 4096),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget_under_max_tokens(
    effort: str, cap: int | None, thinking: dict[str, Any] | None, max_tokens: int
) -> None:
    out = wire(chat(reasoning_effort=effort, max_completion_tokens=cap))
    assert out.get("thinking") == thinking
    assert out["max_tokens"] == max_tokens
    assert out["max_tokens"] > (thinking or {}).get("budget_tokens", 0)


def test_thinking_given_as_is_wins_over_reasoning_effort() -> None:
    out = wire(
        chat(reasoning_effort="high", thinking={"type": "adaptive", "display": "omitted"}, max_tokens=500)
    )
    assert out["thinking"] == {"type": "adaptive", "display": "omitted"} and out["max_tokens"] == 500


def test_an_unknown_reasoning_effort_is_refused_by_name() -> None:
    with pytest.raises(InvalidRequestError) as e:
        to_messages_request(chat(reasoning_effort="extreme"), "m")
    assert e.value.param == "reasoning_effort"


def test_signed_thinking_goes_back_first_and_unsigned_reasoning_stays_behind() -> None:
    out = wire(
        chat(
            messages=[
                {"role": "user", "content": "q"},
                {
                    "role": "assistant",
                    "content": "a",
                    "reasoning_content": "why",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "why", "signature": "sig"},
                        {"type": "thinking", "thinking": "unsigned", "signature": ""},
                        {"type": "redacted_thinking", "data": "opaque"},
                    ],
                },
                {"role": "assistant", "content": "b", "reasoning_content": "another provider's"},
            ]
        )
    )
    assert out["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "why", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "a"},
            {"type": "text", "text": "b"},
        ],
    }


def test_usage_with_cache_writes_and_thinking_tokens() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 7,
        "cache_read_input_tokens": 20,
        "cache_creation_input_tokens": 30,
        "cache_creation": {"ephemeral_5m_input_tokens": 12, "ephemeral_1h_input_tokens": 18},
        "output_tokens_details": {"thinking_tokens": 5},
    }
    resp = to_chat_response(message_decoder.decode(message(usage=usage)), created=0)
    assert as_json(resp.usage) == {
        "prompt_tokens": 60,
        "completion_tokens": 7,
        "total_tokens": 67,
        "prompt_tokens_details": {"cached_tokens": 20, "audio_tokens": 0, "cache_write_tokens": 30},
        "completion_tokens_details": {"reasoning_tokens": 5},
        "cache_creation": {"ephemeral_5m_input_tokens": 12, "ephemeral_1h_input_tokens": 18},
    }
