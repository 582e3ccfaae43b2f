"""What the auto router reads of a request (routing/features.py)."""

from __future__ import annotations

from typing import Any

import msgspec

from sluice.routing.features import SAMPLE_HEAD, SAMPLE_TAIL, difficulty, features
from sluice.types import ChatRequest


def req(content: Any = "hi", **more: Any) -> ChatRequest:
    return msgspec.convert(
        {"model": "auto", "messages": [{"role": "user", "content": content}], **more}, ChatRequest
    )


def test_the_features_of_a_request() -> None:
    tools = [{"type": "function", "function": {"name": f"t{i}"}} for i in range(3)]
    parts = [
        {"type": "text", "text": "Which is taller?"},
        {"type": "image_url", "image_url": {"url": "https://x/1.png"}},
    ]
    f = features(
        req(parts, tools=tools, max_tokens=50, response_format={"type": "json_object"}),
        input_tokens=123,
        output_reserve_tokens=999,
    )
    assert (f.input_tokens, f.output_tokens, f.tools, f.images, f.json_schema, f.messages) == (
        123,
        50,
        3,
        1,
        True,
        1,
    )
    assert f.needed_tokens == 173
    plain = features(req("hi"), input_tokens=5, output_reserve_tokens=999)
    assert (plain.output_tokens, plain.tools, plain.images, plain.json_schema) == (999, 0, 0, False)


def test_the_last_user_turn_is_the_one_scored() -> None:
    hard = "Prove the theorem step by step and derive the bound."
    r = msgspec.convert(
        {"model": "auto", "messages": [
            {"role": "user", "content": hard},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": "thanks"},
        ]},
        ChatRequest,
    )  # fmt: skip
    assert features(r, 10, 10).difficulty == difficulty("thanks") < difficulty(hard)


def test_difficulty_orders_small_talk_tasks_and_proofs() -> None:
    small = ["hi", "thanks!", "What is the capital of France?", "¿Cuál es la capital de Perú?"]
    tasks = [
        "Write a short email to my landlord about the heating.",
        "Explique en quelques paragraphes la photosynthèse.",
    ]
    hard = [
        "Prove that there are infinitely many primes, step by step.",
        "Design the architecture of a multi-region ledger and analyze the trade-offs of each consistency model.",
        "请分析乐观锁和悲观锁的优缺点并给出架构设计方案。",
    ]
    assert max(map(difficulty, small)) < min(map(difficulty, tasks))
    assert max(map(difficulty, tasks)) < min(map(difficulty, hard))


def test_a_long_turn_is_scored_on_its_ends_only() -> None:
    """A pasted document costs no more to score than a short turn, and its middle does not count."""
    middle = "Prove the theorem, derive the bound, design the architecture. " * 2000
    text = "What is the title?\n" + "x " * SAMPLE_HEAD + middle + "y " * SAMPLE_TAIL
    assert difficulty(text) == difficulty(
        "What is the title?\n" + "x " * SAMPLE_HEAD + "z " * 5000 + "y " * SAMPLE_TAIL
    )
    assert difficulty(
        "Summarize the document.\n" + "z " * 5000 + "\nProve the main theorem step by step."
    ) > difficulty(text)
