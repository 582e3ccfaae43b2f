"""The single-host stack (docker-compose.yml, deploy/compose/, deploy/prometheus/,
docs/deployment.md#docker-compose).

Containers cannot run here, so the compose file is validated against the Compose Specification's
JSON schema (vendored in tests/fixtures/compose_spec/), every host path it mounts must be in the
repo, its services are checked against each other's configs (load balancer, Prometheus, the
collector, the gateways' config), and the gateways' config itself is run as two replicas on a real
PostgreSQL and Redis, exporting spans to a loopback OTLP receiver."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema_rs
import openai
import pytest
import yaml
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sluice.settings import load_settings
from tests.conftest import DEMO_KEY, sim_config
from tests.deploy.serving import serve
from tests.fixtures.aioserver import local_server
from tests.fixtures.http import call
from tests.fixtures.procs import REPO, SLUICE, free_port, stop_process
from tests.fixtures.wait import eventually

COMPOSE_PATH = REPO / "docker-compose.yml"
SCHEMA = REPO / "tests/fixtures/compose_spec/compose-spec.json"
SCHEMA_BLOB = "5db97d0fbbb8e7fbedea0bb5fdb3fe0e93b0e4b1"  # git blob id, as its README.md says
GATEWAY_CONFIG = REPO / "deploy/compose/sluice.yaml"
ENV_EXAMPLE = REPO / "deploy/compose/env.example"
GATEWAYS = ["gateway-1", "gateway-2"]
SECRETS = {
    "POSTGRES_DSN": "postgresql://sluice:pw@postgres:5432/sluice",
    "REDIS_URL": "redis://:pw@redis:6379/0",
    "SLUICE_API_KEY": "sk-compose-test",
    "SLUICE_ADMIN_KEY": "sk-admin-compose-test",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_PATH.read_text())


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def seconds(duration: str) -> float:
    m = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert m is not None, duration
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def test_the_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    blob = subprocess.run(["git", "hash-object", str(SCHEMA)], capture_output=True, text=True, check=True)
    assert blob.stdout.strip() == SCHEMA_BLOB, "the vendored schema changed: update its README.md"
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    assert [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(compose)] == []
    # The validator is live: a misspelt key and a wrong depends_on condition are both findings.
    broken = yaml.safe_load(COMPOSE_PATH.read_text())
    broken["services"]["lb"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["lb"]["depends_on"]["gateway-1"]["condition"] = "healthy"
    paths = sorted(list(e.instance_path) for e in validator.iter_errors(broken))
    assert ["services", "lb", "healthcheck"] in paths
    assert ["services", "lb", "depends_on"] in paths


def test_every_mounted_host_path_is_in_the_repo(compose: dict[str, Any]) -> None:
    mounts: dict[str, dict[str, str]] = {}
    for name, svc in services(compose).items():
        if "build" in svc:
            assert (REPO / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()
        for volume in svc.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                mounts.setdefault(name, {})[target] = source
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repo"
    # The paths agreed with the dashboards and alerts (they add files there, not paths).
    assert mounts["grafana"] == {
        "/etc/grafana/provisioning": "./deploy/grafana/provisioning",
        "/var/lib/grafana/dashboards": "./deploy/grafana/dashboards",
    }
    assert mounts["prometheus"] == {
        "/etc/prometheus/prometheus.yml": "./deploy/prometheus/prometheus.yml",
        "/etc/prometheus/alerts.yml": "./deploy/prometheus/alerts.yml",
    }
    assert all(mounts[g] == {"/etc/sluice/config.yaml": "./deploy/compose/sluice.yaml"} for g in GATEWAYS)
    assert mounts["lb"] == {"/usr/local/etc/haproxy/haproxy.cfg": "./deploy/compose/haproxy.cfg"}
    assert mounts["otel-collector"] == {"/etc/otelcol/config.yaml": "./deploy/compose/otel-collector.yaml"}


def test_services_start_in_order_and_are_health_checked(compose: dict[str, Any]) -> None:
    svcs = services(compose)
    assert set(svcs) == {*GATEWAYS, "lb", "postgres", "redis", "prometheus", "grafana", "otel-collector"}
    # The gateways' healthcheck is the image's HEALTHCHECK; every other service but the collector
    # (no shell in its image) has its own.
    checked = {name for name, svc in svcs.items() if "healthcheck" in svc} | set(GATEWAYS)
    assert checked == set(svcs) - {"otel-collector"}
    for name, svc in svcs.items():
        for dep, how in svc.get("depends_on", {}).items():
            want = "service_started" if dep == "otel-collector" else "service_healthy"
            assert how == {"condition": want}, (name, dep)
            assert want == "service_started" or dep in checked
    for g in GATEWAYS:
        assert set(svcs[g]["depends_on"]) == {"postgres", "redis", "otel-collector"}
    assert set(svcs["lb"]["depends_on"]) == set(GATEWAYS)
    assert set(svcs["grafana"]["depends_on"]) == {"prometheus"}
    # Named volumes: every one used is declared, every one declared is used.
    used = {
        v.split(":")[0]
        for svc in svcs.values()
        for v in svc.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert used == set(compose["volumes"]) and len(used) == 4


def test_the_gateway_replicas_run_the_image_read_only_and_drain(compose: dict[str, Any]) -> None:
    settings = load_settings(GATEWAY_CONFIG, env=SECRETS)
    for g in GATEWAYS:
        svc = services(compose)[g]
        assert svc["build"] == {
            "context": ".",
            "dockerfile": "Dockerfile",
            "args": {"SEMANTIC": "${SEMANTIC:-0}"},
        }
        assert svc["read_only"] is True and svc["tmpfs"] == ["/tmp"]
        assert seconds(svc["stop_grace_period"]) > settings.server.graceful_shutdown_s
        # The config's ${VAR}s are each set in the container.
        needed = set(re.findall(r"\$\{(\w+)\}", GATEWAY_CONFIG.read_text()))
        assert needed <= set(svc["environment"])
        assert svc["expose"] == [str(settings.server.port), str(settings.metrics.port)]
    assert settings.state.backend == "distributed" and settings.server.host == "0.0.0.0"


def test_the_load_balancer_prometheus_and_collector_point_at_the_gateways(compose: dict[str, Any]) -> None:
    settings = load_settings(GATEWAY_CONFIG, env=SECRETS)
    cfg = (REPO / "deploy/compose/haproxy.cfg").read_text()
    backend = cfg.split("backend gateways", 1)[1].split("\nfrontend", 1)[0]
    servers = re.findall(r"^\s*server (\S+) (\S+):(\d+) check", backend, re.M)
    assert servers == [(g, g, str(settings.server.port)) for g in GATEWAYS]
    assert "http-check send meth GET uri /health/ready" in backend
    assert "http-check expect status 200" in backend
    timeouts = dict(re.findall(r"^\s*timeout (client|server) (\d+m)$", cfg, re.M))
    assert all(seconds(t) >= 600 for t in timeouts.values()) and len(timeouts) == 2
    assert re.search(r"^\s*retry-on conn-failure$", cfg, re.M)  # never a request that reached a gateway
    assert "option http-buffer-request" not in cfg and "compression" not in cfg  # SSE flows as it comes
    assert services(compose)["lb"]["ports"][0] == "${SLUICE_PORT:-4000}:4000"

    prometheus = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())
    targets = [
        t for job in prometheus["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    ]
    assert targets == [f"{g}:{settings.metrics.port}" for g in GATEWAYS]
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yml"]

    assert (
        settings.tracing.enabled and settings.tracing.otlp_endpoint == "http://otel-collector:4318/v1/traces"
    )
    collector = yaml.safe_load((REPO / "deploy/compose/otel-collector.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert collector["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    assert services(compose)["otel-collector"]["expose"] == ["4318"]


def test_the_deployment_page_names_every_service_and_image(compose: dict[str, Any]) -> None:
    page = (REPO / "docs/deployment.md").read_text().split("## Docker Compose", 1)[1].split("\n## ", 1)[0]
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in page.splitlines()
        if line.startswith("| `")
    }
    named = {name.strip(" `") for cell in rows for name in cell.split(",")}
    assert named == set(services(compose))
    images = {svc["image"] for name, svc in services(compose).items() if name not in GATEWAYS}
    assert images == {cell.strip("`") for cell in rows.values() if not cell.startswith("built")}


def test_secrets_come_from_an_env_file_with_placeholders_only(compose: dict[str, Any]) -> None:
    text = COMPOSE_PATH.read_text()
    used = set(re.findall(r"\$\{(\w+)", text))
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert used == set(example)
    assert required == {
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "SLUICE_API_KEY",
        "SLUICE_ADMIN_KEY",
        "GRAFANA_ADMIN_PASSWORD",
    }
    assert all("change-me" in example[name] for name in required)
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    # No secret is written into the compose file itself: each is a required variable.
    for name, svc in services(compose).items():
        for key, value in svc.get("environment", {}).items():
            if re.search(r"PASSWORD|KEY|AUTH", key) and value:
                assert value.startswith("${") and value.endswith("}"), (name, key)


def test_the_gateway_config_passes_config_check() -> None:
    check = [*SLUICE, "config", "check", str(GATEWAY_CONFIG)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    r = subprocess.run(check, env={**env, **SECRETS}, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    missing = {k: v for k, v in SECRETS.items() if k != "POSTGRES_DSN"}
    r = subprocess.run(check, env={**env, **missing}, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert (
        r.returncode != 0
        and "state.postgres_dsn: environment variable POSTGRES_DSN is not set" in r.stdout + r.stderr
    )


async def test_two_replicas_of_the_compose_config_share_state_metrics_and_traces(
    postgres_clean: str, redis_clean: str, tmp_path: Path
) -> None:
    """deploy/compose/sluice.yaml as is, moved to loopback by the environment only (as the
    container's environment could): a key made on one replica answers on the other, each replica
    serves /metrics on its metrics port only, and spans reach the collector endpoint."""
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: web.Request) -> web.Response:
        received.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(content_type="application/x-protobuf")

    async with local_server("/v1/traces", collect) as collector:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
        base_env |= {**SECRETS, "POSTGRES_DSN": postgres_clean, "REDIS_URL": redis_clean}
        base_env |= {"SLUICE_TRACING__OTLP_ENDPOINT": f"{collector}/v1/traces"}
        base_env |= {"SLUICE_SERVER__HOST": "127.0.0.1", "SLUICE_METRICS__HOST": "127.0.0.1"}
        procs, metrics_ports = [], []
        try:
            for g in GATEWAYS:
                port, mport = free_port(), free_port()
                env = {**base_env, "SLUICE_SERVER__PORT": str(port), "SLUICE_METRICS__PORT": str(mport)}
                command = [*SLUICE, "serve", "--config", str(GATEWAY_CONFIG)]
                procs.append(await asyncio.to_thread(serve, command, env, REPO, tmp_path / f"{g}.log", port))
                metrics_ports.append(mport)
            one, two = procs
            admin = {"authorization": f"Bearer {SECRETS['SLUICE_ADMIN_KEY']}"}
            r = await asyncio.to_thread(
                call, "POST", one.base_url + "/admin/tenants", {"id": "acme", "name": "Acme"}, admin
            )
            assert r.status == 201, r.body
            r = await asyncio.to_thread(
                call, "POST", one.base_url + "/admin/tenants/acme/keys", {"name": "backend"}, admin
            )
            assert r.status == 201, r.body
            tenant_key = r.json()["key"]

            def chat(base_url: str, key: str) -> str | None:
                client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, timeout=30)
                reply = client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
                )
                return reply.choices[0].message.content

            assert await asyncio.to_thread(chat, two.base_url, tenant_key) == "Simulated reply to: Hello"
            assert (
                await asyncio.to_thread(chat, one.base_url, SECRETS["SLUICE_API_KEY"])
                == "Simulated reply to: Hello"
            )
            for proc, mport in zip(procs, metrics_ports, strict=True):
                r = await asyncio.to_thread(call, "GET", f"http://127.0.0.1:{mport}/metrics")
                assert r.status == 200 and b"sluice_requests_total{" in r.body
                r = await asyncio.to_thread(call, "GET", proc.base_url + "/metrics")
                assert r.status == 404
        finally:
            codes = [await asyncio.to_thread(p.stop, 45) for p in procs]
        assert codes == [-signal.SIGTERM, -signal.SIGTERM], [p.log() for p in procs]

    resource_spans = [rs for req in received for rs in req.resource_spans]
    names = {
        a.value.string_value
        for rs in resource_spans
        for a in rs.resource.attributes
        if a.key == "service.name"
    }
    spans = {s.name for rs in resource_spans for ss in rs.scope_spans for s in ss.spans}
    assert names == {"sluice"} and "chat gpt-4o-mini" in spans


def _lb_config(gateway_ports: list[int], api: int, health: int, stats: int) -> str:
    """deploy/compose/haproxy.cfg with only its addresses moved to loopback: the listeners on free
    ports, each gateway service at 127.0.0.1 and its test port."""
    cfg = (REPO / "deploy/compose/haproxy.cfg").read_text()
    for before, after in ((":4000", api), (":8405", health), (":8404", stats)):
        cfg, n = re.subn(rf"^(\s*bind ){before}$", rf"\g<1>127.0.0.1:{after}", cfg, flags=re.M)
        assert n == 1, before
    for g, port in zip(GATEWAYS, gateway_ports, strict=True):
        cfg, n = re.subn(rf"^(\s*server {g}) {g}:4000 ", rf"\1 127.0.0.1:{port} ", cfg, flags=re.M)
        assert n == 1, g
    return cfg


def requests_served(base_url: str) -> int:
    metrics = call("GET", base_url + "/metrics").body.decode()
    return int(sum(float(v) for v in re.findall(r"^sluice_requests_total\{[^}]*\} (\S+)$", metrics, re.M)))


def test_the_load_balancer_config_balances_streams_and_survives_a_drain(gateway, tmp_path: Path) -> None:
    """HAProxy (Debian's) runs deploy/compose/haproxy.cfg in front of two gateways: requests reach
    both, a stream comes through chunk by chunk (not buffered to its end), and once a replica is
    stopped every request still succeeds (a refused connection is retried on the other) while the
    health check takes it out of rotation; with none left the container's healthcheck fails."""
    gws = [gateway(sim_config(chunk_delay_ms=100)) for _ in GATEWAYS]
    api, health, stats = free_port(), free_port(), free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(_lb_config([int(g.base_url.rsplit(":", 1)[1]) for g in gws], api, health, stats))
    check = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    log = open(tmp_path / "haproxy.log", "wb")
    lb = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    try:

        def healthz() -> int:
            try:
                return call("GET", f"http://127.0.0.1:{health}/healthz", timeout_s=5).status
            except OSError:
                return 0  # not listening yet

        eventually(lambda: healthz() == 200, 20, "HAProxy's monitor-uri answering 200")
        # The lb service's own healthcheck command, as compose runs it in the container.
        test = yaml.safe_load(COMPOSE_PATH.read_text())["services"]["lb"]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "bash", "-c"] and "/dev/tcp/127.0.0.1/8405" in test[3]
        container_check = ["bash", "-c", test[3].replace("/8405", f"/{health}")]
        assert subprocess.run(container_check, timeout=10).returncode == 0
        client = openai.OpenAI(
            base_url=f"http://127.0.0.1:{api}/v1", api_key=DEMO_KEY, max_retries=0, timeout=30
        )

        def ask() -> str | None:
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
            )
            return reply.choices[0].message.content

        assert [ask() for _ in range(6)] == ["Simulated reply to: Hello"] * 6
        served = [requests_served(g.base_url) for g in gws]
        assert all(n >= 1 for n in served) and sum(served) == 6, served

        # Twenty words at 100 ms each: unbuffered, the first arrives long before the last.
        words = " ".join(f"w{i}" for i in range(20))
        arrivals = []
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": words}], stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.monotonic())
        assert len(arrivals) >= 20 and arrivals[-1] - arrivals[0] > 1.0

        assert gws[0].stop() == -signal.SIGTERM
        assert [ask() for _ in range(6)] == ["Simulated reply to: Hello"] * 6
        assert healthz() == 200  # one gateway is enough
        assert gws[1].stop() == -signal.SIGTERM
        eventually(lambda: healthz() == 503, 20, "HAProxy's monitor-uri failing with no gateway left")
        assert subprocess.run(container_check, timeout=10).returncode != 0
    finally:
        stop_process(lb, signal.SIGTERM, 10)
        log.close()
