"""A recorded stream adds up to the chat completion it streamed, and a replay of that completion
streams the same answer back (text, tool calls, finish reasons, usage)."""

from __future__ import annotations

from sluice.cache.replay import Recorder, replay
from sluice.types import (
    ChatChunk,
    ChatResponse,
    ChunkChoice,
    Delta,
    FunctionCallDelta,
    ThinkingBlock,
    ToolCallDelta,
    Usage,
)


def chunk(index: int = 0, finish: str | None = None, usage: Usage | None = None, **delta) -> ChatChunk:
    choices = (
        [] if usage is not None else [ChunkChoice(index=index, delta=Delta(**delta), finish_reason=finish)]
    )
    return ChatChunk(
        id="c1", object="chat.completion.chunk", created=7, model="m", choices=choices, usage=usage
    )


USAGE = Usage(prompt_tokens=5, completion_tokens=4, total_tokens=9)


def test_a_text_stream_is_recorded_and_replayed() -> None:
    r = Recorder()
    r.add([chunk(role="assistant", content=""), chunk(content="Hel")])
    r.add([chunk(content="lo"), chunk(finish="stop"), chunk(usage=USAGE)])
    response = r.response()
    assert isinstance(response, ChatResponse)
    assert response.choices[0].message.content == "Hello" and response.choices[0].finish_reason == "stop"
    assert response.usage == USAGE and response.object == "chat.completion"
    again = Recorder()
    again.add(replay(response, include_usage=True))
    assert again.response() == response
    assert all(c.usage is None for c in replay(response, include_usage=False))


def test_tool_calls_are_assembled_from_their_pieces() -> None:
    r = Recorder()
    first = ToolCallDelta(
        index=0,
        id="call_1",
        type="function",
        function=FunctionCallDelta(name="get_weather", arguments='{"ci'),
    )
    rest = ToolCallDelta(index=0, function=FunctionCallDelta(arguments='ty": "Paris"}'))
    r.add([chunk(role="assistant", tool_calls=[first]), chunk(tool_calls=[rest]), chunk(finish="tool_calls")])
    response = r.response()
    assert response is not None and response.choices[0].message.content is None
    call = response.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1",
        "get_weather",
        '{"city": "Paris"}',
    )
    again = Recorder()
    again.add(replay(response, include_usage=False))
    assert again.response() == response


def test_an_unfinished_stream_is_not_an_answer() -> None:
    r = Recorder()
    assert r.response() is None
    r.add(
        [chunk(role="assistant", content="Hel"), chunk(index=1, content="x"), chunk(index=1, finish="stop")]
    )
    assert r.response() is None  # choice 0 never finished


def test_reasoning_and_signed_thinking_are_recorded_and_replayed_in_order() -> None:
    r = Recorder()
    r.add(
        [
            chunk(role="assistant", content=""),
            chunk(reasoning_content="Let me "),
            chunk(reasoning_content="see."),
        ]
    )
    r.add([chunk(thinking_blocks=[ThinkingBlock(type="thinking", thinking="", signature="sig1")])])
    r.add([chunk(thinking_blocks=[ThinkingBlock(type="redacted_thinking", data="opaque")])])
    r.add([chunk(content="Paris."), chunk(finish="stop"), chunk(usage=USAGE)])
    response = r.response()
    assert response is not None
    message = response.choices[0].message
    assert message.content == "Paris." and message.reasoning_content == "Let me see."
    assert message.thinking_blocks == [
        ThinkingBlock(type="thinking", thinking="Let me see.", signature="sig1"),
        ThinkingBlock(type="redacted_thinking", data="opaque"),
    ]
    replayed = replay(response, include_usage=True)
    deltas = [c.choices[0].delta for c in replayed if c.choices]
    assert deltas[0] == Delta(role="assistant", content="")
    assert deltas[1] == Delta(reasoning_content="Let me see.")
    assert deltas[2].thinking_blocks == [ThinkingBlock(type="thinking", thinking="", signature="sig1")]
    assert deltas[3].thinking_blocks == [ThinkingBlock(type="redacted_thinking", data="opaque")]
    assert deltas[4] == Delta(content="Paris.")
    again = Recorder()
    again.add(replayed)
    assert again.response() == response
