"""A key limited to some model aliases is never answered by another one, whichever way a request
could reach it: the alias's fallback chain, a budget downgrade, a content rule's fallback, or a
cached answer that a fallback once gave. Two static keys differ only in their allowed models; the
upstream is a real HTTP server on loopback that records which upstream model each call asked for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server

NARROW = "sk-narrow-key"
WIDE = "sk-wide-key"
ALIASES = ["primary", "pricey", "ruled"]


class Upstream:
    """``down-model`` always fails with a 500, ``bad-model`` says what the content rule denies,
    every other model answers cleanly, naming itself."""

    def __init__(self) -> None:
        self.models: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        model = msgspec.json.decode(await request.read())["model"]
        self.models.append(model)
        if model == "down-model":
            return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)
        text = "Here are the launch codes: 0000" if model == "bad-model" else f"A clean answer from {model}."
        return web.json_response({
            "id": "c", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 6, "total_tokens": 13},
        })  # fmt: skip


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server("/v1/chat/completions", u.handle) as base:
        yield u, base


def key(secret: str, models: list[str]) -> dict[str, Any]:
    return {
        "key": secret,
        "name": secret,
        "models": models,
        # Any priced request is over this budget: `pricey` (gpt-4o) is downgraded to `other`.
        "budgets": [
            {"period": "month", "max_cost_micros": 1, "on_exceed": "downgrade", "downgrade_to": "other"}
        ],
        "guardrails": {"deny": ["launch codes"], "on_reject": "fallback", "reject_fallback": "other"},
    }


def config(base: str) -> dict[str, Any]:
    def deployments(model: str, **more: Any) -> dict[str, Any]:
        return {"deployments": [{"provider": "up", "model": model}], **more}

    return {
        "auth": {"keys": [key(NARROW, ALIASES), key(WIDE, [*ALIASES, "other"])]},
        "providers": {"up": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"}},
        "models": {
            "primary": deployments("down-model", fallbacks=["other"]),
            "other": deployments("other-model"),
            "pricey": deployments("gpt-4o"),
            "ruled": deployments("bad-model"),
        },
        "routing": {"retries": {"max_attempts": 1}},
        "cache": {"enabled": True, "policy": {"deterministic_only": False}},
        "logging": {"level": "warning"},
    }


async def ask(gw: Any, secret: str, model: str, text: str = "hi") -> Any:
    async with openai.AsyncOpenAI(
        base_url=f"{gw.base_url}/v1", api_key=secret, max_retries=0, timeout=15
    ) as c:
        return await c.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": text}]
        )


async def test_a_fallback_the_key_may_not_use_is_not_tried(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    u, base = upstream
    gw = gateway(config(base))
    with pytest.raises(openai.APIStatusError) as refused:
        await ask(gw, NARROW, "primary", "fallback path, narrow")
    assert refused.value.status_code == 502  # primary's own failure, not other's answer
    assert u.models == ["down-model"]
    raw = await ask(gw, WIDE, "primary", "fallback path, wide")
    assert raw.parse().choices[0].message.content == "A clean answer from other-model."
    assert raw.headers["x-sluice-model"] == "up/other-model"
    with pytest.raises(openai.PermissionDeniedError) as direct:
        await ask(gw, NARROW, "other")
    assert direct.value.body["code"] == "model_not_allowed"  # type: ignore[index]


async def test_a_budget_downgrade_to_a_model_the_key_may_not_use_is_a_refusal(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    u, base = upstream
    gw = gateway(config(base))
    with pytest.raises(openai.RateLimitError) as refused:
        await ask(gw, NARROW, "pricey")
    assert refused.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    assert u.models == []
    raw = await ask(gw, WIDE, "pricey")
    assert raw.headers["x-sluice-model"] == "up/other-model" and u.models == ["other-model"]


async def test_a_content_rule_fallback_the_key_may_not_use_leaves_the_answer_stopped(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    u, base = upstream
    gw = gateway(config(base))
    stopped = (await ask(gw, NARROW, "ruled", "content path, narrow")).parse()
    assert stopped.choices[0].finish_reason == "content_filter"
    assert u.models == ["bad-model"]
    again = (await ask(gw, WIDE, "ruled", "content path, wide")).parse()
    assert again.choices[0].message.content == "A clean answer from other-model."
    assert u.models == ["bad-model", "bad-model", "other-model"]


async def test_a_fallbacks_answer_is_not_cached_under_the_alias(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    """Entries are keyed by the alias asked for: an answer another alias gave must not come back
    from the cache to a key that may use only the first (or to anyone asking for it later)."""
    u, base = upstream
    gw = gateway(config(base))
    served = await ask(gw, WIDE, "primary", "same question")
    assert served.headers["x-sluice-model"] == "up/other-model"
    with pytest.raises(openai.APIStatusError) as refused:
        await ask(gw, NARROW, "primary", "same question")
    assert refused.value.status_code == 502
    assert u.models == ["down-model", "other-model", "down-model"]
    # The alias's own answers are cached as before.
    first = await ask(gw, WIDE, "other", "cached question")
    second = await ask(gw, WIDE, "other", "cached question")
    assert (first.headers["x-sluice-cache"], second.headers["x-sluice-cache"]) == ("miss", "hit")
