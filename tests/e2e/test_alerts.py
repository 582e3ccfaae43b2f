"""Alerts end to end: one gateway, its webhook sender delivering to receivers on loopback (an
aiohttp server), signatures checked with the Standard Webhooks reference library. Budget use
passing 50, 80 and 95%, a tenant's and the gateway's spend rate, the error rate, the p95 latency
and a circuit opening each alert once, to the tenant's endpoint (its own alerts) and the
operator's (all of them); repeated evaluations inside the cooldown send nothing more; a Slack
endpoint gets {"text": ...}; a receiver answering 500 gets the alert again."""

from __future__ import annotations

import base64
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from tests.conftest import sim_config
from tests.e2e.test_webhooks import FAST
from tests.fixtures.clock import clear_of_utc_midnight
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.upstreams import ThreadedServer

ADMIN = "sk-admin-alerts"
AH = {"authorization": f"Bearer {ADMIN}"}
PRICE = {"input_usd_per_mtok": 100, "output_usd_per_mtok": 1000}
SPENT = 5 * 100 + 5 * 1000  # micro-dollars per answer: the sim's 5 tokens in and 5 out
BUDGET = 17_000  # 3 answers: 32%, 65% (50), 97% (80 and 95); a 4th's worst case (6000) does not fit


def secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


class Receiver:
    """``/ops``, ``/slack``, ``/tenant`` answer 200; ``/flaky`` answers 500 to an event's first
    delivery. Every POST kept with its raw body and headers."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes, dict[str, str]]] = []
        ok = {p: self._ok(p) for p in ("/ops", "/slack", "/tenant")}
        self.server = ThreadedServer({**ok, "/flaky": self._flaky})

    def _ok(self, path: str) -> Any:
        async def serve(request: web.Request, body: Any) -> web.StreamResponse:
            self.got.append((path, await request.read(), dict(request.headers)))
            return web.Response(status=200)

        return serve

    async def _flaky(self, request: web.Request, body: Any) -> web.StreamResponse:
        self.got.append(("/flaky", await request.read(), dict(request.headers)))
        tries = sum(
            1 for p, _, h in self.got if p == "/flaky" and h["webhook-id"] == request.headers["webhook-id"]
        )
        return web.Response(status=500 if tries == 1 else 200)

    def at(self, path: str) -> list[tuple[bytes, dict[str, str]]]:
        return [(b, h) for p, b, h in list(self.got) if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


def eventually(check: Any, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)
    return found


def alerts(receiver: Receiver, path: str, key: str) -> list[dict[str, Any]]:
    """The alerts delivered to ``path``, each verified with its endpoint's secret."""
    out = []
    for body, headers in receiver.at(path):
        out.append(Webhook(key).verify(body, headers))
    return out


def kinds(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter((e["type"], e["data"]["subject"], e["data"]["threshold"]) for e in events)


def chat(gw: Proc, key: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 5}
    return call("POST", gw.base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {key}"}).status


def test_each_alert_once_signed_to_its_endpoints_with_slack_and_a_retry(gateway, receiver: Receiver) -> None:
    clear_of_utc_midnight()
    ops, slack, flaky = secret(), secret(), secret()
    url = receiver.server.base_url
    cfg = sim_config()
    cfg["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    cfg["providers"]["broken"] = {"type": "sim", "sim": {"error_rate": 1.0}}
    cfg["providers"]["slow"] = {"type": "sim", "sim": {"latency_ms": 400}}
    cfg["models"] = {
        "gpt-4o-mini": {"deployments": [{"provider": "sim", "model": "sim-pricey"}]},
        "broken": {"deployments": [{"provider": "broken", "model": "sim-x"}]},
        "slow": {"deployments": [{"provider": "slow", "model": "sim-slow"}]},
    }
    cfg["pricing"] = {"sim-pricey": PRICE}
    cfg["routing"] = {"retries": {"max_attempts": 1}, "breaker": {"failure_threshold": 2, "open_s": 600}}
    cfg["request_log"] = {"flush_ms": 20}
    cfg["webhooks"] = FAST
    circuit = ["sluice.alert.circuit_open"]
    cfg["alerts"] = {
        "cooldown_s": 3600,
        "evaluate_every_s": 0.2,
        "min_requests": 5,
        "p95_latency_s": 0.3,
        "tenant_spend_usd_per_hour": 0.01,  # 10,000 micro-dollars: passed by the second answer
        "spend_usd_per_hour": 0.015,  # passed by the third
        "webhooks": [
            {"url": f"{url}/ops", "secret": ops},
            {"url": f"{url}/slack", "secret": slack, "format": "slack", "events": circuit},
            {"url": f"{url}/flaky", "secret": flaky, "events": circuit},
        ],
    }
    gw = gateway(cfg)
    assert call("POST", gw.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, AH).status == 201
    budget = {"period": "day", "max_cost_micros": BUDGET}
    assert call("PUT", gw.base_url + "/admin/tenants/acme/budgets", budget, AH).status == 200
    key = call("POST", gw.base_url + "/admin/tenants/acme/keys", {"name": "app"}, AH).json()["key"]
    events = ["sluice.alert.budget", "sluice.alert.spend_rate"]
    made = call(
        "POST", gw.base_url + "/admin/tenants/acme/webhooks", {"url": f"{url}/tenant", "events": events}, AH
    )
    assert made.status == 201 and made.json()["format"] == "standard", made.body
    tenant = made.json()["secret"]

    assert [chat(gw, key, "gpt-4o-mini") for _ in range(4)] == [200, 200, 200, 429]
    assert [chat(gw, key, "broken") for _ in range(3)] == [502, 502, 503]  # the third: circuit open
    assert [chat(gw, key, "slow") for _ in range(2)] == [200, 200]

    budget_alerts = {("sluice.alert.budget", "tenant:acme", t) for t in ("50", "80", "95")}
    tenant_spend = ("sluice.alert.spend_rate", "tenant:acme", "0.01")
    gateway_wide = {
        ("sluice.alert.spend_rate", "gateway", "0.015"),
        ("sluice.alert.error_rate", "gateway", "0.05"),
        ("sluice.alert.latency", "gateway", "0.3"),
        ("sluice.alert.circuit_open", "deployment:broken/broken/sim-x", "open"),
    }
    everything = budget_alerts | {tenant_spend} | gateway_wide
    eventually(lambda: set(kinds(alerts(receiver, "/ops", ops))) == everything)
    eventually(lambda: set(kinds(alerts(receiver, "/tenant", tenant))) == budget_alerts | {tenant_spend})
    time.sleep(1.5)  # seven more evaluations, every condition still true: the marks hold them
    got = alerts(receiver, "/ops", ops)
    assert kinds(got) == Counter(everything)  # each exactly once
    assert kinds(alerts(receiver, "/tenant", tenant)) == Counter(budget_alerts | {tenant_spend})
    for e in got:
        assert e["type"].startswith("sluice.alert.") and e["id"].startswith("evt_") and e["object"] == "event"
        assert e["data"]["message"].startswith("Sluice ")
        assert e["data"]["tenant_id"] == ("acme" if e["data"]["subject"] == "tenant:acme" else None)
    by = {(e["type"], e["data"]["threshold"]): e["data"] for e in got}
    assert by[("sluice.alert.budget", "95")]["value"] == pytest.approx(3 * SPENT * 100 / BUDGET, abs=0.01)

    # Slack: the circuit alert only, as {"text": ...}, signed over that body.
    [(body, headers)] = receiver.at("/slack")
    Webhook(slack).verify(body, headers)
    text = msgspec.json.decode(body)
    assert set(text) == {"text"} and "circuit" in text["text"] and "broken/sim-x" in text["text"]
    # The flaky receiver's 500 is retried: the same event (webhook-id) again, then delivered.
    tries = eventually(lambda: len(receiver.at("/flaky")) >= 2 and receiver.at("/flaky"))
    assert len({h["webhook-id"] for _, h in tries}) == 1
    assert [Webhook(flaky).verify(b, h)["type"] for b, h in tries] == circuit * 2
    with pytest.raises(WebhookVerificationError):
        Webhook(ops).verify(tries[0][0], tries[0][1])  # signed with its own endpoint's secret only


def test_alert_endpoints_are_checked(gateway) -> None:
    cfg = sim_config()
    cfg["admin"] = {"keys": [{"key": ADMIN, "name": "ops"}]}
    gw = gateway(cfg)
    assert call("POST", gw.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, AH).status == 201
    base = gw.base_url + "/admin/tenants/acme/webhooks"
    bad = call("POST", base, {"url": "http://example.com/x", "events": ["sluice.alert.nope"]}, AH)
    assert bad.status == 400 and bad.json()["error"]["param"] == "events"
    bad = call("POST", base, {"url": "http://example.com/x", "format": "teams"}, AH)
    assert bad.status == 400
    ok = call(
        "POST",
        base,
        {"url": "http://example.com/x", "format": "slack", "events": ["sluice.alert.budget"]},
        AH,
    )
    assert ok.status == 201 and ok.json()["format"] == "slack"
