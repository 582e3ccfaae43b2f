"""LangChain's chat models, unmodified, against each backend: ``ChatOpenAI`` (Chat Completions and
its Responses API mode), ``OpenAIEmbeddings`` and ``ChatAnthropic``: invoke, stream, tools over
two turns with LangChain's own ``AIMessage`` echoed back, parallel tool calls, structured output
and token counting."""

from __future__ import annotations

from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel, SecretStr

from tests.compat.conftest import Backend


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"4C in {city}"


@tool
def get_time(city: str) -> str:
    """The time in a city."""
    return f"noon in {city}"


class City(BaseModel):
    name: str
    population: int


def chat_openai(backend: Backend, **more: object) -> ChatOpenAI:
    return ChatOpenAI(
        model="gpt-4o-mini",
        base_url=backend.base_url + "/v1",
        api_key=SecretStr(backend.key),
        max_retries=0,
        timeout=20,
        **more,  # type: ignore[arg-type]
    )


def chat_anthropic(backend: Backend) -> ChatAnthropic:
    return ChatAnthropic(  # type: ignore[call-arg]
        model="claude-haiku",
        base_url=backend.base_url,
        api_key=SecretStr(backend.key),
        max_retries=0,
        timeout=20,
        max_tokens=200,
    )


def two_turns(llm: ChatOpenAI | ChatAnthropic) -> None:
    tools = {"get_weather": get_weather, "get_time": get_time}
    bound = llm.bind_tools([get_weather, get_time])
    messages: list = [HumanMessage("What is the weather in Oslo?")]
    first = bound.invoke(messages)
    assert isinstance(first, AIMessage) and [c["name"] for c in first.tool_calls] == ["get_weather"]
    messages.append(first)  # LangChain's own message object
    messages += [
        ToolMessage(tools[c["name"]].invoke(c["args"]), tool_call_id=c["id"]) for c in first.tool_calls
    ]
    second = bound.invoke(messages)
    assert not second.tool_calls and "4C in" in second.text
    parallel = bound.invoke([HumanMessage("Use get_weather and get_time for Oslo.")])
    assert [c["name"] for c in parallel.tool_calls] == ["get_weather", "get_time"]


def test_chat_openai_invoke_and_stream(backend: Backend) -> None:
    llm = chat_openai(backend)
    reply = llm.invoke("Hello")
    assert "Hello" in reply.text and reply.usage_metadata and reply.usage_metadata["total_tokens"] > 0
    chunks = list(chat_openai(backend, stream_usage=True).stream("Stream this"))
    assert "Stream this" in "".join(c.text for c in chunks)
    assert sum((c.usage_metadata or {}).get("output_tokens", 0) for c in chunks) > 0


def test_chat_openai_tools_over_two_turns(backend: Backend) -> None:
    two_turns(chat_openai(backend))


def test_chat_openai_structured_output(backend: Backend) -> None:
    city = chat_openai(backend).with_structured_output(City).invoke("Oslo")
    assert isinstance(city, City) and city.name


def test_chat_openai_responses_api(backend: Backend) -> None:
    llm = chat_openai(backend, use_responses_api=True)
    reply = llm.invoke("Hello")
    assert "Hello" in reply.text
    assert "Stream this" in "".join(c.text for c in llm.stream("Stream this"))
    follow = llm.invoke("And again", previous_response_id=reply.response_metadata["id"])
    assert "And again" in follow.text


def test_openai_embeddings(backend: Backend) -> None:
    # check_embedding_ctx_length=False: by default the client tokenizes with tiktoken first, whose
    # encoding files come from OpenAI's CDN (not reachable in CI); the gateway is not involved.
    emb = OpenAIEmbeddings(
        model="text-embedding-3-small",
        base_url=backend.base_url + "/v1",
        api_key=SecretStr(backend.key),
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    vectors = emb.embed_documents(["one", "two"])
    assert len(vectors) == 2 and len(vectors[0]) > 8 and vectors[0] == emb.embed_query("one")
    emb.client._client.close()  # the SDK client it built: LangChain never closes it (a ResourceWarning)


def test_chat_anthropic_invoke_and_stream(backend: Backend) -> None:
    llm = chat_anthropic(backend)
    reply = llm.invoke("Hello")
    assert "Hello" in reply.text and reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    assert "Stream this" in "".join(c.text for c in llm.stream("Stream this"))


def test_chat_anthropic_tools_over_two_turns(backend: Backend) -> None:
    two_turns(chat_anthropic(backend))


def test_chat_anthropic_structured_output_and_token_count(backend: Backend) -> None:
    llm = chat_anthropic(backend)
    city = llm.with_structured_output(City).invoke("Oslo")
    assert isinstance(city, City) and city.name
    assert llm.get_num_tokens_from_messages([HumanMessage("Count these words")]) > 0
