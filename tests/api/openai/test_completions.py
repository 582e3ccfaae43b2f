"""The legacy Completions edge without a server: request -> chat request, answers -> text_completion."""

from __future__ import annotations

import msgspec
import pytest

from sluice.api.openai.completions import (
    CompletionStreamEncoder,
    completion_request_decoder,
    prompts,
    to_chat_request,
    to_completion,
)
from sluice.errors import InvalidRequestError
from sluice.types import (
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Message,
    ResponseMessage,
    Usage,
)


def req(**fields: object) -> object:
    return completion_request_decoder.decode(msgspec.json.encode({"model": "m", "prompt": "p", **fields}))


def test_translation_to_a_chat_request() -> None:
    wire = req(prompt="Say hi", temperature=0.5, stop=["\\n"], n=2, logprobs=3, seed=7, user="u")
    chat = to_chat_request(wire, prompts(wire)[0])
    assert chat.messages == [Message(role="user", content="Say hi")]
    assert (chat.max_tokens, chat.temperature, chat.stop, chat.n, chat.seed, chat.user) == (
        16,
        0.5,
        ["\\n"],
        2,
        7,
        "u",
    )
    assert chat.logprobs is True and chat.top_logprobs == 3
    assert to_chat_request(req(max_tokens=5), "x").max_tokens == 5
    assert to_chat_request(req(), "x").logprobs is None
    assert prompts(req(prompt=None)) == [""]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"prompt": [1, 2]}, "prompt"),
        ({"prompt": ["a", 2]}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"echo": True}, "echo"),
        ({"best_of": 2}, "best_of"),
        ({"suffix": "s"}, "suffix"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_refusals(fields: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequestError) as e:
        prompts(req(**fields))
    assert e.value.param == param


def test_answers_in_prompt_order_with_summed_usage() -> None:
    def answer(text: str, n: int) -> ChatResponse:
        choices = [Choice(j, ResponseMessage("assistant", f"{text}{j}"), "stop") for j in range(n)]
        return ChatResponse("chatcmpl-x", "chat.completion", 1, "m", choices, Usage(2, 3, 5))

    out = msgspec.json.decode(to_completion([answer("a", 2), answer("b", 2)], ["p", "q"], 2))
    assert out["id"] == "cmpl-x" and out["object"] == "text_completion"
    assert [(c["index"], c["text"], c["logprobs"]) for c in out["choices"]] == [
        (0, "a0", None),
        (1, "a1", None),
        (2, "b0", None),
        (3, "b1", None),
    ]
    assert out["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}


def test_stream_skips_the_role_chunk_and_keeps_usage() -> None:
    def chunk(choices: list[ChunkChoice], usage: Usage | None = None) -> ChatChunk:
        return ChatChunk("chatcmpl-s", "chat.completion.chunk", 1, "m", choices, usage)

    enc = CompletionStreamEncoder("p")
    batch = [
        chunk([ChunkChoice(0, Delta(role="assistant", content=""), None)]),
        chunk([ChunkChoice(0, Delta(content="Hi"), None)]),
        chunk([ChunkChoice(0, Delta(), "length")]),
        chunk([], Usage(1, 1, 2)),
    ]
    events = [msgspec.json.decode(e[6:]) for e in enc.encode(batch).split(b"\n\n") if e]
    assert [e["choices"] for e in events] == [
        [{"text": "Hi", "index": 0, "logprobs": None, "finish_reason": None}],
        [{"text": "", "index": 0, "logprobs": None, "finish_reason": "length"}],
        [],
    ]
    assert events[-1]["usage"]["total_tokens"] == 2 and events[0]["object"] == "text_completion"
