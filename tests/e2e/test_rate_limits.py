"""Rate limits on real gateways: RPM and TPM 429s with exact JSON, Retry-After and OpenAI's
``x-ratelimit-*`` headers; an in-flight slot held by a slow stream and freed by its end or by a
client disconnect; two replicas on one Redis enforcing one limit; Redis down reported, not fatal."""

from __future__ import annotations

import http.client
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import msgspec

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc, free_port
from tests.fixtures.wait import eventually

AUTH = {"authorization": f"Bearer {DEMO_KEY}"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
RESET = r"^(1m0(\.\d+)?s|[1-5]?\d(\.\d+)?s)$"
# Retry-After is whole seconds; the message says the same wait as Go prints it.
WAITS = {59: "59s", 60: "1m0s", 61: "1m1s"}


def limited(**limits: Any) -> dict[str, Any]:
    config = sim_config()
    config["auth"]["keys"][0]["limits"] = limits
    return config


def post(gw: Proc, body: dict[str, Any] = CHAT) -> Reply:
    return call("POST", gw.base_url + "/v1/chat/completions", body, AUTH)


def rate_limit_error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": "rate_limit_exceeded"}}


def test_rpm_exceeded_is_a_429_with_retry_after_and_the_headers(gateway) -> None:
    gw = gateway(limited(rpm=2))
    for remaining in ("1", "0"):
        r = post(gw)
        assert r.status == 200
        assert (r.headers["x-ratelimit-limit-requests"], r.headers["x-ratelimit-remaining-requests"]) == (
            "2",
            remaining,
        )
        assert re.match(RESET, r.headers["x-ratelimit-reset-requests"]), r.headers[
            "x-ratelimit-reset-requests"
        ]
        assert "x-ratelimit-limit-tokens" not in r.headers
    r = post(gw)
    assert r.status == 429
    wait = int(r.headers["retry-after"])
    assert wait in WAITS
    assert r.json() == rate_limit_error(
        "Rate limit reached for this key on requests per min (RPM): Limit 2, Used 2, Requested 1. "
        f"Please try again in {WAITS[wait]}.",
        "requests",
    )
    assert (r.headers["x-ratelimit-limit-requests"], r.headers["x-ratelimit-remaining-requests"]) == (
        "2",
        "0",
    )
    assert re.match(RESET, r.headers["x-ratelimit-reset-requests"])
    assert r.headers["x-request-id"].startswith("req_")


def test_the_anthropic_surface_sends_the_same_headers_on_a_429(gateway) -> None:
    gw = gateway(limited(rpm=1))
    messages = {"model": "gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": DEMO_KEY, "anthropic-version": "2023-06-01"}
    assert call("POST", gw.base_url + "/v1/messages", messages, headers).status == 200
    r = call("POST", gw.base_url + "/v1/messages", messages, headers)
    assert r.status == 429 and r.json()["type"] == "error"
    assert int(r.headers["retry-after"]) in WAITS
    assert (r.headers["x-ratelimit-limit-requests"], r.headers["x-ratelimit-remaining-requests"]) == (
        "1",
        "0",
    )
    assert re.match(RESET, r.headers["x-ratelimit-reset-requests"])
    assert r.headers["request-id"] == r.headers["x-request-id"]


def test_tpm_exceeded_counts_the_estimate_then_the_actual_usage(gateway) -> None:
    gw = gateway(limited(tpm=100))
    # "hi": 1 token of text + 4 per message + 3 to prime the reply; plus max_tokens.
    r = post(gw, {**CHAT, "max_tokens": 90})
    assert r.status == 200
    assert (r.headers["x-ratelimit-limit-tokens"], r.headers["x-ratelimit-remaining-tokens"]) == ("100", "2")
    usage = r.json()["usage"]
    used = usage["prompt_tokens"] + usage["completion_tokens"]  # what settle left on the counter
    r = post(gw, {**CHAT, "max_tokens": 90})
    assert r.status == 429
    wait = int(r.headers["retry-after"])
    assert r.json() == rate_limit_error(
        f"Rate limit reached for this key on tokens per min (TPM): Limit 100, Used {used}, Requested 98. "
        f"Please try again in {WAITS[wait]}.",
        "tokens",
    )
    assert r.headers["x-ratelimit-remaining-tokens"] == str(100 - used)
    r = post(gw, {**CHAT, "max_tokens": 50})
    assert r.status == 200 and r.headers["x-ratelimit-remaining-tokens"] == str(100 - used - 58)
    r = post(gw, {**CHAT, "max_tokens": 200})
    assert r.status == 429 and "retry-after" not in r.headers
    assert r.json() == rate_limit_error(
        "Request too large for this key on tokens per min (TPM): Limit 100, Requested 208. "
        "The input or output tokens must be reduced in order to run successfully.",
        "tokens",
    )


class Stream:
    """A streaming chat completion read line by line over a raw connection."""

    def __init__(self, gw: Proc) -> None:
        u = urlsplit(gw.base_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
        body = msgspec.json.encode({**CHAT, "stream": True})
        self.conn.request(
            "POST", "/v1/chat/completions", body=body, headers={**AUTH, "content-type": "application/json"}
        )
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.readline().startswith(b"data: {")

    def read_to_end(self) -> bytes:
        try:
            return self.response.read()
        finally:
            self.conn.close()

    def disconnect(self) -> None:
        self.conn.sock.shutdown(2)  # type: ignore[union-attr]
        self.conn.close()


def test_a_slow_stream_holds_its_slot_until_it_ends_or_the_client_leaves(gateway) -> None:
    gw = gateway(
        {
            **limited(max_concurrent=1),
            "providers": {"sim": {"type": "sim", "sim": {"chunk_delay_ms": 100, "chunks": 30}}},
        }
    )
    stream = Stream(gw)  # about 3 s
    r = post(gw)
    assert r.status == 429 and r.headers["retry-after"] == "1"
    assert r.json() == rate_limit_error(
        "Too many concurrent requests for this key: Limit 1 in flight. Please try again when one has finished.",
        "requests",
    )
    assert stream.read_to_end().endswith(b"data: [DONE]\n\n")
    assert post(gw).status == 200

    stream = Stream(gw)
    assert post(gw).status == 429
    stream.disconnect()
    eventually(lambda: post(gw).status != 429, 2, "the slot freed by the disconnect")


def distributed(config: dict[str, Any], postgres_dsn: str, redis_url: str) -> dict[str, Any]:
    return {
        **config,
        "state": {"backend": "distributed", "postgres_dsn": postgres_dsn, "redis_url": redis_url},
    }


def test_two_replicas_on_one_redis_enforce_one_limit(gateway, postgres_clean: str, redis_clean: str) -> None:
    config = distributed(limited(rpm=5), postgres_clean, redis_clean)
    a, b = gateway(config), gateway(config)
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda i: post((a, b)[i % 2]).status, range(12)))
    assert sorted(statuses) == [200] * 5 + [429] * 7
    ready = call("GET", a.base_url + "/health/ready").json()
    assert ready["status"] == "ok" and ready["redis"]["status"] == "ok" and ready["redis"]["latency_ms"] > 0


def test_redis_down_is_degraded_not_down(gateway, postgres_clean: str) -> None:
    config = distributed(limited(rpm=1), postgres_clean, f"redis://127.0.0.1:{free_port()}/0")
    gw = gateway(config)  # limits.fail_open defaults to true
    r = call("GET", gw.base_url + "/health/ready")
    assert r.status == 200
    assert (r.json()["status"], r.json()["redis"]) == ("degraded", {"status": "unavailable"})
    assert [post(gw).status for _ in range(3)] == [200, 200, 200]
    assert "x-ratelimit-limit-requests" not in post(gw).headers

    closed = gateway({**config, "limits": {"fail_open": False}})
    r = post(closed)
    assert (r.status, r.json()["error"]["code"], r.headers["retry-after"]) == (503, "store_unavailable", "1")
