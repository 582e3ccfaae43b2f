"""LiteLLM's SDK, unmodified, against each backend, through both of the gateway's surfaces: as an
``openai/`` model (chat, streams, tools over two turns with LiteLLM's own message object echoed
back, parallel tool calls, structured output, embeddings, Responses with a stored follow-up, text
completions) and as an ``anthropic/`` model (``/v1/messages``: chat, stream, tools)."""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from collections.abc import Iterator
from typing import Any

# LiteLLM fetches its model price map from GitHub at import unless told to use its bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import pytest
from pydantic import BaseModel

from tests.compat.conftest import Backend

# LiteLLM's own types (a GitHub Copilot device-code TypedDict) warn when pydantic first builds them.
pytestmark = pytest.mark.filterwarnings("ignore:Item.* using the `ReadOnly` qualifier:UserWarning")

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name[4:]} in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    for name in ("get_weather", "get_time")
]


@pytest.fixture(scope="module", autouse=True)
def close_litellms_event_loop() -> Iterator[None]:
    """LiteLLM's synchronous calls set a new event loop as the thread's current one and never
    close it; closed here, once its calls are done, rather than left to the garbage collector
    (a ResourceWarning, an error under this suite's strict warnings)."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # none is current (an earlier test set None): nothing left open
            return
    loop.close()
    asyncio.set_event_loop(None)


class City(BaseModel):
    name: str
    population: int


def openai_args(backend: Backend, model: str = "gpt-4o-mini") -> dict[str, Any]:
    return {
        "model": f"openai/{model}",
        "api_base": backend.base_url + "/v1",
        "api_key": backend.key,
        "timeout": 20,
    }


def anthropic_args(backend: Backend) -> dict[str, Any]:
    return {
        "model": "anthropic/claude-haiku",
        "api_base": backend.base_url,
        "api_key": backend.key,
        "timeout": 20,
    }


def two_turns(args: dict[str, Any]) -> None:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Oslo?"}]
    first = litellm.completion(**args, messages=messages, tools=TOOLS)
    [call] = first.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments), dict)
    messages.append(first.choices[0].message)  # LiteLLM's own Message, as its docs show
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "4C and rain"})
    second = litellm.completion(**args, messages=messages, tools=TOOLS)
    assert "4C and rain" in second.choices[0].message.content
    parallel = litellm.completion(
        **args, messages=[{"role": "user", "content": "Use get_weather and get_time for Oslo."}], tools=TOOLS
    )
    assert [t.function.name for t in parallel.choices[0].message.tool_calls] == ["get_weather", "get_time"]


def test_openai_chat_and_stream(backend: Backend) -> None:
    r = litellm.completion(**openai_args(backend), messages=[{"role": "user", "content": "Hello"}])
    assert "Hello" in r.choices[0].message.content and r.usage.total_tokens > 0
    stream = litellm.completion(
        **openai_args(backend, "gpt-4o"), messages=[{"role": "user", "content": "Stream this"}], stream=True
    )
    assert "Stream this" in "".join(c.choices[0].delta.content or "" for c in stream)


def test_openai_tools_over_two_turns(backend: Backend) -> None:
    two_turns(openai_args(backend))


def test_openai_structured_output(backend: Backend) -> None:
    r = litellm.completion(
        **openai_args(backend), messages=[{"role": "user", "content": "Oslo"}], response_format=City
    )
    city = City.model_validate_json(r.choices[0].message.content)
    assert city.name and city.population


def test_openai_embeddings(backend: Backend) -> None:
    e = litellm.embedding(**openai_args(backend, "text-embedding-3-small"), input=["one", "two"])
    assert len(e.data) == 2 and len(e.data[0]["embedding"]) > 8


def test_openai_responses_with_follow_up(backend: Backend) -> None:
    first = litellm.responses(**openai_args(backend), input="Hello")
    assert "Hello" in first.output[0].content[0].text
    follow = litellm.responses(**openai_args(backend), input="And again", previous_response_id=first.id)
    assert "And again" in follow.output[0].content[0].text


def test_openai_text_completion(backend: Backend) -> None:
    args = {**openai_args(backend), "model": "text-completion-openai/gpt-4o-mini"}
    r = litellm.text_completion(**args, prompt="Say hi", max_tokens=20)
    assert "Say hi" in r.choices[0].text


def test_anthropic_chat_and_stream(backend: Backend) -> None:
    args = anthropic_args(backend)
    r = litellm.completion(**args, messages=[{"role": "user", "content": "Hello"}], max_tokens=100)
    assert "Hello" in r.choices[0].message.content and r.usage.prompt_tokens > 0
    stream = litellm.completion(**args, messages=[{"role": "user", "content": "Stream this"}], stream=True)
    assert "Stream this" in "".join(c.choices[0].delta.content or "" for c in stream)


def test_anthropic_tools_over_two_turns(backend: Backend) -> None:
    two_turns(anthropic_args(backend))
