"""``GET /metrics`` after a known mix of requests, parsed with Prometheus's own text parser: the
counters match what the clients sent and saw, with one worker and with two."""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DEMO_KEY
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import Proc

LIMITED_KEY = "sk-limited"


def config(sim: Proc, **extra: Any) -> dict[str, Any]:
    def deployment(name: str, **behaviour: object) -> dict[str, Any]:
        headers = {f"x-sim-{k.replace('_', '-')}": str(v) for k, v in behaviour.items()}
        return {"provider": "simhttp", "model": name, "headers": headers}

    return {
        "auth": {
            "keys": [
                {"key": DEMO_KEY, "name": "demo"},
                {"key": LIMITED_KEY, "name": "limited", "limits": {"rpm": 1}},
            ]
        },
        "providers": {
            "simhttp": {"type": "openai", "base_url": f"{sim.base_url}/v1", "api_key": "sk-upstream"}
        },
        "models": {
            "m": {"deployments": [deployment("sim-m")]},
            "flaky": {"deployments": [deployment("sim-flaky", fail_first=1, error_status=503)]},
            "down": {
                "deployments": [deployment("sim-down", error_rate=1, error_status=503)],
                "fallbacks": ["m"],
            },
            "e": {"kind": "embedding", "deployments": [deployment("sim-embed")]},
        },
        "pricing": {"sim-m": {"input_usd_per_mtok": 3, "output_usd_per_mtok": 15}},
        "cache": {"enabled": True},
        "routing": {"retries": {"backoff_base_s": 0.01, "backoff_max_s": 0.02}},
        "logging": {"level": "warning"},
        **extra,
    }


def scrape(gw: Proc) -> dict[str, list[tuple[dict[str, str], float]]]:
    reply = call("GET", gw.base_url + "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(reply.body.decode()):
        for s in family.samples:
            out[s.name].append((s.labels, s.value))
    return out


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for ls, v in samples.get(name, []) if all(ls.get(k) == want for k, want in labels.items()))


def chat(gw: Proc, model: str = "m", key: str = DEMO_KEY, **body: Any) -> Reply:
    payload = {"model": model, "messages": [{"role": "user", "content": "hello there"}], **body}
    return call("POST", gw.base_url + "/v1/chat/completions", payload, {"authorization": f"Bearer {key}"})


@pytest.fixture(autouse=True)
def _reset(sim_server: Proc) -> None:
    call("POST", sim_server.base_url + "/sim/reset")


def send_mix(gw: Proc, *, one_process: bool = True) -> dict[str, Any]:
    """The known mix; returns what the clients saw. Rate limits and the exact cache are per
    process on the embedded backend, so with several workers their part is left out."""
    seen: dict[str, Any] = {
        "status": defaultdict(int),
        "input": 0,
        "output": 0,
        "cost": Decimal(0),
        "overhead": 0,
    }

    def note(r: Reply) -> Reply:
        seen["status"][r.status] += 1
        if "x-sluice-overhead-ms" in r.headers:
            seen["overhead"] += 1
        if r.status == 200 and r.headers.get("x-sluice-cache") != "hit":
            usage = r.json()["usage"]
            seen["input"] += usage["prompt_tokens"]
            seen["output"] += usage.get("completion_tokens", 0)
            seen["cost"] += Decimal(r.headers.get("x-sluice-cost-usd", "0"))
        return r

    note(chat(gw, "flaky"))  # the sim's first call fails (fail_first counts every call): one retry
    for i in range(3):
        note(chat(gw, messages=[{"role": "user", "content": f"question number {i}"}]))
    if one_process:
        note(chat(gw, temperature=0))  # a miss, kept
        hit = note(chat(gw, temperature=0))
        assert hit.headers["x-sluice-cache"] == "hit"
    note(chat(gw, "down"))  # two failed attempts, then the fallback answers
    note(chat(gw, key="sk-wrong"))  # 401
    note(
        call(
            "POST",
            gw.base_url + "/v1/chat/completions",
            b"{not json",
            {"authorization": f"Bearer {DEMO_KEY}"},
        )
    )  # 400
    if one_process:
        note(chat(gw, key=LIMITED_KEY))
        limited = note(chat(gw, key=LIMITED_KEY))
        assert limited.status == 429
    emb = note(
        call(
            "POST",
            gw.base_url + "/v1/embeddings",
            {"model": "e", "input": "x"},
            {"authorization": f"Bearer {DEMO_KEY}"},
        )
    )
    assert emb.status == 200
    with openai.OpenAI(base_url=f"{gw.base_url}/v1", api_key=DEMO_KEY, max_retries=0, timeout=15) as client:
        for _ in range(2):
            stream = client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "stream it"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in stream:
                if chunk.usage is not None:
                    seen["input"] += chunk.usage.prompt_tokens
                    seen["output"] += chunk.usage.completion_tokens
                    micros = math.ceil(chunk.usage.prompt_tokens * 3 + chunk.usage.completion_tokens * 15)
                    seen["cost"] += Decimal(micros) / 1_000_000
            seen["status"][200] += 1
    return seen


def check(
    samples: dict[str, list[tuple[dict[str, str], float]]], seen: dict[str, Any], *, one_process: bool = True
) -> None:
    answered = sum(seen["status"].values())
    assert total(samples, "sluice_requests_total") == answered == (14 if one_process else 10)
    for status, n in seen["status"].items():
        assert total(samples, "sluice_requests_total", status=str(status)) == n, status
    assert total(samples, "sluice_requests_total", status="401", error_type="invalid_api_key") == 1
    assert total(samples, "sluice_requests_total", status="400", error_type="invalid_request_error") == 1
    assert (
        total(
            samples, "sluice_requests_total", endpoint="embeddings", model="e", deployment="simhttp/sim-embed"
        )
        == 1
    )
    assert total(samples, "sluice_request_duration_seconds_count") == answered
    assert (
        total(samples, "sluice_overhead_seconds_count") == answered == seen["overhead"] + 2
    )  # + the SDK's streams
    assert total(samples, "sluice_time_to_first_token_seconds_count") == 2
    assert total(samples, "sluice_tokens_total", kind="input") == seen["input"]
    assert total(samples, "sluice_tokens_total", kind="output") == seen["output"]
    assert (
        Decimal(str(total(samples, "sluice_cost_usd_total"))).quantize(Decimal("0.000001"))
        == seen["cost"]
        > 0
    )
    # Every chat answered, but the hit: the cache counts outcomes of answered requests only.
    assert total(samples, "sluice_cache_requests_total", outcome="miss") == (9 if one_process else 7)
    if one_process:
        assert total(samples, "sluice_requests_total", status="429", error_type="rate_limit_exceeded") == 1
        assert total(samples, "sluice_rejections_total", reason="rate_limit") == 1
        assert total(samples, "sluice_cache_requests_total", outcome="hit") == 1
        assert total(samples, "sluice_cache_saved_tokens_total", outcome="hit") > 0
        assert total(samples, "sluice_cache_saved_usd_total", outcome="hit") > 0
    assert total(samples, "sluice_retries_total", model="flaky") == 1
    assert (
        total(samples, "sluice_retries_total", model="down") == 3
    )  # three attempts (the default), then the fallback
    assert total(samples, "sluice_fallbacks_total", model="down") == 1
    assert total(samples, "sluice_upstream_attempts_total", deployment="simhttp/sim-down", result="503") == 3
    assert total(samples, "sluice_upstream_attempts_total", deployment="simhttp/sim-flaky", result="503") == 1
    assert total(samples, "sluice_upstream_attempts_total", deployment="simhttp/sim-flaky", result="ok") == 1
    assert (
        total(
            samples, "sluice_upstream_duration_seconds_count", deployment="simhttp/sim-down", outcome="error"
        )
        == 3
    )
    assert total(samples, "sluice_circuit_state", deployment="simhttp/sim-m") == 0
    assert total(samples, "sluice_in_flight_requests") == 0


def test_counters_match_a_known_mix(sim_server: Proc, gateway) -> None:
    gw = gateway(config(sim_server))
    seen = send_mix(gw)
    check(scrape(gw), seen)


def test_two_workers_report_one_sum(sim_server: Proc, gateway) -> None:
    """Whichever worker answers the scrape, it reports both workers' requests."""
    gw = gateway(config(sim_server, server={"workers": 2}))
    seen = send_mix(gw, one_process=False)
    for _ in range(4):
        check(scrape(gw), seen, one_process=False)


def test_an_open_circuit_shows(sim_server: Proc, gateway) -> None:
    gw = gateway(
        config(
            sim_server,
            routing={"breaker": {"failure_threshold": 2, "open_s": 60}, "retries": {"max_attempts": 1}},
        )
    )
    for _ in range(2):
        assert chat(gw, "down").status == 200  # the fallback answers
    samples = scrape(gw)
    assert total(samples, "sluice_circuit_state", deployment="simhttp/sim-down") == 2
