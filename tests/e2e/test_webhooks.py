"""Webhooks end to end: a tenant's endpoint made through the admin API, events for batches and
background responses delivered to an aiohttp receiver on loopback, signatures verified with the
Standard Webhooks reference library and the openai SDK's ``webhooks.unwrap``; a receiver failing
twice gets the third attempt; a private address refused by default; another tenant sees none of it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from tests.e2e.test_background import poll
from tests.e2e.test_batches import AH, chat_line, config, sdk, tenant_key, upload, wait
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.upstreams import ThreadedServer

FAST = {"allow_private": True, "backoff_s": 0.2, "max_backoff_s": 0.5, "poll_s": 0.1, "attempts": 3}


class Receiver:
    """Webhook receivers on loopback: ``/ok``, ``/flaky`` (fails its first two deliveries of each
    event) and ``/down`` (always 500); every POST kept with its raw body and headers."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes, dict[str, str]]] = []
        self.server = ThreadedServer({"/ok": self._ok, "/flaky": self._flaky, "/down": self._down})

    async def _keep(self, path: str, request: web.Request) -> None:
        self.got.append((path, await request.read(), {k.lower(): v for k, v in request.headers.items()}))

    async def _ok(self, request: web.Request, body: Any) -> web.StreamResponse:
        await self._keep("/ok", request)
        return web.Response(status=200)

    async def _flaky(self, request: web.Request, body: Any) -> web.StreamResponse:
        await self._keep("/flaky", request)
        seen = sum(
            1 for p, _, h in self.got if p == "/flaky" and h["webhook-id"] == request.headers["webhook-id"]
        )
        return web.Response(status=200 if seen > 2 else 503)

    async def _down(self, request: web.Request, body: Any) -> web.StreamResponse:
        await self._keep("/down", request)
        return web.Response(status=500)

    def at(self, path: str) -> list[tuple[bytes, dict[str, str]]]:
        return [(b, h) for p, b, h in list(self.got) if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.stop()


def hook(gw: Proc, tenant: str, url: str, events: list[str] | None = None) -> dict[str, Any]:
    reply = call("POST", f"{gw.base_url}/admin/tenants/{tenant}/webhooks", {"url": url, "events": events}, AH)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def deliveries(gw: Proc, tenant: str) -> list[dict[str, Any]]:
    reply = call("GET", f"{gw.base_url}/admin/tenants/{tenant}/webhooks/deliveries", headers=AH)
    assert reply.status == 200, reply.body
    return list(reply.json()["data"])


def eventually(check: Any, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_batch_and_response_events_signed_as_openai_signs_them(gateway, receiver: Receiver) -> None:
    cfg = config({"latency_ms": 50})
    cfg["webhooks"] = FAST
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    other, _ = tenant_key(gw, "globex")
    made = hook(gw, "acme", receiver.server.base_url + "/ok")
    assert made["secret"].startswith("whsec_") and made["events"] is None and made["id"].startswith("wh_")
    listed = call("GET", f"{gw.base_url}/admin/tenants/acme/webhooks", headers=AH).json()["data"]
    assert [w["id"] for w in listed] == [made["id"]] and "secret" not in listed[0]  # shown once
    with sdk(gw, key) as c, sdk(gw, other) as o:
        ok = c.batches.create(
            input_file_id=upload(c, [chat_line("a", "hi")]),
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        bad = c.batches.create(
            input_file_id=upload(c, [chat_line("a", "hi", url="/v1/embeddings")]),
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        wait(c, ok.id, {"completed"})
        wait(c, bad.id, {"failed"})
        r = c.responses.create(model="gpt-4o-mini", input="hello", background=True)
        poll(c, r.id, {"completed"})
        theirs = o.batches.create(
            input_file_id=upload(o, [chat_line("z", "x")]),
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        wait(o, theirs.id, {"completed"})

    want = {("batch.completed", ok.id), ("batch.failed", bad.id), ("response.completed", r.id)}
    got = eventually(lambda: len(receiver.at("/ok")) >= 3 and receiver.at("/ok"))
    client = openai.OpenAI(api_key="unused", webhook_secret=made["secret"])
    seen = set()
    for body, headers in got:
        payload = Webhook(made["secret"]).verify(body, headers)  # the reference library
        unwrapped = client.webhooks.unwrap(body, headers)  # and the openai SDK
        assert unwrapped.type == payload["type"] and unwrapped.data.id == payload["data"]["id"]
        assert set(payload) == {"id", "object", "created_at", "type", "data"} and payload["object"] == "event"
        assert headers["webhook-id"] == payload["id"] and payload["id"].startswith("evt_")
        seen.add((payload["type"], payload["data"]["id"]))
    assert seen == want  # globex's batch sent nothing to acme's endpoint
    rows = eventually(
        lambda: (d := deliveries(gw, "acme")) and all(x["status"] == "delivered" for x in d) and d
    )
    assert sorted((x["type"], x["attempts"]) for x in rows) == sorted((t, 1) for t, _ in want)
    assert all(x["last_status"] == 200 and x["next_attempt_at"] is None for x in rows)
    # Another tenant sees none of it, and cannot delete it.
    assert call("GET", f"{gw.base_url}/admin/tenants/globex/webhooks", headers=AH).json()["data"] == []
    assert deliveries(gw, "globex") == []
    assert (
        call("DELETE", f"{gw.base_url}/admin/tenants/globex/webhooks/{made['id']}", headers=AH).status == 404
    )
    assert call("DELETE", f"{gw.base_url}/admin/tenants/acme/webhooks/{made['id']}", headers=AH).status == 200
    assert call("GET", f"{gw.base_url}/admin/tenants/acme/webhooks", headers=AH).json()["data"] == []


def test_a_receiver_failing_twice_gets_the_third_attempt_and_one_always_down_fails(
    gateway, receiver: Receiver
) -> None:
    cfg = config()
    cfg["webhooks"] = FAST
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    flaky = hook(gw, "acme", receiver.server.base_url + "/flaky", ["response.completed"])
    down = hook(gw, "acme", receiver.server.base_url + "/down", ["response.completed"])
    hook(gw, "acme", receiver.server.base_url + "/ok", ["batch.completed"])  # not this event
    with sdk(gw, key) as c:
        r = c.responses.create(model="gpt-4o-mini", input="hello", background=True)
        poll(c, r.id, {"completed"})
    rows = eventually(
        lambda: (d := deliveries(gw, "acme")) and all(x["status"] != "pending" for x in d) and d
    )
    by_hook = {x["webhook_id"]: x for x in rows}
    assert set(by_hook) == {flaky["id"], down["id"]}
    assert (by_hook[flaky["id"]]["status"], by_hook[flaky["id"]]["attempts"]) == ("delivered", 3)
    assert by_hook[flaky["id"]]["last_status"] == 200
    assert (by_hook[down["id"]]["status"], by_hook[down["id"]]["attempts"]) == ("failed", 3)
    assert by_hook[down["id"]]["last_error"] == "the receiver answered 500"
    attempts = receiver.at("/flaky")
    assert len(attempts) == 3 and len({h["webhook-id"] for _, h in attempts}) == 1  # one event, three tries
    for body, headers in attempts:
        assert Webhook(flaky["secret"]).verify(body, headers)["data"]["id"] == r.id
    assert len(receiver.at("/down")) == 3 and receiver.at("/ok") == []
    scraped = call("GET", gw.base_url + "/metrics").body.decode()
    assert 'sluice_webhook_failures_total{event="response.completed"} 5.0' in scraped  # 2 flaky + 3 down


def test_private_addresses_are_refused_by_default(gateway, receiver: Receiver) -> None:
    cfg = config()
    cfg["webhooks"] = {**FAST, "allow_private": False, "attempts": 1}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    port = receiver.server.base_url.rsplit(":", 1)[1]
    literal = hook(gw, "acme", f"http://127.0.0.1:{port}/ok")
    named = hook(gw, "acme", f"http://localhost:{port}/ok")  # resolved, then refused
    with sdk(gw, key) as c:
        r = c.responses.create(model="gpt-4o-mini", input="hello", background=True)
        poll(c, r.id, {"completed"})
    rows = eventually(
        lambda: (
            (d := deliveries(gw, "acme")) and len(d) == 2 and all(x["status"] == "failed" for x in d) and d
        )
    )
    errors = {x["webhook_id"]: x["last_error"] for x in rows}
    assert "private address" in errors[literal["id"]]
    assert "private address" in errors[named["id"]]
    assert receiver.got == []  # nothing reached the receiver


def test_webhook_config_is_checked(gateway) -> None:
    gw = gateway(config())
    tenant_key(gw, "acme")
    url = f"{gw.base_url}/admin/tenants/acme/webhooks"
    bad = call("POST", url, {"url": "ftp://example.com/x"}, AH)
    assert bad.status == 400 and bad.json()["error"]["param"] == "url"
    bad = call("POST", url, {"url": "https://example.com/x", "events": ["batch.exploded"]}, AH)
    assert bad.status == 400 and bad.json()["error"]["param"] == "events"
    assert (
        call(
            "POST", f"{gw.base_url}/admin/tenants/nobody/webhooks", {"url": "https://example.com/"}, AH
        ).status
        == 404
    )
    assert (
        call("POST", url, {"url": "https://example.com/x"}, {"authorization": "Bearer sk-nope"}).status == 401
    )
    made = call("POST", url, {"url": "https://example.com/x", "events": ["batch.completed"]}, AH)
    assert made.status == 201 and json.loads(made.body)["events"] == ["batch.completed"]


def test_background_jobs_and_webhooks_on_postgres(
    gateway, postgres_clean: str, redis_clean: str, receiver: Receiver
) -> None:
    cfg = config({"latency_ms": 50})
    cfg["state"] = {"backend": "distributed", "postgres_dsn": postgres_clean, "redis_url": redis_clean}
    cfg["webhooks"] = FAST
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    other, _ = tenant_key(gw, "globex")
    made = hook(
        gw, "acme", receiver.server.base_url + "/flaky", ["response.completed", "sluice.job.completed"]
    )
    with sdk(gw, key) as c, sdk(gw, other) as o:
        r = c.responses.create(model="gpt-4o-mini", input="hello", background=True)
        done = poll(c, r.id, {"completed", "failed"})
        assert done.status == "completed" and done.output_text
        with pytest.raises(openai.NotFoundError):
            o.responses.retrieve(r.id)
    job = call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "sluice": {"background": True},
        },
        {"authorization": f"Bearer {key}"},
    )
    assert job.status == 202, job.body
    job_id = job.json()["id"]

    def finished() -> dict[str, Any] | None:
        j = call(
            "GET", f"{gw.base_url}/v1/sluice/jobs/{job_id}", headers={"authorization": f"Bearer {key}"}
        ).json()
        return j if j["status"] == "completed" else None

    assert eventually(finished)["response"]["body"]["object"] == "chat.completion"
    rows = eventually(
        lambda: (
            (d := deliveries(gw, "acme")) and len(d) == 2 and all(x["status"] == "delivered" for x in d) and d
        )
    )
    assert sorted(x["type"] for x in rows) == ["response.completed", "sluice.job.completed"]
    assert all(x["attempts"] == 3 for x in rows)  # the flaky receiver: two failures, then taken
    for body, headers in receiver.at("/flaky"):
        Webhook(made["secret"]).verify(body, headers)
    assert deliveries(gw, "globex") == []


def test_cancelled_and_expired_batches_and_a_cancelled_response_send_their_events(
    gateway, receiver: Receiver
) -> None:
    cfg = config({"latency_ms": 3000}, window_s=2, tenant_concurrency=1)
    cfg["webhooks"] = FAST
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    made = hook(
        gw,
        "acme",
        receiver.server.base_url + "/ok",
        ["batch.cancelled", "batch.expired", "response.cancelled"],
    )
    with sdk(gw, key) as c:
        r = c.responses.create(model="gpt-4o-mini", input="never mind", background=True)
        assert c.responses.cancel(r.id).status == "cancelled"
        lines = [chat_line(f"k-{i}", f"q {i}") for i in range(3)]
        gone = c.batches.create(
            input_file_id=upload(c, lines), endpoint="/v1/chat/completions", completion_window="24h"
        )
        c.batches.cancel(gone.id)
        late = c.batches.create(
            input_file_id=upload(c, lines), endpoint="/v1/chat/completions", completion_window="24h"
        )
        wait(c, gone.id, {"cancelled"})
        wait(c, late.id, {"expired"}, timeout_s=60)
    want = {("response.cancelled", r.id), ("batch.cancelled", gone.id), ("batch.expired", late.id)}
    got = eventually(lambda: len(receiver.at("/ok")) >= 3 and receiver.at("/ok"))
    seen = {(p["type"], p["data"]["id"]) for p in (Webhook(made["secret"]).verify(b, h) for b, h in got)}
    assert seen == want
