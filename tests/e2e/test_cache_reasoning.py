"""Prompt caching and reasoning carried through the gateway, both surfaces, both provider types.

The real `anthropic` and `openai` SDKs talk to a gateway subprocess in front of an Anthropic-like
and an OpenAI-like upstream (one aiohttp server on loopback) that record every body they get and
answer with cache reads and writes, reasoning tokens and signed thinking blocks, as JSON and as
streams. Each test asserts what the upstream received, field by field, what the client got, and
what ``x-sluice-cost-usd`` charged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server

KEY = "sk-app-cachereason-0001"
SIGNATURE = "EqQBCkYIARgCIkBsig+base64=="
REDACTED = "EmwKAhgBEgy3opaque+encrypted=="
# What the Anthropic-like upstream bills for model "claude-sonnet-4" (it writes to the cache);
# "claude-sonnet-4-20250514" (the same price) only reads from it.
WRITES = {
    "input_tokens": 100,
    "cache_creation_input_tokens": 300,
    "cache_read_input_tokens": 600,
    "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 100},
}
READS = {"input_tokens": 400, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 600}
OUTPUT = {"output_tokens": 50, "output_tokens_details": {"thinking_tokens": 30}}
OPENAI_USAGE = {
    "prompt_tokens": 2000,
    "completion_tokens": 50,
    "total_tokens": 2050,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 30,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
# claude-sonnet-4: input 3, cache read 0.30, 5-minute write 3.75, 1-hour write 6, output 15 (USD/MTok)
COST_WITH_READS = round(400 * 3 + 600 * 0.3 + 50 * 15)  # 2130 micro-dollars
COST_WITH_WRITES = round(100 * 3 + 600 * 0.3 + 200 * 3.75 + 100 * 6 + 50 * 15)  # 2580
# gpt-4o-mini: input 0.15, cached 0.075, output 0.60; 253.2 rounds up
COST_OPENAI = 254


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: ".encode() + msgspec.json.encode(data) + b"\n\n"


class Upstream:
    """Anthropic's Messages API and OpenAI's Chat Completions on one port; ``seen`` holds every
    body received, in order."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.seen.append(body)
        cache = WRITES if body["model"] == "claude-sonnet-4" else READS
        content = [
            {"type": "thinking", "thinking": "Let me think.", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "Paris."},
        ]
        message = {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "stop_reason": "end_turn",
            "stop_sequence": None,
        }
        if not body.get("stream"):
            return web.json_response({**message, "content": content, "usage": {**cache, **OUTPUT}})
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        start = {**message, "content": [], "stop_reason": None, "usage": {**cache, "output_tokens": 1}}
        events = [
            ("message_start", {"type": "message_start", "message": start}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "thinking_delta", "thinking": "Let me "}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "thinking_delta", "thinking": "think."}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "signature_delta", "signature": SIGNATURE}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1,
                                     "content_block": {"type": "redacted_thinking", "data": REDACTED}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ("content_block_start", {"type": "content_block_start", "index": 2,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 2,
                                     "delta": {"type": "text_delta", "text": "Paris."}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 2}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": OUTPUT}),
            ("message_stop", {"type": "message_stop"}),
        ]  # fmt: skip
        await resp.write(b"".join(_sse(name, data) for name, data in events))
        return resp

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.seen.append(body)
        head = {"id": "chatcmpl-1", "created": 1, "model": body["model"]}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "Paris.", "refusal": None, "reasoning_content": "Hmm."}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            return web.json_response(
                {**head, "object": "chat.completion", "choices": [choice], "usage": OPENAI_USAGE}
            )
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        chunk = {**head, "object": "chat.completion.chunk"}
        deltas = [({"role": "assistant", "content": ""}, None), ({"reasoning_content": "Hmm."}, None),
                  ({"content": "Paris."}, None), ({}, "stop")]  # fmt: skip
        out = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": f}]} for d, f in deltas]
        if (body.get("stream_options") or {}).get("include_usage"):
            out.append({**chunk, "choices": [], "usage": OPENAI_USAGE})
        await resp.write(
            b"".join(b"data: " + msgspec.json.encode(c) + b"\n\n" for c in out) + b"data: [DONE]\n\n"
        )
        return resp


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.openai, **{"/v1/messages": u.anthropic}) as base:
        yield u, base


@pytest.fixture
def gw(upstream: tuple[Upstream, str], gateway: Any) -> Any:
    base = upstream[1]
    return gateway(
        {
            "auth": {"keys": [{"key": KEY, "name": "app"}]},
            "providers": {
                "an": {"type": "anthropic", "base_url": base, "api_key": "upstream-anthropic"},
                "oa": {"type": "openai", "base_url": f"{base}/v1", "api_key": "upstream-openai"},
            },
            "models": {
                "claude": {"deployments": [{"provider": "an", "model": "claude-sonnet-4"}]},
                "claude-reads": {"deployments": [{"provider": "an", "model": "claude-sonnet-4-20250514"}]},
                "gpt": {"deployments": [{"provider": "oa", "model": "gpt-4o-mini"}]},
            },
            "logging": {"level": "warning"},
        }
    )


def anthropic_client(gw: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.base_url, api_key=KEY, max_retries=0, timeout=15)


def openai_client(gw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=KEY, max_retries=0, timeout=15)


EPHEMERAL_1H = {"type": "ephemeral", "ttl": "1h"}
EPHEMERAL = {"type": "ephemeral"}
TOOL = {
    "name": "lookup",
    "description": "Look a city up",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    "cache_control": EPHEMERAL,
}
SYSTEM = [
    {"type": "text", "text": "You are a geographer."},
    {"type": "text", "text": "A long reference text. " * 50, "cache_control": EPHEMERAL_1H},
]
PREVIOUS_TURN = [
    {"type": "thinking", "thinking": "Earlier thought.", "signature": "sig-earlier=="},
    {"type": "redacted_thinking", "data": "redacted-earlier=="},
    {"type": "text", "text": "Let me look."},
    {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"city": "Paris"}},
]
CONVERSATION = [
    {"role": "user", "content": [{"type": "text", "text": "Capital of France?", "cache_control": EPHEMERAL}]},
    {"role": "assistant", "content": PREVIOUS_TURN},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "capital"}]},
]


def anthropic_usage_of(cache: dict[str, Any]) -> dict[str, Any]:
    return {**cache, **OUTPUT}


# --- the Anthropic surface ----------------------------------------------------------------


async def test_anthropic_surface_to_anthropic_carries_cache_control_and_thinking_json(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with anthropic_client(gw) as client:
        raw = await client.messages.with_raw_response.create(
            model="claude-reads",
            max_tokens=4000,
            system=SYSTEM,  # type: ignore[arg-type]
            messages=CONVERSATION,  # type: ignore[arg-type]
            tools=[TOOL],  # type: ignore[list-item]
            thinking={"type": "enabled", "budget_tokens": 2048},
        )
    sent = u.seen[-1]
    assert sent["system"] == SYSTEM
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] == 4000
    assert sent["tools"] == [TOOL]
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Capital of France?", "cache_control": EPHEMERAL}],
        },
        {"role": "assistant", "content": PREVIOUS_TURN},  # signatures and redacted data intact
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "capital"}],
        },
    ]
    m = await raw.parse()
    assert [b.type for b in m.content] == ["thinking", "redacted_thinking", "text"]
    thinking, redacted, text = m.content
    assert thinking.type == "thinking" and thinking.thinking == "Let me think."
    assert thinking.signature == SIGNATURE
    assert redacted.type == "redacted_thinking" and redacted.data == REDACTED
    assert text.type == "text" and text.text == "Paris."
    assert m.usage.input_tokens == 400 and m.usage.output_tokens == 50
    assert m.usage.cache_read_input_tokens == 600 and m.usage.cache_creation_input_tokens == 0
    assert m.usage.output_tokens_details is not None and m.usage.output_tokens_details.thinking_tokens == 30
    assert raw.headers["x-sluice-cost-usd"] == f"0.{COST_WITH_READS:06d}"


async def test_anthropic_surface_reports_cache_writes_by_lifetime(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    async with anthropic_client(gw) as client:
        m = await client.messages.create(
            model="claude", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
    assert m.usage.input_tokens == 100
    assert m.usage.cache_creation_input_tokens == 300 and m.usage.cache_read_input_tokens == 600
    assert m.usage.cache_creation is not None
    assert m.usage.cache_creation.ephemeral_5m_input_tokens == 200
    assert m.usage.cache_creation.ephemeral_1h_input_tokens == 100


async def test_cost_header_prices_cache_writes_at_their_rates(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    async with anthropic_client(gw) as client:
        raw = await client.messages.with_raw_response.create(
            model="claude", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
    assert raw.headers["x-sluice-cost-usd"] == f"0.{COST_WITH_WRITES:06d}"


async def test_anthropic_surface_to_anthropic_stream_has_thinking_and_signature_deltas(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with anthropic_client(gw) as client:
        async with client.messages.stream(
            model="claude",
            max_tokens=4000,
            system=SYSTEM,  # type: ignore[arg-type]
            messages=CONVERSATION,  # type: ignore[arg-type]
            thinking={"type": "enabled", "budget_tokens": 2048},
        ) as stream:
            deltas = [e.delta.type async for e in stream if e.type == "content_block_delta"]
            final = await stream.get_final_message()
    sent = u.seen[-1]
    assert sent["stream"] is True and sent["system"] == SYSTEM
    assert sent["messages"][1] == {"role": "assistant", "content": PREVIOUS_TURN}
    assert deltas == ["thinking_delta", "thinking_delta", "signature_delta", "text_delta"]
    assert [b.type for b in final.content] == ["thinking", "redacted_thinking", "text"]
    thinking, redacted, text = final.content
    assert thinking.type == "thinking" and thinking.thinking == "Let me think."
    assert thinking.signature == SIGNATURE
    assert redacted.type == "redacted_thinking" and redacted.data == REDACTED
    assert text.type == "text" and text.text == "Paris."
    assert final.usage.input_tokens == 100 and final.usage.output_tokens == 50
    assert final.usage.cache_read_input_tokens == 600 and final.usage.cache_creation_input_tokens == 300


async def test_anthropic_surface_to_openai_maps_thinking_and_reports_cached_tokens(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with anthropic_client(gw) as client:
        raw = await client.messages.with_raw_response.create(
            model="gpt",
            max_tokens=12000,
            system=SYSTEM,  # type: ignore[arg-type]
            messages=CONVERSATION,  # type: ignore[arg-type]
            tools=[TOOL],  # type: ignore[list-item]
            thinking={"type": "enabled", "budget_tokens": 10000},
        )
        async with client.messages.stream(
            model="gpt",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
            thinking={"type": "enabled", "budget_tokens": 1024},
        ) as stream:
            final = await stream.get_final_message()
    sent = u.seen[0]
    assert sent["reasoning_effort"] == "medium"
    assert "thinking" not in sent and "cache_control" not in msgspec.json.encode(sent).decode()
    assert sent["messages"][0] == {
        "role": "system",
        "content": [{"type": "text", "text": SYSTEM[0]["text"]}, {"type": "text", "text": SYSTEM[1]["text"]}],
    }
    assert sent["messages"][1] == {
        "role": "user",
        "content": [{"type": "text", "text": "Capital of France?"}],
    }
    assert sent["messages"][2] == {  # the thinking stays behind: OpenAI could not verify it
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {
                "id": "toolu_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert sent["tools"][0] == {
        "type": "function",
        "function": {"name": "lookup", "description": "Look a city up", "parameters": TOOL["input_schema"]},
    }
    assert u.seen[1]["reasoning_effort"] == "low"
    m = await raw.parse()
    # An OpenAI-type upstream's reasoning_content becomes an unsigned thinking block.
    assert [(b.type, getattr(b, "thinking", None)) for b in m.content] == [
        ("thinking", "Hmm."),
        ("text", None),
    ]
    # OpenAI's prompt_tokens include the cached ones; Anthropic's input_tokens do not.
    assert (m.usage.input_tokens, m.usage.cache_read_input_tokens, m.usage.cache_creation_input_tokens) == (
        976,
        1024,
        0,
    )
    assert m.usage.output_tokens == 50
    assert m.usage.output_tokens_details is not None and m.usage.output_tokens_details.thinking_tokens == 30
    assert raw.headers["x-sluice-cost-usd"] == f"0.{COST_OPENAI:06d}"
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens) == (976, 1024)


# --- the OpenAI surface -------------------------------------------------------------------


async def test_openai_surface_to_anthropic_maps_reasoning_effort_and_cache_control(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with openai_client(gw) as client:
        first = await client.chat.completions.with_raw_response.create(
            model="claude-reads",
            reasoning_effort="medium",
            max_completion_tokens=10000,
            prompt_cache_key="tenant-a",
            messages=[
                {
                    "role": "system",
                    "content": [
                        {"type": "text", "text": "You are a geographer."},
                        {"type": "text", "text": "Reference.", "cache_control": EPHEMERAL_1H},  # type: ignore[typeddict-unknown-key]
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Capital?", "prompt_cache_breakpoint": {"mode": "explicit"}}
                    ],  # type: ignore[typeddict-unknown-key]
                },
            ],
            tools=[
                {
                    "type": "function",
                    "function": {"name": "lookup", "parameters": TOOL["input_schema"]},
                    "cache_control": EPHEMERAL,  # type: ignore[typeddict-unknown-key]
                }
            ],
        )
        answer = first.parse()
        message = answer.choices[0].message
        echoed = message.model_dump(exclude_none=True)
        second = await client.chat.completions.create(
            model="claude-reads",
            reasoning_effort="high",
            messages=[{"role": "user", "content": "Capital?"}, echoed, {"role": "user", "content": "Sure?"}],  # type: ignore[list-item]
        )
    sent = u.seen[0]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    assert sent["max_tokens"] == 10000
    assert "prompt_cache_key" not in sent
    assert sent["system"] == [
        {"type": "text", "text": "You are a geographer."},
        {"type": "text", "text": "Reference.", "cache_control": EPHEMERAL_1H},
    ]
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Capital?", "cache_control": EPHEMERAL_1H}]}
    ]
    assert sent["tools"] == [
        {"name": "lookup", "input_schema": TOOL["input_schema"], "cache_control": EPHEMERAL}
    ]
    # The answer: reasoning_content to read, thinking_blocks (signed) to send back.
    assert message.content == "Paris."
    extra = message.model_extra or {}
    assert extra["reasoning_content"] == "Let me think."
    assert extra["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
    ]
    usage = answer.usage
    assert usage is not None and usage.prompt_tokens == 1000 and usage.completion_tokens == 50
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 600
    assert (
        usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 30
    )
    assert first.headers["x-sluice-cost-usd"] == f"0.{COST_WITH_READS:06d}"
    # The next turn sends the signed blocks back ahead of the text; no cap: room beyond the budget.
    again = u.seen[1]
    assert again["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert again["max_tokens"] == 16384 + 4096
    assert again["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Let me think.", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "Paris."},
        ],
    }
    assert second.choices[0].message.content == "Paris."


async def test_openai_surface_to_anthropic_stream_reports_reasoning_and_cache_writes(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with openai_client(gw) as client:
        stream = await client.chat.completions.create(
            model="claude",
            reasoning_effort="low",
            max_tokens=1500,
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Capital?"}],
        )
        chunks = [c async for c in stream]
    assert u.seen[-1]["thinking"] == {"type": "enabled", "budget_tokens": 1499}  # under the client's cap
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == "Let me think."
    signed = [
        (d.model_extra or {}).get("thinking_blocks")
        for d in deltas
        if (d.model_extra or {}).get("thinking_blocks")
    ]
    assert signed == [
        [{"type": "thinking", "thinking": "", "signature": SIGNATURE}],
        [{"type": "redacted_thinking", "data": REDACTED}],
    ]
    assert "".join(d.content or "" for d in deltas) == "Paris."
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 50, 1050)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 600
    assert usage.prompt_tokens_details.cache_write_tokens == 300
    assert (
        usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 30
    )
    assert (usage.model_extra or {})["cache_creation"] == {
        "ephemeral_5m_input_tokens": 200,
        "ephemeral_1h_input_tokens": 100,
    }


async def test_openai_surface_to_openai_forwards_cache_options_and_drops_anthropic_fields(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with openai_client(gw) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt",
            reasoning_effort="low",
            prompt_cache_key="tenant-a",
            prompt_cache_retention="24h",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Capital?", "cache_control": EPHEMERAL},  # type: ignore[typeddict-unknown-key]
                        {"type": "text", "text": "Briefly.", "prompt_cache_breakpoint": {"mode": "explicit"}},  # type: ignore[typeddict-unknown-key]
                    ],
                },
                {
                    "role": "assistant",
                    "content": "Paris.",
                    "reasoning_content": "Hmm.",  # type: ignore[typeddict-unknown-key]
                    "thinking_blocks": [{"type": "thinking", "thinking": "Hmm.", "signature": "s"}],  # type: ignore[typeddict-unknown-key]
                },
                {"role": "user", "content": "Sure?"},
            ],
        )
        stream = await client.chat.completions.create(
            model="gpt",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "hi"}],
        )
        chunks = [c async for c in stream]
    sent = u.seen[0]
    assert sent["model"] == "gpt-4o-mini"
    assert (sent["reasoning_effort"], sent["prompt_cache_key"], sent["prompt_cache_retention"]) == (
        "low",
        "tenant-a",
        "24h",
    )
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Capital?"},
                {"type": "text", "text": "Briefly.", "prompt_cache_breakpoint": {"mode": "explicit"}},
            ],
        },
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "Sure?"},
    ]
    c = raw.parse()
    assert (c.choices[0].message.model_extra or {})["reasoning_content"] == "Hmm."
    assert c.usage is not None and c.usage.prompt_tokens_details is not None
    assert c.usage.prompt_tokens_details.cached_tokens == 1024
    assert (
        c.usage.completion_tokens_details is not None
        and c.usage.completion_tokens_details.reasoning_tokens == 30
    )
    assert raw.headers["x-sluice-cost-usd"] == f"0.{COST_OPENAI:06d}"
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 1024
    assert (
        "".join(
            (ch.choices[0].delta.model_extra or {}).get("reasoning_content") or ""
            for ch in chunks
            if ch.choices
        )
        == "Hmm."
    )


async def test_bad_reasoning_and_cache_fields_are_400s_naming_the_param(
    upstream: tuple[Upstream, str], gw: Any
) -> None:
    u, _ = upstream
    async with openai_client(gw) as client:
        with pytest.raises(openai.BadRequestError) as e:
            await client.chat.completions.create(
                model="claude",
                reasoning_effort="enormous",
                messages=[{"role": "user", "content": "hi"}],  # type: ignore[arg-type]
            )
        assert e.value.body["param"] == "reasoning_effort"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError) as e:
            await client.chat.completions.create(
                model="gpt",
                messages=[
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "hi", "cache_control": {"type": "forever"}}],
                    }
                ],  # type: ignore[typeddict-unknown-key]
            )
        assert e.value.body["param"] == "messages[0].content[0].cache_control.type"  # type: ignore[index]
    async with anthropic_client(gw) as client:
        with pytest.raises(anthropic.BadRequestError) as ae:
            await client.messages.create(
                model="claude",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                thinking={"type": "enabled", "budget_tokens": "lots"},  # type: ignore[typeddict-item]
            )
        assert ae.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
        assert "thinking.budget_tokens" in ae.value.body["error"]["message"]  # type: ignore[index]
    assert u.seen == []  # none of them reached an upstream
