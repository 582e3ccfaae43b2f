"""Who may read ``GET /metrics``: a bearer token from the environment (401 without it or with a
wrong one), a listener of its own (the main port then answers 404), and a startup warning when
tenant ids are labelled on an open endpoint; all on real gateways."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DEMO_KEY, sim_config
from tests.fixtures.http import Reply, call
from tests.fixtures.procs import free_port

TOKEN = "metrics-token-7f3a9c"
WARNING = "metrics.tenant_label is on and GET /metrics is open"


def config(**metrics: Any) -> dict[str, Any]:
    return {**sim_config(), "metrics": metrics, "logging": {"level": "info"}}


def chat(base_url: str) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    assert (
        call("POST", base_url + "/v1/chat/completions", body, {"authorization": f"Bearer {DEMO_KEY}"}).status
        == 200
    )


def assert_prometheus(r: Reply) -> None:
    assert r.status == 200, r.body
    assert r.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(r.body.decode())}
    assert "sluice_requests" in names, names


def assert_401(r: Reply) -> None:
    assert r.status == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert r.json()["error"]["code"] == "invalid_api_key"
    assert b"sluice_requests" not in r.body


def test_a_metrics_token_from_the_environment_is_required(gateway) -> None:
    gw = gateway(
        config(token="${SLUICE_TEST_METRICS_TOKEN}", tenant_label=True),
        env={"SLUICE_TEST_METRICS_TOKEN": TOKEN},
    )
    chat(gw.base_url)
    assert_401(call("GET", gw.base_url + "/metrics"))
    assert_401(call("GET", gw.base_url + "/metrics", None, {"authorization": "Bearer wrong-token"}))
    assert_401(call("GET", gw.base_url + "/metrics", None, {"authorization": f"Bearer {TOKEN}x"}))
    assert_401(call("GET", gw.base_url + "/metrics", None, {"authorization": f"Bearer {DEMO_KEY}"}))
    assert_prometheus(call("GET", gw.base_url + "/metrics", None, {"authorization": f"Bearer {TOKEN}"}))
    assert WARNING not in gw.log()


def test_metrics_on_a_port_of_their_own(gateway) -> None:
    port = free_port()
    gw = gateway(config(host="127.0.0.1", port=port, tenant_label=True))
    chat(gw.base_url)
    r = call("GET", gw.base_url + "/metrics")
    assert r.status == 404 and r.json()["error"]["code"] == "unknown_url"
    assert_prometheus(call("GET", f"http://127.0.0.1:{port}/metrics"))
    other = call("GET", f"http://127.0.0.1:{port}/v1/models", None, {"authorization": f"Bearer {DEMO_KEY}"})
    assert other.status == 404 and other.json()["error"]["code"] == "unknown_url"
    assert WARNING not in gw.log()
    gw.stop()
    log = gw.log()  # the listener stopped with the app, cleanly
    assert "Application shutdown complete" in log and "Traceback" not in log, log


def test_a_separate_port_and_a_token_together(gateway) -> None:
    port = free_port()
    gw = gateway(config(port=port, token=TOKEN))
    assert call("GET", gw.base_url + "/metrics", None, {"authorization": f"Bearer {TOKEN}"}).status == 404
    assert_401(call("GET", f"http://127.0.0.1:{port}/metrics"))
    assert_prometheus(
        call("GET", f"http://127.0.0.1:{port}/metrics", None, {"authorization": f"Bearer {TOKEN}"})
    )


def test_tenant_ids_on_an_open_endpoint_warn_at_startup(gateway) -> None:
    gw = gateway(config(tenant_label=True))
    assert WARNING in gw.log()
    assert_prometheus(call("GET", gw.base_url + "/metrics"))  # still open: the operator's choice


def test_without_tenant_labels_metrics_stay_open_and_quiet(gateway) -> None:
    gw = gateway(config())
    assert_prometheus(call("GET", gw.base_url + "/metrics"))
    assert WARNING not in gw.log()
