"""Background requests through the real ``openai`` SDK: a Responses API request with
``background: true`` polled to completion, cancelled mid-run against a slow upstream, a chat
completion with ``"sluice": {"background": true}`` polled at ``/v1/sluice/jobs/{id}``, a gateway
killed with SIGKILL mid-job that finishes it once after a restart, and tenant isolation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp import web
from openai.types.responses import Response as OpenAIResponse

from tests.e2e.test_batches import AH, config, sdk, tenant_key, usage_of
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc
from tests.fixtures.upstreams import ThreadedServer

FINAL = {"completed", "failed", "cancelled", "incomplete"}


def poll(c: openai.OpenAI, response_id: str, statuses: set[str], timeout_s: float = 30) -> OpenAIResponse:
    deadline = time.monotonic() + timeout_s
    while True:
        r = c.responses.retrieve(response_id)
        if r.status in statuses:
            return r
        assert time.monotonic() < deadline, f"response still {r.status}"
        time.sleep(0.05)


def job_call(gw: Proc, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Reply:
    return call(method, gw.base_url + path, body, {"authorization": f"Bearer {key}"})


def poll_job(gw: Proc, key: str, job_id: str, statuses: set[str], timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        reply = job_call(gw, key, "GET", f"/v1/sluice/jobs/{job_id}")
        assert reply.status == 200, reply.body
        job = dict(reply.json())
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}"
        time.sleep(0.05)


def chat_body(text: str, **more: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": text}],
        "sluice": {"background": True},
        **more,
    }


def test_background_response_polled_to_completion(gateway) -> None:
    gw = gateway(config({"latency_ms": 300}))
    key, _ = tenant_key(gw, "acme")
    other, _ = tenant_key(gw, "globex")
    with sdk(gw, key) as c, sdk(gw, other) as o:
        r = c.responses.create(model="gpt-4o-mini", input="tell me a story", background=True)
        assert (r.status, r.background, r.object) == ("queued", True, "response")
        assert r.id.startswith("resp_") and r.output == []
        with pytest.raises(openai.NotFoundError):
            o.responses.retrieve(r.id)  # another tenant's id
        with pytest.raises(openai.NotFoundError):
            o.responses.cancel(r.id)
        done = poll(c, r.id, FINAL)
        assert done.status == "completed" and done.background is True
        assert done.output_text and done.usage is not None and done.usage.output_tokens > 0
        assert done.created_at == r.created_at
        # Cancelling a finished background response answers it as it is (idempotent, as OpenAI's).
        assert c.responses.cancel(r.id).status == "completed"
        # Stored like any store: true answer: a follow-up continues from it.
        follow = c.responses.create(model="gpt-4o-mini", input="and then?", previous_response_id=r.id)
        assert follow.status == "completed"
        items = [i.type for i in c.responses.input_items.list(follow.id)]
        assert len(items) >= 3
        # A response that was not background cannot be cancelled: a 400, as OpenAI's.
        with pytest.raises(openai.BadRequestError):
            c.responses.cancel(follow.id)
        with pytest.raises(openai.NotFoundError):
            c.responses.cancel("resp_missing")
        # Background responses are not batches.
        with pytest.raises(openai.NotFoundError):
            c.batches.retrieve(r.id)
        assert [b.id for b in c.batches.list()] == []


def test_background_refusals_name_their_param(gateway) -> None:
    gw = gateway(config())
    with sdk(gw, tenant_key(gw, "acme")[0]) as c:
        with pytest.raises(openai.BadRequestError) as e:
            c.responses.create(model="gpt-4o-mini", input="x", background=True, store=False)
        assert e.value.body["param"] == "store"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError) as e:
            c.responses.create(model="gpt-4o-mini", input="x", background=True, stream=True)
        assert e.value.body["param"] == "stream"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError) as e:
            c.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "x"}],
                stream=True,
                extra_body={"sluice": {"background": True}},
            )
        assert e.value.body["param"] == "stream"  # type: ignore[index]
        with pytest.raises(openai.BadRequestError) as e:
            c.embeddings.create(
                model="text-embedding-3-small", input="x", extra_body={"sluice": {"background": True}}
            )
        assert e.value.body["param"] == "sluice.background"  # type: ignore[index]
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=c.base_url, api_key="sk-wrong", max_retries=0).responses.create(
                model="gpt-4o-mini", input="x", background=True
            )


class SlowUpstream:
    """An OpenAI-like upstream on loopback that never answers: it records each request, and
    when the gateway closes the connection (its run stopped)."""

    def __init__(self) -> None:
        self.started = 0
        self.gone = 0
        self.server = ThreadedServer({"/v1/chat/completions": self._hang})

    async def _hang(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        self.started += 1
        for _ in range(400):  # 20 s at most
            transport = request.transport
            if transport is None or transport.is_closing():
                self.gone += 1
                break
            await asyncio.sleep(0.05)
        return web.json_response({"error": {"message": "too slow"}}, status=500)


@pytest.fixture
def slow_upstream() -> Iterator[SlowUpstream]:
    up = SlowUpstream()
    yield up
    up.server.stop()


def test_background_response_cancelled_mid_run(gateway, slow_upstream: SlowUpstream) -> None:
    cfg = config()
    cfg["providers"] = {
        "up": {"type": "openai", "base_url": slow_upstream.server.base_url + "/v1", "api_key": "sk-up"}
    }
    cfg["models"] = {"gpt-4o-mini": {"deployments": [{"provider": "up", "model": "m"}]}}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        r = c.responses.create(model="gpt-4o-mini", input="a long one", background=True)
        poll(c, r.id, {"in_progress"})
        deadline = time.monotonic() + 10
        while slow_upstream.started < 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        cancelled = c.responses.cancel(r.id)
        assert (cancelled.status, cancelled.id, cancelled.background) == ("cancelled", r.id, True)
        assert cancelled.error is None
        # The run stopped: the gateway closed its upstream connection, long before the upstream's
        # 20 s were up, and the request never ran again.
        deadline = time.monotonic() + 10
        while slow_upstream.gone < 1:
            assert time.monotonic() < deadline, "the upstream call was not stopped"
            time.sleep(0.05)
        assert c.responses.retrieve(r.id).status == "cancelled"
        assert c.responses.cancel(r.id).status == "cancelled"  # cancelling twice: the same answer
        assert slow_upstream.started == 1


def test_background_chat_job(gateway) -> None:
    gw = gateway(config({"latency_ms": 200}))
    key, _ = tenant_key(gw, "acme")
    other, _ = tenant_key(gw, "globex")
    with sdk(gw, key) as c:
        raw = c.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hello there"}],
            extra_body={"sluice": {"background": True}},
        )
        assert raw.status_code == 202
        job = raw.http_response.json()
    assert job["object"] == "sluice.job" and job["status"] == "queued" and job["id"].startswith("job_")
    assert job["endpoint"] == "/v1/chat/completions" and job["response"] is None
    assert job_call(gw, other, "GET", f"/v1/sluice/jobs/{job['id']}").status == 404
    assert job_call(gw, other, "POST", f"/v1/sluice/jobs/{job['id']}/cancel").status == 404
    done = poll_job(gw, key, job["id"], {"completed", "failed", "cancelled", "expired"})
    assert done["status"] == "completed", done
    assert done["response"]["status_code"] == 200
    body = done["response"]["body"]
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    assert body["usage"]["completion_tokens"] > 0

    slow = job_call(gw, key, "POST", "/v1/chat/completions", chat_body("x"))
    assert slow.status == 202
    missing = job_call(gw, key, "GET", "/v1/sluice/jobs/job_missing")
    assert missing.status == 404 and missing.json()["error"]["code"] == "job_not_found"


def test_background_chat_job_cancelled_while_queued(gateway) -> None:
    """With the tenant's one slot busy with a slow job, the next waits queued and is cancelled."""
    gw = gateway(config({"latency_ms": 20_000}, tenant_concurrency=1))
    key, _ = tenant_key(gw, "acme")
    first = job_call(gw, key, "POST", "/v1/chat/completions", chat_body("one")).json()
    poll_job(gw, key, first["id"], {"in_progress"})
    second = job_call(gw, key, "POST", "/v1/chat/completions", chat_body("two")).json()
    assert poll_job(gw, key, second["id"], {"queued"})["status"] == "queued"
    for j in (second, first):
        reply = job_call(gw, key, "POST", f"/v1/sluice/jobs/{j['id']}/cancel")
        assert reply.status == 200 and reply.json()["status"] == "cancelled", reply.body
        assert reply.json()["error"]["code"] == "cancelled"
    for j in (first, second):
        assert poll_job(gw, key, j["id"], {"cancelled"})["status"] == "cancelled"


def test_sigkill_mid_job_finishes_it_once_after_a_restart(gateway, tmp_path: Path) -> None:
    cfg = config({"latency_ms": 1500}, lease_s=1.0)
    cfg["state"] = {"sqlite_path": str(tmp_path / "jobs.db")}
    gw = gateway(cfg)
    key, _ = tenant_key(gw, "acme")
    with sdk(gw, key) as c:
        r = c.responses.create(model="gpt-4o-mini", input="survive a crash", background=True)
        job = job_call(gw, key, "POST", "/v1/chat/completions", chat_body("me too")).json()
        poll(c, r.id, {"in_progress"})
        poll_job(gw, key, job["id"], {"in_progress"})
    gw.popen.kill()  # SIGKILL, both requests in flight
    gw.popen.wait(10)
    again = gateway(cfg)
    with sdk(again, key) as c2:
        assert c2.responses.retrieve(r.id).status in ("in_progress", "queued")
        done = poll(c2, r.id, FINAL, timeout_s=60)
        assert done.status == "completed" and done.output_text
        chat = poll_job(again, key, job["id"], {"completed", "failed"}, timeout_s=60)
        assert chat["status"] == "completed"
    # Charged once each: one request-log row per job, however often it ran.
    deadline = time.monotonic() + 10
    while True:
        rows = call("GET", again.base_url + "/admin/usage?group_by=tenant", headers=AH).json()["data"]
        if any(x["tenant"] == "acme" and x["requests"] >= 2 for x in rows):
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    row = usage_of(again, "acme", 2)
    assert (
        row["output_tokens"]
        == done.usage.output_tokens + chat["response"]["body"]["usage"]["completion_tokens"]
    )  # type: ignore[union-attr]
