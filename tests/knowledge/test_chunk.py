from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice.errors import InvalidRequestError
from sluice.knowledge.chunk import AUTO, Chunk, chunk, joined, static, strategy
from sluice.limits.tokenizer import load_encoding
from sluice.limits.tokens import text_tokens

_ENCODING = load_encoding("cl100k_base")


def tiktoken_count(text: str) -> int:
    return len(_ENCODING.encode_ordinary(text))


def check(text: str, chunks: list[Chunk], max_tokens: int, overlap: int, count) -> None:
    """Offsets quote the text exactly, each chunk fits, chunks cover the text with no gap, and
    neighbours share at most ``overlap`` tokens."""
    if not text.strip():
        assert chunks == []
        return
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.tokens == count(c.text) <= max_tokens
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start <= a.end < b.end
        assert count(text[b.start : a.end]) <= overlap or b.start == a.end


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz,.!?'#é中-", min_size=1, max_size=12)
long_words = st.text(alphabet="abcdefghij0123456789", min_size=300, max_size=2000)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "? ", "\n# ", "  \t"])
documents = st.lists(st.tuples(st.one_of(words, words, words, long_words), separators), max_size=400).map(
    lambda parts: "".join(w + s for w, s in parts)
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(documents, st.text(max_size=3000)),
    max_tokens=st.integers(100, 400),
    overlap_share=st.floats(0, 0.5),
    leading=st.sampled_from(["", "  \n", "\n\n"]),
)
def test_chunks_quote_the_text_exactly_fit_and_cover_it(text, max_tokens, overlap_share, leading) -> None:
    text = leading + text
    overlap = int(max_tokens * overlap_share)
    chunks = chunk(text, static(max_tokens, overlap), text_tokens)
    check(text, chunks, max_tokens, overlap, text_tokens)


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(documents, st.text(max_size=3000)),
    max_tokens=st.integers(100, 400),
    overlap_share=st.floats(0, 0.5),
)
def test_joined_chunks_give_back_the_text(text, max_tokens, overlap_share) -> None:
    chunks = chunk(text, static(max_tokens, int(max_tokens * overlap_share)), text_tokens)
    assert joined(chunks) == (text if chunks else "")


def test_tokens_are_counted_with_the_count_given_not_characters() -> None:
    text = " ".join(f"word{i}." for i in range(3000))
    chunks = chunk(text, static(200, 50), tiktoken_count)
    check(text, chunks, 200, 50, tiktoken_count)
    assert all(150 <= c.tokens <= 200 for c in chunks[:-1])  # filled, not cut at a character count
    # The same text with the 4-characters-per-token estimate gives different chunks.
    assert [c.end for c in chunk(text, static(200, 50), text_tokens)] != [c.end for c in chunks]


def test_a_chunk_ends_at_a_paragraph_then_a_sentence_rather_than_mid_sentence() -> None:
    para = "The lighthouse flashes twice every ten seconds and keeps ships off the rocks. " * 5
    text = "\n\n".join(para.strip() for _ in range(6))
    chunks = chunk(text, static(100, 0), tiktoken_count)
    check(text, chunks, 100, 0, tiktoken_count)
    for c in chunks[:-1]:
        assert c.text.rstrip().endswith("rocks.")


def test_a_markdown_heading_starts_a_chunk_when_one_is_in_reach() -> None:
    body = "Short line of text about tides and their range.\n"
    text = "# Tides\n" + body * 6 + "# Glaciers\n" + body * 6
    chunks = chunk(text, static(100, 0), tiktoken_count)
    assert any(c.text.startswith("# Glaciers") for c in chunks)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    text = " ".join(f"w{i}" for i in range(2000))
    chunks = chunk(text, static(100, 50), tiktoken_count)
    for a, b in itertools.pairwise(chunks):
        shared = tiktoken_count(text[b.start : a.end])
        assert 40 <= shared <= 50


def test_auto_is_800_tokens_with_400_overlap() -> None:
    assert (AUTO.max_chunk_size_tokens, AUTO.chunk_overlap_tokens, AUTO.type) == (800, 400, "auto")
    assert strategy(None) is AUTO
    assert strategy({"type": "auto"}) is AUTO
    text = " ".join(f"token{i}" for i in range(5000))
    chunks = chunk(text, AUTO, tiktoken_count)
    check(text, chunks, 800, 400, tiktoken_count)
    assert max(c.tokens for c in chunks) > 700


def test_a_word_longer_than_a_chunk_is_cut_by_characters() -> None:
    text = "start " + "x" * 5000 + " end"
    chunks = chunk(text, static(100, 0), tiktoken_count)
    check(text, chunks, 100, 0, tiktoken_count)
    assert len(chunks) > 1


def test_static_from_the_wire() -> None:
    s = strategy({"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 150}})
    assert (s.max_chunk_size_tokens, s.chunk_overlap_tokens) == (300, 150)
    assert s.wire() == {
        "type": "static",
        "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 150},
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}},
            "max_chunk_size_tokens",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}},
            "max_chunk_size_tokens",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": "800", "chunk_overlap_tokens": 0}},
            "max_chunk_size_tokens",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": True, "chunk_overlap_tokens": 0}},
            "max_chunk_size_tokens",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 401}},
            "chunk_overlap_tokens",
        ),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": -1}},
            "chunk_overlap_tokens",
        ),
        ({"type": "static", "static": {"max_chunk_size_tokens": 800}}, "chunk_overlap_tokens"),
        (
            {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 0, "x": 1}},
            "x",
        ),
    ],
)
def test_static_errors_name_the_parameter(body, param) -> None:
    with pytest.raises(InvalidRequestError) as e:
        strategy(body)
    assert e.value.param == f"chunking_strategy.static.{param}"
    assert e.value.status == 400


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"type": "fixed"}, "chunking_strategy.type"),
        ({}, "chunking_strategy.type"),
        ({"type": "static"}, "chunking_strategy.static"),
        ({"type": "auto", "static": {}}, "chunking_strategy.static"),
        ("auto", "chunking_strategy"),
    ],
)
def test_strategy_errors_name_the_parameter(body, param) -> None:
    with pytest.raises(InvalidRequestError) as e:
        strategy(body)
    assert e.value.param == param
