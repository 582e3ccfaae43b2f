"""What the stream guardrails add: a ~1,000-token answer (4 KB of prose with ten PII items) is
streamed in 3-6 character deltas through each filter, and this prints how many characters are
held back (mean and max after each delta), how many deltas later the first and the last
character go out than they arrived, the mean and max delay of a character, and the CPU cost
per delta (best of several rounds). A delay in deltas becomes time at the upstream's pace:
at ~50 tokens/s one delta is about 20 ms. The last row holds the whole 64-character window
back all the time, for comparison with holding only a tail that may still become PII.

    .venv/bin/python bench/holdback_delay.py
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.guardrails.pii import redact
from sluice.guardrails.rules import RuleGate, Rules
from sluice.guardrails.stream import HoldBack, Redactor, Restorer

Filter = HoldBack | Restorer

ANSWER_CHARS = 4096
MS_PER_DELTA = 20
PROSE = (
    "The gateway routes each request to a deployment picked by the router; on a 429 or a 5xx it "
    "retries another one after a short backoff. In 2024 we served 3 regions and 12 models: see "
    "section 4.2 of the design notes, version 1.8.0, for details. Answers stream back as they arrive. "
)
ITEMS = [
    "john.doe@example.com",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "4111 1111 1111 1111",
    "123-45-6789",
    "DE89 3704 0044 0532 0130 00",
    "192.168.1.10",
    "2001:db8::8a2e:370:7334",
    "AKIAIOSFODNN7EXAMPLE",
    "jane.roe@corp.example.org",
]
# The benchmark mock upstream's answer (shared/bench/mock_upstream.py WORDS), one word a delta, as
# the everything-on run streams it: 32 tokens, no PII, no digits.
MOCK_WORDS = (
    "Hello", " there", "!", " This", " is", " a", " mock", " response", " from",
    " the", " benchmark", " upstream", ",", " streamed", " one", " token", " at",
    " a", " time", " so", " that", " gateway", " overhead", " can", " be",
    " measured", " without", " a", " real", " model", ".", "\n",
)  # fmt: skip


class WholeWindow(Redactor):
    def unsettled(self, text: str, floor: int) -> int:
        return floor


def answer() -> str:
    words = (PROSE * (ANSWER_CHARS // len(PROSE) + 1)).split(" ")
    step = len(words) // (len(ITEMS) + 1)
    for i, item in enumerate(ITEMS, 1):
        words.insert(i * step, item)
    return " ".join(words)[:ANSWER_CHARS]


def deltas(text: str) -> list[str]:
    rng, out, pos = random.Random(1), [], 0
    while pos < len(text):
        n = rng.randint(3, 6)
        out.append(text[pos : pos + n])
        pos += n
    return out


def delays(make: Callable[[], Filter], parts: list[str]) -> tuple[list[int], list[int]]:
    """Characters held after each delta, and for each character how many deltas later it went
    out. The flush goes out with the last delta, as it would in the chunk with finish_reason."""
    f = make()
    held: list[int] = []
    arrived_at: list[int] = []  # the delta each character of the answer came in
    late: list[int] = []  # per character released so far: deltas between arrival and release
    for i, part in enumerate(parts):
        arrived_at += [i] * len(part)
        f.feed(part)
        held.append(f.held_chars)
        released = len(arrived_at) - f.held_chars
        late += [i - a for a in arrived_at[len(late) : released]]
    f.flush()
    late += [len(parts) - 1 - a for a in arrived_at[len(late) :]]
    return held, late


def cpu_us_per_delta(make: Callable[[], Filter], parts: list[str], rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        f = make()
        start = time.perf_counter()
        for part in parts:
            f.feed(part)
        f.flush()
        best = min(best, time.perf_counter() - start)
    return best / len(parts) * 1e6


def main() -> None:
    text = answer()
    parts = deltas(text)
    originals = redact(text, reversible=True).originals
    restorable = redact(text, reversible=True).text
    rules = Rules(deny=["project falcon"], categories=["profanity", "violence", "self_harm"])
    filters: dict[str, tuple[Callable[[], Filter], list[str]]] = {
        "pii redaction": (lambda: HoldBack(Redactor()), parts),
        "content rules": (lambda: HoldBack(RuleGate(rules)), parts),
        "placeholder restore": (lambda: Restorer(originals), deltas(restorable)),
        "pii, whole 64-char window": (lambda: HoldBack(WholeWindow()), parts),
    }
    print(
        f"answer: {len(text)} chars, {len(parts)} deltas of 3-6 chars; 1 delta ~ {MS_PER_DELTA} ms at 50 tok/s"
    )
    print(
        f"{'filter':<26} {'held mean':>9} {'held max':>8} {'first +':>7} {'last +':>6}"
        f" {'char delay mean':>15} {'max':>4} {'cpu us/delta':>12}"
    )
    for name, (make, stream) in filters.items():
        held, late = delays(make, stream)
        print(
            f"{name:<26} {sum(held) / len(held):>9.1f} {max(held):>8} {late[0]:>7} {late[-1]:>6}"
            f" {sum(late) / len(late):>15.1f} {max(late):>4} {cpu_us_per_delta(make, stream):>12.1f}"
        )
    mock = list(MOCK_WORDS)
    mock_us = cpu_us_per_delta(lambda: HoldBack(Redactor()), mock, rounds=2000) * len(mock)
    print(f"pii redaction of the mock's answer ({len(mock)} one-word deltas): {mock_us:.1f} us a stream")
    print(
        "first +, last +, char delay: in deltas. The held rest goes out with the last delta here; when"
        " finish_reason comes in a chunk of its own, the last characters wait one more."
    )


if __name__ == "__main__":
    main()
