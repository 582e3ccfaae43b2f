"""What one async-generator layer around a stream costs: a 35-batch stream (a 32-token answer's
SSE events) through 0, 1, 3 and 6 pass-through layers of the shape the pipeline's stream hooks
have (iterate, look at each chunk, yield, close the inner stream), process CPU per stream, best
of 3, on uvloop.

    .venv/bin/python bench/stream_layers.py
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

import uvloop


async def source(batches: int) -> AsyncGenerator[list[int], None]:
    for i in range(batches):
        yield [i]


async def layer(chunks: AsyncGenerator[list[int], None]) -> AsyncGenerator[list[int], None]:
    try:
        async for batch in chunks:
            for _ in batch:
                pass
            yield batch
    finally:
        await chunks.aclose()


async def per_stream_us(layers: int, batches: int = 35, streams: int = 3000) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(streams):
            g = source(batches)
            for _ in range(layers):
                g = layer(g)
            async for _ in g:
                pass
        best = min(best, (time.process_time() - started) / streams * 1e6)
    return best


async def main() -> None:
    for n in (0, 1, 3, 6):
        print(f"{n} layers: {await per_stream_us(n):.1f} us per 35-batch stream")


if __name__ == "__main__":
    uvloop.run(main())
