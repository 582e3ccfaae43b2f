"""The bundled tiktoken encodings: OpenAI's token ids as published, the model-to-encoding mapping,
and counts that switch from the estimate to tiktoken's once the encoding is built."""

from __future__ import annotations

import threading

import msgspec
import pytest

from sluice.limits.tokenizer import Tokenizers, encoding_for, load_encoding
from sluice.limits.tokens import chat_input_tokens, text_tokens
from sluice.types import ChatRequest

# As OpenAI's cookbook "How to count tokens with tiktoken" prints them.
PUBLISHED = [
    ("cl100k_base", "tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
    ("o200k_base", "tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
]


@pytest.mark.parametrize(("name", "text", "ids"), PUBLISHED)
def test_the_bundled_encodings_give_openais_ids(name: str, text: str, ids: list[int]) -> None:
    assert load_encoding(name).encode_ordinary(text) == ids


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("claude-3-5-haiku", None),
        ("sim-mini", None),
        ("meta-llama/Llama-3.1-8B-Instruct", None),
    ],
)
def test_models_map_to_tiktokens_encodings(model: str, encoding: str | None) -> None:
    assert encoding_for(model) == encoding


def test_counts_are_estimated_until_the_encoding_is_built_then_exact() -> None:
    tokenizers = Tokenizers()
    text = "tiktoken is great!"  # 6 tokens in cl100k_base; the estimate says 5
    count = tokenizers.counter("gpt-4")
    tokenizers.wait_ready()
    assert not any(
        t.name.startswith("sluice-tokenizer-") for t in threading.enumerate()
    )  # asking built nothing
    assert count(text) == text_tokens(text) == 5  # the first count starts building, off this thread
    tokenizers.wait_ready()
    assert count(text) == 6
    assert tokenizers.counter("claude-3-5-haiku")(text) == 5
    assert Tokenizers(enabled=False).counter("gpt-4") is text_tokens


def test_a_chat_request_is_counted_with_openais_framing() -> None:
    tokenizers = Tokenizers()
    tokenizers.counter("gpt-4o")("warm up")
    tokenizers.wait_ready()
    request = msgspec.convert(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "tiktoken is great!"},
                {"role": "user", "content": "tiktoken is great!"},
            ],
        },
        ChatRequest,
    )
    # 3 to prime the reply, then 4 per message and its text's 6 tokens in o200k_base.
    assert chat_input_tokens(request, tokenizers.counter("gpt-4o")) == 3 + (4 + 6) * 2
