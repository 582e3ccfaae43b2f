"""Structured output: an answer to a ``json_schema`` request is checked against the schema and,
under ``repair``, fixed by one more call that shows the model what was wrong, before a 502. The
upstream is a real HTTP server on loopback whose first answer breaks the schema. A schema the
validator cannot use is a 400 naming ``response_format`` before any upstream call, and a ``$ref``
to a URL is never fetched (a real server on loopback counts what reaches it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server
from tests.fixtures.procs import free_port

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
            "id": "c",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.good if repaired else self.bad},
                    "finish_reason": "stop",
                }
            ],
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


async def ask(gw: Any, response_format: dict[str, Any] = FORMAT) -> Any:
    async with openai.AsyncOpenAI(
        base_url=f"{gw.base_url}/v1", api_key="sk-app", max_retries=0, timeout=15
    ) as c:
        return await c.chat.completions.with_raw_response.create(
            model="m",
            messages=[{"role": "user", "content": "Largest city in France, as JSON"}],
            response_format=response_format,
        )


def with_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "city", "schema": schema}}


@contextlib.asynccontextmanager
async def counting_server() -> AsyncIterator[tuple[list[str], str]]:
    """A loopback HTTP server that answers every request with a schema and records its path."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"type": "object"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield seen, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_repair_fixes_an_answer_that_breaks_the_schema(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    u, base = upstream
    raw = await ask(gateway(config(base, "repair")))
    r = raw.parse()
    assert msgspec.json.decode(r.choices[0].message.content.strip("`json\n")) == {
        "city": "Paris",
        "population": 2102650,
    }
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


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        ({**SCHEMA, "properties": {"city": {"type": "string", "pattern": "("}}}, "regex"),
        ({**SCHEMA, "properties": {"city": {"$ref": "#/$defs/missing"}}}, "/$defs/missing"),
        ({**SCHEMA, "type": 7}, "anyOf"),
    ],
)
async def test_a_schema_that_cannot_be_compiled_is_a_400_before_any_upstream_call(
    upstream: tuple[Upstream, str], gateway: Any, schema: dict[str, Any], why: str
) -> None:
    u, base = upstream
    gw = gateway(config(base, "validate"))
    with pytest.raises(openai.BadRequestError) as e:
        await ask(gw, with_schema(schema))
    assert e.value.body["param"] == "response_format.json_schema.schema" and why in e.value.body["message"]
    assert u.requests == []
    assert "Traceback" not in gw.log()


async def test_a_ref_to_a_url_is_never_fetched(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    async with counting_server() as (seen, remote):
        schema = {
            **SCHEMA,
            "properties": {"city": {"$ref": f"{remote}/city.json"}, "population": {"type": "integer"}},
        }
        with pytest.raises(openai.BadRequestError) as e:
            await ask(gateway(config(base, "repair")), with_schema(schema))
        assert e.value.body["param"] == "response_format.json_schema.schema"
        assert "Retrieval is disabled" in e.value.body["message"]
    assert seen == [] and u.requests == []


async def test_off_leaves_the_schema_to_the_upstream(upstream: tuple[Upstream, str], gateway: Any) -> None:
    """With structured output off the gateway does not read the schema: no 400 of its own."""
    u, base = upstream
    bad = {**SCHEMA, "properties": {"city": {"type": "string", "pattern": "("}}}
    raw = await ask(gateway(config(base, "off")), with_schema(bad))
    assert raw.parse().choices[0].message.content == '{"city": "Paris"}' and len(u.requests) == 1


async def test_a_draft_2020_12_schema_is_checked_in_full(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    """``unevaluatedProperties`` and ``dependentRequired``, which the hand-written subset ignored."""
    u, base = upstream
    u.bad = '{"city": "Paris", "population": 2102650, "country": "FR", "capital": true}'
    schema = {
        "type": "object",
        "allOf": [{"properties": {"city": {"type": "string"}, "population": {"type": "integer"}}}],
        "properties": {"capital": {"type": "boolean"}},
        "dependentRequired": {"capital": ["country_code"]},
        "unevaluatedProperties": False,
    }
    with pytest.raises(openai.APIStatusError) as e:
        await ask(gateway(config(base, "validate")), with_schema(schema))
    assert e.value.status_code == 502 and e.value.body["code"] == "invalid_structured_output"
    message = e.value.body["message"]
    assert "$.country_code: is required" in message and "$.country: is not an allowed property" in message
