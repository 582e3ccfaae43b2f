"""The in-process sim provider: answers, pacing and injected failures, as the router sees them."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from sluice.errors import UpstreamError
from sluice.providers.base import Target
from sluice.providers.sim import SimProvider
from sluice.settings import ProviderSettings
from sluice.sim import model
from sluice.types import ChatRequest, chat_request_decoder, embedding_request_decoder, encoder

TARGET = Target(model="sim-upstream")


def provider(**sim: Any) -> SimProvider:
    return SimProvider(ProviderSettings(type="sim", sim=sim), clock=lambda: 1700000000.5)


def chat(text: str = "hello there", **fields: Any) -> ChatRequest:
    body = {"model": "alias", "messages": [{"role": "user", "content": text}], **fields}
    return chat_request_decoder.decode(encoder.encode(body))


async def test_chat_answers_as_the_model_for_the_target() -> None:
    response = await provider().chat(chat(), TARGET)
    assert response == model.complete(chat(), "sim-upstream", created=1700000000)
    assert response.choices[0].message.content == "Simulated reply to: hello there"


async def test_stream_without_delay_is_one_batch() -> None:
    request = chat(stream=True, stream_options={"include_usage": True})
    batches = [b async for b in await provider().stream(request, TARGET)]
    assert batches == [model.stream_chunks(request, "sim-upstream", created=1700000000)]


async def test_stream_honours_the_chunk_count() -> None:
    [batch] = [b async for b in await provider(chunks=2).stream(chat(), TARGET)]
    assert [c.choices[0].delta.content for c in batch] == ["", "Simulated reply", " to: hello there", None]


async def test_stream_paces_each_chunk_as_its_own_batch() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    times = []
    async for batch in await provider(ttft_ms=50, chunk_delay_ms=10).stream(chat("a"), TARGET):
        times.append(loop.time() - start)
        assert len(batch) == 1
    assert len(times) == 1 + 4 + 1
    assert times[0] >= 0.05
    assert times[-1] - times[0] >= 5 * 0.01


async def test_latency_delays_a_json_answer() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await provider(latency_ms=50).chat(chat(), TARGET)
    assert loop.time() - start >= 0.05


async def test_fail_first_fails_the_first_calls_then_answers() -> None:
    sim = provider(fail_first=2, error_status=[503, 500], retry_after_s=1.5)
    for _ in range(2):
        with pytest.raises(UpstreamError) as e:
            await sim.chat(chat(), TARGET)
        assert (e.value.upstream_status, e.value.retry_after_s, e.value.is_retryable) == (503, 1.5, True)
        assert e.value.status == 502
    assert (await sim.chat(chat(), TARGET)).choices[0].finish_reason == "stop"


async def test_injected_429_carries_retry_after_and_500_does_not() -> None:
    with pytest.raises(UpstreamError) as e:
        await provider(error_rate=1, error_status=[429], retry_after_s=2).chat(chat(), TARGET)
    assert (e.value.upstream_status, e.value.retry_after_s, e.value.code) == (429, 2.0, "429")
    with pytest.raises(UpstreamError) as e:
        await provider(error_rate=1, error_status=[500], retry_after_s=2).chat(chat(), TARGET)
    assert (e.value.upstream_status, e.value.retry_after_s) == (500, None)


async def test_error_rate_draws_are_reproducible_with_the_rng() -> None:
    async def outcomes(rng: random.Random) -> list[int | None]:
        sim = SimProvider(
            ProviderSettings(type="sim", sim={"error_rate": 0.5, "error_status": [500, 429]}), rng=rng
        )
        out: list[int | None] = []
        for _ in range(40):
            try:
                await sim.chat(chat(), TARGET)
                out.append(None)
            except UpstreamError as e:
                out.append(e.upstream_status)
        return out

    first = await outcomes(random.Random(3))
    assert first == await outcomes(random.Random(3))
    assert set(first) == {None, 500, 429}


async def test_stream_failure_raises_before_the_stream_starts() -> None:
    with pytest.raises(UpstreamError) as e:
        await provider(error_rate=1, error_status=[503]).stream(chat(), TARGET)
    assert e.value.upstream_status == 503


async def test_hang_ends_only_by_cancellation() -> None:
    sim = provider(hang_rate=1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.chat(chat(), TARGET), 0.05)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.stream(chat(), TARGET), 0.05)


async def test_closing_a_stream_mid_way_stops_it() -> None:
    stream = await provider(chunk_delay_ms=1000).stream(chat(), TARGET)
    first = await anext(stream)
    assert first[0].choices[0].delta.role == "assistant"
    await asyncio.wait_for(stream.aclose(), 0.5)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_embed() -> None:
    request = embedding_request_decoder.decode(b'{"model":"alias","input":["a b","c"],"dimensions":16}')
    response = await provider(embedding_dim=8).embed(request, TARGET)
    assert response == model.embed(request, "sim-upstream", default_dim=8)
    assert [len(d.embedding) for d in response.data] == [16, 16]


async def test_embed_failures_are_injected_too() -> None:
    request = embedding_request_decoder.decode(b'{"model":"alias","input":"a"}')
    with pytest.raises(UpstreamError):
        await provider(fail_first=1).embed(request, TARGET)


async def test_close_is_a_no_op() -> None:
    sim = provider()
    await sim.close()
    assert (await sim.chat(chat(), TARGET)).model == "sim-upstream"
