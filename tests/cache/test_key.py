"""Which requests are the same question: the exact key ignores what cannot change the answer
and nothing else; the semantic partition leaves out only the last user turn."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.cache.key import cache_keys, has_tool_calls_in_flight, is_deterministic
from sluice.types import ChatRequest

BASE: dict[str, Any] = {
    "model": "m",
    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2 + 2?"}],
    "temperature": 0,
}


def req(**changes: Any) -> ChatRequest:
    return msgspec.json.decode(msgspec.json.encode({**BASE, **changes}), type=ChatRequest)  # Raw fields too


def test_the_same_request_spelled_differently_has_the_same_key() -> None:
    a = msgspec.json.decode(
        b'{"model":"m","temperature":0,"messages":[{"role":"system","content":"Be brief."},'
        b'{"content":"What is 2 + 2?","role":"user"}],"audio":{"b":1,"a":2}}',
        type=ChatRequest,
    )
    b = msgspec.json.decode(
        b'{"audio":{"a":2,"b":1},"messages":[{"role":"system","content":"Be brief."},'
        b'{"role":"user","content":"What is 2 + 2?"}],"model":"m","temperature":0.0}',
        type=ChatRequest,
    )
    assert cache_keys("t", a, None) == cache_keys("t", b, None)


@pytest.mark.parametrize(
    "irrelevant",
    [
        {"stream": True},
        {"stream_options": {"include_usage": True}},
        {"user": "u1"},
        {"metadata": {"k": "v"}},
        {"store": True},
        {"service_tier": "flex"},
        {"sluice": {"cache": "no-cache"}},
        {"safety_identifier": "x"},
        {"prompt_cache_key": "k"},
        {"prompt_cache_retention": "24h"},
        {"prompt_cache_options": {"ttl": "30m"}},
    ],
)
def test_fields_that_cannot_change_the_answer_are_left_out(irrelevant: dict[str, Any]) -> None:
    assert cache_keys("t", req(**irrelevant), None).exact == cache_keys("t", req(), None).exact


@pytest.mark.parametrize(
    "relevant",
    [
        {"temperature": 0.5},
        {"seed": 1},
        {"max_tokens": 9},
        {"n": 2},
        {"stop": "x"},
        {"top_p": 0.5},
        {"response_format": {"type": "json_object"}},
        {"logit_bias": {"1": 2.0}},
        {"reasoning_effort": "low"},
        {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"model": "other"},
    ],
)
def test_everything_else_changes_the_key_and_the_partition(relevant: dict[str, Any]) -> None:
    base, other = cache_keys("t", req(), None), cache_keys("t", req(**relevant), None)
    assert other.exact != base.exact and other.partition != base.partition


def test_tenant_and_prompt_version_are_part_of_both() -> None:
    base = cache_keys("t", req(), None)
    for other in (cache_keys("u", req(), None), cache_keys("t", req(), "v2")):
        assert other.exact != base.exact and other.partition != base.partition


def test_the_partition_leaves_out_only_the_last_user_turn() -> None:
    a = cache_keys("t", req(), None)
    b = cache_keys(
        "t",
        req(messages=[BASE["messages"][0], {"role": "user", "content": "How much is two plus two?"}]),
        None,
    )
    assert a.exact != b.exact and a.partition == b.partition
    assert (a.prompt, b.prompt) == ("What is 2 + 2?", "How much is two plus two?")
    c = cache_keys(
        "t", req(messages=[{"role": "system", "content": "Be verbose."}, BASE["messages"][1]]), None
    )
    assert c.partition != a.partition


def test_no_partition_without_a_last_user_turn_in_text() -> None:
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]
    assert cache_keys("t", req(messages=image), None).partition is None
    parts = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert cache_keys("t", req(messages=parts), None).prompt == "a\nb"
    assistant_last = [*BASE["messages"], {"role": "assistant", "content": "4"}]
    assert cache_keys("t", req(messages=assistant_last), None).partition is None


def test_deterministic_and_tool_loops() -> None:
    assert is_deterministic(req()) and is_deterministic(req(temperature=1, seed=3))
    assert not is_deterministic(req(temperature=None)) and not is_deterministic(req(temperature=0.2))
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    loop = [
        *BASE["messages"],
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c", "content": "4"},
    ]
    assert has_tool_calls_in_flight(req(messages=loop)) and not has_tool_calls_in_flight(req())
