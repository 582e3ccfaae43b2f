"""anthropic-python, unmodified, against each backend on ``/v1/messages``: messages, streams
(raw events and the helper), tools over several turns with the SDK's own content blocks echoed
back, parallel tool use, structured output and count_tokens.

Prompt caching (``cache_control``, cached-token usage) and extended thinking are added to the
gateway in parallel (issue 15): their cases belong here, beside these."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import pytest

from tests.compat.conftest import Backend

TOOLS = [
    {
        "name": name,
        "description": f"The {what} in a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
    for name, what in (("get_weather", "weather"), ("get_time", "time"))
]


@pytest.fixture
def an(backend: Backend) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=backend.base_url, api_key=backend.key, max_retries=0, timeout=20) as c:
        yield c


def test_message(an: anthropic.Anthropic) -> None:
    m = an.messages.create(
        model="claude-haiku", max_tokens=100, messages=[{"role": "user", "content": "Hello"}]
    )
    assert m.type == "message" and m.role == "assistant" and m.stop_reason == "end_turn"
    assert m.content[0].type == "text" and "Hello" in m.content[0].text
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0


def test_stream_helper_and_raw_events(an: anthropic.Anthropic) -> None:
    ask = {
        "model": "claude-haiku",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Stream this"}],
    }
    with an.messages.stream(**ask) as stream:  # type: ignore[arg-type]
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert "Stream this" in text and final.content[0].text == text and final.stop_reason == "end_turn"
    kinds = [e.type for e in an.messages.create(**ask, stream=True)]  # type: ignore[call-overload]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert "content_block_delta" in kinds


def test_tools_over_two_turns_echoing_the_sdks_content(an: anthropic.Anthropic) -> None:
    messages: list = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = an.messages.create(model="claude-haiku", max_tokens=200, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert first.stop_reason == "tool_use"
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "get_weather" and isinstance(use.input, dict)
    messages.append({"role": "assistant", "content": first.content})  # the SDK's own blocks
    messages.append(
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "4C"}]}
    )
    second = an.messages.create(model="claude-haiku", max_tokens=200, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert second.stop_reason == "end_turn" and "4C" in second.content[0].text  # type: ignore[union-attr]


def test_parallel_tool_use_json_and_stream(an: anthropic.Anthropic) -> None:
    ask: dict = {
        "model": "claude-haiku",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "Use get_weather and get_time for Oslo."}],
        "tools": TOOLS,
    }
    m = an.messages.create(**ask)
    uses = [b for b in m.content if b.type == "tool_use"]
    assert [u.name for u in uses] == ["get_weather", "get_time"] and len({u.id for u in uses}) == 2
    with an.messages.stream(**ask) as stream:
        final = stream.get_final_message()
    assert [b.name for b in final.content if b.type == "tool_use"] == ["get_weather", "get_time"]
    assert all(isinstance(b.input, dict) and b.input for b in final.content if b.type == "tool_use")


def test_structured_output(an: anthropic.Anthropic) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["name", "population"],
        "additionalProperties": False,
    }
    m = an.messages.create(
        model="claude-haiku",
        max_tokens=200,
        messages=[{"role": "user", "content": "Oslo"}],
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    data = json.loads(m.content[0].text)  # type: ignore[union-attr]
    assert set(data) == {"name", "population"} and isinstance(data["population"], int)


def test_count_tokens(an: anthropic.Anthropic) -> None:
    n = an.messages.count_tokens(
        model="claude-haiku",
        messages=[{"role": "user", "content": "Count these four words"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert n.input_tokens > 0
