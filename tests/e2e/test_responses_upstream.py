"""The Responses surface against real upstreams on loopback: an OpenAI-type server and an
Anthropic-type one (aiohttp), seen through the real `openai` SDK. What reaches the upstream is
the translated chat request; what the client gets is the Responses API's JSON and events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server
from tests.fixtures.http import call
from tests.fixtures.wait import eventually_async

APP_KEY = "sk-app-responses-0001"
ADMIN_KEY = "sluice-admin-responses-0001"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "anthropic"
TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
}


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "up",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = usage
    return b"data: " + msgspec.json.encode(body) + b"\n\n"


USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 5,
    "total_tokens": 16,
    "prompt_tokens_details": {"cached_tokens": 4},
    "completion_tokens_details": {"reasoning_tokens": 2},
}


class Upstream:
    """OpenAI's chat completions (the model name says what to do: ``tools``, ``midstream``, else
    text) and Anthropic's messages (canned tool-use answers); every body received is kept."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        model = body["model"]
        if not body.get("stream"):
            message = {"role": "assistant", "content": "plain answer"}
            return web.json_response(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": USAGE,
                }
            )
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        if model == "midstream":
            await resp.write(_chunk({"role": "assistant", "content": "Hel"}))
            await asyncio.sleep(0.2)  # the first batch reaches the client before the failure
            await resp.write(b"data: {not json\n\n")
            return resp
        if model == "tools":
            head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather"}}
            await resp.write(_chunk({"role": "assistant", "content": "Checking."}))
            await resp.write(_chunk({"tool_calls": [head]}))
            for part in ('{"location"', ': "Oslo"}'):
                await resp.write(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}))
            await resp.write(_chunk({}, "tool_calls"))
        else:
            for part in ("Hello", ", world"):
                await resp.write(_chunk({"content": part}))
            await resp.write(_chunk({}, "stop"))
        await resp.write(_chunk({}, usage=USAGE))
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        if body.get("stream"):
            data = (FIXTURES / "stream_tool_use.sse").read_bytes()
            return web.Response(body=data, content_type="text/event-stream")
        data = (FIXTURES / "message_tool_use.json").read_bytes()
        return web.Response(body=data, content_type="application/json")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.openai, **{"/v1/messages": u.anthropic}) as base:
        yield u, base


def config(base: str) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": APP_KEY, "name": "app"}]},
        "admin": {"keys": [{"key": ADMIN_KEY, "name": "ops"}]},
        "providers": {
            "oa": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"},
            "an": {"type": "anthropic", "base_url": base, "api_key": "sk-an"},
        },
        "models": {
            "text": {"deployments": [{"provider": "oa", "model": "text"}]},
            "tools": {"deployments": [{"provider": "oa", "model": "tools"}]},
            "midstream": {"deployments": [{"provider": "oa", "model": "midstream"}]},
            "claude": {"deployments": [{"provider": "an", "model": "claude-x"}]},
        },
        "routing": {"retries": {"max_attempts": 1}},
        "request_log": {"flush_ms": 10},
        "logging": {"level": "warning"},
    }


def client(gw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=APP_KEY, max_retries=0, timeout=15)


async def test_request_translation_reaches_the_upstream(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    async with client(gw) as c:
        r = await c.responses.create(
            model="text",
            instructions="Be terse.",
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "look"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AAAA"},
                    ],
                },
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "function_call", "call_id": "call_9", "name": "get_weather", "arguments": "{}"},
                {"type": "function_call", "call_id": "call_10", "name": "get_weather", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "call_9", "output": "sunny"},
                {"type": "function_call_output", "call_id": "call_10", "output": "rainy"},
            ],
            tools=[TOOL],
            tool_choice={"type": "function", "name": "get_weather"},
            parallel_tool_calls=False,
            max_output_tokens=300,
            temperature=0.5,
            top_p=0.9,
            reasoning={"effort": "low"},
            text={"format": {"type": "json_schema", "name": "out", "schema": schema}},
            metadata={"k": "v"},
            user="u-1",
            store=False,
            truncation="auto",
            include=["reasoning.encrypted_content"],
        )
    assert r.output_text == "plain answer"
    assert r.usage is not None and r.usage.input_tokens == 11 and r.usage.output_tokens == 5
    assert r.usage.input_tokens_details.cached_tokens == 4
    assert r.usage.output_tokens_details.reasoning_tokens == 2
    assert r.temperature == 0.5 and r.top_p == 0.9 and r.parallel_tool_calls is False
    assert r.truncation == "auto" and r.reasoning is not None and r.reasoning.effort == "low"
    [sent] = u.bodies
    assert sent["messages"] == [
        {"role": "system", "content": "Be terse."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
                {"id": "call_10", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "call_9"},
        {"role": "tool", "content": "rainy", "tool_call_id": "call_10"},
    ]
    assert sent["max_completion_tokens"] == 300 and sent["reasoning_effort"] == "low"
    assert sent["temperature"] == 0.5 and sent["top_p"] == 0.9 and sent["parallel_tool_calls"] is False
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": TOOL["parameters"]}}
    ]
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": schema},
    }
    assert sent["user"] == "u-1"
    assert "store" not in sent and "metadata" not in sent and "input" not in sent


async def test_stream_with_text_and_tool_call(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    async with client(gw) as c:
        async with c.responses.stream(model="tools", input="weather?", tools=[TOOL]) as stream:
            events = [e async for e in stream]
            final = await stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    msg, fc = final.output
    assert msg.type == "message" and final.output_text == "Checking."
    assert fc.type == "function_call" and fc.call_id == "call_1" and fc.name == "get_weather"
    assert fc.arguments == '{"location": "Oslo"}' and fc.status == "completed"
    assert final.usage is not None and final.usage.total_tokens == 16
    assert [e.output_index for e in events if e.type == "response.output_item.added"] == [0, 1]
    assert u.bodies[0]["stream_options"] == {"include_usage": True}


async def test_midstream_failure_is_error_and_response_failed(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    _, base = upstream
    gw = gateway(config(base))
    async with client(gw) as c:
        stream = await c.responses.create(model="midstream", input="hi", stream=True)
        events = [e async for e in stream]
        with pytest.raises(openai.NotFoundError):  # a failed stream is not stored
            await c.responses.retrieve(events[0].response.id)
    kinds = [e.type for e in events]
    assert kinds[:5] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
    ]
    assert kinds[-2:] == ["error", "response.failed"]
    assert "response.completed" not in kinds
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None and failed.error.code == events[-2].code


async def test_anthropic_upstream(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    async with client(gw) as c:
        r = await c.responses.create(
            model="claude", input="weather in SF?", tools=[TOOL], max_output_tokens=500
        )
        async with c.responses.stream(model="claude", input="weather in SF?", tools=[TOOL]) as stream:
            final = await stream.get_final_response()
    assert r.output_text == "I'll check the weather in San Francisco."
    fc = r.output[1]
    assert fc.type == "function_call" and fc.call_id == "toolu_01A09q90qw90lq917835lq9"
    assert msgspec.json.decode(fc.arguments) == {"location": "San Francisco, CA", "unit": "celsius"}
    assert r.usage is not None and r.usage.input_tokens_details.cached_tokens == 1024
    assert u.bodies[0]["max_tokens"] == 500 and u.bodies[0]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "weather in SF?"}]}
    ]
    assert final.output_text == "Okay, let me check the weather."
    [sfc] = [o for o in final.output if o.type == "function_call"]
    assert msgspec.json.decode(sfc.arguments) == {"location": "San Francisco, CA"}


async def test_request_log_names_the_route(upstream: tuple[Upstream, str], gateway: Any) -> None:
    _, base = upstream
    gw = gateway(config(base))
    async with client(gw) as c:
        r = await c.responses.create(model="text", input="log me")
    admin = {"authorization": f"Bearer {ADMIN_KEY}"}

    def logged() -> list[dict[str, Any]]:
        rows = call("GET", gw.base_url + "/admin/requests", headers=admin).json()["data"]
        return [row for row in rows if row["endpoint"] == "responses"]

    rows = await eventually_async(logged)
    assert rows[0]["model"] == "text" and rows[0]["status"] == 200
    assert r.status == "completed"
