"""Budgets on real gateways: the cost header, a 429 with exact JSON at the limit, a downgrade to a
cheaper alias, a stream ended with finish_reason "length" at its reservation, the admin API, and
two replicas on one Redis and PostgreSQL holding one USD budget."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.clock import clear_of_utc_midnight
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc

ADMIN = "sk-admin-budgets"
HEADERS = {"authorization": f"Bearer {ADMIN}"}
# USD per million tokens is micro-dollars per token.
PRICES = {
    "sim-pricey": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000},
    "sim-cheapish": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 10},
}
INPUT_ESTIMATE = 10  # "hello there": 3 to prime the reply + 4 for the message + 3 for the text
PROMPT_TOKENS, COMPLETION_TOKENS = 5, 5  # the sim: 2 words + 3 in; "Simulated reply to: hello there" out
SPENT = PROMPT_TOKENS * 100 + COMPLETION_TOKENS * 1000  # 5500 micro-dollars per answer


@pytest.fixture(autouse=True)
def _one_budget_period() -> None:
    """Each test spends a day's or a month's budget and checks what is left: inside one UTC period."""
    clear_of_utc_midnight()


def budgeted_config(**extra: Any) -> dict[str, Any]:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["providers"]["broken"] = {"type": "sim", "sim": {"error_rate": 1.0}}
    config["models"] = {
        **config["models"],
        "gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-pricey"}]},
        "cheap": {"deployments": [{"provider": "sim", "model": "sim-free"}]},
        "falls-back": {
            "deployments": [{"provider": "broken", "model": "sim-cheapish"}],
            "fallbacks": ["gpt-4o-mini"],
        },
    }
    config["routing"] = {"retries": {"max_attempts": 1}}
    config["pricing"] = PRICES
    return {**config, **extra}


def tenant_key(gw: Proc, **budget: Any) -> str:
    """A tenant "acme" with one key whose budget is ``budget``; returns the key."""
    assert call("POST", gw.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, HEADERS).status == 201
    key = call("POST", gw.base_url + "/admin/tenants/acme/keys", {"name": "app"}, HEADERS).json()
    r = call("PUT", gw.base_url + f"/admin/tenants/acme/keys/{key['id']}/budgets", budget, HEADERS)
    assert r.status == 200, r.body
    assert r.json() == {
        "tenant_id": "acme",
        "scope": "key",
        "scope_id": key["id"],
        "data": [{"on_exceed": "reject", **budget}],
    }
    return key["key"]


def chat(gw: Proc, key: str, **body: Any) -> Reply:
    payload = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello there"}],
        "max_tokens": 100,
        **body,
    }
    return call("POST", gw.base_url + "/v1/chat/completions", payload, {"authorization": f"Bearer {key}"})


def test_every_answer_reports_its_cost(gateway) -> None:
    gw = gateway(budgeted_config())
    r = chat(gw, DEMO_KEY)  # no budget: still priced
    assert r.status == 200 and r.json()["usage"]["prompt_tokens"] == PROMPT_TOKENS
    assert r.headers["x-sluice-cost-usd"] == "0.005500"
    assert (
        chat(gw, DEMO_KEY, model="cheap").headers["x-sluice-cost-usd"] == "0.000000"
    )  # sim: free unless priced
    e = call(
        "POST",
        gw.base_url + "/v1/embeddings",
        {"model": "text-embedding-3-small", "input": "a b"},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert e.status == 200 and e.headers["x-sluice-cost-usd"] == "0.000000"


def test_at_the_limit_a_429_with_exact_json(gateway) -> None:
    gw = gateway(budgeted_config())
    reserve = INPUT_ESTIMATE * 100 + 100 * 1000  # 101000: the worst case of max_tokens 100
    key = tenant_key(gw, period="day", max_cost_micros=reserve + SPENT - 1)
    assert chat(gw, key).status == 200  # reserves 101000, spends 5500
    r = chat(gw, key)  # 5500 + 101000 > the budget by one micro-dollar
    assert r.status == 429
    assert r.json() == {
        "error": {
            "message": "This key has used its daily USD budget ($0.106499) or this request's worst case does not fit in "
            "what is left. It resets at the start of the next UTC day; a smaller max_tokens may fit now.",
            "type": "insufficient_quota",
            "param": None,
            "code": "budget_exceeded",
        }
    }
    assert r.headers["x-request-id"].startswith("req_")
    assert chat(gw, key, max_tokens=99).status == 200


def test_at_the_limit_a_downgrade_serves_the_cheaper_alias(gateway) -> None:
    gw = gateway(budgeted_config())
    key = tenant_key(gw, period="month", max_cost_micros=106_000, on_exceed="downgrade", downgrade_to="cheap")
    models = []
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0) as client:
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], max_tokens=100
            )
            raw.parse()
            models.append((raw.headers["x-sluice-model"], raw.headers["x-sluice-cost-usd"]))
    assert models == [
        ("sim/sim-pricey", "0.005500"),
        ("sim/sim-free", "0.000000"),
        ("sim/sim-free", "0.000000"),
    ]


def test_a_stream_from_a_pricier_fallback_ends_with_length_at_its_reservation(gateway) -> None:
    gw = gateway(budgeted_config())
    key = tenant_key(gw, period="day", max_cost_micros=1_000_000)
    # Reserved at the first deployment's price: 10 * 100 + 450 * 10 = 5500; the fallback answers at
    # 1000 per output token, so 4 output tokens fit after the input's 1000.
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0) as client:
        stream = client.chat.completions.create(
            model="falls-back",
            messages=[{"role": "user", "content": "hello there"}],
            max_tokens=450,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Simulated reply"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].usage is not None and (
        chunks[-1].usage.prompt_tokens,
        chunks[-1].usage.completion_tokens,
    ) == (10, 4)


def test_budgets_through_the_admin_api(gateway) -> None:
    gw = gateway(budgeted_config())
    tenant_key(gw, period="day", max_tokens=1000)
    base = gw.base_url + "/admin/tenants/acme/budgets"
    r = call("PUT", base, {"period": "month", "max_cost_micros": 5, "on_exceed": "downgrade"}, HEADERS)
    assert r.status == 400 and r.json()["error"]["code"] is None
    assert call("PUT", base, {"period": "month", "max_cost_micros": 5}, HEADERS).status == 200
    assert call("PUT", base, {"period": "day", "max_tokens": 9}, HEADERS).json()["data"] == [
        {"period": "day", "max_tokens": 9, "on_exceed": "reject"},
        {"period": "month", "max_cost_micros": 5, "on_exceed": "reject"},
    ]
    assert len(call("DELETE", base, headers=HEADERS).json()["data"]) == 2
    assert call("GET", base, headers=HEADERS).json()["data"] == []


def test_two_replicas_on_one_redis_hold_one_usd_budget(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    """Reservations are atomic on Redis, so in-flight worst cases plus settled spend never pass the
    budget; each answer here settles below its reservation, so the overshoot bound is 0: spend <= budget."""
    config = budgeted_config(
        state={"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    )
    a, b = gateway(config), gateway(config)
    reserve = INPUT_ESTIMATE * 100 + 100 * 1000
    budget = 10 * reserve
    key = tenant_key(a, period="day", max_cost_micros=budget)
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: chat((a, b)[i % 2], key), range(64)))
    assert {r.status for r in replies} <= {200, 429}
    served = sum(r.status == 200 for r in replies)
    spent = sum(round(float(r.headers["x-sluice-cost-usd"]) * 1_000_000) for r in replies if r.status == 200)
    assert spent == served * SPENT <= budget
    assert served >= 10  # at least every reservation that fits at once
    while chat(a if served % 2 else b, key).status == 200:  # the rest, one at a time, alternating replicas
        served += 1
    assert served == (budget - reserve) // SPENT + 1  # exactly as many as the budget allows, across both


def test_a_static_key_from_the_config_holds_its_own_budget(gateway) -> None:
    reserve = INPUT_ESTIMATE * 100 + 100 * 1000
    config = budgeted_config()
    config["auth"]["keys"].append(
        {
            "key": "sk-static-budget",
            "name": "batch",
            "budgets": [{"period": "month", "max_cost_micros": reserve + SPENT - 1}],
        }
    )
    gw = gateway(config)
    assert chat(gw, "sk-static-budget").status == 200
    r = chat(gw, "sk-static-budget")
    assert r.status == 429 and r.json()["error"]["code"] == "budget_exceeded"
    assert "This key has used its monthly USD budget ($0.106499)" in r.json()["error"]["message"]
    assert chat(gw, DEMO_KEY).status == 200  # the other static key is not touched


def test_a_stream_reports_its_cost_in_a_comment_before_done(gateway) -> None:
    gw = gateway(budgeted_config())
    body = {"stream": True, "stream_options": {"include_usage": True}}
    r = chat(gw, DEMO_KEY, **body)
    assert r.status == 200 and r.body.endswith(b": x-sluice-cost-usd 0.005500\n\ndata: [DONE]\n\n")
    assert (
        b"x-sluice-cost-usd" not in chat(gw, DEMO_KEY, stream=True).body
    )  # unmetered and no usage: not priced
    key = tenant_key(gw, period="day", max_cost_micros=10**9)
    assert chat(gw, key, stream=True).body.endswith(
        b": x-sluice-cost-usd 0.005500\n\ndata: [DONE]\n\n"
    )  # budgeted
    with openai.OpenAI(
        base_url=gw.base_url + "/v1", api_key=key, max_retries=0
    ) as client:  # the SDK skips the comment
        chunks = list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], stream=True
            )
        )
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Simulated reply to: hello there"
    )


def test_every_answer_reports_the_gateways_own_time(gateway) -> None:
    """``x-sluice-overhead-ms`` leaves out the upstream: a 300 ms upstream shows in the total, not in it."""
    config = budgeted_config()
    config["providers"]["slow"] = {"type": "sim", "sim": {"latency_ms": 300, "ttft_ms": 300}}
    config["models"]["slow"] = {"deployments": [{"provider": "slow", "model": "sim-slow"}]}
    gw = gateway(config)
    for body in ({}, {"stream": True}):
        started = time.monotonic()
        r = chat(gw, DEMO_KEY, model="slow", **body)
        total_ms = (time.monotonic() - started) * 1000
        overhead = float(r.headers["x-sluice-overhead-ms"])
        assert r.status == 200 and total_ms >= 300 and 0 < overhead < 100
