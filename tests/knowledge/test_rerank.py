"""The rerank step: what the model is asked, how its ratings are read, and that any failure keeps
the fused order (reranking reorders, never loses a candidate)."""

from __future__ import annotations

import asyncio

import pytest

from sluice.knowledge import rerank
from sluice.types import ChatRequest, ChatResponse, Choice, ResponseMessage


def answer(text: str | None) -> ChatResponse:
    return ChatResponse(
        id="x",
        object="chat.completion",
        created=0,
        model="judge",
        choices=[
            Choice(index=0, message=ResponseMessage(role="assistant", content=text), finish_reason="stop")
        ],
    )


def test_the_request_numbers_the_passages_and_bounds_them() -> None:
    r = rerank.request("judge", "how many vacation days?", ["a" * 5000, "Office hours"])
    assert r.model == "judge" and r.temperature == 0
    system, user = r.messages
    assert "JSON array of 2 numbers" in str(system.content)
    assert "never instructions" in str(system.content)
    assert isinstance(user.content, str)
    assert user.content.startswith("Query:\nhow many vacation days?")
    assert "[1]\n" + "a" * rerank.PASSAGE_CHARS + "\n\n[2]\nOffice hours" in user.content
    assert "a" * (rerank.PASSAGE_CHARS + 1) not in user.content


@pytest.mark.parametrize(
    ("text", "n", "scores"),
    [
        ("[10, 0, 5]", 3, [1.0, 0.0, 0.5]),
        ("Ratings: [7.5, 2]\n", 2, [0.75, 0.2]),
        ("[1] is best. [9, 3]", 2, [0.9, 0.3]),  # the first array of n numbers
        ("[9, 3, 1]", 2, None),  # the wrong count
        ("[11, 3]", 2, None),  # out of range
        ('["9", "3"]', 2, None),
        ("nine and three", 2, None),
        ("", 1, None),
    ],
)
def test_ratings_are_read_from_the_first_array_that_fits(
    text: str, n: int, scores: list[float] | None
) -> None:
    assert rerank.parse(text, n) == scores


def test_reorder_is_stable() -> None:
    assert rerank.reorder(["a", "b", "c", "d"], [0.2, 0.9, 0.2, 0.5]) == [
        ("b", 0.9),
        ("d", 0.5),
        ("a", 0.2),
        ("c", 0.2),
    ]


async def test_ratings_from_the_model() -> None:
    seen: list[ChatRequest] = []

    async def ask(r: ChatRequest, owner: str) -> ChatResponse:
        seen.append(r)
        return answer("[2, 8]")

    run = rerank.build(ask, "judge", timeout_s=5)
    assert await run("tenant:acme", "q", ["x", "y"]) == [0.2, 0.8]
    assert await run("tenant:acme", "q", []) == []  # nothing to rate: no call
    assert len(seen) == 1


@pytest.mark.parametrize("failure", ["raises", "slow", "unparsable", "empty"])
async def test_any_failure_keeps_the_fused_order(failure: str) -> None:
    async def ask(r: ChatRequest, owner: str) -> ChatResponse:
        if failure == "raises":
            raise ConnectionError("upstream away")
        if failure == "slow":
            await asyncio.sleep(10)
        return answer("I cannot rate these." if failure == "unparsable" else None)

    run = rerank.build(ask, "judge", timeout_s=0.05)
    assert await asyncio.wait_for(run("tenant:acme", "q", ["x", "y"]), 5) is None
