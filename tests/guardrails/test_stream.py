"""Guardrails on streams: redacting an answer chunk by chunk gives what redacting it whole gives,
however it is cut; the hold-back stays within its window; placeholders come back across chunk
splits; and the ChunkBatch adapter edits each choice and flushes into its finishing chunk."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Iterator

import pytest

from sluice.guardrails import pii, stream
from sluice.guardrails.pii import Kind, find, redact
from sluice.guardrails.stream import DeltaFilter, HoldBack, Redactor, Restorer, filter_chunks
from sluice.types import ChatChunk, ChunkBatch, ChunkChoice, Delta
from tests.guardrails.pii_samples import NEAR_MISSES, POSITIVES

WINDOW = 64
PROSE = (
    "The gateway streams each answer as it arrives, version 1.8.0 since 2024-05-01; "
    "see section 4.2, or ask the on-call team. 料金は 1,234 円です。 Done!"
).split(" ")
SAMPLES = [p.full_text for p in POSITIVES] + [n.text for n in NEAR_MISSES]
SEPARATORS = [" ", "  ", "\n", ". ", ", ", "\n\n", " - "]


def answer(rng: random.Random, samples: list[str] = SAMPLES) -> str:
    """Prose with PII, secrets and look-alikes in it, some of them more than once."""
    parts = [
        rng.choice(samples) if rng.random() < 0.4 else rng.choice(PROSE) for _ in range(rng.randint(5, 40))
    ]
    out = [parts[0]]
    for part in parts[1:]:
        out += (rng.choice(SEPARATORS), part)
    return "".join(out)


def cuts(text: str, rng: random.Random, longest: int = 12) -> Iterator[str]:
    pos = 0
    while pos < len(text):
        n = rng.randint(1, longest)
        yield text[pos : pos + n]
        pos += n


def streamed(f: DeltaFilter, deltas: Iterator[str]) -> str:
    return "".join(f.feed(d) for d in deltas) + f.flush()


def test_redacting_a_stream_equals_redacting_the_whole_answer() -> None:
    rng = random.Random(20240501)
    for _ in range(400):
        text = answer(rng)
        for _ in range(3):
            assert streamed(HoldBack(Redactor(), WINDOW), cuts(text, rng)) == redact(text).text, text


def test_one_character_deltas_and_the_whole_answer_in_one_delta_agree_too() -> None:
    rng = random.Random(7)
    for _ in range(50):
        text = answer(rng)
        expected = redact(text).text
        assert streamed(HoldBack(Redactor(), WINDOW), iter(text)) == expected
        assert streamed(HoldBack(Redactor(), WINDOW), iter([text])) == expected


def test_a_card_split_across_two_chunks_is_redacted() -> None:
    hb = HoldBack(Redactor(), WINDOW)
    first = hb.feed("Please charge my card 4111 1111 11")
    second = hb.feed("11 1111 tomorrow, thanks. " + "More words follow here. " * 4)
    out = first + second + hb.flush()
    assert out == "Please charge my card [CARD_1] tomorrow, thanks. " + "More words follow here. " * 4
    assert "4111" not in first + second


def test_the_same_value_keeps_its_placeholder_across_the_stream() -> None:
    text = "a@example.com wrote to b@example.com; " + "filler words " * 20 + "then a@example.com again"
    r = Redactor(reversible=True)
    out = streamed(HoldBack(r, WINDOW), cuts(text, random.Random(3), 5))
    assert out == redact(text).text
    assert out.count("[EMAIL_1]") == 2 and "[EMAIL_2]" in out
    assert r.originals == {"[EMAIL_1]": "a@example.com", "[EMAIL_2]": "b@example.com"}
    assert r.findings == {"EMAIL": 3}


def test_a_placeholder_the_answer_wrote_itself_is_not_handed_out() -> None:
    text = "I kept [EMAIL_1] as you wrote it; the new one is c@example.com."
    assert streamed(HoldBack(Redactor(), WINDOW), iter(text)) == redact(text).text


def test_prose_is_held_back_one_word_at_most() -> None:
    text = " ".join(random.Random(1).choice(PROSE) for _ in range(300)).replace("1", "one")
    longest_word = max(map(len, text.split()))
    hb = HoldBack(Redactor(), WINDOW)
    for delta in cuts(text, random.Random(2), 6):
        hb.feed(delta)
        assert hb.held_chars <= longest_word + 2 + 6  # a word, the look-ahead, and the last delta


def test_a_tail_that_may_still_become_a_card_or_a_key_is_held() -> None:
    hb = HoldBack(Redactor(), WINDOW)
    deltas = [
        "Your card: 4111 1111 ",
        "1111 1111, and the key:\n-----BEGIN EC PRIVATE KEY-----\n",
        "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5xq6ujEWyDjTjoAoGCCqGSM49",
        "\n-----END EC PRIVATE KEY-----\nThat is all.",
    ]
    assert [hb.feed(d) for d in deltas] + [hb.flush()] == [
        "Your ",  # "card: 4111 1111" may be followed by more groups of digits
        "card: [CARD_1], and the key:\n",
        "",  # a key is held until its END line
        "[PRIVATE_KEY_1]\nThat is ",
        "all.",
    ]


def test_held_text_is_bounded_by_the_window_and_what_cannot_be_split() -> None:
    rng = random.Random(11)
    samples = [s for s in SAMPLES if "cut off" not in s]  # a key cut off is held for 8 KB
    for _ in range(100):
        text = answer(rng, samples)
        # A run without whitespace is never split, nor a finding; the window ends inside either.
        unsplittable = max(len(w) for w in re.split(r"\s", text))
        unsplittable += max((f.end - f.start for f in find(text)), default=0)
        hb = HoldBack(Redactor(), WINDOW)
        for delta in cuts(text, rng):
            hb.feed(delta)
            assert hb.held_chars <= WINDOW + unsplittable


def test_flush_releases_the_held_rest() -> None:
    hb = HoldBack(Redactor(), WINDOW)
    assert hb.feed("short answer by x@example.com") == "short answer by "
    assert hb.flush() == "[EMAIL_1]"
    assert hb.held_chars == 0


def test_restorer_puts_originals_back_across_splits() -> None:
    originals = {"[EMAIL_1]": "ann@example.com", "[PHONE_12]": "+44 20 7946 0958"}
    restorer = Restorer(originals)
    out = [
        restorer.feed(d) for d in ["Write to [EMA", "IL_1] or call [", "PHONE_1", "2]. [link](x) [EMAIL_9] ["]
    ]
    assert out[0] == "Write to " and out[1] == "ann@example.com or call "
    assert (
        "".join(out) + restorer.flush()
        == "Write to ann@example.com or call +44 20 7946 0958. [link](x) [EMAIL_9] ["
    )


def test_restorer_agrees_with_restoring_the_whole_answer() -> None:
    rng = random.Random(5)
    for _ in range(200):
        text = answer(rng)
        redacted = redact(text, reversible=True)
        noisy = redacted.text.replace(" ", " [", 3)  # brackets that are no placeholder
        expected = redacted.restore(noisy)
        assert streamed(Restorer(redacted.originals), cuts(noisy, rng, 6)) == expected


def test_restorer_without_originals_passes_text_through() -> None:
    assert Restorer({}).feed("[EMAIL_1") == "[EMAIL_1"


def chunk(index: int, content: str | None, finish: str | None = None) -> ChatChunk:
    choice = ChunkChoice(index=index, delta=Delta(content=content), finish_reason=finish)
    return ChatChunk(id="c1", object="chat.completion.chunk", created=1, model="m", choices=[choice])


async def batches_of(*batches: ChunkBatch) -> AsyncIterator[ChunkBatch]:
    for batch in batches:
        yield batch


def contents(batches: list[ChunkBatch]) -> dict[int, list[str | None]]:
    out: dict[int, list[str | None]] = {}
    for batch in batches:
        for c in batch:
            for choice in c.choices:
                out.setdefault(choice.index, []).append(choice.delta.content)
    return out


async def test_chunk_adapter_edits_each_choice_and_flushes_into_the_finishing_chunk() -> None:
    filler = "and some more words to push the text along " * 3
    stream = batches_of(
        [chunk(0, "Mail bob@exa"), chunk(1, "Card 4111 1111")],
        [chunk(0, "mple.com now " + filler), chunk(1, " 1111 1111 ok " + filler)],
        [chunk(0, "bye", "stop")],
        [chunk(1, None, "length")],
    )
    out = [b async for b in filter_chunks(stream, lambda: HoldBack(Redactor(), WINDOW))]
    got = contents(out)
    assert got[0] == ["Mail ", "[EMAIL_1] now " + filler[:-6], "along bye"]
    assert got[1] == [
        "",
        "Card [CARD_1] ok " + filler[:-6],
        "along ",
    ]  # the held tail, in the finishing chunk
    assert [c.choices[0].finish_reason for b in out for c in b] == [None, None, None, None, "stop", "length"]


async def test_chunk_adapter_flushes_into_an_extra_chunk_when_no_finish_reason_comes() -> None:
    stream = batches_of([chunk(0, None)], [chunk(0, "held until the end")])
    out = [b async for b in filter_chunks(stream, lambda: HoldBack(Redactor(), WINDOW))]
    assert contents(out)[0] == [None, "held until the ", "end"]
    assert out[-1][0].choices[0].finish_reason is None and out[-1][0].id == "c1"


def test_the_prefilter_changes_nothing_a_stream_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Redactor.release`` skips ``find`` when the due and held text has no evidence of a
    finding; with the prefilter off (``find`` on every release) every sample, split at random
    into deltas inside prose without digits, comes out the same, with the same placeholders."""
    rng = random.Random(11)
    plain = (
        "Hello there! This is a mock response, streamed one token at a time so that overhead can be measured."
    )
    answers = [f"{plain} {text}\n{plain}" for text in SAMPLES for _ in range(2)]
    splits = [list(cuts(text, rng)) for text in answers]

    def run() -> list[tuple[str, dict[Kind, int], dict[str, str]]]:
        out = []
        for parts in splits:
            redactor = Redactor(reversible=True)
            out.append(
                (streamed(HoldBack(redactor, WINDOW), iter(parts)), redactor.findings, redactor.originals)
            )
        return out

    filtered = run()
    monkeypatch.setattr(pii, "may_hold", lambda text: True)
    monkeypatch.setattr(stream, "may_hold", lambda text: True)
    assert run() == filtered
    assert sum(bool(findings) for _, findings, _ in filtered) >= len(POSITIVES)
