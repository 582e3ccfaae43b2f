"""Text to chunks with OpenAI's chunking strategies: ``static`` (``max_chunk_size_tokens`` 100..4096,
``chunk_overlap_tokens`` at most half of it) and ``auto`` (800 and 400, as OpenAI documents).

Tokens are counted with the ``Count`` passed in (the tokenizer of the embedding model), never
characters. A chunk ends at the strongest boundary in the second half of its window (a paragraph,
then a line, then a sentence, then a word) and carries its ``start`` and ``end`` offsets into the
text, so ``text[start:end]`` is its text exactly and a citation can quote it. Chunks are contiguous
runs of whole words (a word longer than a chunk is cut by characters), so every character of the
text is in some chunk; the next chunk starts at most ``chunk_overlap_tokens`` before the last one
ended.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sluice.errors import InvalidRequestError

Count = Callable[[str], int]

MIN_CHUNK_TOKENS = 100
MAX_CHUNK_TOKENS = 4096

_WORD = re.compile(r"\S+\s*")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+$")
# Boundary strength after a word: a blank line, a line break (or a Markdown heading next), the end
# of a sentence, a space.
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = 4, 3, 2, 1


@dataclass(frozen=True, slots=True)
class ChunkingStrategy:
    max_chunk_size_tokens: int
    chunk_overlap_tokens: int
    type: str = "static"

    def wire(self) -> dict[str, Any]:
        """The strategy as the API shows it on a vector store file."""
        static = {
            "max_chunk_size_tokens": self.max_chunk_size_tokens,
            "chunk_overlap_tokens": self.chunk_overlap_tokens,
        }
        return {"type": "static", "static": static}


AUTO = ChunkingStrategy(800, 400, type="auto")


@dataclass(frozen=True, slots=True)
class Chunk:
    start: int
    end: int
    text: str
    tokens: int


def static(max_chunk_size_tokens: int, chunk_overlap_tokens: int) -> ChunkingStrategy:
    """A checked ``static`` strategy; errors name the parameter as the API does."""
    param = "chunking_strategy.static."
    size, overlap = max_chunk_size_tokens, chunk_overlap_tokens
    if not _is_int(size) or not MIN_CHUNK_TOKENS <= size <= MAX_CHUNK_TOKENS:
        raise InvalidRequestError(
            f"max_chunk_size_tokens must be an integer from {MIN_CHUNK_TOKENS} to {MAX_CHUNK_TOKENS}",
            param=param + "max_chunk_size_tokens",
        )
    if not _is_int(overlap) or overlap < 0 or overlap > size // 2:
        raise InvalidRequestError(
            "chunk_overlap_tokens must be a non-negative integer not exceeding half of max_chunk_size_tokens",
            param=param + "chunk_overlap_tokens",
        )
    return ChunkingStrategy(size, overlap)


def strategy(body: Mapping[str, Any] | None) -> ChunkingStrategy:
    """The strategy a request's ``chunking_strategy`` names (``auto`` when absent)."""
    if body is None:
        return AUTO
    if not isinstance(body, Mapping):
        raise InvalidRequestError("chunking_strategy must be an object", param="chunking_strategy")
    kind = body.get("type")
    if kind == "auto" and set(body) <= {"type"}:
        return AUTO
    if kind == "static" and set(body) <= {"type", "static"}:
        params = body.get("static")
        if not isinstance(params, Mapping):
            raise InvalidRequestError("static needs an object", param="chunking_strategy.static")
        for name in set(params) - {"max_chunk_size_tokens", "chunk_overlap_tokens"}:
            raise InvalidRequestError(f"unknown parameter {name}", param=f"chunking_strategy.static.{name}")
        for name in ("max_chunk_size_tokens", "chunk_overlap_tokens"):
            if name not in params:
                raise InvalidRequestError(f"{name} is required", param=f"chunking_strategy.static.{name}")
        return static(params["max_chunk_size_tokens"], params["chunk_overlap_tokens"])
    if kind in ("auto", "static"):
        extra = sorted(set(body) - {"type", "static"}) or ["static"]
        raise InvalidRequestError(f"unknown parameter {extra[0]}", param=f"chunking_strategy.{extra[0]}")
    raise InvalidRequestError("type must be 'auto' or 'static'", param="chunking_strategy.type")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def chunk(text: str, how: ChunkingStrategy, count: Count) -> list[Chunk]:
    """The chunks of ``text``: each at most ``max_chunk_size_tokens`` by ``count``."""
    limit, overlap = how.max_chunk_size_tokens, how.chunk_overlap_tokens
    words = _words(text, limit, count)
    if not words:
        return []
    # prefix[i]: tokens of words[:i], an estimate of a run's count (checked with count when cut).
    prefix = [0]
    for _, _, tokens, _ in words:
        prefix.append(prefix[-1] + tokens)
    chunks: list[Chunk] = []
    first = earliest = 0
    while True:
        last = _cut(words, prefix, first, earliest, limit)
        start, end = words[first][0], words[last][1]
        tokens = count(text[start:end])
        while tokens > limit and last > max(
            first, earliest
        ):  # the estimate was low: drop words until it fits
            last -= 1
            end = words[last][1]
            tokens = count(text[start:end])
        while tokens > limit and first < last:  # still over: share fewer words with the last chunk
            first += 1
            start = words[first][0]
            tokens = count(text[start:end])
        chunks.append(Chunk(start, end, text[start:end], tokens))
        if last == len(words) - 1:
            return chunks
        following = last + 1
        # Step back over the overlap while the next chunk still has room for a new word.
        while (
            following - 1 > first
            and prefix[last + 1] - prefix[following - 1] <= overlap
            and prefix[last + 2] - prefix[following - 1] <= limit
        ):
            following -= 1
        while following <= last and count(text[words[following][0] : end]) > overlap:
            following += 1  # the estimate was low: share fewer words
        first, earliest = following, last + 1


def _words(text: str, limit: int, count: Count) -> list[tuple[int, int, int, int]]:
    """(start, end, tokens, boundary strength after it) per word with its trailing whitespace; the
    text's leading whitespace joins the first word, and a word over ``limit`` is cut in pieces. A
    word's tokens are counted with the whitespace before it, as BPE tokenizers attach a space to
    the word that follows, so the sum tracks the count of a run of words."""
    words: list[tuple[int, int, int, int]] = []
    counted_to = 0  # where the previous word's text (not its trailing whitespace) ended
    for m in _WORD.finditer(text):
        start, end = (0 if not words else m.start()), m.end()
        piece = text[start:end]
        word_end = m.start() + len(m.group().rstrip())
        tokens = count(text[counted_to:word_end])
        counted_to = word_end
        if tokens <= limit and (tokens < limit // 2 or count(piece) <= limit):
            words.append((start, end, tokens, _strength(text, piece, end)))
            continue
        for a, b, t in _split(text, start, end, limit, count):
            words.append((a, b, t, _strength(text, text[a:b], b) if b == end else 0))
    return words


def _strength(text: str, piece: str, end: int) -> int:
    gap = piece[len(piece.rstrip()) :]
    if "\n\n" in gap or (gap.endswith("\n") and text.startswith("#", end)):
        return _PARAGRAPH
    if "\n" in gap:
        return _LINE
    if _SENTENCE_END.search(piece):
        return _SENTENCE
    return _SPACE


def _split(text: str, start: int, end: int, limit: int, count: Count) -> list[tuple[int, int, int]]:
    """A word too long for one chunk, in the longest character runs that fit (binary search)."""
    pieces = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[start:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        if lo < end and lo - 1 > start and not text[lo:end].strip():
            lo -= 1  # leave a character to go with the trailing whitespace, not whitespace alone
        pieces.append((start, lo, count(text[start:lo])))
        start = lo
    return pieces


def _cut(
    words: list[tuple[int, int, int, int]], prefix: list[int], first: int, earliest: int, limit: int
) -> int:
    """The last word of the chunk starting at ``first``: the window's end when the text ends in it,
    else the strongest boundary in the window's second half (the latest of equals), never before
    ``earliest`` (the first word the previous chunk did not hold)."""
    last = first
    while last + 1 < len(words) and prefix[last + 2] - prefix[first] <= limit:
        last += 1
    last = max(last, earliest)
    if last == len(words) - 1:
        return last
    best, best_strength = last, words[last][3]
    floor = prefix[first] + (prefix[last + 1] - prefix[first]) // 2
    i = last - 1
    while i >= max(first, earliest) and prefix[i + 1] >= floor:
        if words[i][3] > best_strength:
            best, best_strength = i, words[i][3]
        i -= 1
    return best


def joined(chunks: Sequence[Chunk] | Sequence[Any]) -> str:
    """The text the chunks were cut from, from their offsets (overlaps counted once), given them
    in order: each has ``start``, ``end`` and ``text``."""
    out: list[str] = []
    reached = 0
    for c in chunks:
        if c.end > reached:
            out.append(c.text[max(reached - c.start, 0) :])
            reached = c.end
    return "".join(out)
