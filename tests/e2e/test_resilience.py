"""Retries, Retry-After, fallbacks, circuit breaking, timeouts and client disconnects, end to
end: a gateway on loopback in front of the standalone sim server, whose failure injection each
deployment picks through its `x-sim-*` headers."""

from __future__ import annotations

import socket
import time

import openai
import pytest

from tests.conftest import DEMO_KEY
from tests.fixtures.http import call
from tests.fixtures.procs import Proc
from tests.fixtures.wait import eventually

MSG = [{"role": "user", "content": "hi"}]


def deployment(sim: Proc, name: str, **behaviour: object) -> dict:
    headers = {f"x-sim-{k.replace('_', '-')}": str(v) for k, v in behaviour.items()}
    return {"provider": "simhttp", "model": name, "headers": headers}


def config(sim: Proc, models: dict, routing: dict | None = None) -> dict:
    return {
        "auth": {"keys": [{"key": DEMO_KEY, "name": "demo"}]},
        "providers": {
            "simhttp": {"type": "openai", "base_url": f"{sim.base_url}/v1", "api_key": "sk-upstream"}
        },
        "models": models,
        "routing": routing or {"retries": {"backoff_base_s": 0.01, "backoff_max_s": 0.05}},
        "logging": {"level": "warning"},
    }


def stats(sim: Proc) -> dict:
    return call("GET", sim.base_url + "/sim/stats").json()


def client(gw: Proc) -> openai.OpenAI:
    """Used as a context manager, so its connections are closed with the test."""
    return openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=15)


@pytest.fixture(autouse=True)
def _reset(sim_server: Proc) -> None:
    call("POST", sim_server.base_url + "/sim/reset")


def test_retryable_failures_are_retried(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            {"m": {"deployments": [deployment(sim_server, "flaky", fail_first=2, error_status=503)]}},
        )
    )
    with client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(model="m", messages=MSG)
    assert raw.parse().choices[0].message.content == "Simulated reply to: hi"
    assert raw.headers["x-sluice-attempts"] == "3"
    assert stats(sim_server)["failures_injected"] == 2


def test_retry_after_is_honoured(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            {
                "m": {
                    "deployments": [
                        deployment(sim_server, "limited", fail_first=1, error_status=429, retry_after_s=1)
                    ]
                }
            },
        )
    )
    started = time.monotonic()
    with client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(model="m", messages=MSG)
    assert raw.headers["x-sluice-attempts"] == "2"
    assert time.monotonic() - started >= 1.0  # waited what the upstream asked, not a jittered backoff


def test_exhausted_retries_are_502(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            {"m": {"deployments": [deployment(sim_server, "down", error_rate=1, error_status=500)]}},
        )
    )
    r = call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        {"model": "m", "messages": MSG},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert r.status == 502
    err = r.json()["error"]
    assert err["type"] == "upstream_error" and err["code"] == "500" and "after 3 attempts" in err["message"]
    assert r.headers["x-request-id"]
    assert stats(sim_server)["requests"] == 3


def test_upstream_rate_limit_everywhere_is_429_with_retry_after(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            {
                "m": {
                    "deployments": [
                        deployment(sim_server, "busy", error_rate=1, error_status=429, retry_after_s=60)
                    ]
                }
            },
        )
    )
    r = call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        {"model": "m", "messages": MSG},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert r.status == 429 and r.headers["retry-after"] == "60"
    assert r.json()["error"]["code"] == "upstream_rate_limited"
    assert stats(sim_server)["requests"] == 1  # a 60 s Retry-After is not waited out


def test_upstream_rejection_is_400_and_not_retried(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            {"m": {"deployments": [deployment(sim_server, "strict", error_rate=1, error_status=400)]}},
        )
    )
    with client(gw) as c, pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="m", messages=MSG)
    assert e.value.code == "upstream_rejected"
    assert stats(sim_server)["requests"] == 1


def test_fallback_chain(sim_server: Proc, gateway) -> None:
    models = {
        "claude-sonnet": {
            "deployments": [deployment(sim_server, "sonnet", error_rate=1, error_status=503)],
            "fallbacks": ["gpt-4o"],
        },
        "gpt-4o": {
            "deployments": [deployment(sim_server, "4o", error_rate=1, error_status=500)],
            "fallbacks": ["gpt-4o-mini"],
        },
        "gpt-4o-mini": {"deployments": [deployment(sim_server, "mini")]},
    }
    gw = gateway(config(sim_server, models, {"retries": {"max_attempts": 1}}))
    with client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(model="claude-sonnet", messages=MSG)
    assert raw.headers["x-sluice-model"] == "simhttp/mini"
    assert raw.headers["x-sluice-attempts"] == "3"
    assert raw.parse().model == "mini"


def test_circuit_opens_then_503_and_ready_reports_it(sim_server: Proc, gateway) -> None:
    models = {"m": {"deployments": [deployment(sim_server, "down", error_rate=1, error_status=500)]}}
    gw = gateway(
        config(
            sim_server,
            models,
            {"retries": {"max_attempts": 1}, "breaker": {"failure_threshold": 2, "open_s": 60}},
        )
    )
    body, auth = {"model": "m", "messages": MSG}, {"authorization": f"Bearer {DEMO_KEY}"}
    assert [call("POST", gw.base_url + "/v1/chat/completions", body, auth).status for _ in range(2)] == [
        502,
        502,
    ]
    r = call("POST", gw.base_url + "/v1/chat/completions", body, auth)
    assert r.status == 503 and r.json()["error"]["code"] == "circuit_open"
    assert stats(sim_server)["requests"] == 2  # the open circuit kept the third call home
    ready = call("GET", gw.base_url + "/health/ready")
    assert ready.status == 503 and ready.json()["deployments"] == [
        {"name": "simhttp/down", "circuit": "open"}
    ]


def test_hanging_upstream_is_504(sim_server: Proc, gateway) -> None:
    models = {
        "m": {
            "deployments": [deployment(sim_server, "stuck", hang_rate=1)],
            "timeouts": {"total_s": 0.3, "first_byte_s": 0.3},
        }
    }
    gw = gateway(config(sim_server, models, {"retries": {"max_attempts": 2, "backoff_base_s": 0.01}}))
    started = time.monotonic()
    r = call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        {"model": "m", "messages": MSG},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert r.status == 504
    assert r.json()["error"] == {
        "message": "simhttp/stuck did not answer in time (after 2 attempts)",
        "type": "timeout",
        "param": None,
        "code": "upstream_timeout",
    }
    assert time.monotonic() - started < 5
    s = call(
        "POST",
        gw.base_url + "/v1/chat/completions",
        {"model": "m", "messages": MSG, "stream": True},
        {"authorization": f"Bearer {DEMO_KEY}"},
    )
    assert s.status == 504


def test_stream_stall_ends_with_an_error_event(sim_server: Proc, gateway) -> None:
    models = {
        "m": {
            "deployments": [deployment(sim_server, "slow", chunk_delay_ms=2000)],
            "timeouts": {"stream_idle_s": 0.3},
        }
    }
    gw = gateway(config(sim_server, models))
    with client(gw) as c, pytest.raises(openai.APIError) as e:
        for _ in c.chat.completions.create(model="m", messages=MSG, stream=True):
            pass
    assert "stalled" in e.value.message


def test_client_disconnect_cancels_the_upstream_stream(sim_server: Proc, gateway) -> None:
    models = {"m": {"deployments": [deployment(sim_server, "slow", chunk_delay_ms=200)]}}
    gw = gateway(config(sim_server, models))
    host, port = "127.0.0.1", int(gw.base_url.rsplit(":", 1)[1])
    body = b'{"model":"m","messages":[{"role":"user","content":"one two three four five six"}],"stream":true}'
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"authorization: Bearer {DEMO_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert b"200 OK" in s.recv(4096)  # headers and the first chunk
    eventually(lambda: stats(sim_server)["streams_cancelled"] >= 1, 5, "the upstream stream cancelled")
    st = stats(sim_server)
    assert st["streams_cancelled"] == 1 and st["streams_completed"] == 0
