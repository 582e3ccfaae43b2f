"""reasoning_effort <-> extended thinking budgets, and what an OpenAI-type upstream is sent."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.errors import InvalidRequestError
from sluice.providers.openai import for_openai
from sluice.providers.reasoning import EFFORT_BUDGETS, effort_for, thinking_for
from sluice.types import ChatRequest, ThinkingConfig, chat_request_decoder, encoder


def chat(**body: Any) -> ChatRequest:
    body.setdefault("model", "m")
    body.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return chat_request_decoder.decode(msgspec.json.encode(body))


def as_json(request: ChatRequest) -> Any:
    return msgspec.json.decode(encoder.encode(request))


@pytest.mark.parametrize("effort", list(EFFORT_BUDGETS))
def test_each_effort_round_trips_to_a_comparable_effort(effort: str) -> None:
    thinking = thinking_for(effort, None)
    assert thinking is not None and thinking.budget_tokens == EFFORT_BUDGETS[effort]
    back = effort_for(thinking)
    expected = {"minimal": "low", "xhigh": "high", "max": "high"}.get(effort, effort)
    assert back == expected


@pytest.mark.parametrize(
    ("thinking", "effort"),
    [
        (ThinkingConfig(type="enabled", budget_tokens=1024), "low"),
        (ThinkingConfig(type="enabled", budget_tokens=4095), "low"),
        (ThinkingConfig(type="enabled", budget_tokens=4096), "medium"),
        (ThinkingConfig(type="enabled", budget_tokens=16383), "medium"),
        (ThinkingConfig(type="enabled", budget_tokens=16384), "high"),
        (ThinkingConfig(type="disabled"), None),
        (ThinkingConfig(type="adaptive"), None),
    ],
)
def test_a_thinking_budget_reads_as_an_effort(thinking: ThinkingConfig, effort: str | None) -> None:
    assert effort_for(thinking) == effort


def test_none_and_unknown_efforts() -> None:
    assert thinking_for("none", None) is None
    with pytest.raises(InvalidRequestError) as e:
        thinking_for("lots", None)
    assert e.value.param == "reasoning_effort"


def test_an_openai_upstream_gets_the_request_untouched_when_nothing_is_anthropic_only() -> None:
    request = chat(reasoning_effort="low", prompt_cache_key="k", prompt_cache_retention="24h")
    assert for_openai(request) is request


def test_an_openai_upstream_gets_no_anthropic_only_fields() -> None:
    request = chat(
        thinking={"type": "enabled", "budget_tokens": 20000},
        cache_control={"type": "ephemeral"},
        prompt_cache_key="k",
        messages=[
            {"role": "system", "content": "s", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [{"type": "text", "text": "q", "cache_control": {"type": "ephemeral"}}]},
            {"role": "assistant", "thinking_blocks": [{"type": "redacted_thinking", "data": "x"}]},
            {"role": "assistant", "content": "a", "reasoning_content": "r",
             "thinking_blocks": [{"type": "thinking", "thinking": "r", "signature": "s"}]},
            {"role": "user", "content": "again"},
        ],
        tools=[{"type": "function", "function": {"name": "f"}, "cache_control": {"type": "ephemeral"}}],
    )  # fmt: skip
    assert as_json(for_openai(request)) == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": [{"type": "text", "text": "q"}]},
            {"role": "assistant", "content": "a"},  # a turn that was only reasoning is gone
            {"role": "user", "content": "again"},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "reasoning_effort": "high",
        "prompt_cache_key": "k",
    }


def test_the_clients_own_reasoning_effort_wins_over_thinking() -> None:
    request = chat(reasoning_effort="minimal", thinking={"type": "enabled", "budget_tokens": 20000})
    assert as_json(for_openai(request))["reasoning_effort"] == "minimal"
