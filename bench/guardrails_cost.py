"""What the default guardrail policy costs per request, in process: the input stage (injection
scoring, PII and secrets redaction) on a ~1,000-token prompt, then PII redaction of a ~1,000-token
answer, as JSON and as a stream of 3-6 character deltas (bench/holdback_delay.py measures the
characters a stream holds back).

    .venv/bin/python bench/guardrails_cost.py [-n 300]

The default policy here is examples/guardrails.yaml's (injection: block, pii: redact,
secrets: block) plus output_pii: redact.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable

import msgspec

from sluice.auth.principal import Principal
from sluice.pipeline.answer_guard import guarded, guarded_stream
from sluice.pipeline.context import RequestContext
from sluice.pipeline.input_guard import InputGuardStage
from sluice.policies import GuardrailPolicy
from sluice.types import ChatChunk, ChatRequest, ChatResponse

POLICY = GuardrailPolicy(injection="block", pii="redact", secrets="block", output_pii="redact")
PARAGRAPH = (
    "I'm reviewing a pull request for our billing service and would like a second opinion. The change moves "
    "invoice generation from a nightly cron job to a queue worker, so that invoices go out within a minute of "
    "the order. Reach the author at dana.smith@example.com or +1 (415) 555-2671 if anything is unclear; the "
    "old job sometimes ran twice after a deploy and charged customers twice. Version 2.4.1 shipped on "
    "2026-05-01 12:30:45 with order ORD-2024-000123.\n"
)
TEXT = (PARAGRAPH * 10)[:4000]  # ~1,000 tokens


def request() -> RequestContext:
    body = msgspec.convert({"model": "m", "messages": [{"role": "user", "content": TEXT}]}, ChatRequest)
    ctx = RequestContext("r", "sk", body)
    ctx.principal = Principal("k", guardrails=POLICY)
    return ctx


def answer() -> ChatResponse:
    return msgspec.convert(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}
            ],
        },
        ChatResponse,
    )


def deltas(rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(TEXT):
        n = rng.randint(3, 6)
        out.append(TEXT[i : i + n])
        i += n
    return out


def chunk(text: str | None, finish: str | None = None) -> ChatChunk:
    return msgspec.convert(
        {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
        },
        ChatChunk,
    )


async def main(n: int) -> None:
    stage = InputGuardStage(GuardrailPolicy())
    rng = random.Random(7)
    pieces = deltas(rng)

    def cpu_us(run: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            for _ in range(n):
                run()
            best = min(best, (time.process_time() - t) / n * 1e6)
        return best

    best_input = float("inf")
    for _ in range(3):
        ctxs = [request() for _ in range(n)]
        t = time.process_time()
        for c in ctxs:
            await stage.before(c)
        best_input = min(best_input, (time.process_time() - t) / n * 1e6)
    input_us = best_input
    assert "[EMAIL_1]" in ctxs[0].request.messages[0].content  # type: ignore[union-attr]

    done = request()
    await stage.before(done)
    json_us = cpu_us(lambda: guarded(answer(), done))

    async def source() -> AsyncIterator[list[ChatChunk]]:
        for i, p in enumerate(pieces):
            yield [chunk(p, "stop" if i == len(pieces) - 1 else None)]

    async def stream() -> None:
        async for _ in guarded_stream(source(), done):
            pass

    best_stream = float("inf")
    for _ in range(3):
        t = time.process_time()
        for _ in range(n):
            await stream()
        best_stream = min(best_stream, (time.process_time() - t) / n * 1e6)
    stream_us = best_stream
    print(
        f"prompt and answer: {len(TEXT):,} characters each (~1,000 tokens), answer streamed in {len(pieces)} deltas"
    )
    print(f"input stage (injection + PII + secrets): {input_us:8.1f} µs")
    print(f"answer PII redaction, JSON:              {json_us:8.1f} µs")
    print(
        f"answer PII redaction, stream:            {stream_us:8.1f} µs ({stream_us / len(pieces):.1f} µs per delta)"
    )
    print(f"default policy per request (input + JSON answer): {input_us + json_us:.1f} µs")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=300)
    asyncio.run(main(p.parse_args().n))
