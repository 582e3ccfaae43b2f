"""``POST /v1/messages/count_tokens`` with the real `anthropic` SDK: the gateway's estimate for a
sim-backed alias, and the exact count from an Anthropic-like upstream (a real aiohttp server on
loopback implementing count_tokens), which must receive the client's fields and the provider's key."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import msgspec
import pytest
from aiohttp import web

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.aioserver import local_server
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually, eventually_async

UPSTREAM_KEY = "anthropic-upstream-credential-4242"
LIMITED_KEY = "sk-one-request-a-minute"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def db_rows(gw: Proc, rid: str) -> list[tuple[str, int, str | None, str | None, int]]:
    port = gw.base_url.rsplit(":", 1)[1]
    with sqlite3.connect(Path(gw.log_path.parent / f"gateway-{port}.db")) as db:
        return list(
            db.execute(
                "SELECT endpoint, status, model, deployment, input_tokens FROM request_log WHERE id = ?",
                (rid,),
            )
        )


def sim_gateway_config() -> dict[str, Any]:
    config = sim_config()
    config["models"]["claude-haiku"] = {"deployments": [{"provider": "sim", "model": "sim-haiku"}]}
    config["auth"]["keys"] += [
        {"key": "sk-only-embed", "name": "embed", "models": ["text-embedding-3-small"]},
        {"key": LIMITED_KEY, "name": "limited", "limits": {"rpm": 1}},
    ]
    config["request_log"] = {"flush_ms": 10}
    return config


def test_estimate_for_a_sim_alias(gateway) -> None:
    gw = gateway(sim_gateway_config())
    with anthropic.Anthropic(base_url=gw.base_url, api_key=DEMO_KEY, max_retries=0, timeout=10) as client:
        raw = client.messages.with_raw_response.count_tokens(
            model="claude-haiku",
            system="You are terse.",
            messages=[{"role": "user", "content": "Hello there"}],
            extra_headers={"x-request-id": "count-1"},
        )
        # 3 to prime the reply; each message 4 + its text at 4 characters a token, rounded up.
        assert raw.parse().input_tokens == 3 + (4 + 4) + (4 + 3)
        assert raw.headers["x-sluice-token-count"] == "estimate"
        assert raw.headers["request-id"] == "count-1"
        with_tools = client.messages.count_tokens(
            model="claude-haiku",
            messages=[{"role": "user", "content": "Hello there"}],
            tools=[WEATHER],
            tool_choice={"type": "auto"},
            thinking={"type": "enabled", "budget_tokens": 2000},
        )
        assert with_tools.input_tokens > 3 + 7 + 20
    rows = eventually(lambda: db_rows(gw, "count-1"), what="the request log row")
    assert rows == [("count_tokens", 200, "claude-haiku", None, 0)]


def test_costs_no_quota_and_takes_bearer(gateway) -> None:
    gw = gateway(sim_gateway_config())
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(3):
        r = call(
            "POST",
            gw.base_url + "/v1/messages/count_tokens",
            body,
            {"authorization": f"Bearer {LIMITED_KEY}"},
        )
        assert r.status == 200 and r.json() == {"input_tokens": 3 + 4 + 1}
        assert "x-ratelimit-remaining-requests" not in r.headers
    with anthropic.Anthropic(base_url=gw.base_url, api_key=LIMITED_KEY, max_retries=0, timeout=10) as client:
        m = client.messages.create(
            model="gpt-4o-mini", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )
        assert m.content[0].text == "Simulated reply to: hi"  # the minute's one request was still there
        with pytest.raises(anthropic.RateLimitError):
            client.messages.create(
                model="gpt-4o-mini", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
            )


def test_errors_in_anthropic_shape(gateway) -> None:
    gw = gateway(sim_gateway_config())
    messages = [{"role": "user", "content": "hi"}]
    with anthropic.Anthropic(base_url=gw.base_url, api_key=DEMO_KEY, max_retries=0, timeout=10) as client:
        with pytest.raises(anthropic.NotFoundError) as nf:
            client.messages.count_tokens(model="claude-opus-9", messages=messages)
        assert nf.value.body == {
            "type": "error",
            "error": {"type": "not_found_error", "message": nf.value.body["error"]["message"]},
        }
        with pytest.raises(anthropic.BadRequestError) as bad:
            client.messages.count_tokens(model="claude-haiku", messages=[])
        assert bad.value.body["error"]["type"] == "invalid_request_error"
    with anthropic.Anthropic(base_url=gw.base_url, api_key="sk-only-embed", max_retries=0) as client:
        with pytest.raises(anthropic.PermissionDeniedError) as denied:
            client.messages.count_tokens(model="claude-haiku", messages=messages)
        assert denied.value.body["error"]["type"] == "permission_error"
    with anthropic.Anthropic(base_url=gw.base_url, api_key="sk-wrong", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.count_tokens(model="claude-haiku", messages=messages)
    r = call(
        "POST",
        gw.base_url + "/v1/messages/count_tokens",
        {"model": "claude-haiku", "messages": messages, "max_tokens": 5},
        {"x-api-key": DEMO_KEY},
    )
    assert r.status == 400 and "max_tokens" in r.json()["error"]["message"]
    r = call("POST", gw.base_url + "/v1/messages/count_tokens", b'{"model": ', {"x-api-key": DEMO_KEY})
    assert r.status == 400 and r.json()["type"] == "error"


class Upstream:
    """Anthropic's count_tokens: notes what it was sent; the upstream model name says what to do
    (``fail-<status>`` quoting the key it got, ``slow``: no answer for 3 s, else a count)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    async def count_tokens(self, request: web.Request) -> web.StreamResponse:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        model = body["model"]
        if model.startswith("fail-"):
            error = {
                "type": "error",
                "error": {"type": "api_error", "message": f"bad key {request.headers['x-api-key']}"},
            }
            return web.json_response(error, status=int(model[5:]))
        if model == "slow":
            await asyncio.sleep(3)
        return web.json_response({"input_tokens": 1234})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        raise AssertionError("count_tokens must not call /v1/messages")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server(
        "/v1/messages/count_tokens", u.count_tokens, **{"/v1/messages": u.messages}
    ) as base:
        yield u, base


def upstream_config(base: str) -> dict[str, Any]:
    def alias(model: str) -> dict[str, Any]:
        return {"deployments": [{"provider": "an", "model": model}, {"provider": "sim", "model": "sim-x"}]}

    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "providers": {
            "an": {"type": "anthropic", "base_url": base, "api_key": UPSTREAM_KEY},
            "sim": {"type": "sim"},
        },
        "models": {
            "claude-up": alias("claude-sonnet-4-5"),
            "claude-fail": alias("fail-500"),
            "claude-reject": alias("fail-400"),
            "claude-slow": {**alias("slow"), "timeouts": {"total_s": 0.5}},
        },
        "request_log": {"flush_ms": 10},
        "logging": {"level": "warning"},
    }


async def test_exact_count_from_an_anthropic_upstream(upstream: tuple[Upstream, str], gateway) -> None:
    u, base = upstream
    gw = gateway(upstream_config(base))
    request: dict[str, Any] = {
        "model": "claude-up",
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Lisbon?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "tu_1", "name": "get_weather", "input": {"city": "Lisbon"}}
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": "rain"}]},
        ],
        "tools": [WEATHER],
        "tool_choice": {"type": "any"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    async with anthropic.AsyncAnthropic(
        base_url=gw.base_url, api_key=DEMO_KEY, max_retries=0, timeout=10
    ) as client:
        raw = await client.messages.with_raw_response.count_tokens(**request)
        assert (await raw.parse()).input_tokens == 1234
        assert raw.headers["x-sluice-token-count"] == "exact"
        assert raw.headers["x-sluice-model"] == "an/claude-sonnet-4-5"
        assert u.bodies == [{**request, "model": "claude-sonnet-4-5"}]
        h = u.headers[0]
        assert h["x-api-key"] == UPSTREAM_KEY and h["anthropic-version"] == "2023-06-01"
        assert DEMO_KEY not in str(h)

        with pytest.raises(anthropic.APIStatusError) as failed:
            await client.messages.count_tokens(
                model="claude-fail", messages=[{"role": "user", "content": "hi"}]
            )
        assert failed.value.status_code == 502 and failed.value.body["error"]["type"] == "api_error"
        assert UPSTREAM_KEY not in failed.value.response.text
        with pytest.raises(anthropic.BadRequestError) as rejected:
            await client.messages.count_tokens(
                model="claude-reject", messages=[{"role": "user", "content": "hi"}]
            )
        assert UPSTREAM_KEY not in rejected.value.response.text
        with pytest.raises(anthropic.APIStatusError) as slow:
            await client.messages.count_tokens(
                model="claude-slow", messages=[{"role": "user", "content": "hi"}]
            )
        assert slow.value.status_code == 504 and slow.value.body["error"]["type"] == "timeout_error"
    assert len(u.bodies) == 4  # one call each, no retry, never /v1/messages
    rows = await eventually_async(lambda: db_rows(gw, raw.headers["x-request-id"]))
    assert rows == [("count_tokens", 200, "claude-up", "an/claude-sonnet-4-5", 0)]
    assert UPSTREAM_KEY not in gw.log()


async def test_the_input_guardrails_apply_before_the_upstream_sees_the_prompt(
    upstream: tuple[Upstream, str], gateway
) -> None:
    """A key whose policy redacts PII and blocks secrets: a secret is refused as /v1/messages would
    refuse it; an email is counted by the gateway on the redacted text, never sent upstream."""
    u, base = upstream
    config = upstream_config(base)
    guarded_key = "sk-guarded-counts"
    config["auth"]["keys"].append(
        {"key": guarded_key, "name": "guarded", "guardrails": {"pii": "redact", "secrets": "block"}}
    )
    gw = gateway(config)
    async with anthropic.AsyncAnthropic(
        base_url=gw.base_url, api_key=guarded_key, max_retries=0, timeout=10
    ) as client:
        secret = "my key is sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2
        with pytest.raises(anthropic.BadRequestError) as refused:
            await client.messages.count_tokens(
                model="claude-up", messages=[{"role": "user", "content": secret}]
            )
        assert refused.value.body["type"] == "error"
        assert "guardrails" in refused.value.body["error"]["message"]
        raw = await client.messages.with_raw_response.count_tokens(
            model="claude-up", messages=[{"role": "user", "content": "mail jane.doe@example.com today"}]
        )
        assert (await raw.parse()).input_tokens > 0
        assert raw.headers["x-sluice-token-count"] == "estimate"
        plain = await client.messages.count_tokens(
            model="claude-up", messages=[{"role": "user", "content": "no personal data here"}]
        )
        assert plain.input_tokens == 1234  # nothing redacted: the exact count
    assert len(u.bodies) == 1 and "jane.doe" not in str(u.bodies)
