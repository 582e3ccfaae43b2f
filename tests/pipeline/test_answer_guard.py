"""The answer guardrails on the model's reasoning: ``reasoning_content`` is redacted and checked
like the text, and signed thinking blocks, whose text a signature seals, are withheld once the
guardrails changed or stopped any of it (JSON and streams)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import msgspec

from sluice.guardrails.rules import Rules
from sluice.pipeline.answer_guard import guarded, guarded_stream
from sluice.pipeline.context import RequestContext
from sluice.types import ChatChunk, ChatRequest, ChatResponse, ChunkBatch

EMAIL = "jane.doe@example.com"
SIGNED = [{"type": "thinking", "thinking": "", "signature": "sig-1"}]


def ctx(*, rules: Rules | None = None) -> RequestContext:
    request = msgspec.convert({"model": "m", "messages": [{"role": "user", "content": "hi"}]}, ChatRequest)
    c = RequestContext("r", "sk", request)
    c.output_pii = rules is None
    c.output_rules = rules
    return c


def answer(reasoning: str, content: str = "Done.") -> ChatResponse:
    message = {
        "role": "assistant",
        "content": content,
        "reasoning_content": reasoning,
        "thinking_blocks": [{"type": "thinking", "thinking": reasoning, "signature": "sig-1"}],
    }
    return msgspec.convert(
        {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        },
        ChatResponse,
    )


def chunk(delta: dict[str, Any], finish: str | None = None) -> ChatChunk:
    return msgspec.convert(
        {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        },
        ChatChunk,
    )


async def source(batches: list[ChunkBatch]) -> AsyncGenerator[ChunkBatch, None]:
    for b in batches:
        yield b


def stream_of(reasoning: list[str]) -> list[ChunkBatch]:
    return [
        *([chunk({"reasoning_content": r})] for r in reasoning),
        [chunk({"thinking_blocks": SIGNED})],
        [chunk({"content": "Done."}), chunk({}, "stop")],
    ]


async def collect(batches: list[ChunkBatch], c: RequestContext) -> list[ChatChunk]:
    return [ch async for b in guarded_stream(source(batches), c) for ch in b]


def test_reasoning_with_pii_is_redacted_and_its_signed_blocks_withheld() -> None:
    c = ctx()
    out = guarded(answer(f"The user is {EMAIL}, so reply politely."), c).choices[0]
    assert out.message.reasoning_content == "The user is [EMAIL_1], so reply politely."
    assert out.message.thinking_blocks is None  # their text holds the address, sealed by a signature
    assert out.message.content == "Done." and out.finish_reason == "stop"
    assert c.guardrails == [("output", "pii", "redact")]


def test_reasoning_without_findings_keeps_its_signed_blocks() -> None:
    out = guarded(answer("Nothing personal here."), ctx()).choices[0]
    assert out.message.reasoning_content == "Nothing personal here."
    assert out.message.thinking_blocks is not None and out.message.thinking_blocks[0].signature == "sig-1"


def test_a_content_rule_broken_in_the_reasoning_stops_the_answer() -> None:
    c = ctx(rules=Rules(deny=("launch codes",)))
    out = guarded(answer("I must not reveal the launch codes."), c).choices[0]
    assert out.finish_reason == "content_filter" and c.answer_blocked
    assert out.message.thinking_blocks is None and out.message.content == ""
    assert "launch codes" not in (out.message.reasoning_content or "")


async def test_a_streamed_email_split_across_deltas_is_redacted_and_the_signature_withheld() -> None:
    chunks = await collect(stream_of(["The user is jane.", "doe@exam", "ple.com, reply."]), ctx())
    reasoning = "".join(ch.choices[0].delta.reasoning_content or "" for ch in chunks if ch.choices)
    assert reasoning == "The user is [EMAIL_1], reply."
    assert all(not ch.choices or ch.choices[0].delta.thinking_blocks is None for ch in chunks)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert text == "Done."


async def test_a_streamed_reasoning_without_findings_keeps_its_signature() -> None:
    chunks = await collect(stream_of(["Plain ", "thoughts."]), ctx())
    reasoning = "".join(ch.choices[0].delta.reasoning_content or "" for ch in chunks if ch.choices)
    assert reasoning == "Plain thoughts."
    signed = [b for ch in chunks if ch.choices for b in ch.choices[0].delta.thinking_blocks or ()]
    assert [b.signature for b in signed] == ["sig-1"]


async def test_a_streamed_rule_broken_in_the_reasoning_stops_the_stream() -> None:
    c = ctx(rules=Rules(deny=("launch codes",)))
    chunks = await collect(stream_of(["I must not reveal ", "the launch codes ", "ever."]), c)
    reasoning = "".join(ch.choices[0].delta.reasoning_content or "" for ch in chunks if ch.choices)
    assert "launch codes" not in reasoning and c.answer_blocked
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    assert not any(ch.choices and ch.choices[0].delta.content for ch in chunks)  # the answer never came
