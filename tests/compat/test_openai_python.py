"""openai-python, unmodified, against each backend: chat, streams, tools over several turns with
the SDK's own message objects echoed back, parallel tool calls, structured output (``parse``),
logprobs, embeddings, the Responses API (create, stream, stored follow-up) and Completions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest
from pydantic import BaseModel

from tests.compat.conftest import Backend

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The time in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
]


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
def oa(backend: Backend) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=backend.base_url + "/v1", api_key=backend.key, max_retries=0, timeout=20
    ) as c:
        yield c


def test_chat(backend: Backend, oa: openai.OpenAI) -> None:
    c = oa.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])
    assert c.object == "chat.completion" and c.choices[0].finish_reason == "stop"
    assert "Hello" in (c.choices[0].message.content or "")
    assert c.usage is not None and c.usage.total_tokens == c.usage.prompt_tokens + c.usage.completion_tokens
    if backend.upstream is not None:  # the answer came from the backend's upstream
        assert "Hello" in str(backend.upstream.bodies[-1][1]["messages"][-1]["content"])


def test_chat_json_has_the_fields_openais_schema_requires(oa: openai.OpenAI) -> None:
    """``CreateChatCompletionResponse``: each choice has ``logprobs`` and its message ``refusal``,
    null or not (strictly generated clients, e.g. openai-java, fail on a missing required field)."""
    raw = oa.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
    ).http_response.json()
    choice = raw["choices"][0]
    assert {"index", "message", "finish_reason", "logprobs"} <= set(choice) and choice["logprobs"] is None
    assert {"role", "content", "refusal"} <= set(choice["message"]) and choice["message"]["refusal"] is None
    assert {"id", "object", "created", "model", "choices"} <= set(raw)


def test_stream_with_usage(backend: Backend, oa: openai.OpenAI) -> None:
    stream = oa.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Stream this"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert "Stream this" in text
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == [
        "stop"
    ]
    assert (
        chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    )


def test_tools_over_two_turns_echoing_the_sdks_message(backend: Backend, oa: openai.OpenAI) -> None:
    messages: list = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = oa.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    assert first.choices[0].finish_reason == "tool_calls"
    [call] = first.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments), dict)
    messages.append(first.choices[0].message)  # the SDK's own object, as its docs show
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "4C and rain"})
    second = oa.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    assert second.choices[0].finish_reason == "stop" and "4C and rain" in (
        second.choices[0].message.content or ""
    )
    messages.append(second.choices[0].message.model_dump())  # and its dict form, nulls and all
    messages.append({"role": "user", "content": "Thanks"})
    third = oa.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert "Thanks" in (third.choices[0].message.content or "")


def test_parallel_tool_calls_json_and_stream(backend: Backend, oa: openai.OpenAI) -> None:
    ask = [{"role": "user", "content": "Use get_weather and get_time for Oslo."}]
    c = oa.chat.completions.create(model="gpt-4o-mini", messages=ask, tools=TOOLS)
    calls = c.choices[0].message.tool_calls or []
    assert [t.function.name for t in calls] == ["get_weather", "get_time"] and len({t.id for t in calls}) == 2
    names: dict[int, str] = {}
    for ch in oa.chat.completions.create(model="gpt-4o-mini", messages=ask, tools=TOOLS, stream=True):
        for tc in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
            if tc.function and tc.function.name:
                names[tc.index] = tc.function.name
    assert names == {0: "get_weather", 1: "get_time"}
    messages: list = [*ask, c.choices[0].message]
    messages += [{"role": "tool", "tool_call_id": t.id, "content": f"{t.function.name}: ok"} for t in calls]
    final = oa.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    assert final.choices[0].finish_reason == "stop"


def test_structured_output_parse(backend: Backend, oa: openai.OpenAI) -> None:
    c = oa.chat.completions.parse(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Oslo"}], response_format=City
    )
    parsed = c.choices[0].message.parsed
    assert isinstance(parsed, City) and parsed.name and parsed.population


def test_logprobs(backend: Backend, oa: openai.OpenAI) -> None:
    kwargs: dict = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "logprobs": True}
    if backend.name == "anthropic":  # Anthropic has no logprobs: refused, naming the field
        with pytest.raises(openai.BadRequestError) as e:
            oa.chat.completions.create(**kwargs, top_logprobs=2)
        assert e.value.status_code == 400 and e.value.body["param"] == "logprobs"  # type: ignore[index]
        return
    c = oa.chat.completions.create(**kwargs, top_logprobs=2)
    content = c.choices[0].logprobs.content if c.choices[0].logprobs else None
    assert content and "".join(t.token for t in content) == c.choices[0].message.content
    assert all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in content)
    streamed = [
        t.token
        for ch in oa.chat.completions.create(**kwargs, stream=True)
        if ch.choices and ch.choices[0].logprobs
        for t in ch.choices[0].logprobs.content or []
    ]
    assert "".join(streamed) == c.choices[0].message.content


def test_embeddings(backend: Backend, oa: openai.OpenAI) -> None:
    e = oa.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert [d.index for d in e.data] == [0, 1] and len(e.data[0].embedding) > 8
    assert e.usage.prompt_tokens > 0
    b64 = oa.embeddings.create(model="text-embedding-3-small", input="one")  # SDK default: base64
    assert b64.data[0].embedding == e.data[0].embedding


def test_responses_create_stream_and_follow_up(backend: Backend, oa: openai.OpenAI) -> None:
    first = oa.responses.create(model="gpt-4o-mini", input="Hello")
    assert first.status == "completed" and "Hello" in first.output_text
    events = list(oa.responses.create(model="gpt-4o-mini", input="Stream me", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert "Stream me" in deltas
    follow = oa.responses.create(model="gpt-4o-mini", input="And again", previous_response_id=first.id)
    assert "And again" in follow.output_text
    items = oa.responses.input_items.list(follow.id)
    assert len(items.data) >= 3  # the first input, its answer and the new input
    assert oa.responses.retrieve(first.id).id == first.id


def test_responses_function_call_round_trip(backend: Backend, oa: openai.OpenAI) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}
    r = oa.responses.create(model="gpt-4o-mini", input="Weather in Oslo?", tools=[tool])
    [call] = [o for o in r.output if o.type == "function_call"]
    out = {"type": "function_call_output", "call_id": call.call_id, "output": "4C"}
    again = oa.responses.create(model="gpt-4o-mini", previous_response_id=r.id, input=[out], tools=[tool])
    assert "4C" in again.output_text


def test_completions(backend: Backend, oa: openai.OpenAI) -> None:
    c = oa.completions.create(model="gpt-4o-mini", prompt="Say hi", max_tokens=20)
    assert c.object == "text_completion" and "Say hi" in c.choices[0].text
    text = "".join(
        ch.choices[0].text
        for ch in oa.completions.create(model="gpt-4o-mini", prompt="Hi", stream=True)
        if ch.choices
    )
    assert "Hi" in text


def test_models_list(backend: Backend, oa: openai.OpenAI) -> None:
    ids = {m.id for m in oa.models.list()}
    assert {"gpt-4o-mini", "gpt-4o", "claude-haiku", "text-embedding-3-small"} <= ids
