"""Auto aliases through a real gateway with the real openai and anthropic SDKs: each tier chosen
for its reason, the sluice.route and x-sluice-route overrides, the header on every surface, the
request log's route column, the caller's allowed models, and the fall-through to the next tier
when the chosen tier's upstream (a real HTTP server on loopback) answers 500."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from aiohttp import web

from tests.conftest import DEMO_KEY, GatewayFactory
from tests.fixtures.aioserver import local_server
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

NARROW = "sk-auto-only"
FAST_ONLY = "sk-auto-fast"
PROOF = "Prove that there are infinitely many primes, step by step, and derive the bound on the gap."


class Down:
    """An upstream that answers every chat request with a 500."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        return web.json_response({"error": {"message": "boom", "type": "server_error"}}, status=500)


@pytest.fixture(scope="module")
def down() -> Iterator[tuple[Down, str]]:
    import asyncio
    import threading

    d = Down()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        async with local_server("/v1/chat/completions", d.handle) as base:
            holder["base"] = base
            holder["stop"] = asyncio.Event()
            ready.set()
            await holder["stop"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield d, holder["base"]
    loop.call_soon_threadsafe(holder["stop"].set)
    thread.join(10)
    loop.close()


def _sim(model: str, window: int | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"deployments": [{"provider": "sim", "model": model}]}
    if window is not None:
        m["context_window"] = window
    return m


def config(down_base: str, **more: Any) -> dict[str, Any]:
    tiers = {"fast": "fast", "balanced": "balanced", "strong": "strong", "long_context": "long"}
    return {
        "auth": {"keys": [
            {"key": DEMO_KEY, "name": "demo"},
            {"key": NARROW, "name": "narrow", "models": ["auto"]},
            {"key": FAST_ONLY, "name": "fast-only", "models": ["auto", "fast"]},
        ]},
        "providers": {"sim": {"type": "sim"}, "up": {"type": "openai", "base_url": f"{down_base}/v1"}},
        "models": {
            "fast": _sim("sim-fast", 3000),
            "balanced": _sim("sim-balanced", 20000),
            "strong": _sim("sim-strong", 20000),
            "long": _sim("sim-long", 200000),
            "down": {"deployments": [{"provider": "up", "model": "down-model"}], "context_window": 20000},
            "auto": {"auto": {"tiers": tiers, "output_reserve_tokens": 500}},
            "auto-down": {"auto": {"tiers": {**tiers, "strong": "down"}}},
        },
        "routing": {"retries": {"max_attempts": 1}},
        "logging": {"level": "warning"},
        **more,
    }  # fmt: skip


@pytest.fixture(scope="module")
def gw(module_gateway: GatewayFactory, down: tuple[Down, str]) -> Proc:
    return module_gateway(config(down[1]))


def oa(gw: Proc, key: str = DEMO_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=key, max_retries=0, timeout=20)


def chat(gw: Proc, content: Any, key: str = DEMO_KEY, **more: Any) -> tuple[str | None, str, str]:
    """The route header (None: not an auto alias), the answering deployment and the request id of one chat completion."""
    raw = oa(gw, key).chat.completions.with_raw_response.create(
        model=more.pop("model", "auto"), messages=[{"role": "user", "content": content}], **more
    )
    raw.parse()
    return raw.headers.get("x-sluice-route"), raw.headers["x-sluice-model"], raw.headers["x-request-id"]


def test_a_simple_question_goes_to_the_fast_tier(gw: Proc) -> None:
    assert chat(gw, "What is the capital of Peru?")[:2] == ("fast; reason=simple", "sim/sim-fast")


def test_a_proof_goes_to_the_strong_tier(gw: Proc) -> None:
    assert chat(gw, PROOF)[:2] == ("strong; reason=difficulty", "sim/sim-strong")


def test_tools_raise_the_tier(gw: Proc) -> None:
    tools = [
        {"type": "function", "function": {"name": f"tool_{i}", "parameters": {"type": "object"}}}
        for i in range(4)
    ]
    route, model, _ = chat(gw, "Look into the outage and write it up.", tools=tools)
    assert route is not None and route.endswith("; reason=tools") and not route.startswith("fast")
    assert model != "sim/sim-fast"


def test_images_raise_the_tier(gw: Proc) -> None:
    parts = [{"type": "text", "text": "Which of these?"}] + [
        {"type": "image_url", "image_url": {"url": f"https://example.com/{i}.png"}} for i in range(2)
    ]
    assert chat(gw, parts)[:2] == ("balanced; reason=images", "sim/sim-balanced")


def test_an_input_too_long_for_the_fast_tier_moves_up(gw: Proc) -> None:
    # ~3000 estimated tokens + the 500-token reserve do not fit the fast tier's 3000-token window.
    text = "What is the title? " + "The committee met on Tuesday and went home. " * 290
    assert chat(gw, text)[:2] == ("balanced; reason=context", "sim/sim-balanced")


def test_the_header_and_the_body_override_the_features(gw: Proc) -> None:
    route, model, _ = chat(gw, "hi", extra_headers={"x-sluice-route": "strong"})
    assert (route, model) == ("strong; reason=header", "sim/sim-strong")
    route, model, _ = chat(gw, PROOF, extra_body={"sluice": {"route": "fast"}})
    assert (route, model) == ("fast; reason=hint", "sim/sim-fast")
    # The body wins over the header.
    route, _, _ = chat(
        gw, "hi", extra_headers={"x-sluice-route": "strong"}, extra_body={"sluice": {"route": "long_context"}}
    )
    assert route == "long_context; reason=hint"


@pytest.mark.parametrize(
    ("more", "param"),
    [
        ({"extra_body": {"sluice": {"route": "huge"}}}, "sluice.route"),
        ({"extra_headers": {"x-sluice-route": "huge"}}, "x-sluice-route"),
    ],
)
def test_an_unknown_tier_is_a_400_naming_where_it_came_from(
    gw: Proc, more: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        chat(gw, "hi", **more)
    assert e.value.status_code == 400
    assert e.value.body == {
        "message": "The model `auto` has no tier `huge` (it has: fast, balanced, strong, long_context).",
        "type": "invalid_request_error",
        "param": param,
        "code": None,
    }


def test_a_caller_who_may_use_no_tier_gets_a_403(gw: Proc) -> None:
    with pytest.raises(openai.PermissionDeniedError) as e:
        chat(gw, "hi", key=NARROW)
    assert e.value.body == {
        "message": "This key may use none of the tiers of the model `auto`.",
        "type": "permission_error",
        "param": "model",
        "code": "model_not_allowed",
    }


def test_a_tier_the_caller_may_not_use_is_skipped(gw: Proc) -> None:
    assert chat(gw, PROOF, key=FAST_ONLY)[:2] == ("fast; reason=allowed", "sim/sim-fast")
    with pytest.raises(openai.PermissionDeniedError) as e:
        chat(gw, "hi", key=FAST_ONLY, extra_headers={"x-sluice-route": "strong"})
    assert e.value.body is not None and e.value.body["param"] == "x-sluice-route"  # type: ignore[index]


def test_a_stream_carries_the_header(gw: Proc) -> None:
    with oa(gw).chat.completions.with_streaming_response.create(
        model="auto", messages=[{"role": "user", "content": PROOF}], stream=True
    ) as r:
        assert r.headers["x-sluice-route"] == "strong; reason=difficulty"
        assert r.headers["x-sluice-model"] == "sim/sim-strong"
        text = "".join(c.choices[0].delta.content or "" for c in r.parse() if c.choices)
    assert text


def test_anthropic_messages_json_and_stream(gw: Proc) -> None:
    client = anthropic.Anthropic(base_url=gw.base_url, api_key=DEMO_KEY, max_retries=0, timeout=20)
    raw = client.messages.with_raw_response.create(
        model="auto", max_tokens=100, messages=[{"role": "user", "content": "hello there"}]
    )
    assert raw.parse().content
    assert raw.headers["x-sluice-route"] == "fast; reason=simple"
    with client.messages.with_streaming_response.create(
        model="auto", max_tokens=100, messages=[{"role": "user", "content": PROOF}], stream=True
    ) as r:
        assert r.headers["x-sluice-route"] == "strong; reason=difficulty"
        assert any(e.type == "message_stop" for e in r.parse())


def test_responses_json_and_stream(gw: Proc) -> None:
    raw = oa(gw).responses.with_raw_response.create(model="auto", input=PROOF)
    assert raw.parse().output_text
    assert raw.headers["x-sluice-route"] == "strong; reason=difficulty"
    with oa(gw).responses.with_streaming_response.create(
        model="auto", input="hi", stream=True, extra_body={"sluice": {"route": "balanced"}}
    ) as r:
        assert r.headers["x-sluice-route"] == "balanced; reason=hint"
        assert any(e.type == "response.completed" for e in r.parse())


def test_a_failing_tier_falls_through_to_the_next_one_up(gw: Proc, down: tuple[Down, str]) -> None:
    before = down[0].calls
    route, model, _ = chat(gw, PROOF, model="auto-down")
    assert (route, model) == ("strong; reason=difficulty", "sim/sim-long")
    assert down[0].calls == before + 1


def test_the_request_log_keeps_the_route(gw: Proc) -> None:
    _, _, rid = chat(gw, "hi", extra_headers={"x-sluice-route": "balanced"})
    route, _, plain = chat(gw, "hi", model="fast")
    assert route is None
    port = gw.base_url.rsplit(":", 1)[1]
    db = Path(gw.log_path.parent / f"gateway-{port}.db")

    def stored() -> dict[str, str | None] | None:
        with sqlite3.connect(db) as c:
            rows = dict(
                c.execute("SELECT id, route FROM request_log WHERE id IN (?, ?)", (rid, plain)).fetchall()
            )
        return rows if len(rows) == 2 else None

    assert eventually(stored, what="both requests in the log") == {
        rid: "balanced; reason=header",
        plain: None,
    }


def test_cached_answers_are_keyed_by_the_chosen_tier(gateway: GatewayFactory, down: tuple[Down, str]) -> None:
    """A repeat is served from the cache under its tier's alias; a caller moved to another tier
    (here one that may not use the strong tier) never gets the strong tier's cached answer."""
    g = gateway(config(down[1], cache={"enabled": True, "policy": {"deterministic_only": False}}))

    def ask(content: str, key: str = DEMO_KEY) -> tuple[str | None, str | None, str | None]:
        raw = oa(g, key).chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": content}]
        )
        raw.parse()
        h = raw.headers
        return h.get("x-sluice-route"), h.get("x-sluice-cache"), h.get("x-sluice-model")

    def kept() -> bool:
        return ask(PROOF)[1] == "hit"

    assert ask(PROOF) == ("strong; reason=difficulty", "miss", "sim/sim-strong")
    eventually(kept, what="the strong answer kept")  # kept off the hot path
    assert ask(PROOF, FAST_ONLY) == ("fast; reason=allowed", "miss", "sim/sim-fast")


async def test_down_fixture_is_real(down: tuple[Down, str]) -> None:
    """The mock upstream answers a real HTTP request with a 500 (so the fall-through test is not vacuous)."""
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(f"{down[1]}/v1/chat/completions", json={}) as r:
        assert r.status == 500
