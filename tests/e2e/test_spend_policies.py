"""Spend policies on real gateways with the openai SDK: a user past its threshold served from a
cheaper alias; a tenant past its emergency threshold in emergency mode (repeats from the cache
whatever their temperature, the cheap alias, large inputs refused with 429
``emergency_input_too_large``) until an operator ends it; each switch in the request log, the
metrics and the webhook outbox once. And the traffic spike: two replicas on one Redis and
PostgreSQL, a tenant crossing its threshold under concurrent traffic, both replicas switching
within a second, the spend above the threshold bounded, both switching back at the next UTC day
(the gateways' period clock set, by ``budgets.clock_offset_s``, to reach a midnight mid-test)."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from tests.conftest import sim_config
from tests.fixtures.clock import DAY_S, clear_of_utc_midnight
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

ADMIN = "sk-admin-spend"
AH = {"authorization": f"Bearer {ADMIN}"}
PRICES = {"sim-pricey": {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000}}
SPENT = 5 * 100 + 5 * 1000  # "hello there": 5 tokens in, 5 out at sim-pricey's prices (micro-dollars)
RESERVED = 10 * 100 + 5 * 1000  # the worst case reserved with max_tokens 5 (10 input tokens estimated)
PRICEY, CHEAP = "sim/sim-pricey", "sim/sim-free"


def spend_config(**extra: Any) -> dict[str, Any]:
    config = sim_config()
    config["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    config["models"] = {
        **config["models"],
        "gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-pricey"}]},
        "cheap": {"deployments": [{"provider": "sim", "model": "sim-free"}]},
    }
    config["pricing"] = PRICES
    config["request_log"] = {"flush_ms": 20}
    config["webhooks"] = {"allow_private": True, "poll_s": 0.1, "attempts": 1}
    return {**config, **extra}


def admin(gw: Proc, method: str, path: str, body: Any = None) -> Any:
    reply = call(method, gw.base_url + "/admin" + path, body, AH)
    assert reply.status in (200, 201), (path, reply.status, reply.body)
    return reply.json()


def tenant(gw: Proc, spend: dict[str, Any], *, user: bool = False) -> tuple[str, str | None]:
    """Tenant "acme" with one key (of a new user when ``user``) and ``spend`` as the tenant's policy
    (the user's when ``user``); a webhook endpoint on a closed loopback port, so the outbox
    records each spend event. Returns (key, user id)."""
    admin(gw, "POST", "/tenants", {"id": "acme", "name": "Acme"})
    admin(gw, "POST", "/tenants/acme/webhooks", {"url": "http://127.0.0.1:9/hook"})
    user_id = admin(gw, "POST", "/tenants/acme/users", {"external_id": "ann"})["id"] if user else None
    key = admin(gw, "POST", "/tenants/acme/keys", {"name": "app", "user_id": user_id})["key"]
    admin(gw, "PUT", f"/tenants/acme/users/{user_id}/spend" if user else "/tenants/acme/spend", spend)
    return key, user_id


def ask(gw: Proc, key: str, text: str = "hello there", **body: Any) -> Any:
    """One chat completion through the openai SDK: the raw response (headers, status) or the error."""
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0)
    try:
        return client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text}], max_tokens=5, **body
        )
    except openai.APIStatusError as e:
        return e
    finally:
        client.close()


def events(gw: Proc) -> list[str]:
    return [d["type"] for d in admin(gw, "GET", "/tenants/acme/webhooks/deliveries")["data"]]


def logged(gw: Proc, want: int) -> list[dict[str, Any]]:
    """The tenant's logged requests, oldest first, once ``want`` are in (the writer flushes every 20 ms)."""
    deadline = time.monotonic() + 20
    while True:
        rows = admin(gw, "GET", "/requests?tenant=acme&limit=1000")["data"]
        if len(rows) >= want or time.monotonic() > deadline:
            return list(reversed(rows))
        time.sleep(0.05)


@pytest.fixture
def one_day() -> None:
    """These tests spend within one UTC day by the gateway's real clock."""
    clear_of_utc_midnight()


def test_a_user_past_the_threshold_is_served_from_the_cheaper_alias(gateway, one_day: None) -> None:
    gw = gateway(spend_config())
    key, user_id = tenant(gw, {"downgrade_at_micros": SPENT, "downgrade_to": "cheap"}, user=True)
    first = ask(gw, key)
    assert first.headers["x-sluice-model"] == PRICEY
    assert first.parse().choices[0].message.content == "Simulated reply to: hello there"
    assert [ask(gw, key).headers["x-sluice-model"] for _ in range(3)] == [CHEAP] * 3
    rows = logged(gw, 4)
    assert [(r["spend"], r["spend_event"]) for r in rows] == [
        (None, None),
        ("user_downgraded", "spend.user_downgraded"),
        ("user_downgraded", None),
        ("user_downgraded", None),
    ]
    assert eventually(lambda: events(gw), 20, "the webhook event") == ["spend.user_downgraded"]
    metrics = call("GET", gw.base_url + "/metrics").body.decode()
    assert 'sluice_spend_switches_total{event="spend.user_downgraded"} 1.0' in metrics
    # The user's own policy is read back as set; a user's policy may not carry the emergency fields.
    got = admin(gw, "GET", f"/tenants/acme/users/{user_id}/spend")
    assert got["policy"] == {"downgrade_at_micros": SPENT, "downgrade_to": "cheap"}
    bad = call(
        "PUT",
        f"{gw.base_url}/admin/tenants/acme/users/{user_id}/spend",
        {"emergency_at_micros": 1, "emergency_to": "cheap"},
        AH,
    )
    assert bad.status == 400 and bad.json()["error"]["param"] == "emergency_at_micros"


def test_emergency_mode_serves_repeats_from_the_cache_the_rest_cheaply_and_refuses_large_inputs(
    gateway, one_day: None
) -> None:
    gw = gateway(spend_config(cache={"enabled": True}))
    policy = {"emergency_at_micros": SPENT, "emergency_to": "cheap", "emergency_max_input_tokens": 30}
    key, _ = tenant(gw, policy)
    first = ask(gw, key, temperature=0.7)  # not deterministic: kept only for emergency mode
    assert first.headers["x-sluice-model"] == PRICEY and first.headers["x-sluice-cache"] == "miss"
    # The cache keeps the answer off the request path: wait until the repeat is a hit.
    repeat = eventually(
        lambda: (r := ask(gw, key, temperature=0.7)).headers["x-sluice-cache"] == "hit" and r, 20, "a hit"
    )
    assert repeat.parse().choices[0].message.content == "Simulated reply to: hello there"
    other = ask(gw, key, "something else", temperature=0.7)
    assert other.headers["x-sluice-model"] == CHEAP
    large = ask(gw, key, "word " * 40)
    assert isinstance(large, openai.RateLimitError) and large.status_code == 429
    error = large.response.json()["error"]
    assert error["code"] == "emergency_input_too_large" and error["param"] == "messages"
    assert error["type"] == "insufficient_quota"
    assert "emergency threshold" in error["message"] and "at most 30 input tokens" in error["message"]
    # The operator ends it for the rest of the day: the next request is served as asked, at once.
    ended = admin(gw, "POST", "/tenants/acme/spend/end-emergency")
    assert ended["ended_for"].startswith("d")
    assert admin(gw, "GET", "/tenants/acme/spend")["emergency_ended"] == ended["ended_for"]
    after = ask(gw, key, "something else", temperature=0.7)
    assert after.headers["x-sluice-model"] == PRICEY
    rows = logged(gw, 5)
    spend = [r["spend"] for r in rows]
    assert spend[0] is None and spend[-1] is None
    assert "emergency_refused" in spend and spend.count("emergency") >= 2
    assert [r["spend_event"] for r in rows if r["spend_event"]] == [
        "spend.emergency_started",
        "spend.emergency_ended",
    ]
    assert sorted(eventually(lambda: len(e := events(gw)) >= 2 and e, 20, "both events")) == [
        "spend.emergency_ended",
        "spend.emergency_started",
    ]


def test_a_traffic_spike_switches_two_replicas_within_a_second_and_back_at_the_next_day(
    gateway, postgres_clean: str, redis_clean: str
) -> None:
    """The bound: a request is admitted at the pricey alias only while the shared day counter
    (settled spend plus the worst cases in flight) is under the threshold, so what is spent there
    is at most the threshold plus the worst cases of the requests in flight at the crossing:
    threshold + CONCURRENCY * RESERVED."""
    concurrency, threshold = 8, 20 * SPENT
    midnight_in_s = 25.0  # the gateways' next UTC midnight, from now: after the spike, before the test ends
    now = time.time()
    day = math.ceil((now + midnight_in_s) / DAY_S) * DAY_S  # a UTC midnight by the gateways' clock
    offset = day - (now + midnight_in_s)
    config = spend_config(
        state={"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean},
        budgets={"clock_offset_s": offset},
    )
    a, b = gateway(config), gateway(config)
    key, _ = tenant(a, {"emergency_at_micros": threshold, "emergency_to": "cheap"})
    replicas = (a, b)
    served: list[tuple[int, float, float, str]] = []  # (replica, started, ended, model)
    lock = threading.Lock()

    def one(i: int) -> None:
        started = time.monotonic()
        r = ask(replicas[i % 2], key)
        assert not isinstance(r, Exception), r
        with lock:
            served.append((i % 2, started, time.monotonic(), r.headers["x-sluice-model"]))

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(240)))
    assert time.time() < now + midnight_in_s - 1, (
        "the spike ran past the gateways' midnight: raise midnight_in_s"
    )
    pricey = [s for s in served if s[3] == PRICEY]
    cheap = [s for s in served if s[3] == CHEAP]
    assert len(pricey) * SPENT >= threshold  # it crossed
    assert len(pricey) * SPENT <= threshold + concurrency * RESERVED  # the documented bound
    first_switch = min(s[2] for s in cheap)  # an answer in emergency mode: the crossing was before it
    later = [s for s in served if s[1] >= first_switch + 1.0]
    assert {s[0] for s in later} == {0, 1}, "too few requests after the switch to judge"
    assert all(s[3] == CHEAP for s in later), "a replica still served the pricey alias a second on"
    # The next UTC day by the gateways' clock: both serve the pricey alias again.
    time.sleep(max(0.0, now + midnight_in_s + 0.5 - time.time()))
    assert [ask(gw, key).headers["x-sluice-model"] for gw in (a, b, a, b)] == [PRICEY] * 4
    rows = logged(a, len(served) + 4)
    switches = [r["spend_event"] for r in rows if r["spend_event"]]
    assert switches == ["spend.emergency_started", "spend.emergency_ended"]  # once each, across replicas
    assert sorted(eventually(lambda: len(e := events(a)) >= 2 and e, 20, "both events")) == [
        "spend.emergency_ended",
        "spend.emergency_started",
    ]
