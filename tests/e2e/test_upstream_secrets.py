"""A provider's key never reaches a tenant through upstream error text, nor the gateway's log.

The upstream is a real aiohttp server on loopback that answers 401, 403, 429 and 500 (and
mid-stream error events) with OpenAI- and Anthropic-style error bodies quoting the exact key it
was sent, as a Bearer token too, plus a configured admin key, and echoes the key in a response
header. It is driven through the real openai and anthropic SDKs against a gateway subprocess on
both surfaces, JSON and streaming. Each answer must carry no secret (status, body, headers,
stream events) and stay useful (status, type, a message); the log file and the request-log
database must carry none either.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import msgspec
import openai
import pytest
from aiohttp import web

from tests.fixtures.aioserver import local_server
from tests.fixtures.wait import eventually_async

OPENAI_KEY = "sk-proj-T3stUpstreamOpenAIKey0123456789"
# No known credential shape: only the list of configured secrets can find it.
ANTHROPIC_KEY = "anthropic-opaque-credential-5150"
ADMIN_KEY = "sluice-admin-opaque-9001"
APP_KEY = "sk-app-tenant-key-000111"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, ADMIN_KEY, "T3stUpstreamOpenAIKey", "opaque-credential-5150")
STATUSES = (401, 403, 429, 500)
# What the client gets for each upstream status: 401 and 403 are the gateway's own credential
# problem (502); every attempt rate limited is a 429; a 5xx is a 502.
EXPECTED = {401: 502, 403: 502, 429: 429, 500: 502}
ANTHROPIC_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
}


class Upstream:
    """OpenAI's and Anthropic's APIs on one port. The upstream model name says what to do:
    ``fail-<status>``, ``midstream`` (an error event after the first chunk), ``garbage`` (a 200
    whose body is not JSON), else a normal answer."""

    def __init__(self) -> None:
        self.keys_seen: set[str] = set()
        self.requests = 0

    @staticmethod
    def _quote(key: str) -> str:
        return (
            f"Incorrect API key provided: {key}. Sent as 'Authorization: Bearer {key}' (admin {ADMIN_KEY})."
        )

    async def openai(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.keys_seen.add(key)
        body = msgspec.json.decode(await request.read())
        model = body["model"]
        echo = {"x-echo-key": key, "www-authenticate": f'Bearer realm="{key}"'}
        if model.startswith("fail-"):
            status = int(model[5:])
            err = {
                "error": {
                    "message": self._quote(key),
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
            return web.json_response(err, status=status, headers=echo)
        if model == "garbage":
            return web.Response(
                body=b"<html>not json " + key.encode() + b"</html>",
                status=200,
                content_type="application/json",
            )
        raise AssertionError(f"unexpected model {model}")

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        key = request.headers.get("x-api-key", "")
        self.keys_seen.add(key)
        body = msgspec.json.decode(await request.read())
        model = body["model"]
        echo = {"x-echo-key": key}
        if model.startswith("fail-"):
            status = int(model[5:])
            kind = ANTHROPIC_TYPES[status]
            err = {"type": "error", "error": {"type": kind, "message": self._quote(key)}}
            return web.json_response(err, status=status, headers=echo)
        if model == "garbage":
            return web.Response(
                body=b'{"type": "message", "id": ' + key.encode(), status=200, content_type="application/json"
            )
        if model == "midstream":
            resp = web.StreamResponse(headers={"content-type": "text/event-stream", **echo})
            await resp.prepare(request)
            start = {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 3, "output_tokens": 1},
                },
            }
            await resp.write(_sse("message_start", start))
            await resp.write(
                _sse(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            await resp.write(
                _sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": "Hel"},
                    },
                )
            )
            await asyncio.sleep(0.2)  # the first batch reaches the client before the error
            error = {"type": "error", "error": {"type": "api_error", "message": self._quote(key)}}
            await resp.write(_sse("error", error))
            return resp
        raise AssertionError(f"unexpected model {model}")


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: ".encode() + msgspec.json.encode(data) + b"\n\n"


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    u = Upstream()
    async with local_server(
        "/v1/chat/completions", u.openai, **{"/v1/embeddings": u.openai, "/v1/messages": u.anthropic}
    ) as base:
        yield u, base


def config(base: str) -> dict[str, Any]:
    models: dict[str, Any] = {}
    for provider in ("oa", "an"):
        for model in (*(f"fail-{s}" for s in STATUSES), "midstream", "garbage"):
            models[f"{provider}-{model}"] = {"deployments": [{"provider": provider, "model": model}]}
    for s in STATUSES:
        models[f"embed-fail-{s}"] = {
            "kind": "embedding",
            "deployments": [{"provider": "oa", "model": f"fail-{s}"}],
        }
    return {
        "auth": {"keys": [{"key": APP_KEY, "name": "app"}]},
        "admin": {"keys": [{"key": ADMIN_KEY, "name": "ops"}]},
        "providers": {
            "oa": {"type": "openai", "base_url": f"{base}/v1", "api_key": OPENAI_KEY},
            "an": {"type": "anthropic", "base_url": base, "api_key": ANTHROPIC_KEY},
        },
        "models": models,
        # Two attempts, no pause, and circuits that stay closed: every request reaches the upstream.
        "routing": {
            "retries": {"max_attempts": 2, "backoff_base_s": 0, "backoff_max_s": 0},
            "breaker": {"failure_threshold": 1000},
        },
        "request_log": {"flush_ms": 10},
        "logging": {"level": "info"},
    }


def assert_clean(where: str, text: str) -> None:
    for s in SECRETS:
        assert s not in text, f"{s!r} leaked into {where}"


def assert_clean_answer(status: int, headers: Any, body: str) -> None:
    assert_clean(f"the answer ({status})", body)
    assert_clean("the answer's headers", "\n".join(f"{k}: {v}" for k, v in headers.items()))
    assert "x-echo-key" not in headers


def assert_clean_store_and_log(gw: Any) -> None:
    log = gw.log()
    assert_clean("the log file", log)
    db = Path(gw.log_path.parent / f"gateway-{gw.base_url.rsplit(':', 1)[1]}.db")
    for path in db.parent.glob(db.name + "*"):  # the database, its WAL and shared memory
        assert_clean(str(path), path.read_bytes().decode("latin-1"))


def openai_client(gw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=APP_KEY, max_retries=0, timeout=15)


def anthropic_client(gw: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gw.base_url, api_key=APP_KEY, max_retries=0, timeout=15)


MESSAGES = [{"role": "user", "content": "hi"}]


async def test_openai_surface_json_and_stream(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    async with openai_client(gw) as client:
        for provider in ("oa", "an"):
            for status in STATUSES:
                for stream in (False, True):
                    with pytest.raises(openai.APIStatusError) as info:
                        await client.chat.completions.create(
                            model=f"{provider}-fail-{status}", messages=MESSAGES, stream=stream
                        )
                    e = info.value
                    assert e.status_code == EXPECTED[status], (provider, status, stream)
                    assert_clean_answer(e.status_code, e.response.headers, e.response.text)
                    error = e.response.json()["error"]
                    assert error["type"] == ("requests" if status == 429 else "upstream_error")
                    assert error["message"]
                    if status in (401, 403):
                        assert "not your API key" in error["message"]
                    expected_attempts = "1" if status in (401, 403) else "2"
                    assert e.response.headers["x-sluice-attempts"] == expected_attempts
        for status in STATUSES:
            with pytest.raises(openai.APIStatusError) as info:
                await client.embeddings.create(model=f"embed-fail-{status}", input="hi")
            e = info.value
            assert e.status_code == EXPECTED[status]
            assert_clean_answer(e.status_code, e.response.headers, e.response.text)
            assert e.response.json()["error"]["message"]
    assert u.keys_seen == {OPENAI_KEY, ANTHROPIC_KEY}  # the upstream really was sent, and quoted, both keys
    assert (
        "Incorrect API key provided: [REDACTED]" in gw.log()
    )  # the upstream's words kept, scrubbed, for the operator
    assert_clean_store_and_log(gw)


async def test_anthropic_surface_json_and_stream(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    async with anthropic_client(gw) as client:
        for provider in ("oa", "an"):
            for status in STATUSES:
                for stream in (False, True):
                    with pytest.raises(anthropic.APIStatusError) as info:
                        await client.messages.create(
                            model=f"{provider}-fail-{status}", max_tokens=16, messages=MESSAGES, stream=stream
                        )
                    e = info.value
                    assert e.status_code == EXPECTED[status], (provider, status, stream)
                    assert_clean_answer(e.status_code, e.response.headers, e.response.text)
                    body = e.response.json()
                    assert body["type"] == "error"
                    assert body["error"]["type"] == ("rate_limit_error" if status == 429 else "api_error")
                    assert body["error"]["message"]
                    assert e.response.headers["x-sluice-attempts"] in ("1", "2")
    assert u.keys_seen == {OPENAI_KEY, ANTHROPIC_KEY}
    assert_clean_store_and_log(gw)


async def test_mid_stream_error_events_carry_no_key(upstream: tuple[Upstream, str], gateway: Any) -> None:
    u, base = upstream
    gw = gateway(config(base))
    async with openai_client(gw) as client:
        async with client.chat.completions.with_streaming_response.create(
            model="an-midstream", messages=MESSAGES, stream=True
        ) as raw:
            assert raw.status_code == 200
            events = [line async for line in raw.iter_lines()]
        text = "\n".join(events)
        assert_clean("the OpenAI stream", text)
        assert_clean_answer(200, raw.headers, "")
        error = msgspec.json.decode(next(e for e in events if '"error"' in e).removeprefix("data: "))["error"]
        assert error["type"] == "upstream_error" and "[REDACTED]" in error["message"]
        with pytest.raises(openai.APIError):  # and the SDK raises on it
            stream = await client.chat.completions.create(
                model="an-midstream", messages=MESSAGES, stream=True
            )
            async for _ in stream:
                pass
    async with anthropic_client(gw) as aclient:
        async with aclient.messages.with_streaming_response.create(
            model="an-midstream", max_tokens=16, messages=MESSAGES, stream=True
        ) as araw:
            assert araw.status_code == 200
            aevents = [line async for line in araw.iter_lines()]
        assert_clean("the Anthropic stream", "\n".join(aevents))
        assert_clean_answer(200, araw.headers, "")
        assert "event: error" in aevents
        data = next(e for e in aevents if '"type":"error"' in e.replace(" ", ""))
        assert "[REDACTED]" in msgspec.json.decode(data.removeprefix("data: "))["error"]["message"]
    assert u.keys_seen == {ANTHROPIC_KEY}
    assert_clean_store_and_log(gw)


def _error_types(gw: Any) -> list[tuple[str, int, str | None]]:
    db = gw.log_path.parent / f"gateway-{gw.base_url.rsplit(':', 1)[1]}.db"
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT endpoint, status, error_type FROM request_log ORDER BY ts_ms"))


async def test_an_invalid_upstream_body_is_a_502_logged_as_such(
    upstream: tuple[Upstream, str], gateway: Any
) -> None:
    _, base = upstream
    gw = gateway(config(base))
    async with openai_client(gw) as client:
        with pytest.raises(openai.APIStatusError) as info:
            await client.chat.completions.create(model="oa-garbage", messages=MESSAGES)
    e = info.value
    assert e.status_code == 502
    assert e.response.json()["error"]["code"] == "invalid_upstream_response"
    assert e.response.headers["x-sluice-attempts"] == "2"  # retried: another attempt may answer properly
    assert_clean_answer(502, e.response.headers, e.response.text)
    async with anthropic_client(gw) as aclient:
        with pytest.raises(anthropic.APIStatusError) as ainfo:
            await aclient.messages.create(model="an-garbage", max_tokens=16, messages=MESSAGES)
    assert ainfo.value.status_code == 502 and ainfo.value.response.headers["x-sluice-attempts"] == "2"

    def both_logged() -> (
        list[tuple[str, int, str | None]] | None
    ):  # the request log is written in batches, every 10 ms
        rows = _error_types(gw)
        return rows if len(rows) == 2 else None

    rows = await eventually_async(both_logged, 5, "two request-log rows")
    assert rows == [
        ("chat", 502, "invalid_upstream_response"),
        ("messages", 502, "invalid_upstream_response"),
    ]
    assert_clean_store_and_log(gw)


async def test_errors_before_any_attempt_say_zero_attempts(gateway: Any) -> None:
    gw = gateway(config("http://127.0.0.1:9"))
    async with openai_client(gw) as client:
        with pytest.raises(openai.NotFoundError) as info:
            await client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    assert info.value.response.headers["x-sluice-attempts"] == "0"
    async with anthropic_client(gw) as aclient:
        with pytest.raises(anthropic.BadRequestError) as ainfo:
            await aclient.messages.create(model="oa-fail-401", max_tokens=0, messages=MESSAGES)
    assert ainfo.value.response.headers["x-sluice-attempts"] == "0"
