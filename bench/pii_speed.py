"""How fast PII and secrets detection is on the hot path: microseconds per ``find`` and ``redact``
call on a 4 KB prompt without PII (prose with dates, times, versions, prices and a little code),
the same prompt with ten PII items and secrets mixed in, and a 4 KB prompt in Russian and Japanese;
then characters per second. Each figure is the best of several rounds.

    .venv/bin/python bench/pii_speed.py
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not an installed copy

from sluice.guardrails.pii import find, redact

SIZE = 4096
CLEAN = (
    "Our gateway routes each request to a deployment picked by the router; on a 429 or a 5xx it "
    "retries another one after a short backoff (250 ms, then 500 ms). In 2024 we served 3 regions "
    "and 12 models: see section 4.2 of the design notes, version 1.8.0, for details.\n"
    "Note: budgets are checked before the call, at 2024-05-01 12:30:45 UTC the ledger held "
    "$1,234.56 for tenant acme-prod, and answers stream back as they arrive.\n"
    "```python\nfor i, chunk in enumerate(stream):\n    if chunk.usage:\n"
    "        total += chunk.usage.total_tokens\n```\nThe p99 latency fell from 41.7 ms to 12.3 ms after commit 3f786850 (PR #1024); "
    "ORD-2024-000123 was refunded. Can you summarise this, in at most 5 bullet points?\n"
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
UNICODE = (
    "Шлюз направляет каждый запрос в развёртывание, выбранное маршрутизатором; при ошибке 429 он "
    "повторяет попытку через 250 мс. ゲートウェイは各リクエストをルーターが選んだデプロイメントに送り、"
    "2024年5月1日 12:30 に予算を確認します。バージョン 1.8.0 の設計ノートを参照してください。\n"
)


# The load generator's prompt (shared/bench/loadgen.py, 400 characters and a salt with digits) and
# the mock upstream's answer to a 32-token request: what the everything-on benchmark sends per request.
LOADGEN = (
    "[req 1f3a9c2e-41872-1234] "
    + (
        "You are benchmarking an LLM gateway. Please answer briefly and politely. "
        "The quick brown fox jumps over the lazy dog. " * 4
    )[:400]
)
MOCK_ANSWER = (
    "Hello there! This is a mock response from the benchmark upstream, streamed one token at a time "
    "so that gateway overhead can be measured without a real model.\n"
)


def fill(unit: str) -> str:
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


def with_items(unit: str) -> str:
    """A 4 KB text of ``unit`` with ITEMS spread through it, each after a space."""
    text = fill(unit)[: SIZE - sum(len(item) + 1 for item in ITEMS)]
    step = len(text) // (len(ITEMS) + 1)
    out, pos = [], 0
    for i, item in enumerate(ITEMS, 1):
        cut = text.index(" ", i * step) + 1
        out += (text[pos:cut], item, " ")
        pos = cut
    out.append(text[pos:])
    return "".join(out)


def best_us(call: object, number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    texts = {
        "clean 4 KB": fill(CLEAN),
        "10 PII items": with_items(CLEAN),
        "clean 4 KB unicode": fill(UNICODE),
        "loadgen prompt": LOADGEN,
        "loadgen, no salt": LOADGEN[LOADGEN.index("]") + 2 :],
        "mock answer": MOCK_ANSWER,
    }
    print(f"{'text':<20} {'chars':>6} {'findings':>8} {'find us':>8} {'redact us':>9} {'chars/s':>12}")
    for name, text in texts.items():
        best_us(lambda text=text: redact(text), 2000)  # warm up
        find_us = best_us(lambda text=text: find(text), 2000)
        redact_us = best_us(lambda text=text: redact(text, reversible=True), 2000)
        print(
            f"{name:<20} {len(text):>6} {len(find(text)):>8} {find_us:>8.1f} {redact_us:>9.1f}"
            f" {len(text) / redact_us * 1e6:>12,.0f}"
        )


if __name__ == "__main__":
    main()
