"""The auto router's decision and route (routing/auto.py), on routes built from a config."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from sluice.errors import InvalidRequestError, PermissionDeniedError
from sluice.providers.sim import SimProvider
from sluice.routing.auto import AutoAlias, auto_aliases, context_window
from sluice.routing.features import Features
from sluice.routing.router import Router
from sluice.routing.table import build_routes
from sluice.settings import ModelSettings, Settings
from sluice.types import ChatRequest

PROOF = "Prove that there are infinitely many primes, step by step, and derive the bound."


def settings(**auto: Any) -> Settings:
    def sim(model: str, window: int, **more: Any) -> dict[str, Any]:
        return {"deployments": [{"provider": "sim", "model": model}], "context_window": window, **more}

    return Settings(
        providers={"sim": {"type": "sim"}},
        models={
            "mini": sim("m", 1000),
            "mid": sim("b", 5000, fallbacks=["spare"]),
            "spare": sim("s", 5000),
            "big": sim("g", 5000),
            "huge": sim("h", 100_000),
            "auto": {"auto": {"tiers": {"fast": "mini", "balanced": "mid", "strong": "big", "long_context": "huge"}, "output_reserve_tokens": 100, **auto}},
        },
    )  # fmt: skip


def alias(**auto: Any) -> AutoAlias:
    s = settings(**auto)
    return auto_aliases(s, Router(build_routes(s, {"sim": SimProvider(s.providers["sim"])})).route)["auto"]


def req(content: str = "hi", **more: Any) -> ChatRequest:
    return msgspec.convert(
        {"model": "auto", "messages": [{"role": "user", "content": content}], **more}, ChatRequest
    )


ALL = [("fast", "mini"), ("balanced", "mid"), ("strong", "big"), ("long_context", "huge")]


def f(difficulty: float = 0.0, tokens: int = 10, **more: Any) -> Features:
    values = {
        "input_tokens": tokens,
        "output_tokens": 100,
        "tools": 0,
        "images": 0,
        "json_schema": False,
        "messages": 1,
        "difficulty": difficulty,
    }
    return Features(**{**values, **more})  # fmt: skip


@pytest.mark.parametrize(
    ("features", "header"),
    [
        (f(0.0), "fast; reason=simple"),
        (f(0.2), "balanced; reason=difficulty"),
        (f(0.7), "strong; reason=difficulty"),
        (f(0.05, tools=2), "balanced; reason=tools"),
        (f(0.3, tools=4), "strong; reason=tools"),
        (f(0.05, images=1), "balanced; reason=images"),
        (f(0.08, json_schema=True), "balanced; reason=json"),
        (f(0.08, messages=16), "balanced; reason=conversation"),
        (f(0.0, tokens=950), "balanced; reason=context"),  # 950 + 100 > the fast tier's 1000
        (f(0.7, tokens=6000), "long_context; reason=context"),
        (f(0.0, tokens=200_000), "long_context; reason=context"),  # none holds it: the largest
    ],
)
def test_the_decision_and_its_reason(features: Features, header: str) -> None:
    assert alias().decide(features, ALL).header == header


def test_a_tier_the_caller_may_not_use_is_skipped_upwards_first() -> None:
    a = alias()
    assert (
        a.decide(f(0.7), [("fast", "mini"), ("long_context", "huge")]).header
        == "long_context; reason=allowed"
    )
    assert a.decide(f(0.7), [("fast", "mini"), ("balanced", "mid")]).header == "balanced; reason=allowed"


def test_thresholds_come_from_the_settings() -> None:
    assert alias(balanced_from=0.5, strong_from=0.9).decide(f(0.7), ALL).tier == "balanced"


def test_the_route_falls_through_the_tiers_above_that_hold_the_request() -> None:
    route, choice = alias().resolve(req("hello"), 10, None, None)
    assert (choice.tier, route.alias) == ("fast", "mini")
    assert route.chain == ("mini", "mid", "spare", "big", "huge")  # the tiers' own fallbacks included
    # Too big for the balanced and strong tiers' windows: they are not in the chain.
    route, choice = alias().resolve(req("hello"), 4950, "balanced", None)
    assert (choice.header, route.chain) == ("balanced; reason=header", ("mid", "spare", "huge"))


def test_the_route_is_cut_to_what_the_caller_may_use() -> None:
    route, choice = alias().resolve(req(PROOF), 10, None, frozenset({"auto", "mid", "huge"}))
    assert (choice.header, route.chain) == ("long_context; reason=allowed", ("huge",))
    route, _ = alias().resolve(req("hello"), 10, None, frozenset({"auto", "mini", "mid", "huge"}))
    assert route.chain == ("mini", "mid", "huge")  # mid's fallback `spare` is not allowed


def test_the_body_hint_wins_over_the_header() -> None:
    _, choice = alias().resolve(req("hi", sluice={"route": "strong"}), 10, "fast", None)
    assert choice.header == "strong; reason=hint"


def test_errors() -> None:
    a = alias()
    with pytest.raises(InvalidRequestError) as bad:
        a.resolve(req("hi", sluice={"route": "turbo"}), 10, None, None)
    assert (bad.value.status, bad.value.param) == (400, "sluice.route")
    with pytest.raises(InvalidRequestError) as bad:
        a.resolve(req("hi"), 10, " turbo ", None)
    assert bad.value.param == "x-sluice-route"
    with pytest.raises(PermissionDeniedError) as denied:
        a.resolve(req("hi"), 10, None, frozenset({"mini"}))
    assert (denied.value.status, denied.value.code, denied.value.message) == (
        403,
        "model_not_allowed",
        "This key may not use the model `auto`.",
    )
    with pytest.raises(PermissionDeniedError) as denied:
        a.resolve(req("hi"), 10, None, frozenset({"auto", "spare"}))
    assert denied.value.message == "This key may use none of the tiers of the model `auto`."
    with pytest.raises(PermissionDeniedError) as denied:
        a.resolve(req("hi"), 10, "strong", frozenset({"auto", "mini"}))
    assert (denied.value.param, denied.value.code) == ("x-sluice-route", "model_not_allowed")


def test_context_windows_known_and_configured() -> None:
    def m(model: str, **more: Any) -> ModelSettings:
        return ModelSettings(deployments=[{"provider": "p", "model": model}], **more)  # type: ignore[list-item]

    assert context_window(m("gpt-4o-mini-2024-07-18")) == 128_000
    assert context_window(m("gpt-4.1")) == 1_047_576
    assert context_window(m("claude-3-5-haiku-20241022")) == 200_000
    assert context_window(m("llama-3")) is None
    assert context_window(m("gpt-4o", context_window=8000)) == 8000
