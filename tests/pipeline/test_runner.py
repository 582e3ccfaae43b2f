"""Settle through the whole pipeline (real sim provider, in-process counters): exactly once per
admitted request, after a JSON answer, an error, a stream's end, failure or early close."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from sluice.auth.principal import Principal, ScopedLimits
from sluice.budgets.ledger import MemoryLedger
from sluice.errors import UpstreamError
from sluice.limits.counters import Decision, Scope, plan
from sluice.limits.memory import MemoryCounterStore
from sluice.pipeline.admission import Admission
from sluice.pipeline.budget import Budgets, deployment_prices
from sluice.pipeline.context import RequestContext
from sluice.pipeline.quota import QuotaStage
from sluice.pipeline.resolve import ResolveStage
from sluice.pipeline.runner import Pipeline
from sluice.policies import Limits
from sluice.providers.sim import SimProvider
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.types import ChatRequest, EmbeddingRequest
from tests.fixtures.clock import Clock
from tests.fixtures.stages import Given
from tests.limits.conftest import T0

LIMITS = Limits(tpm=10_000, max_concurrent=1)
SCOPE = Scope(None, "key", "k", tpm=10_000, max_concurrent=1)
PROMPT = "hello there"
USAGE = 5 + 5  # the sim: 2 words + 3 per message in, "Simulated reply to: hello there" out


class Harness:
    def __init__(self, sim: dict[str, Any]) -> None:
        settings = Settings(
            providers={"sim": {"type": "sim", "sim": sim}},
            models={
                "m": {"deployments": [{"provider": "sim", "model": "x"}]},
                "e": {"kind": "embedding", "deployments": [{"provider": "sim", "model": "y"}]},
            },
            routing={"retries": {"max_attempts": 1}},
        )
        providers = {"sim": SimProvider(settings.providers["sim"], rng=random.Random(1))}
        routes = build_routes(settings, providers)
        router = Router(routes)
        self.counters = MemoryCounterStore(Clock(T0))
        admission = Admission(self.counters, fail_open=False)
        principal = Principal("k", limits=(ScopedLimits("key", "k", LIMITS),))

        budget = Budgets(
            MemoryLedger(Clock(T0)),
            deployment_prices(settings, routes),
            router.route,
            default_max_tokens=64,
            fail_open=False,
        )
        self.pipeline = Pipeline(
            [Given(principal), ResolveStage(router), QuotaStage(admission, budget)], router
        )

    async def probe(self) -> Decision:
        """What the counters hold now: admitting one more (then releasing it) shows it."""
        d = await self.counters.admit(plan([SCOPE]), 0)
        if d.ticket is not None:
            await self.counters.settle(d.ticket, 0)
        return d

    async def tokens_used(self) -> int:
        d = await self.probe()
        assert d.refusal is None and d.quota.tokens is not None
        return SCOPE.tpm - d.quota.tokens.remaining  # type: ignore[operator]


def ctx(**body: Any) -> RequestContext:
    request = msgspec.convert(
        {"model": "m", "messages": [{"role": "user", "content": PROMPT}], **body}, ChatRequest
    )
    return RequestContext("req_1", "sk", request)


async def test_a_json_answer_settles_with_its_usage() -> None:
    h = Harness({})
    response = await h.pipeline.chat(ctx(max_tokens=200))
    assert response.usage is not None and response.usage.total_tokens == USAGE
    assert await h.tokens_used() == USAGE  # the estimate (input + 200) was replaced by the usage


async def test_an_error_releases_the_slot_and_keeps_the_estimate() -> None:
    h = Harness({"error_rate": 1.0, "error_status": [500]})
    c = ctx(max_tokens=200)
    with pytest.raises(UpstreamError):
        await h.pipeline.chat(c)
    assert c.admission is None
    assert await h.tokens_used() >= 200


async def test_a_stream_settles_when_it_ends_and_hides_the_usage_it_asked_for() -> None:
    h = Harness({})
    chunks = await h.pipeline.stream(ctx(stream=True, max_tokens=200))
    assert (await h.probe()).refusal is not None  # the slot is held while the stream runs
    received = [c async for batch in chunks for c in batch]
    assert all(c.usage is None and c.choices for c in received)
    assert await h.tokens_used() == USAGE


async def test_a_stream_that_asked_for_usage_keeps_it() -> None:
    h = Harness({})
    chunks = await h.pipeline.stream(ctx(stream=True, stream_options={"include_usage": True}))
    received = [c async for batch in chunks for c in batch]
    assert received[-1].choices == [] and received[-1].usage is not None
    assert await h.tokens_used() == USAGE


async def test_a_stream_closed_early_releases_its_slot() -> None:
    h = Harness({"chunk_delay_ms": 1})
    chunks = await h.pipeline.stream(ctx(stream=True, max_tokens=200))
    await anext(chunks)
    assert (await h.probe()).refusal is not None
    await chunks.aclose()  # type: ignore[attr-defined]  # the client went away
    assert await h.tokens_used() >= 200  # no usage seen: the estimate stands


async def test_a_stream_that_never_starts_releases_its_slot() -> None:
    h = Harness({"error_rate": 1.0, "error_status": [503]})
    c = ctx(stream=True)
    with pytest.raises(UpstreamError):
        await h.pipeline.stream(c)
    assert c.admission is None and (await h.probe()).refusal is None


async def test_embeddings_settle_with_their_usage() -> None:
    h = Harness({})
    c = RequestContext(
        "req_1", "sk", EmbeddingRequest(model="e", input="one two three four five six seven eight")
    )
    await h.pipeline.embed(c)
    assert await h.tokens_used() == 8  # the sim counts words; the estimate was 10
