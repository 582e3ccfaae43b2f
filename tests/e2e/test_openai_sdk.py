"""The real `openai` SDK against a gateway on loopback serving the in-process sim model."""

from __future__ import annotations

import array
import base64
import json
from collections.abc import Iterator

import openai
import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.procs import Proc


@pytest.fixture(scope="module")
def gw(module_gateway) -> Proc:
    return module_gateway(sim_config())


@pytest.fixture(scope="module")
def client(gw: Proc) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=10) as c:
        yield c


def test_chat_json(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "What is a sluice?"}]
    )
    r = raw.parse()
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "Simulated reply to: What is a sluice?"
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "sim-mini"
    assert (
        r.usage is not None
        and r.usage.completion_tokens == 7
        and r.usage.total_tokens == r.usage.prompt_tokens + 7
    )
    assert raw.headers["x-sluice-model"] == "sim/sim-mini"
    assert raw.headers["x-sluice-attempts"] == "1"
    assert raw.headers["x-request-id"].startswith("req_")


def test_request_id_is_echoed(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-request-id": "trace-42"},
    )
    assert raw.headers["x-request-id"] == "trace-42"


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "count to three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Simulated reply to: count to three"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


def test_max_tokens_and_stop(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a b c d e f"}], max_tokens=3
    )
    assert r.choices[0].message.content == "Simulated reply to:"
    assert r.choices[0].finish_reason == "length"
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "a b STOP c"}], stop=["STOP"]
    )
    assert r.choices[0].message.content == "Simulated reply to: a b "
    r = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "x"}],
        max_completion_tokens=2,
        n=2,
        seed=7,
        temperature=0.2,
        top_p=0.9,
        user="u-1",
    )
    assert [c.index for c in r.choices] == [0, 1]
    assert all(c.finish_reason == "length" for c in r.choices)


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}


def test_tools_round_trip(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Paris"}]
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER], tool_choice="auto"
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 1}
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    r = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])
    assert r.choices[0].message.content == "Tool result received: sunny, 21C"
    assert r.choices[0].finish_reason == "stop"


def test_tool_call_streamed(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Oslo"}],
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        stream=True,
    )
    name, args, finish = "", "", None
    for c in stream:
        for tc in c.choices[0].delta.tool_calls or [] if c.choices else []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
        if c.choices and c.choices[0].finish_reason:
            finish = c.choices[0].finish_reason
    assert (
        name == "get_weather" and json.loads(args) == {"city": "Oslo", "days": 1} and finish == "tool_calls"
    )


def test_response_format(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        response_format={"type": "json_object"},
    )
    assert json.loads(r.choices[0].message.content) == {"answer": "Simulated reply to: hi"}
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "ok": {"type": "boolean"}}}
    r = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Ada"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    assert json.loads(r.choices[0].message.content) == {"name": "Ada", "ok": True}


def test_embeddings(client: openai.OpenAI) -> None:
    r = client.embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
    assert [d.index for d in r.data] == [0, 1]
    assert len(r.data[0].embedding) == 256 and r.data[0].embedding != r.data[1].embedding
    again = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert again.data[0].embedding == r.data[0].embedding  # deterministic
    # Asked for explicitly, base64 comes back as the raw little-endian float32 string.
    b64 = client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="base64")
    floats = array.array("f", base64.b64decode(b64.data[0].embedding))
    assert list(floats) == pytest.approx(r.data[0].embedding, rel=1e-6)
    plain = client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
    assert plain.data[0].embedding == pytest.approx(r.data[0].embedding, rel=1e-6)


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    ids = sorted(m.id for m in client.models.list())
    assert ids == ["gpt-4o-mini", "text-embedding-3-small"]
    m = client.models.retrieve("gpt-4o-mini")
    assert (m.id, m.object, m.owned_by) == ("gpt-4o-mini", "model", "sim")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-9")


def test_sdk_errors(gw: Proc, client: openai.OpenAI) -> None:
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key="sk-wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="gpt-5-ultra", messages=[{"role": "user", "content": "hi"}])
    assert nf.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], temperature=3
        )
    assert bad.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], extra_body={"temprature": 0.5}
        )
    assert bad.value.param == "temprature"


def test_embedding_model_is_not_a_chat_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="text-embedding-3-small", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="gpt-4o-mini", input="hi")
