"""When a content rule stops a JSON answer, the policy may ask once more on the same model or
ask a fallback alias before giving up. The upstream is a real HTTP server on loopback whose first
answer from the main model breaks the rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server


class Upstream:
    def __init__(self) -> None:
        self.models: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        model = msgspec.json.decode(await request.read())["model"]
        self.models.append(model)
        first = model == "main-model" and self.models.count("main-model") == 1
        text = (
            "Here are the launch codes: 0000"
            if first or model == "always-bad"
            else f"A clean answer from {model}."
        )
        return web.json_response(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13},
            }
        )


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.handle) as base:
        yield u, base


def config(base: str, **policy: Any) -> dict[str, Any]:
    def deployment(model: str) -> dict[str, Any]:
        return {"deployments": [{"provider": "up", "model": model}]}

    return {
        "auth": {
            "keys": [{"key": "sk-app", "name": "app", "guardrails": {"deny": ["launch codes"], **policy}}]
        },
        "providers": {"up": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"}},
        "models": {
            "m": deployment("main-model"),
            "backup": deployment("backup-model"),
            "bad": deployment("always-bad"),
        },
        "logging": {"level": "warning"},
    }


async def ask(gw: Any, model: str = "m") -> Any:
    async with openai.AsyncOpenAI(
        base_url=f"{gw.base_url}/v1", api_key="sk-app", max_retries=0, timeout=15
    ) as c:
        return await c.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": "hi"}]
        )


async def test_fail_returns_the_stopped_answer(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    r = (await ask(gateway(config(base)))).parse()
    assert r.choices[0].finish_reason == "content_filter" and "launch" not in r.choices[0].message.content
    assert u.models == ["main-model"]


async def test_retry_asks_the_same_model_once_more(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, on_reject="retry")))
    r = raw.parse()
    assert (r.choices[0].finish_reason, r.choices[0].message.content) == (
        "stop",
        "A clean answer from main-model.",
    )
    assert r.usage.total_tokens == 26 and u.models == ["main-model", "main-model"]
    assert raw.headers["x-sluice-guardrails"] == "block:deny_list,retry:content_rule"


async def test_fallback_asks_another_alias(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, on_reject="fallback", reject_fallback="backup")))
    assert raw.parse().choices[0].message.content == "A clean answer from backup-model."
    assert raw.headers["x-sluice-model"] == "up/backup-model"
    assert u.models == ["main-model", "backup-model"]


async def test_a_second_stop_is_final(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, on_reject="fallback", reject_fallback="bad")))
    r = raw.parse()
    assert r.choices[0].finish_reason == "content_filter" and "launch" not in r.choices[0].message.content
    assert raw.headers["x-sluice-guardrails"] == "block:deny_list,fallback:content_rule,block:deny_list"
    assert u.models == ["main-model", "always-bad"]
