"""Lowest-cost routing and session affinity end to end: a gateway (two, for affinity across
replicas) in front of two OpenAI-type upstreams on loopback, driven by the real `openai` SDK.
Which deployment answered is ``x-sluice-model`` and the upstream's own count of bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.conftest import DEMO_KEY, GatewayFactory
from tests.fixtures.aioserver import local_server


class Upstream:
    """An OpenAI chat completions endpoint that keeps every body; ``failing`` makes it answer 500."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.failing = False

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        if self.failing:
            return web.json_response({"error": {"message": "down", "type": "server_error"}}, status=500)
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
            }
        )


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[Upstream, str, Upstream, str]]:
    east, west = Upstream(), Upstream()
    async with local_server("/v1/chat/completions", east.chat) as east_url:
        async with local_server("/v1/chat/completions", west.chat) as west_url:
            yield east, east_url, west, west_url


def config(east_url: str, west_url: str, model: dict[str, Any], pricing: dict[str, Any]) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "providers": {
            "east": {"type": "openai", "base_url": f"{east_url}/v1", "api_key": "sk-up"},
            "west": {"type": "openai", "base_url": f"{west_url}/v1", "api_key": "sk-up"},
        },
        "models": {"chat": model},
        "pricing": pricing,
        "routing": {
            "breaker": {"failure_threshold": 2, "open_s": 600},
            "retries": {"max_attempts": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.01},
        },
        "logging": {"level": "warning"},
    }


async def answered_by(client: openai.AsyncOpenAI, text: str = "hi", **kw: Any) -> str:
    raw = await client.chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": text}], **kw
    )
    raw.parse()
    return raw.headers["x-sluice-model"]


async def test_lowest_cost_sends_each_request_to_its_cheapest_deployment(
    gateway: GatewayFactory, upstreams: tuple[Upstream, str, Upstream, str]
) -> None:
    east, east_url, west, west_url = upstreams
    model = {
        "strategy": "lowest-cost",
        "deployments": [
            {"provider": "east", "model": "reader-model"},  # cheap input, dear output
            {"provider": "west", "model": "writer-model"},  # dear input, cheap output
        ],
    }
    pricing = {
        "reader-model": {"input_usd_per_mtok": 0.1, "output_usd_per_mtok": 10},
        "writer-model": {"input_usd_per_mtok": 5, "output_usd_per_mtok": 0.5},
    }
    gw = gateway({**config(east_url, west_url, model, pricing), "routing": {"expected_output_tokens": 10}})
    long_prompt = "word " * 4000
    async with openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0) as client:
        for _ in range(5):
            assert await answered_by(client, long_prompt, max_tokens=10) == "east/reader-model"
            assert await answered_by(client, "short", max_tokens=4000) == "west/writer-model"
        # no max_tokens: routing.expected_output_tokens (10) is expected, so a long prompt decides
        assert await answered_by(client, long_prompt) == "east/reader-model"
    assert len(east.bodies) == 6 and len(west.bodies) == 5


async def test_affinity_holds_a_session_and_moves_it_when_its_circuit_opens(
    gateway: GatewayFactory, upstreams: tuple[Upstream, str, Upstream, str]
) -> None:
    east, east_url, west, west_url = upstreams
    model = {
        "strategy": "weighted",
        "affinity": "prompt_cache_key",
        "deployments": [{"provider": "east", "model": "m"}, {"provider": "west", "model": "m"}],
    }
    gw = gateway(config(east_url, west_url, model, {}))
    by_name = {"east/m": east, "west/m": west}
    async with openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0) as client:
        homes = {}
        # the seats hash with the upstreams' random ports: 12 sessions all on one side is 1 in 2,048
        for n in range(1, 13):
            key, turns = f"conv-{n}", 20 if n <= 2 else 5
            picked = {await answered_by(client, f"turn {i}", prompt_cache_key=key) for i in range(turns)}
            assert len(picked) == 1, (key, picked)  # every turn, one deployment
            homes[key] = picked.pop()
        assert set(homes.values()) == {"east/m", "west/m"}  # sessions are spread over both
        assert all(b["prompt_cache_key"].startswith("conv-") for b in east.bodies + west.bodies)
        keyless = {await answered_by(client, "no key") for _ in range(30)}
        assert keyless == {"east/m", "west/m"}  # without a key the strategy alone decides

        key = "conv-1"
        home, away = homes[key], ({"east/m", "west/m"} - {homes[key]}).pop()
        down = by_name[home]
        down.failing = True
        for _ in range(2):  # each fails over to the other deployment; the second opens the circuit
            assert await answered_by(client, "after", prompt_cache_key=key) == away
        seen = len(down.bodies)
        for i in range(10):
            assert await answered_by(client, f"moved {i}", prompt_cache_key=key) == away
        assert len(down.bodies) == seen  # the open circuit is not called any more
        for other, where in homes.items():
            expected = away if where == home else where  # only the lost deployment's sessions move
            assert await answered_by(client, "still", prompt_cache_key=other) == expected


async def test_two_gateways_pick_the_same_deployment_for_the_same_session(
    gateway: GatewayFactory, upstreams: tuple[Upstream, str, Upstream, str]
) -> None:
    _, east_url, _, west_url = upstreams
    model = {
        "strategy": "weighted",
        "affinity": "conversation",
        "deployments": [{"provider": "east", "model": "m"}, {"provider": "west", "model": "m"}],
    }
    cfg = config(east_url, west_url, model, {})
    one, two = gateway(cfg), gateway(cfg)
    picks: list[dict[str, str]] = []
    for gw in (one, two):
        async with openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0) as c:
            picks.append({f"topic {i}": await answered_by(c, f"topic {i}") for i in range(16)})
    assert picks[0] == picks[1]
    assert set(picks[0].values()) == {"east/m", "west/m"}
