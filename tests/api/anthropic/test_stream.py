"""The Messages stream encoder: chunk batches -> Anthropic SSE events, checked exactly and
through the real ``anthropic`` SDK."""

from __future__ import annotations

from typing import Any

import anthropic
import msgspec
import pytest

from sluice.api.anthropic.stream import MessagesStreamEncoder
from sluice.errors import UnavailableError, UpstreamError
from sluice.types import (
    ChatChunk,
    ChunkBatch,
    chat_chunk_decoder,
)
from tests.api.anthropic.conftest import Canned, CannedServer

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, usage: dict[str, Any] | None = None
) -> ChatChunk:
    body: dict[str, Any] = {
        "id": "chatcmpl-s1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
    }
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    if usage is not None:
        body["usage"] = usage
    return chat_chunk_decoder.decode(msgspec.json.encode(body))


def tool_delta(index: int, id_: str | None = None, name: str | None = None, args: str = "") -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id_ is not None:
        call.update(id=id_, type="function")
        call["function"]["name"] = name
    return {"tool_calls": [call]}


BATCHES: list[ChunkBatch] = [
    [chunk({"role": "assistant", "content": ""}), chunk({"content": "Let me "})],
    [chunk({"content": "check."})],
    [chunk(tool_delta(0, "call_a", "get_weather")), chunk(tool_delta(0, args='{"city":'))],
    [chunk(tool_delta(0, args=' "Oslo"}')), chunk(tool_delta(1, "call_b", "get_weather", '{"city": "Rome"}'))],
    [chunk({}, "tool_calls")],
    [chunk(usage={"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62,
                  "prompt_tokens_details": {"cached_tokens": 8}})],
]  # fmt: skip


def parse_sse(data: bytes) -> list[tuple[str, Any]]:
    events = []
    for block in data.decode().split("\n\n"):
        if block:
            name, payload = block.split("\n")
            assert name.startswith("event: ") and payload.startswith("data: ")
            event = msgspec.json.decode(payload[6:])
            assert event["type"] == name[7:]
            events.append((name[7:], event))
    return events


def test_stream_events_exactly() -> None:
    enc = MessagesStreamEncoder("claude-haiku")
    data = b"".join(enc.encode(b) for b in BATCHES) + enc.finish()
    assert [e for _, e in parse_sse(data)] == [
        {
            "type": "message_start",
            "message": {
                "id": "msg_s1", "type": "message", "role": "assistant", "model": "claude-haiku", "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 0, "output_tokens": 0},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "check."}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1,
         "content_block": {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {}}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city":'}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ' "Oslo"}'}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2,
         "content_block": {"type": "tool_use", "id": "call_b", "name": "get_weather", "input": {}}},
        {"type": "content_block_delta", "index": 2,
         "delta": {"type": "input_json_delta", "partial_json": '{"city": "Rome"}'}},
        {"type": "content_block_stop", "index": 2},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None},
         "usage": {"input_tokens": 42, "output_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 8}},
        {"type": "message_stop"},
    ]  # fmt: skip


def test_empty_batches_write_nothing_after_the_start() -> None:
    enc = MessagesStreamEncoder("m")
    assert [n for n, _ in parse_sse(enc.encode([chunk({"role": "assistant"})]))] == ["message_start"]
    assert enc.encode([]) == b""


def test_finish_of_an_empty_stream_is_still_a_whole_message() -> None:
    events = parse_sse(MessagesStreamEncoder("m").finish())
    assert [n for n, _ in events] == ["message_start", "message_delta", "message_stop"]
    assert events[1][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 0},
    }


def test_error_event_bytes() -> None:
    data = MessagesStreamEncoder("m").error(UnavailableError("no deployment available"))
    assert data == (
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"no deployment available"}}\n\n'
    )


async def test_stream_round_trip_through_the_sdk(canned: CannedServer, sdk: anthropic.AsyncAnthropic) -> None:
    enc = MessagesStreamEncoder("claude-haiku")
    body = b"".join(enc.encode(b) for b in BATCHES) + enc.finish()
    canned.reply = Canned(body=body, content_type="text/event-stream")
    async with sdk.messages.stream(
        model="claude-haiku",
        max_tokens=100,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "Oslo and Rome?"}],
    ) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "Let me check."
    assert final.id == "msg_s1" and final.model == "claude-haiku" and final.stop_reason == "tool_use"
    assert [(b.type, getattr(b, "input", None)) for b in final.content] == [
        ("text", None),
        ("tool_use", {"city": "Oslo"}),
        ("tool_use", {"city": "Rome"}),
    ]
    assert final.content[0].text == "Let me check."  # type: ignore[union-attr]
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.cache_read_input_tokens) == (
        42,
        12,
        8,
    )


async def test_stream_error_event_raises_in_the_sdk(
    canned: CannedServer, sdk: anthropic.AsyncAnthropic
) -> None:
    enc = MessagesStreamEncoder("claude-haiku")
    body = enc.encode(BATCHES[0]) + enc.error(
        UpstreamError("anthropic returned HTTP 529: Overloaded", upstream_status=529)
    )
    canned.reply = Canned(body=body, content_type="text/event-stream")
    with pytest.raises(anthropic.APIStatusError) as info:
        async with sdk.messages.stream(
            model="claude-haiku", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            async for _ in stream:
                pass
    assert info.value.type == "api_error"
    assert info.value.api_message == "anthropic returned HTTP 529: Overloaded"


def test_the_matched_stop_sequence_ends_the_stream() -> None:
    enc = MessagesStreamEncoder("claude", ["###"])
    final = chat_chunk_decoder.decode(
        msgspec.json.encode(
            {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": "###"}]}
        )
    )  # fmt: skip
    enc.encode([chunk({"role": "assistant", "content": "Hi"}), final])
    delta = next(e for e in enc.finish().split(b"\n\n") if e.startswith(b"event: message_delta"))
    body = msgspec.json.decode(delta.split(b"data: ", 1)[1])
    assert body["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "###"}


def test_reasoning_becomes_thinking_blocks_with_signature_deltas() -> None:
    enc = MessagesStreamEncoder("claude-haiku")
    batches: list[ChunkBatch] = [
        [chunk({"role": "assistant", "content": ""}), chunk({"reasoning_content": "Let me "})],
        [chunk({"reasoning_content": "think."}),
         chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig1"}]})],
        [chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": "opaque"}]}),
         chunk({"reasoning_content": "More."}),
         chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "sig2"}]})],
        [chunk({"content": "Done."}), chunk({}, "stop")],
        [chunk(usage={"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62,
                      "prompt_tokens_details": {"cached_tokens": 8, "cache_write_tokens": 30},
                      "completion_tokens_details": {"reasoning_tokens": 9}})],
    ]  # fmt: skip
    data = b"".join(enc.encode(b) for b in batches) + enc.finish()
    events = [e for _, e in parse_sse(data)][1:]  # after message_start
    assert events == [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me "}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "think."}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig1"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "opaque"}},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "thinking_delta", "thinking": "More."}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "signature_delta", "signature": "sig2"}},
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "Done."}},
        {"type": "content_block_stop", "index": 3},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"input_tokens": 12, "output_tokens": 12, "cache_creation_input_tokens": 30,
                   "cache_read_input_tokens": 8, "output_tokens_details": {"thinking_tokens": 9}}},
        {"type": "message_stop"},
    ]  # fmt: skip
