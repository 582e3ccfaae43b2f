"""Structured output: an answer to a ``json_schema`` request is checked against the schema and,
under ``repair``, fixed by one more call that shows the model what was wrong, before a 502. The
upstream is a real HTTP server on loopback whose first answer breaks the schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}}


class Upstream:
    """Answers with ``bad`` until it sees the repair message, then with ``good``."""

    def __init__(self, bad: str, good: str) -> None:
        self.bad, self.good = bad, good
        self.requests: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        self.requests.append(body)
        repaired = len(body["messages"]) > 1
        answer = {
            "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.good if repaired else self.bad}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
        return web.json_response(answer)


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream('{"city": "Paris"}', '```json\n{"city": "Paris", "population": 2102650}\n```')
    async with local_server("/v1/chat/completions", u.handle) as base:
        yield u, base


def config(base: str, mode: str) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": "sk-app", "name": "app", "guardrails": {"structured_output": mode}}]},
        "providers": {"up": {"type": "openai", "base_url": f"{base}/v1", "api_key": "sk-up"}},
        "models": {"m": {"deployments": [{"provider": "up", "model": "up-model"}]}},
        "pricing": {"up-model": {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2}},
        "logging": {"level": "warning"},
    }


async def ask(gw: Any) -> Any:
    async with openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key="sk-app", max_retries=0, timeout=15) as c:
        return await c.chat.completions.with_raw_response.create(
            model="m", messages=[{"role": "user", "content": "Largest city in France, as JSON"}], response_format=FORMAT
        )


async def test_repair_fixes_an_answer_that_breaks_the_schema(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, "repair")))
    r = raw.parse()
    assert msgspec.json.decode(r.choices[0].message.content.strip("`json\n")) == {"city": "Paris", "population": 2102650}
    assert r.usage.total_tokens == 30  # both calls
    assert raw.headers["x-sluice-guardrails"] == "repair:json_schema"
    assert raw.headers["x-sluice-cost-usd"] == "0.000040"  # 20 in at $1, 10 out at $2 per million
    repair = u.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[1]["content"] == '{"city": "Paris"}' and "population" in repair[2]["content"]
    assert u.requests[1]["response_format"]["type"] == "json_schema"


async def test_validate_refuses_with_the_errors(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    with pytest.raises(openai.APIStatusError) as e:
        await ask(gateway(config(base, "validate")))
    assert e.value.status_code == 502
    body = e.value.body
    assert body["code"] == "invalid_structured_output"
    assert "population" in body["message"] and len(u.requests) == 1


async def test_off_passes_the_answer_through(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, "off")))
    assert raw.parse().choices[0].message.content == '{"city": "Paris"}' and len(u.requests) == 1
