"""The exact response cache on real gateways, with the sim as a real HTTP upstream that counts its
requests: hits and misses, streams kept and replayed as SSE, the request controls, tenant
isolation and purges through the admin API, budgets untouched by hits, and the distributed
backend (Redis) including Redis being unreachable."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

from tests.conftest import DEMO_KEY
from tests.fixtures.clock import clear_of_utc_midnight, wait_past
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc, free_port
from tests.fixtures.wait import eventually

ADMIN = "sk-admin-cache"
ADMIN_HEADERS = {"authorization": f"Bearer {ADMIN}"}
MSG = [{"role": "user", "content": "What is the capital of France?"}]


def cache_config(sim: Proc, **cache: Any) -> dict[str, Any]:
    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "admin": {"keys": [{"key": ADMIN, "name": "ops"}]},
        "providers": {
            "simhttp": {"type": "openai", "base_url": f"{sim.base_url}/v1", "api_key": "sk-upstream"}
        },
        "models": {
            "m": {"deployments": [{"provider": "simhttp", "model": "sim-cache"}]},
            "other": {"deployments": [{"provider": "simhttp", "model": "sim-other"}]},
        },
        "pricing": {"sim-cache": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000}},
        "cache": {"enabled": True, **cache},
        "logging": {"level": "warning"},
    }


def upstream_requests(sim: Proc) -> int:
    return call("GET", sim.base_url + "/sim/stats").json()["requests"]


def chat(gw: Proc, key: str = DEMO_KEY, headers: dict[str, str] | None = None, **body: Any) -> Reply:
    payload = {"model": "m", "messages": MSG, "temperature": 0, **body}
    return call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        payload,
        {"authorization": f"Bearer {key}", **(headers or {})},
    )


def new_tenant_key(gw: Proc, tenant: str) -> tuple[str, str]:
    """A tenant with one key: (secret, visible prefix)."""
    assert (
        call("POST", gw.base_url + "/admin/tenants", {"id": tenant, "name": tenant}, ADMIN_HEADERS).status
        == 201
    )
    key = call("POST", gw.base_url + f"/admin/tenants/{tenant}/keys", {"name": "app"}, ADMIN_HEADERS).json()
    return key["key"], key["prefix"]


@pytest.fixture(autouse=True)
def _reset(sim_server: Proc) -> None:
    call("POST", sim_server.base_url + "/sim/reset")


def test_an_identical_deterministic_request_is_answered_from_the_cache(sim_server: Proc, gateway) -> None:
    gw = gateway(cache_config(sim_server))
    first, second = chat(gw), chat(gw)
    assert (first.status, second.status) == (200, 200)
    assert (first.headers["x-sluice-cache"], second.headers["x-sluice-cache"]) == ("miss", "hit")
    assert upstream_requests(sim_server) == 1
    a, b = first.json(), second.json()
    assert b["choices"] == a["choices"] and b["usage"] == a["usage"] and b["id"] != a["id"]
    assert (
        first.headers["x-sluice-cost-usd"] != "0.000000" and second.headers["x-sluice-cost-usd"] == "0.000000"
    )
    assert "x-sluice-cache-similarity" not in second.headers
    # Field order and the fields that cannot change the answer do not matter; the ones that can, do.
    assert chat(gw, user="someone", stream=False, metadata={"a": "b"}).headers["x-sluice-cache"] == "hit"
    assert chat(gw, max_tokens=5).headers["x-sluice-cache"] == "miss"
    assert chat(gw, model="other").headers["x-sluice-cache"] == "miss"
    assert upstream_requests(sim_server) == 3


def test_only_deterministic_requests_without_tool_loops_are_cached_by_default(
    sim_server: Proc, gateway
) -> None:
    gw = gateway(cache_config(sim_server))
    warm = {"temperature": 0.7}
    assert [chat(gw, **warm).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "miss"]
    seeded = {"temperature": 0.7, "seed": 7}
    assert [chat(gw, **seeded).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "hit"]
    loop = [
        *MSG,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Paris"},
    ]
    assert [chat(gw, messages=loop).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "miss"]
    assert upstream_requests(sim_server) == 5


def test_a_stream_is_kept_and_a_hit_is_replayed_as_sse(sim_server: Proc, gateway) -> None:
    gw = gateway(cache_config(sim_server))
    with openai.OpenAI(base_url=gw.base_url + "/v1", api_key=DEMO_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="m", messages=MSG, temperature=0, stream=True
        )
        fresh = list(raw.parse())
        assert raw.headers["x-sluice-cache"] == "miss"
        raw = client.chat.completions.with_raw_response.create(
            model="m", messages=MSG, temperature=0, stream=True, stream_options={"include_usage": True}
        )
        replayed = list(raw.parse())
        assert raw.headers["x-sluice-cache"] == "hit"
        as_json = client.chat.completions.with_raw_response.create(model="m", messages=MSG, temperature=0)
    text = "".join(c.choices[0].delta.content or "" for c in fresh if c.choices)
    assert text == "Simulated reply to: What is the capital of France?"
    assert "".join(c.choices[0].delta.content or "" for c in replayed if c.choices) == text
    assert [c.choices[0].finish_reason for c in replayed if c.choices][-1] == "stop"
    assert (
        replayed[-1].choices == []
        and replayed[-1].usage is not None
        and replayed[-1].usage.completion_tokens > 0
    )
    assert as_json.headers["x-sluice-cache"] == "hit" and as_json.parse().choices[0].message.content == text
    assert upstream_requests(sim_server) == 1


def test_cache_control_and_the_body_option(sim_server: Proc, gateway) -> None:
    gw = gateway(cache_config(sim_server))
    assert chat(gw, headers={"cache-control": "no-store"}).headers["x-sluice-cache"] == "miss"
    assert chat(gw, sluice={"cache": "no-store"}).headers["x-sluice-cache"] == "miss"
    assert (
        chat(gw, headers={"cache-control": "no-cache"}).headers["x-sluice-cache"] == "miss"
    )  # fresh, but kept
    assert chat(gw).headers["x-sluice-cache"] == "hit"
    assert chat(gw, sluice={"cache": "no-cache"}).headers["x-sluice-cache"] == "miss"
    assert upstream_requests(sim_server) == 4
    ttl = [{"role": "user", "content": "A question kept for one second"}]
    assert chat(gw, messages=ttl, sluice={"cache": {"ttl": 1}}).headers["x-sluice-cache"] == "miss"
    assert chat(gw, messages=ttl).headers["x-sluice-cache"] == "hit"
    wait_past(time.time() + 1)  # the entry was kept before this hit was served: it has expired now
    assert chat(gw, messages=ttl).headers["x-sluice-cache"] == "miss"
    bad = chat(gw, sluice={"cache": "sometimes"})
    assert bad.status == 400 and bad.json()["error"]["param"] == "sluice.cache"
    assert (
        bad.json()["error"]["message"] == "Invalid value for 'sluice.cache': Invalid enum value 'sometimes'."
    )


def test_tenants_never_share_entries_and_purges_are_scoped(sim_server: Proc, gateway) -> None:
    gw = gateway(cache_config(sim_server))
    a_key, a_prefix = new_tenant_key(gw, "acme")
    b_key, _ = new_tenant_key(gw, "bravo")
    assert [chat(gw, a_key).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "hit"]
    assert [chat(gw, b_key).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "hit"]
    assert chat(gw, DEMO_KEY).headers["x-sluice-cache"] == "miss"  # static keys are tenant '-'
    assert chat(gw, a_key, model="other").status == 200
    purge = gw.base_url + "/admin/tenants/acme/cache/purge"
    r = call("POST", purge, {"model": "m"}, ADMIN_HEADERS)
    assert r.status == 200 and r.json() == {"tenant_id": "acme", "purged": {"exact": 1, "semantic": 0}}
    assert chat(gw, a_key).headers["x-sluice-cache"] == "miss"
    assert chat(gw, b_key).headers["x-sluice-cache"] == "hit"  # another tenant's purge touches nothing here
    assert call("POST", purge, {"key_prefix": "sk-nomatch"}, ADMIN_HEADERS).json()["purged"]["exact"] == 0
    assert call("POST", purge, {"key_prefix": a_prefix}, ADMIN_HEADERS).json()["purged"]["exact"] == 2
    stats = call("GET", gw.base_url + "/admin/tenants/bravo/cache/stats", headers=ADMIN_HEADERS).json()
    assert (stats["lookups"], stats["exact_hits"], stats["misses"], stats["hit_rate"]) == (3, 2, 1, 0.6667)
    assert stats["tokens_saved"] > 0 and stats["usd_saved"] > 0
    # A tenant's key reaches none of this.
    assert (
        call(
            "GET",
            gw.base_url + "/admin/tenants/bravo/cache/stats",
            headers={"authorization": f"Bearer {a_key}"},
        ).status
        == 403
    )
    assert call("POST", gw.base_url + "/admin/tenants/nobody/cache/purge", {}, ADMIN_HEADERS).status == 404


def test_a_tenant_policy_from_the_admin_api_applies_at_once(sim_server: Proc, gateway) -> None:
    gw = gateway(cache_config(sim_server))
    key, _ = new_tenant_key(gw, "acme")
    policy = gw.base_url + "/admin/tenants/acme/cache"
    assert call("GET", policy, headers=ADMIN_HEADERS).json()["source"] == "config"
    r = call("PUT", policy, {"exact": False}, ADMIN_HEADERS)
    assert r.status == 200 and r.json()["policy"]["exact"] is False
    assert [chat(gw, key).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "miss"]
    assert call("PUT", policy, {"deterministic_only": False, "ttl_s": 60}, ADMIN_HEADERS).status == 200
    assert [chat(gw, key, temperature=1).headers["x-sluice-cache"] for _ in range(2)] == ["miss", "hit"]
    assert call("PUT", policy, {"ttl_s": 0}, ADMIN_HEADERS).status == 400
    assert call("DELETE", policy, headers=ADMIN_HEADERS).json()["source"] == "config"


def test_hits_cost_nothing_against_a_budget(sim_server: Proc, gateway) -> None:
    clear_of_utc_midnight()  # the day's budget is spent, then what is left is checked
    gw = gateway(cache_config(sim_server))
    key, _ = new_tenant_key(gw, "acme")
    budget = {"period": "day", "max_tokens": 10_000}
    assert call("PUT", gw.base_url + "/admin/tenants/acme/budgets", budget, ADMIN_HEADERS).status == 200
    fresh = chat(gw, key, max_tokens=50)
    used = fresh.json()["usage"]["total_tokens"]
    for _ in range(5):
        assert chat(gw, key, max_tokens=50).headers["x-sluice-cost-usd"] == "0.000000"
    # The budget holds exactly what the one fresh answer used: a worst case of the rest fits, one
    # token more does not (the input "x" is estimated at 3 to prime the reply + 4 per message + 1).
    rest = 10_000 - used - (3 + 4 + 1)
    assert chat(gw, key, messages=[{"role": "user", "content": "x"}], max_tokens=rest + 1).status == 429
    assert chat(gw, key, messages=[{"role": "user", "content": "x"}], max_tokens=rest).status == 200


def test_the_distributed_backend_caches_on_redis_and_bypasses_it_when_down(
    sim_server: Proc, gateway, postgres_clean: str, redis_clean: str
) -> None:
    state = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    a, b = (
        gateway({**cache_config(sim_server), "state": state}),
        gateway({**cache_config(sim_server), "state": state}),
    )
    assert chat(a).headers["x-sluice-cache"] == "miss"
    eventually(
        lambda: chat(b).headers["x-sluice-cache"] == "hit", 5, "B served from A's entry"
    )  # kept off the hot path
    down = gateway(
        {**cache_config(sim_server), "state": {**state, "redis_url": f"redis://127.0.0.1:{free_port()}/0"}}
    )
    replies = [chat(down) for _ in range(3)]
    assert [(r.status, r.headers["x-sluice-cache"]) for r in replies] == [(200, "miss")] * 3
    ready = call("GET", down.base_url + "/health/ready").json()
    assert ready["status"] == "degraded" and ready["cache"]["exact"] == "unavailable"
