"""The simulated model's answers are exact functions of the request."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import msgspec
import pytest

from sluice.errors import InvalidRequestError
from sluice.sim import model
from sluice.types import (
    ChatRequest,
    EmbeddingRequest,
    chat_request_decoder,
    embedding_request_decoder,
    encoder,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def chat(text: str = "hello there", **fields: Any) -> ChatRequest:
    body = {"model": "alias", "messages": [{"role": "user", "content": text}], **fields}
    return chat_request_decoder.decode(encoder.encode(body))


def embedding(**fields: Any) -> EmbeddingRequest:
    return embedding_request_decoder.decode(encoder.encode({"model": "alias", **fields}))


def as_dict(value: msgspec.Struct) -> Any:
    return msgspec.json.decode(encoder.encode(value))


def test_reply_echoes_the_last_user_message() -> None:
    response = model.complete(chat("hello there"), "sim-1", created=1700000000)
    body = as_dict(response)
    assert body["id"].startswith("chatcmpl-sim-")
    assert body == {
        "id": body["id"],
        "object": "chat.completion",
        "created": 1700000000,
        "model": "sim-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Simulated reply to: hello there"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        "system_fingerprint": "fp_sluice_sim",
    }


def test_ids_are_deterministic_per_request() -> None:
    first = model.complete(chat("a"), "m", created=1)
    assert model.complete(chat("a"), "m", created=2).id == first.id
    assert model.complete(chat("b"), "m", created=1).id != first.id
    assert len(first.id) == len("chatcmpl-sim-") + 24


def test_reply_uses_the_last_user_text_and_joins_text_parts() -> None:
    request = chat_request_decoder.decode(
        encoder.encode(
            {
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "first"},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "look at"},
                            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                            {"type": "text", "text": "this"},
                        ],
                    },
                    {"role": "assistant", "content": "ok"},
                ],
            }
        )
    )
    response = model.complete(request, "m", created=0)
    assert response.choices[0].message.content == "Simulated reply to: look at this"
    # words of every message plus 3 per message: (2+3) + (1+3) + (3+3) + (1+3)
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (19, 6)


def test_a_tool_result_is_acknowledged() -> None:
    request = chat(
        "weather?",
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"},
        ],
    )
    choice = model.complete(request, "m", created=0).choices[0]
    assert (choice.message.content, choice.message.tool_calls, choice.finish_reason) == (
        "Tool result received: sunny, 21 C",
        None,
        "stop",
    )


def test_max_tokens_truncates_with_finish_reason_length() -> None:
    for field in ("max_tokens", "max_completion_tokens"):
        response = model.complete(chat("one two three four", **{field: 3}), "m", created=0)
        assert response.choices[0].message.content == "Simulated reply to:"
        assert response.choices[0].finish_reason == "length"
        assert response.usage is not None and response.usage.completion_tokens == 3


def test_max_tokens_at_the_word_count_does_not_truncate() -> None:
    choice = model.complete(chat("one two", max_tokens=5), "m", created=0).choices[0]
    assert (choice.message.content, choice.finish_reason) == ("Simulated reply to: one two", "stop")


def test_the_first_stop_sequence_cuts_the_reply() -> None:
    choice = model.complete(chat("alpha beta gamma", stop=["gamma", "beta"]), "m", created=0).choices[0]
    assert (choice.message.content, choice.finish_reason) == ("Simulated reply to: alpha ", "stop")
    assert model.complete(chat("x", stop="reply"), "m", created=0).choices[0].message.content == "Simulated "


def test_tools_call_the_first_tool_with_arguments_from_its_schema() -> None:
    response = model.complete(chat("weather in Paris", tools=[WEATHER, CLOCK]), "m", created=0)
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.id.startswith("call_") and len(call.id) == len("call_") + 24
    assert (call.type, call.function.name) == ("function", "get_weather")
    assert call.function.arguments == '{"city":"weather in Paris","unit":"c"}'
    assert response.usage is not None and response.usage.completion_tokens == 3
    again = model.complete(chat("weather in Paris", tools=[WEATHER, CLOCK]), "m", created=9)
    assert again.choices[0].message.tool_calls == [call]


def test_a_named_tool_choice_picks_that_tool() -> None:
    request = chat(
        "now", tools=[WEATHER, CLOCK], tool_choice={"type": "function", "function": {"name": "get_time"}}
    )
    response = model.complete(request, "m", created=0)
    [call] = response.choices[0].message.tool_calls or []
    assert (call.function.name, call.function.arguments) == ("get_time", "{}")
    assert response.usage is not None and response.usage.completion_tokens == 1


def test_an_unknown_named_tool_is_an_invalid_request() -> None:
    request = chat("now", tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}})
    with pytest.raises(InvalidRequestError) as e:
        model.complete(request, "m", created=0)
    assert e.value.param == "tool_choice"


def test_tool_choice_none_answers_in_text() -> None:
    choice = model.complete(chat("hi", tools=[WEATHER], tool_choice="none"), "m", created=0).choices[0]
    assert (choice.message.content, choice.finish_reason) == ("Simulated reply to: hi", "stop")


def names(request: ChatRequest) -> list[str]:
    return [
        c.function.name for c in model.complete(request, "m", created=0).choices[0].message.tool_calls or []
    ]


def test_parallel_tool_calls_when_the_text_names_two_tools_or_the_request_asks() -> None:
    both = chat("get_weather in Paris, then get_time", tools=[WEATHER, CLOCK])
    response = model.complete(both, "m", created=0)
    calls = response.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2 and response.choices[0].finish_reason == "tool_calls"
    assert names(chat("weather?", tools=[WEATHER, CLOCK], parallel_tool_calls=True)) == [
        "get_weather",
        "get_time",
    ]
    # One call: a single tool named, none named, parallel_tool_calls false, or a named tool_choice.
    assert names(chat("get_time please", tools=[WEATHER, CLOCK])) == ["get_weather"]
    assert names(chat("weather?", tools=[WEATHER, CLOCK])) == ["get_weather"]
    assert names(chat("get_weather get_time", tools=[WEATHER, CLOCK], parallel_tool_calls=False)) == [
        "get_weather"
    ]
    named = {"type": "function", "function": {"name": "get_time"}}
    assert names(chat("get_weather get_time", tools=[WEATHER, CLOCK], tool_choice=named)) == ["get_time"]


def test_stream_parallel_tool_calls_are_indexed() -> None:
    request = chat("x", tools=[WEATHER, CLOCK], parallel_tool_calls=True, stream=True)
    heads = [
        tc
        for c in model.stream_chunks(request, "m", created=0)
        for tc in as_dict(c)["choices"][0]["delta"].get("tool_calls", [])
        if "id" in tc
    ]
    assert [(h["index"], h["function"]["name"]) for h in heads] == [(0, "get_weather"), (1, "get_time")]


def test_logprobs_in_openais_shape_json_and_stream() -> None:
    request = chat("hi", logprobs=True, top_logprobs=2)
    choice = as_dict(model.complete(request, "m", created=0))["choices"][0]
    content = choice["logprobs"]["content"]
    assert choice["logprobs"]["refusal"] is None
    assert "".join(t["token"] for t in content) == choice["message"]["content"] == "Simulated reply to: hi"
    for t in content:
        assert t["bytes"] == list(t["token"].encode()) and -1 <= t["logprob"] <= 0
        assert t["top_logprobs"][0]["token"] == t["token"] and len(t["top_logprobs"]) == 2
        assert t["top_logprobs"][0]["logprob"] == t["logprob"] > t["top_logprobs"][1]["logprob"]
    streamed = [
        as_dict(c)["choices"][0]
        for c in model.stream_chunks(chat("hi", logprobs=True, top_logprobs=2, stream=True), "m", created=0)
    ]
    pieces = [t for c in streamed if "logprobs" in c for t in c["logprobs"]["content"]]
    assert pieces == content
    assert all(("logprobs" in c) == bool(c["delta"].get("content")) for c in streamed)
    # Not asked: no logprobs field; no content (a tool call): content null; top_logprobs 0: none.
    assert "logprobs" not in as_dict(model.complete(chat("hi"), "m", created=0))["choices"][0]
    tool = as_dict(model.complete(chat("hi", tools=[WEATHER], logprobs=True), "m", created=0))["choices"][0]
    assert tool["logprobs"] == {"content": None, "refusal": None}
    plain = as_dict(model.complete(chat("hi", logprobs=True), "m", created=0))["choices"][0]
    assert all(t["top_logprobs"] == [] for t in plain["logprobs"]["content"])


def test_json_object_wraps_the_reply() -> None:
    response = model.complete(chat("hi", response_format={"type": "json_object"}), "m", created=0)
    assert response.choices[0].message.content == '{"answer":"Simulated reply to: hi"}'
    assert response.usage is not None and response.usage.completion_tokens == 4


def test_json_schema_builds_an_object_from_the_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "mood": {"enum": ["happy", "sad"]},
            "nick": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "note": {"type": ["null", "integer"]},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}},
            "extra": {"type": "object"},
        },
    }
    request = chat(
        "Ada", response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}
    )
    content = model.complete(request, "m", created=0).choices[0].message.content
    assert content == (
        '{"name":"Ada","age":1,"score":1.0,"ok":true,"tags":[],"mood":"happy","nick":"Ada",'
        '"note":1,"address":{"city":"Ada"},"extra":{}}'
    )


def test_n_choices_carry_the_same_answer_and_count_each() -> None:
    response = model.complete(chat("hi", n=3), "m", created=0)
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert {c.message.content for c in response.choices} == {"Simulated reply to: hi"}
    assert response.usage is not None and response.usage.completion_tokens == 12


def test_stream_chunks_one_word_each() -> None:
    chunks = model.stream_chunks(chat("hello there"), "sim-1", created=5)
    pieces = [as_dict(c) for c in chunks]
    response_id = model.complete(chat("hello there"), "sim-1", created=5).id
    for p in pieces:
        assert (p["id"], p["object"], p["created"], p["model"], p["system_fingerprint"]) == (
            response_id,
            "chat.completion.chunk",
            5,
            "sim-1",
            "fp_sluice_sim",
        )
    assert [p["choices"] for p in pieces] == [
        [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        *(
            [{"index": 0, "delta": {"content": w}, "finish_reason": None}]
            for w in ["Simulated", " reply", " to:", " hello", " there"]
        ),
        [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    ]


def test_stream_pieces_rebuild_the_exact_content() -> None:
    request = chat("  spaced\tout\n text  ")
    expected = model.complete(request, "m", created=0).choices[0].message.content
    chunks = model.stream_chunks(request, "m", created=0)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected


def test_stream_with_a_chunk_count_splits_into_exactly_that_many_pieces() -> None:
    chunks = model.stream_chunks(chat("hello there"), "m", created=0, pieces=3)
    contents = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert contents == ["Simulated ", "reply to: ", "hello there"]


def test_stream_usage_chunk_only_when_asked() -> None:
    assert model.stream_chunks(chat("hi"), "m", created=0)[-1].usage is None
    last = as_dict(
        model.stream_chunks(chat("hi", stream_options={"include_usage": True}), "m", created=0)[-1]
    )
    assert (last["choices"], last["usage"]) == (
        [],
        {"prompt_tokens": 4, "completion_tokens": 4, "total_tokens": 8},
    )


def test_stream_tool_call_deltas() -> None:
    request = chat("weather in Paris", tools=[WEATHER], stream=True)
    [call] = model.complete(request, "m", created=0).choices[0].message.tool_calls or []
    choices = [as_dict(c)["choices"][0] for c in model.stream_chunks(request, "m", created=0)]
    assert choices[0]["delta"] == {"role": "assistant", "content": ""}
    assert choices[1]["delta"] == {
        "tool_calls": [
            {
                "index": 0,
                "id": call.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ]
    }
    fragments = [c["delta"]["tool_calls"][0]["function"]["arguments"] for c in choices[2:-1]]
    assert fragments == ['{"city":"weather', " in", ' Paris","unit":"c"}']
    assert all(
        c["delta"]["tool_calls"][0] == {"index": 0, "function": {"arguments": f}}
        for c, f in zip(choices[2:-1], fragments, strict=True)
    )
    assert choices[-1] == {"index": 0, "delta": {}, "finish_reason": "tool_calls"}


def test_stream_n_choices_each_complete() -> None:
    chunks = model.stream_chunks(chat("hi", n=2), "m", created=0)
    finishes = [
        (c.choices[0].index, c.choices[0].finish_reason) for c in chunks if c.choices[0].finish_reason
    ]
    assert finishes == [(0, "stop"), (1, "stop")]
    assert len(chunks) == 2 * (1 + 4 + 1)


def test_embeddings_are_deterministic_unit_vectors() -> None:
    response = model.embed(embedding(input=["hello world", "other", "hello world"]), "emb", default_dim=64)
    vectors = [d.embedding for d in response.data]
    assert all(isinstance(v, list) and len(v) == 64 for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-6) for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert [d.index for d in response.data] == [0, 1, 2]
    assert (response.object, response.model) == ("list", "emb")
    assert response.usage is not None and (response.usage.prompt_tokens, response.usage.total_tokens) == (
        5,
        5,
    )


def test_embedding_base64_is_little_endian_float32_of_the_same_vector() -> None:
    floats = model.embed(embedding(input="hi", dimensions=8), "emb", default_dim=64).data[0].embedding
    encoded = model.embed(
        embedding(input="hi", dimensions=8, encoding_format="base64"), "emb", default_dim=64
    )
    raw = encoded.data[0].embedding
    assert isinstance(raw, str)
    assert list(struct.unpack("<8f", base64.b64decode(raw))) == floats


def test_embedding_token_arrays() -> None:
    one = model.embed(embedding(input=[1, 2, 3]), "emb", default_dim=4)
    assert len(one.data) == 1 and one.usage is not None and one.usage.prompt_tokens == 3
    many = model.embed(embedding(input=[[1, 2, 3], [4]]), "emb", default_dim=4)
    assert many.data[0].embedding == one.data[0].embedding
    assert many.usage is not None and many.usage.prompt_tokens == 4


def test_embedding_dimensions_are_capped() -> None:
    with pytest.raises(InvalidRequestError) as e:
        model.embed(embedding(input="hi", dimensions=5000), "emb", default_dim=64)
    assert e.value.param == "dimensions"


def test_reasoning_effort_gets_a_signed_reasoning_block_and_reasoning_tokens() -> None:
    plain = model.complete(chat("why"), "sim-mini", created=1)
    r = model.complete(chat("why", reasoning_effort="high"), "sim-mini", created=1)
    message = r.choices[0].message
    assert message.content == plain.choices[0].message.content == "Simulated reply to: why"
    assert message.reasoning_content == "Simulated high reasoning about: why"
    assert message.thinking_blocks is not None and len(message.thinking_blocks) == 1
    block = message.thinking_blocks[0]
    assert block.thinking == message.reasoning_content and block.signature.startswith("sim-signature-")
    assert r.usage is not None and plain.usage is not None
    assert r.usage.reasoning_tokens == model.REASONING_TOKENS["high"] == 64
    assert r.usage.completion_tokens == plain.usage.completion_tokens + 64
    assert (
        model.complete(chat("why", reasoning_effort="none"), "m", created=1)
        .choices[0]
        .message.reasoning_content
        is None
    )
    thinking = model.complete(
        chat("why", thinking={"type": "enabled", "budget_tokens": 2048}), "m", created=1
    )
    assert thinking.usage is not None and thinking.usage.reasoning_tokens == 32


def test_streamed_reasoning_comes_first_then_its_signature() -> None:
    request = chat("why", reasoning_effort="low", stream=True, stream_options={"include_usage": True})
    chunks = model.stream_chunks(request, "sim-mini", created=1)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = "".join(d.reasoning_content or "" for d in deltas)
    assert reasoning == "Simulated low reasoning about: why"
    signed = [d for d in deltas if d.thinking_blocks]
    assert len(signed) == 1 and signed[0].thinking_blocks is not None
    assert (
        signed[0].thinking_blocks[0].signature
        == model.complete(
            chat("why", reasoning_effort="low", stream=True, stream_options={"include_usage": True}),
            "m",
            created=1,
        )
        .choices[0]
        .message.thinking_blocks[0]
        .signature
    )  # type: ignore[index]
    first_content = next(i for i, d in enumerate(deltas) if d.content)
    assert deltas.index(signed[0]) < first_content
    assert chunks[-1].usage is not None and chunks[-1].usage.reasoning_tokens == 16


def test_a_prompt_cache_key_or_breakpoint_reads_the_earlier_messages_from_the_cache() -> None:
    messages = [
        {"role": "system", "content": "You answer in one long paragraph."},
        {"role": "user", "content": "hello there"},
    ]
    body = {"model": "alias", "messages": messages}
    cold = model.complete(chat_request_decoder.decode(msgspec.json.encode(body)), "m", created=1)
    keyed = model.complete(
        chat_request_decoder.decode(msgspec.json.encode({**body, "prompt_cache_key": "k"})), "m", created=1
    )
    marked = [
        {"role": "system", "content": [{"type": "text", "text": messages[0]["content"], "cache_control": {"type": "ephemeral"}}]},
        messages[1],
    ]  # fmt: skip
    breakpoint_ = model.complete(
        chat_request_decoder.decode(msgspec.json.encode({**body, "messages": marked})), "m", created=1
    )
    assert cold.usage is not None and cold.usage.cached_tokens == 0
    assert cold.usage.prompt_tokens_details is None
    for warm in (keyed, breakpoint_):
        assert warm.usage is not None
        assert warm.usage.cached_tokens == 6 + 3  # the system message's words and its overhead
        assert warm.usage.prompt_tokens == cold.usage.prompt_tokens


def grounded(system: str) -> ChatRequest:
    body = {
        "model": "alias",
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": "How many days off?"},
        ],
    }
    return chat_request_decoder.decode(encoder.encode(body))


def test_numbered_passages_are_cited_like_a_grounded_model_would() -> None:
    """The retrieval stage's context (``[n] (filename) text``): the sim quotes the first sentence
    of the first passage's first line that is not a heading, with its marker."""
    system = (
        "Answer from the numbered passages below.\n\n"
        "[1] (handbook.md) # Handbook\n\n## Vacation\n\nEvery employee gets 25 days a year. Ask first.\n\n"
        "[2] (office.md) The office opens at nine."
    )
    content = model.complete(grounded(system), "sim-1", created=0).choices[0].message.content
    assert content == (
        "Simulated reply to: How many days off?\nFrom the documents: Every employee gets 25 days a year. [1]"
    )
    for plain in ("No passages here.", "[1] (only-headings.md) # Title\n\n## Part"):
        content = model.complete(grounded(plain), "sim-1", created=0).choices[0].message.content
        assert content == "Simulated reply to: How many days off?"
