"""The input-token estimate: characters / 4 rounded up, UTF-8 bytes / 4 beyond ASCII, per-message
overhead, tool definitions and schemas as JSON, a fixed cost per image."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.limits.tokens import (
    IMAGE_TOKENS,
    IMAGE_TOKENS_LOW,
    PER_MESSAGE,
    REPLY_PRIMING,
    chat_input_tokens,
    embedding_input_tokens,
    text_tokens,
)
from sluice.types import ChatRequest, EmbeddingRequest, encoder


def chat(messages: list[dict[str, Any]], **kw: Any) -> ChatRequest:
    return msgspec.convert({"model": "m", "messages": messages, **kw}, ChatRequest)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("hi", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100), ("日本語", 3), ("héllo", 2)],
)
def test_text_is_a_quarter_of_its_characters_or_utf8_bytes(text: str, tokens: int) -> None:
    assert text_tokens(text) == tokens


def test_each_message_costs_its_text_plus_overhead() -> None:
    req = chat(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there", "name": "ann"},
        ]
    )
    assert chat_input_tokens(req) == REPLY_PRIMING + (PER_MESSAGE + 3) + (PER_MESSAGE + 3 + 1)


def test_parts_tool_calls_and_images_count() -> None:
    req = chat([
        {"role": "user", "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/a.png"}},
            {"type": "image_url", "image_url": {"url": "https://x/b.png", "detail": "low"}},
        ]},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "look", "arguments": '{"q": "cat"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
    ])  # fmt: skip
    parts = 4 + IMAGE_TOKENS + IMAGE_TOKENS_LOW
    tool_call = 1 + 3
    tool_reply = 1 + 2
    assert chat_input_tokens(req) == REPLY_PRIMING + 3 * PER_MESSAGE + parts + tool_call + tool_reply


def test_tool_definitions_and_schemas_count_as_their_json() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "look",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    plain = chat([{"role": "user", "content": "hi"}])
    with_tools = chat([{"role": "user", "content": "hi"}], tools=tools)
    with_schema = chat(
        [{"role": "user", "content": "hi"}],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert chat_input_tokens(with_tools) - chat_input_tokens(plain) == -(
        -len(encoder.encode(with_tools.tools)) // 4
    )
    assert chat_input_tokens(with_schema) - chat_input_tokens(plain) == -(-len(encoder.encode(schema)) // 4)


@pytest.mark.parametrize(
    ("value", "tokens"),
    [("abcdefgh", 2), (["abcd", "abcdefgh"], 3), ([1, 2, 3], 3), ([[1, 2], [3, 4, 5]], 5)],
)
def test_embedding_inputs(value: Any, tokens: int) -> None:
    assert embedding_input_tokens(EmbeddingRequest(model="e", input=value)) == tokens
