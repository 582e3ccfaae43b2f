"""The attempt loop, driven by real in-process sim providers with injected failures; sleeps
are recorded instead of slept, and the breaker clock is advanced by hand."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from sluice.budgets.pricing import routing_prices
from sluice.errors import (
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamTruncatedError,
    UnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from sluice.providers.sim import SimProvider
from sluice.routing.breaker import State
from sluice.routing.router import Attempt, Router
from sluice.routing.table import build_routes
from sluice.settings import Settings
from sluice.types import ChatRequest, Message
from tests.fixtures.clock import Clock


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_router(
    providers: dict[str, dict[str, Any]], models: dict[str, Any], routing: dict[str, Any] | None = None
):
    settings = Settings(
        providers={name: {"type": "sim", "sim": sim} for name, sim in providers.items()},
        models=models,
        routing=routing or {},
    )
    sims = {name: SimProvider(p, rng=random.Random(1)) for name, p in settings.providers.items()}
    clock, sleeps = Clock(0.0), Sleeps()
    routes = build_routes(settings, sims, clock=clock)
    return Router(routes, rng=random.Random(1), sleep=sleeps, clock=clock), clock, sleeps


def req(text: str = "hello", **kw: Any) -> ChatRequest:
    return ChatRequest(model="m", messages=[Message(role="user", content=text)], **kw)


async def test_retries_a_failing_deployment_with_backoff_then_succeeds() -> None:
    router, _, sleeps = make_router(
        {"flaky": {"fail_first": 2, "error_status": [503]}},
        {"m": {"deployments": [{"provider": "flaky", "model": "x"}]}},
    )
    attempts: list[Attempt] = []
    response, d = await router.chat(req(), router.route("m", "chat"), attempts)
    assert response.choices[0].message.content == "Simulated reply to: hello"
    assert d.name == "flaky/x"
    assert [a.error for a in attempts] == ["503", "503", None]
    assert len(sleeps) == 2 and all(0 <= s <= 0.4 for s in sleeps)


async def test_retry_after_is_waited_exactly() -> None:
    router, _, sleeps = make_router(
        {"limited": {"fail_first": 1, "error_status": [429], "retry_after_s": 2}},
        {"m": {"deployments": [{"provider": "limited", "model": "x"}]}},
    )
    attempts: list[Attempt] = []
    await router.chat(req(), router.route("m", "chat"), attempts)
    assert sleeps == [2.0]


async def test_retry_after_beyond_the_cap_moves_to_the_fallback_at_once() -> None:
    router, _, sleeps = make_router(
        {"limited": {"error_rate": 1, "error_status": [429], "retry_after_s": 60}, "ok": {}},
        {
            "m": {"deployments": [{"provider": "limited", "model": "x"}], "fallbacks": ["backup"]},
            "backup": {"deployments": [{"provider": "ok", "model": "y"}]},
        },
    )
    attempts: list[Attempt] = []
    _, d = await router.chat(req(), router.route("m", "chat"), attempts)
    assert d.name == "ok/y" and sleeps == []
    assert [(a.alias, a.error) for a in attempts] == [("m", "429"), ("backup", None)]


async def test_second_deployment_is_tried_without_waiting() -> None:
    router, _, sleeps = make_router(
        {"down": {"error_rate": 1}, "up": {}},
        {
            "m": {
                "deployments": [
                    {"provider": "down", "model": "a", "priority": 0},
                    {"provider": "up", "model": "b", "priority": 1},
                ]
            }
        },
    )
    attempts: list[Attempt] = []
    _, d = await router.chat(req(), router.route("m", "chat"), attempts)
    assert d.name == "up/b" and sleeps == []
    assert [a.deployment for a in attempts] == ["down/a", "up/b"]


async def test_fallback_chain_is_walked_in_order() -> None:
    router, _, _ = make_router(
        {"down": {"error_rate": 1}, "up": {}},
        {
            "claude-sonnet": {"deployments": [{"provider": "down", "model": "s"}], "fallbacks": ["gpt-4o"]},
            "gpt-4o": {"deployments": [{"provider": "down", "model": "o"}], "fallbacks": ["gpt-4o-mini"]},
            "gpt-4o-mini": {"deployments": [{"provider": "up", "model": "mini"}]},
        },
        {"retries": {"max_attempts": 1}},
    )
    attempts: list[Attempt] = []
    _, d = await router.chat(req(), router.route("claude-sonnet", "chat"), attempts)
    assert d.name == "up/mini"
    assert [a.alias for a in attempts] == ["claude-sonnet", "gpt-4o", "gpt-4o-mini"]


async def test_exhausted_retries_give_502_with_the_upstream_status() -> None:
    router, _, _ = make_router(
        {"down": {"error_rate": 1, "error_status": [500]}},
        {"m": {"deployments": [{"provider": "down", "model": "x"}]}},
    )
    with pytest.raises(UpstreamError) as e:
        await router.chat(req(), router.route("m", "chat"), [])
    assert e.value.status == 502 and e.value.code == "500" and "after 3 attempts" in e.value.message


async def test_all_attempts_rate_limited_give_429() -> None:
    router, _, _ = make_router(
        {"busy": {"error_rate": 1, "error_status": [429], "retry_after_s": 1}},
        {"m": {"deployments": [{"provider": "busy", "model": "x"}]}},
    )
    with pytest.raises(RateLimitError) as e:
        await router.chat(req(), router.route("m", "chat"), [])
    assert e.value.status == 429 and e.value.retry_after_s == 1


async def test_breaker_opens_and_skips_the_deployment_then_probes() -> None:
    router, clock, _ = make_router(
        {"down": {"error_rate": 1}, "up": {}},
        {
            "m": {
                "deployments": [
                    {"provider": "down", "model": "a", "priority": 0},
                    {"provider": "up", "model": "b", "priority": 1},
                ]
            }
        },
        {"breaker": {"failure_threshold": 2, "open_s": 30}},
    )
    route = router.route("m", "chat")
    for _ in range(2):
        await router.chat(req(), route, [])
    down = route.deployments[0]
    assert down.breaker.state is State.OPEN
    attempts: list[Attempt] = []
    await router.chat(req(), route, attempts)
    assert [a.deployment for a in attempts] == ["up/b"]  # the open circuit is not called
    clock.now += 30
    attempts = []
    await router.chat(req(), route, attempts)
    assert [a.deployment for a in attempts] == ["down/a", "up/b"]  # one probe, failed
    assert down.breaker.state is State.OPEN


async def test_every_circuit_open_is_503() -> None:
    router, _, _ = make_router(
        {"down": {"error_rate": 1}},
        {"m": {"deployments": [{"provider": "down", "model": "a"}]}},
        {"breaker": {"failure_threshold": 1, "open_s": 30}, "retries": {"max_attempts": 1}},
    )
    route = router.route("m", "chat")
    with pytest.raises(UpstreamError):
        await router.chat(req(), route, [])
    with pytest.raises(UnavailableError) as e:
        await router.chat(req(), route, [])
    assert e.value.status == 503 and e.value.code == "circuit_open"


async def test_hang_is_cut_by_the_attempt_timeout() -> None:
    router, _, _ = make_router(
        {"stuck": {"hang_rate": 1}},
        {
            "m": {
                "deployments": [{"provider": "stuck", "model": "a"}],
                "timeouts": {"total_s": 0.05},
                "retries": {"max_attempts": 2},
            }
        },
    )
    attempts: list[Attempt] = []
    with pytest.raises(UpstreamTimeoutError) as e:
        await asyncio.wait_for(router.chat(req(), router.route("m", "chat"), attempts), 5)
    assert e.value.status == 504
    assert [a.error for a in attempts] == ["upstream_timeout", "upstream_timeout"]


async def test_stream_retries_before_the_first_chunk_only() -> None:
    router, _, _ = make_router(
        {"flaky": {"fail_first": 1}},
        {"m": {"deployments": [{"provider": "flaky", "model": "x"}]}},
    )
    attempts: list[Attempt] = []
    chunks, _ = await router.stream(req("one two", stream=True), router.route("m", "chat"), attempts)
    text = "".join([c.choices[0].delta.content or "" async for batch in chunks for c in batch if c.choices])
    assert text == "Simulated reply to: one two"
    assert [a.error for a in attempts] == ["500", None]


async def test_stream_stall_after_first_chunk_is_a_timeout_error_mid_stream() -> None:
    router, _, _ = make_router(
        {"slow": {"chunk_delay_ms": 500}},
        {"m": {"deployments": [{"provider": "slow", "model": "x"}], "timeouts": {"stream_idle_s": 0.05}}},
    )
    chunks, _ = await router.stream(req(stream=True), router.route("m", "chat"), [])
    got = []
    with pytest.raises(UpstreamTimeoutError):
        async for batch in chunks:
            got.append(batch)
    assert len(got) == 1


def test_unknown_alias_is_404() -> None:
    router, _, _ = make_router({"p": {}}, {"m": {"deployments": [{"provider": "p", "model": "x"}]}})
    with pytest.raises(NotFoundError) as e:
        router.route("nope", "chat")
    assert e.value.status == 404 and e.value.param == "model"


async def test_a_callers_route_keeps_only_the_fallbacks_it_may_use() -> None:
    router, _, _ = make_router(
        {"down": {"error_rate": 1}, "up": {}},
        {
            "a": {"deployments": [{"provider": "down", "model": "a"}], "fallbacks": ["b"]},
            "b": {"deployments": [{"provider": "down", "model": "b"}], "fallbacks": ["c"]},
            "c": {"deployments": [{"provider": "up", "model": "c"}]},
        },
        {"retries": {"max_attempts": 1}},
    )
    assert router.route("a", "chat").chain == ("a", "b", "c")
    assert router.route("a", "chat", frozenset({"a", "b", "c"})) is router.route("a", "chat")
    assert router.route("a", "chat", frozenset({"a", "c"})).chain == ("a", "c")  # c may be used on its own
    attempts: list[Attempt] = []
    with pytest.raises(UpstreamError):
        await router.chat(req(), router.route("a", "chat", frozenset({"a", "b"})), attempts)
    assert [a.alias for a in attempts] == ["a", "b"]
    with pytest.raises(PermissionDeniedError) as e:
        router.route("b", "chat", frozenset({"a"}))
    assert (e.value.status, e.value.code, e.value.param) == (403, "model_not_allowed", "model")
    with pytest.raises(NotFoundError):
        router.route("nope", "chat", frozenset({"a"}))  # unknown is a 404 before it is a 403


async def test_stream_cut_before_its_first_chunk_falls_back() -> None:
    router, _, _ = make_router(
        {"cut": {"cut_after": 0}, "ok": {}},
        {
            "m": {"deployments": [{"provider": "cut", "model": "x"}], "fallbacks": ["b"]},
            "b": {"deployments": [{"provider": "ok", "model": "y"}]},
        },
        {"retries": {"max_attempts": 1}},
    )
    attempts: list[Attempt] = []
    chunks, d = await router.stream(req("one two", stream=True), router.route("m", "chat"), attempts)
    text = "".join([c.choices[0].delta.content or "" async for batch in chunks for c in batch if c.choices])
    assert text == "Simulated reply to: one two" and d.name == "ok/y"
    assert [a.error for a in attempts] == ["upstream_stream_truncated", None]


async def test_stream_cut_after_its_first_chunk_fails_mid_stream_and_counts_against_the_breaker() -> None:
    router, _, _ = make_router(
        {"cut": {"cut_after": 2, "chunk_delay_ms": 1}},
        {"m": {"deployments": [{"provider": "cut", "model": "x"}]}},
        {"breaker": {"failure_threshold": 1}},
    )
    chunks, d = await router.stream(req(stream=True), router.route("m", "chat"), [])
    got = []
    with pytest.raises(StreamTruncatedError):
        async for batch in chunks:
            got.extend(c.choices[0].delta.content for c in batch)
    assert got == ["", "Simulated"]
    assert d.breaker.state is State.OPEN


def priced_router(
    models: dict[str, Any], pricing: dict[str, Any], providers: dict[str, dict[str, Any]] | None = None
) -> tuple[Router, Clock]:
    settings = Settings(
        providers={name: {"type": "sim", "sim": sim} for name, sim in (providers or {"sim": {}}).items()},
        models=models,
        pricing=pricing,
        routing={"breaker": {"failure_threshold": 1, "open_s": 30}},
    )
    sims = {name: SimProvider(p, rng=random.Random(1)) for name, p in settings.providers.items()}
    clock = Clock(0.0)
    routes = build_routes(settings, sims, clock=clock, prices=routing_prices(settings))
    return Router(
        routes, expected_output_tokens=100, rng=random.Random(1), sleep=Sleeps(), clock=clock
    ), clock


async def test_lowest_cost_picks_by_the_requests_expected_tokens_and_skips_an_open_circuit() -> None:
    router, _ = priced_router(
        {
            "m": {
                "strategy": "lowest-cost",
                "deployments": [
                    {"provider": "sim", "model": "reader"},
                    {"provider": "sim", "model": "writer"},
                    {"provider": "sim", "model": "unpriced"},
                ],
            }
        },
        {
            "reader": {"input_usd_per_mtok": 0.1, "output_usd_per_mtok": 10},
            "writer": {"input_usd_per_mtok": 5, "output_usd_per_mtok": 0.5},
        },
    )
    route = router.route("m", "chat")
    _, d = await router.chat(req(), route, [], input_tokens=lambda: 100_000)  # a long prompt
    assert d.name == "sim/reader"
    _, d = await router.chat(req(max_tokens=100_000), route, [], input_tokens=10)  # a long answer
    assert d.name == "sim/writer"
    _, d = await router.chat(req(), route, [], input_tokens=10)  # 100 output expected: still writer
    assert d.name == "sim/writer"
    reader, writer, unpriced = route.deployments
    writer.breaker.record_failure()  # its circuit opens
    attempts: list[Attempt] = []
    _, d = await router.chat(req(), route, attempts, input_tokens=10)
    assert d.name == "sim/reader" and [a.deployment for a in attempts] == ["sim/reader"]
    reader.breaker.record_failure()
    _, d = await router.chat(req(), route, [], input_tokens=10)
    assert d is unpriced  # the unpriced one only when no priced one is healthy


async def test_affinity_sticks_a_conversation_and_moves_only_when_its_circuit_opens() -> None:
    router, clock = priced_router(
        {
            "m": {
                "strategy": "weighted",
                "affinity": "conversation",
                "deployments": [{"provider": "sim", "model": m} for m in ("a", "b", "c", "d")],
            }
        },
        {},
    )
    route = router.route("m", "chat")

    def turn(conversation: int, n: int) -> ChatRequest:
        messages = [
            Message(role="system", content="you help"),
            Message(role="user", content=f"c{conversation}"),
        ]
        for i in range(n):
            messages += [Message(role="assistant", content=f"a{i}"), Message(role="user", content=f"u{i}")]
        return ChatRequest(model="m", messages=messages)

    homes: dict[int, str] = {}
    for c in range(12):
        picked = {(await router.chat(turn(c, n), route, []))[1].name for n in range(20)}
        assert len(picked) == 1, picked  # every turn of a conversation on one deployment
        homes[c] = picked.pop()
    assert len(set(homes.values())) > 1  # conversations are spread
    lost = homes[0]
    next(d for d in route.deployments if d.name == lost).breaker.record_failure()
    for c in range(12):
        _, d = await router.chat(turn(c, 3), route, [])
        assert (d.name != lost) if homes[c] == lost else (d.name == homes[c])
    clock.now += 31  # the probe is let through and succeeds: the sessions come home
    for c in range(12):
        _, d = await router.chat(turn(c, 4), route, [])
        assert d.name == homes[c]


async def test_affinity_off_and_keyless_requests_follow_the_strategy() -> None:
    router, _ = priced_router(
        {
            "m": {
                "strategy": "weighted",
                "affinity": "prompt_cache_key",
                "deployments": [{"provider": "sim", "model": m} for m in ("a", "b")],
            }
        },
        {},
    )
    route = router.route("m", "chat")
    keyless = {(await router.chat(req("same"), route, []))[1].name for _ in range(40)}
    assert keyless == {"sim/a", "sim/b"}
    keyed = {(await router.chat(req("x", prompt_cache_key="s1"), route, []))[1].name for _ in range(20)}
    assert len(keyed) == 1
