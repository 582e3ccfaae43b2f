"""Guardrail plugins on a real gateway: a Python callable, and webhooks on loopback that answer,
fail or are late, failing open or closed as configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai
import pytest
from aiohttp import web

from tests.conftest import sim_config
from tests.fixtures.aioserver import local_server


class Webhook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        self.bodies.append(body)
        text = " ".join(body["texts"])
        if "slow" in text:
            await asyncio.sleep(1.0)
        if "explode" in text:
            return web.Response(status=500)
        if "forbidden" in text:
            return web.json_response({"action": "block", "category": "vendor_policy"})
        return web.json_response({"action": "allow"})


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[Webhook, str]]:
    w = Webhook()
    async with local_server("/check", w.handle) as base:
        yield w, base + "/check"


def config(url: str) -> dict[str, Any]:
    c = sim_config()
    c["guardrails"] = {
        "plugins": {
            "names": {"type": "python", "target": "tests.e2e.guard_plugin:no_project_names"},
            "broken": {"type": "python", "target": "tests.e2e.guard_plugin:broken"},
            "vendor_open": {"type": "webhook", "url": url, "timeout_ms": 300, "fail": "open"},
            "vendor_closed": {"type": "webhook", "url": url, "timeout_ms": 300, "fail": "closed"},
        }
    }
    c["auth"] = {
        "keys": [
            {"key": "sk-open", "name": "open", "guardrails": {"plugins": ["names", "broken", "vendor_open"]}},
            {"key": "sk-closed", "name": "closed", "guardrails": {"plugins": ["vendor_closed"]}},
        ]
    }
    return c


async def ask(gw: Any, key: str, text: str) -> tuple[int, dict[str, str], Any]:
    async with openai.AsyncOpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=15) as c:
        try:
            raw = await c.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
            )
            return raw.status_code, dict(raw.headers), raw.parse()
        except openai.APIStatusError as e:
            return e.status_code, dict(e.response.headers), e.body


async def test_plugins_block_flag_and_fail_as_configured(webhook: tuple[Webhook, str], gateway: Any) -> None:
    hook, url = webhook
    gw = gateway(config(url))
    status, headers, body = await ask(gw, "sk-open", "tell me about project bluebird")
    assert (
        status == 400
        and body["code"] == "content_policy_violation"
        and "confidential_project" in body["message"]
    )
    status, headers, _ = await ask(gw, "sk-open", "bluebird season is here")
    assert status == 200 and headers["x-sluice-guardrails"] == "flag:maybe_confidential"
    status, _, body = await ask(gw, "sk-open", "this is forbidden content")
    assert status == 400 and "vendor_policy" in body["message"]
    assert hook.bodies[-1] == {
        "stage": "input",
        "tenant": None,
        "model": "gpt-4o-mini",
        "texts": ["this is forbidden content"],
    }
    # A late or failing webhook: open lets the request through, closed refuses it.
    for text in ("slow please", "explode now"):
        status, headers, _ = await ask(gw, "sk-open", text)
        assert status == 200 and "x-sluice-guardrails" not in headers  # logged only (log:plugin_error)
        status, _, body = await ask(gw, "sk-closed", text)
        assert status == 400 and "plugin_unavailable" in body["message"]
    assert "Traceback" in gw.log()  # the broken Python plugin was logged, and did not fail a request
