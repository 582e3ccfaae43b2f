"""Budgets through the whole pipeline (real sim providers, the in-process ledger): the worst case
reserved, the actual cost settled exactly once (JSON, error, stream end, early close), a 429 or a
downgrade at the limit, and a stream from a pricier fallback cut at its reservation."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from sluice.auth.principal import Principal, ScopedLimits
from sluice.budgets.ledger import Cap, Ledger, MemoryLedger, Reservation
from sluice.budgets.redis import RedisLedger
from sluice.errors import BudgetExceededError, StoreUnavailableError, UpstreamError
from sluice.limits.memory import MemoryCounterStore
from sluice.pipeline.admission import Admission
from sluice.pipeline.budget import Budgets, deployment_prices
from sluice.pipeline.context import RequestContext
from sluice.pipeline.quota import QuotaStage
from sluice.pipeline.resolve import ResolveStage
from sluice.pipeline.runner import Pipeline
from sluice.policies import Budget, Limits
from sluice.providers.sim import SimProvider
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.store.redis import BoundedRedis
from sluice.types import ChatRequest
from tests.fixtures.clock import Clock
from tests.fixtures.procs import free_port
from tests.fixtures.stages import Given
from tests.limits.conftest import T0

PROMPT = "hello there"
INPUT_ESTIMATE = 10  # 3 to prime the reply + 4 for the message + 3 for the text
ANSWER = "Simulated reply to: hello there"
PRICES = {
    "sim-pricey": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000},
    "sim-cheapish": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 10},
    "sim-fractional": {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6},  # gpt-4o-mini's
}
MAX_COST = 1_000_000


class Harness:
    def __init__(
        self,
        budget: Budget,
        *,
        sim: dict[str, Any] | None = None,
        ledger: Ledger | None = None,
        fail_open: bool = False,
    ) -> None:
        settings = Settings(
            providers={
                "sim": {"type": "sim", "sim": sim or {}},
                "broken": {"type": "sim", "sim": {"error_rate": 1.0}},
            },
            models={
                "m": {"deployments": [{"provider": "sim", "model": "sim-pricey"}]},
                "cheap": {"deployments": [{"provider": "sim", "model": "sim-free"}]},
                "fractional": {"deployments": [{"provider": "sim", "model": "sim-fractional"}]},
                "falls-back": {
                    "deployments": [{"provider": "broken", "model": "sim-cheapish"}],
                    "fallbacks": ["m"],
                },
            },
            routing={"retries": {"max_attempts": 1}},
            pricing=PRICES,
        )
        providers = {n: SimProvider(settings.providers[n], rng=random.Random(1)) for n in ("sim", "broken")}
        routes = build_routes(settings, providers)
        router = Router(routes)
        self.ledger = ledger or MemoryLedger(Clock(T0))
        self.cap = Cap("t", "key", "k", budget.period, budget.max_tokens, budget.max_cost_micros)
        stage = Budgets(
            self.ledger,
            deployment_prices(settings, routes),
            router.route,
            default_max_tokens=64,
            fail_open=fail_open,
        )
        admission = Admission(MemoryCounterStore(Clock(T0)), fail_open=False)
        principal = Principal(
            "k", tenant_id="t", key_id="k", limits=(ScopedLimits("key", "k", Limits(), (budget,)),)
        )

        self.pipeline = Pipeline(
            [Given(principal), ResolveStage(router), QuotaStage(admission, stage)], router
        )

    async def spent_micros(self) -> int:
        """What the ledger holds: the largest cost it still reserves, subtracted from the cap."""
        assert self.cap.max_cost_micros is not None
        low, high = 0, self.cap.max_cost_micros
        while low < high:  # the largest reservation that fits
            mid = (low + high + 1) // 2
            r = await self.ledger.reserve([self.cap], 0, mid)
            if isinstance(r, Reservation):
                await self.ledger.settle(r, 0, 0)
                low = mid
            else:
                high = mid - 1
        return self.cap.max_cost_micros - low


def ctx(model: str = "m", **body: Any) -> RequestContext:
    request = msgspec.convert(
        {"model": model, "messages": [{"role": "user", "content": PROMPT}], **body}, ChatRequest
    )
    return RequestContext("req_1", "sk", request)


def cost(prompt: int, completion: int, output_usd_per_mtok: int = 1000) -> int:
    return prompt * 100 + completion * output_usd_per_mtok


async def test_a_json_answer_is_priced_and_settles_its_actual_cost() -> None:
    h = Harness(Budget("day", max_cost_micros=MAX_COST))
    c = ctx(max_tokens=200)
    response = await h.pipeline.chat(c)
    assert response.usage is not None
    actual = cost(response.usage.prompt_tokens, response.usage.completion_tokens)
    assert c.cost_micros == actual and c.budget is None
    assert await h.spent_micros() == actual  # the worst case (input + 200 output tokens) was released


async def test_a_request_without_max_tokens_reserves_the_default_cap() -> None:
    h = Harness(Budget("day", max_cost_micros=cost(INPUT_ESTIMATE, 64) - 1))
    with pytest.raises(BudgetExceededError):
        await h.pipeline.chat(ctx())  # 64 output tokens at most: one micro-dollar too many
    await h.pipeline.chat(ctx(max_tokens=63))


async def test_over_budget_is_a_429_naming_the_scope_kind_and_period() -> None:
    h = Harness(Budget("month", max_cost_micros=cost(INPUT_ESTIMATE, 100)))
    await h.pipeline.chat(ctx(max_tokens=100))  # fits; spends less than it reserved
    with pytest.raises(BudgetExceededError) as e:
        await h.pipeline.chat(ctx(max_tokens=100))
    assert (e.value.status, e.value.type, e.value.code) == (429, "insufficient_quota", "budget_exceeded")
    assert e.value.message == (
        "This key has used its monthly USD budget ($0.101000) or this request's worst case does not fit in what "
        "is left. It resets at the start of the next UTC month; a smaller max_tokens may fit now."
    )
    await h.pipeline.chat(ctx(max_tokens=10))  # a smaller worst case fits


async def test_a_token_budget_counts_input_and_output() -> None:
    h = Harness(Budget("day", max_tokens=INPUT_ESTIMATE + 20))
    with pytest.raises(BudgetExceededError, match="daily token budget"):
        await h.pipeline.chat(ctx(max_tokens=21))
    await h.pipeline.chat(ctx(max_tokens=20))


async def test_at_the_limit_a_downgrade_budget_serves_the_cheaper_alias() -> None:
    h = Harness(
        Budget("day", max_cost_micros=cost(INPUT_ESTIMATE, 100), on_exceed="downgrade", downgrade_to="cheap")
    )
    first = ctx(max_tokens=100)
    await h.pipeline.chat(first)
    assert first.deployment is not None and first.deployment.name == "sim/sim-pricey"
    spent = await h.spent_micros()
    second = ctx(max_tokens=100)
    await h.pipeline.chat(second)
    assert second.route is not None and second.route.alias == "cheap"
    assert second.deployment is not None and second.deployment.name == "sim/sim-free"
    assert second.cost_micros == 0 and await h.spent_micros() == spent


async def test_a_downgrade_to_an_unknown_alias_rejects() -> None:
    h = Harness(Budget("day", max_cost_micros=1, on_exceed="downgrade", downgrade_to="nope"))
    with pytest.raises(BudgetExceededError):
        await h.pipeline.chat(ctx(max_tokens=10))


async def test_an_upstream_failure_releases_the_whole_reservation() -> None:
    h = Harness(Budget("day", max_cost_micros=MAX_COST), sim={"error_rate": 1.0})
    c = ctx(max_tokens=100)
    with pytest.raises(UpstreamError):
        await h.pipeline.chat(c)
    assert c.budget is None and c.cost_micros == 0 and await h.spent_micros() == 0


async def test_a_stream_settles_with_its_usage_and_hides_the_usage_it_asked_for() -> None:
    h = Harness(Budget("day", max_cost_micros=MAX_COST))
    chunks = await h.pipeline.stream(ctx(stream=True, max_tokens=100))
    assert await h.spent_micros() == cost(INPUT_ESTIMATE, 100)  # reserved while it runs
    received = [c async for batch in chunks for c in batch]
    assert all(c.usage is None and c.choices for c in received)
    assert received[-1].choices[0].finish_reason == "stop"
    assert await h.spent_micros() == cost(5, 5)  # the sim's usage: 2 words + 3 in, 5 words out


async def test_a_stream_closed_early_settles_what_it_relayed() -> None:
    h = Harness(Budget("day", max_cost_micros=MAX_COST), sim={"chunk_delay_ms": 1})
    chunks = await h.pipeline.stream(ctx(stream=True, max_tokens=100))
    await anext(chunks)  # the role chunk: no output yet
    await chunks.aclose()  # type: ignore[attr-defined]  # the client went away
    assert await h.spent_micros() == cost(INPUT_ESTIMATE, 0)


async def test_a_stream_from_a_pricier_fallback_ends_with_length_at_its_reservation() -> None:
    h = Harness(Budget("day", max_cost_micros=MAX_COST))
    # Reserved at the first deployment's price (output 10): 10 * 100 + 450 * 10 = 5500 micro-dollars;
    # the fallback answers at output 1000, so (5500 - 10 * 100) // 1000 = 4 output tokens fit.
    c = ctx("falls-back", stream=True, max_tokens=450, stream_options={"include_usage": True})
    chunks = await h.pipeline.stream(c)
    assert c.deployment is not None and c.deployment.name == "sim/sim-pricey"
    received = [x async for batch in chunks for x in batch]
    reserved = cost(INPUT_ESTIMATE, 450, output_usd_per_mtok=10)
    text = "".join(x.choices[0].delta.content or "" for x in received if x.choices)
    assert text and ANSWER.startswith(text) and text != ANSWER
    assert received[-2].choices[0].finish_reason == "length"
    usage = received[-1].usage
    assert received[-1].choices == [] and usage is not None and usage.completion_tokens <= 4
    assert await h.spent_micros() == cost(INPUT_ESTIMATE, usage.completion_tokens) <= reserved


async def test_a_stream_is_not_cut_by_the_rounding_of_its_own_reservation() -> None:
    """At fractions of a micro-dollar per token, the reserved cost is rounded up once; the meter
    must not read the input's rounding as output the reservation cannot afford."""
    h = Harness(Budget("day", max_cost_micros=MAX_COST))
    # 10 input tokens at 0.15 = 1.5 and 4 output at 0.6 = 2.4: 3.9 reserved as 4. Rounded apart,
    # (4 - ceil(1.5)) / 0.6 would afford only 3 of the 4 output tokens.
    received = [
        x
        async for batch in await h.pipeline.stream(ctx("fractional", stream=True, max_tokens=4))
        for x in batch
    ]
    text = "".join(x.choices[0].delta.content or "" for x in received if x.choices)
    assert len(text.split()) == 4 and received[-1].choices[0].finish_reason == "length"


async def test_an_unreachable_ledger_admits_or_refuses_by_policy() -> None:
    budget = Budget("day", max_cost_micros=1)
    for fail_open in (True, False):
        ledger = RedisLedger(BoundedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5))
        h = Harness(budget, ledger=ledger, fail_open=fail_open)
        c = ctx(max_tokens=10)
        try:
            if fail_open:
                await h.pipeline.chat(c)  # served unbudgeted, still priced
                assert c.budget is None and c.cost_micros == cost(5, 5)
            else:
                with pytest.raises(StoreUnavailableError, match="Budgets cannot be checked right now"):
                    await h.pipeline.chat(c)
        finally:
            await ledger.close()
