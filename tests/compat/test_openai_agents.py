"""The OpenAI Agents SDK, unmodified, against each backend: an agent with a function tool runs
its tool loop on the Responses API (JSON and streamed, then a follow-up by
``previous_response_id``) and on Chat Completions, and returns structured output. Tracing is off
per run: the SDK would otherwise export traces to OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
)
from pydantic import BaseModel

from tests.compat.conftest import Backend

NO_TRACING = RunConfig(tracing_disabled=True)


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"4C in {city}"


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
async def client(backend: Backend) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=backend.base_url + "/v1", api_key=backend.key, max_retries=0, timeout=20
    ) as c:
        yield c


def agent(model: OpenAIResponsesModel | OpenAIChatCompletionsModel, **more: object) -> Agent:
    return Agent(name="assistant", instructions="Be brief.", model=model, **more)  # type: ignore[arg-type]


async def test_responses_tool_loop_stream_and_follow_up(client: openai.AsyncOpenAI) -> None:
    model = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client)
    weather = agent(model, tools=[get_weather])
    result = await Runner.run(weather, "What is the weather in Oslo?", run_config=NO_TRACING)
    assert "4C in" in result.final_output
    kinds = [item.type for item in result.new_items]
    assert kinds == ["tool_call_item", "tool_call_output_item", "message_output_item"]
    streamed = Runner.run_streamed(weather, "Weather in Oslo?", run_config=NO_TRACING)
    events = [e.type async for e in streamed.stream_events()]
    assert "raw_response_event" in events and "4C in" in streamed.final_output
    follow = await Runner.run(
        agent(model), "And again", previous_response_id=result.last_response_id, run_config=NO_TRACING
    )
    assert "And again" in follow.final_output


async def test_chat_completions_tool_loop_and_stream(client: openai.AsyncOpenAI) -> None:
    model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    weather = agent(model, tools=[get_weather])
    result = await Runner.run(weather, "What is the weather in Oslo?", run_config=NO_TRACING)
    assert "4C in" in result.final_output
    streamed = Runner.run_streamed(weather, "Weather in Oslo?", run_config=NO_TRACING)
    async for _ in streamed.stream_events():
        pass
    assert "4C in" in streamed.final_output


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_structured_output(client: openai.AsyncOpenAI, api: str) -> None:
    model = (
        OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client)
        if api == "responses"
        else OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)
    )
    result = await Runner.run(
        agent(model, output_type=City, model_settings=ModelSettings(temperature=0)),
        "Oslo",
        run_config=NO_TRACING,
    )
    assert isinstance(result.final_output, City) and result.final_output.name
