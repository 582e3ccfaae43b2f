"""The real `anthropic` SDK against the gateway's /v1/messages (served by the sim model), and
the `anthropic` provider end to end: gateway A's openai clients -> anthropic provider ->
gateway B's /v1/messages, a real HTTP server speaking the Anthropic wire format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import Proc

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    config = sim_config()
    config["models"]["claude-haiku"] = {"deployments": [{"provider": "sim", "model": "sim-haiku"}]}
    return module_gateway(config)


@pytest.fixture(scope="module")
def client(gw: Proc) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gw.base_url, api_key=DEMO_KEY, max_retries=0, timeout=10) as c:
        yield c


def test_messages_json(client: anthropic.Anthropic) -> None:
    raw = client.messages.with_raw_response.create(
        model="claude-haiku",
        max_tokens=100,
        system="You are terse.",
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "there"}],
            }
        ],
    )
    m = raw.parse()
    assert m.type == "message" and m.role == "assistant" and m.model == "claude-haiku"
    assert [b.type for b in m.content] == ["text"]
    assert m.content[0].text == "Simulated reply to: Hello there"
    assert m.stop_reason == "end_turn"
    assert m.usage.output_tokens == 5 and m.usage.input_tokens > 0
    assert raw.headers["x-sluice-model"] == "sim/sim-haiku"


def test_messages_max_tokens_stop_reason(client: anthropic.Anthropic) -> None:
    m = client.messages.create(
        model="claude-haiku", max_tokens=2, messages=[{"role": "user", "content": "a b c"}]
    )
    assert m.content[0].text == "Simulated reply" and m.stop_reason == "max_tokens"


def test_messages_stream(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-haiku", max_tokens=100, messages=[{"role": "user", "content": "stream please"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Simulated reply to: stream please"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 5
    assert final.content[0].text == text


def test_tools_round_trip(client: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": "Lisbon"}]
    m = client.messages.create(model="claude-haiku", max_tokens=100, tools=[WEATHER], messages=messages)
    assert m.stop_reason == "tool_use"
    tool = next(b for b in m.content if b.type == "tool_use")
    assert tool.name == "get_weather" and tool.input == {"city": "Lisbon"}
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in m.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "rain"}]},
    ]
    m = client.messages.create(model="claude-haiku", max_tokens=100, tools=[WEATHER], messages=messages)
    assert m.content[0].text == "Tool result received: rain" and m.stop_reason == "end_turn"


def test_tool_use_streamed(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-haiku",
        max_tokens=100,
        tools=[WEATHER],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Rome"}],
    ) as stream:
        final = stream.get_final_message()
    tool = next(b for b in final.content if b.type == "tool_use")
    assert tool.input == {"city": "Rome"} and final.stop_reason == "tool_use"


def test_errors_in_anthropic_shape(gw: Proc, client: anthropic.Anthropic) -> None:
    with anthropic.Anthropic(base_url=gw.base_url, api_key="sk-wrong", max_retries=0) as wrong:
        with pytest.raises(anthropic.AuthenticationError) as e:
            wrong.messages.create(
                model="claude-haiku", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(
            model="claude-opus-9", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert nf.value.body["error"]["type"] == "not_found_error"
    r = call(
        "POST",
        gw.base_url + "/v1/messages",
        b'{"model": "claude-haiku", "max_tokens": 10, "messages": [',
        {"x-api-key": DEMO_KEY},
    )
    assert (
        r.status == 400
        and r.json()["type"] == "error"
        and r.json()["error"]["type"] == "invalid_request_error"
    )
    r = call(
        "POST",
        gw.base_url + "/v1/messages",
        {"model": "claude-haiku", "messages": [{"role": "user", "content": "x"}]},
        {"x-api-key": DEMO_KEY},
    )
    assert r.status == 400 and "max_tokens" in r.json()["error"]["message"]


@pytest.fixture(scope="module")
def chained(module_gateway, gw: Proc) -> Proc:
    """Gateway A, whose `claude-haiku` is an anthropic deployment pointing at gateway B."""
    return module_gateway(
        {
            "auth": {"keys": [{"key": "sk-front", "name": "front"}]},
            "providers": {"anthropic": {"type": "anthropic", "base_url": gw.base_url, "api_key": DEMO_KEY}},
            "models": {"claude-haiku": {"deployments": [{"provider": "anthropic", "model": "claude-haiku"}]}},
            "logging": {"level": "warning"},
        }
    )


def test_anthropic_provider_json_and_tools(chained: Proc) -> None:
    with openai.OpenAI(
        base_url=f"{chained.base_url}/v1", api_key="sk-front", max_retries=0, timeout=10
    ) as oa:
        _chain_json_and_tools(oa)


def _chain_json_and_tools(oa: openai.OpenAI) -> None:
    raw = oa.chat.completions.with_raw_response.create(
        model="claude-haiku",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "ping"}],
    )
    r = raw.parse()
    assert r.choices[0].message.content == "Simulated reply to: ping"
    assert r.choices[0].finish_reason == "stop" and r.usage.completion_tokens == 4
    assert raw.headers["x-sluice-model"] == "anthropic/claude-haiku"
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER["input_schema"]}}
    r = oa.chat.completions.create(
        model="claude-haiku", messages=[{"role": "user", "content": "Oslo"}], tools=[tool]
    )
    call_ = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls" and json.loads(call_.function.arguments) == {
        "city": "Oslo"
    }
    r = oa.chat.completions.create(
        model="claude-haiku",
        tools=[tool],
        messages=[
            {"role": "user", "content": "Oslo"},
            r.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call_.id, "content": "snow"},
        ],
    )
    assert r.choices[0].message.content == "Tool result received: snow"


def test_anthropic_provider_stream(chained: Proc) -> None:
    with openai.OpenAI(
        base_url=f"{chained.base_url}/v1", api_key="sk-front", max_retries=0, timeout=10
    ) as oa:
        chunks = list(
            oa.chat.completions.create(
                model="claude-haiku",
                messages=[{"role": "user", "content": "one two"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Simulated reply to: one two"
    )
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_anthropic_sdk_through_two_gateways(chained: Proc) -> None:
    with anthropic.Anthropic(
        base_url=chained.base_url, api_key="sk-front", max_retries=0, timeout=10
    ) as client:
        with client.messages.stream(
            model="claude-haiku", max_tokens=50, messages=[{"role": "user", "content": "relay"}]
        ) as s:
            assert "".join(s.text_stream) == "Simulated reply to: relay"
