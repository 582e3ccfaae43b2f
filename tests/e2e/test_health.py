"""``/health/ready`` lists each dependency with its status and latency; the status code tells a
load balancer whether to send traffic (503 only when no deployment can answer)."""

from __future__ import annotations

from tests.conftest import sim_config
from tests.fixtures.http import call
from tests.fixtures.procs import free_port


def test_embedded_lists_the_database_and_every_circuit(gateway) -> None:
    gw = gateway(sim_config())
    r = call("GET", gw.base_url + "/health/ready")
    body = r.json()
    assert r.status == 200 and body["status"] == "ok"
    assert body["database"]["status"] == "ok" and body["database"]["latency_ms"] >= 0
    assert body["deployments"] == [
        {"name": "sim/sim-mini", "circuit": "closed"},
        {"name": "sim/sim-embed", "circuit": "closed"},
    ]
    assert "redis" not in body and "embedding" not in body  # not used: not listed


def test_a_database_down_is_degraded_not_out_of_rotation(gateway, redis_clean: str) -> None:
    config = sim_config()
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/sluice"  # nothing listens there
    config["state"] = {"backend": "distributed", "postgres_dsn": closed, "redis_url": redis_clean}
    gw = gateway(config)
    r = call("GET", gw.base_url + "/health/ready")
    body = r.json()
    assert r.status == 200 and body["status"] == "degraded"
    assert body["database"]["status"] == "unavailable" and body["database"]["detail"]
    assert body["redis"]["status"] == "ok" and body["redis"]["latency_ms"] > 0
