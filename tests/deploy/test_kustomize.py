"""The Kubernetes manifests (deploy/kustomize): both variants rendered by kubectl's kustomize, every
object validated against the Kubernetes JSON schemas, and the invariants an operator relies on
checked on what would be applied (docs/deployment.md)."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from sluice.obs.metrics import Metrics
from tests.fixtures.procs import REPO

KUSTOMIZE = REPO / "deploy/kustomize"
KUBECTL = shutil.which("kubectl")
# The oldest release with the preStop sleep action the gateway uses, and the newest schemas shipped.
K8S_VERSIONS = ("1.30.0", "1.37.0")
IMAGE_CONFIG = "/etc/sluice/config.yaml"
UID = 10001

pytestmark = pytest.mark.skipif(
    KUBECTL is None,
    reason="kubectl is not installed: these tests render deploy/kustomize with `kubectl kustomize`",
)

Obj = dict[str, Any]


def render(path: Path, *options: str) -> list[Obj]:
    assert KUBECTL is not None
    r = subprocess.run(
        [KUBECTL, "kustomize", *options, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


@dataclass
class Rendered:
    variant: str
    objects: list[Obj]

    def of(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> Obj:
        (found,) = [o for o in self.of(kind) if o["metadata"]["name"] == name]
        return found

    def pod_specs(self) -> Iterator[tuple[Obj, Obj]]:
        """(workload, pod spec) of every Deployment and Job."""
        for o in self.objects:
            if o["kind"] in ("Deployment", "Job"):
                yield o, o["spec"]["template"]["spec"]

    def config_text(self) -> str:
        (cm,) = [c for c in self.of("ConfigMap") if c["metadata"]["name"].startswith("sluice-config-")]
        return str(cm["data"]["config.yaml"])


@pytest.fixture(scope="module")
def renders() -> dict[str, Rendered]:
    return {v: Rendered(v, render(KUSTOMIZE / "overlays" / v)) for v in ("embedded", "distributed")}


@pytest.fixture(params=["embedded", "distributed"])
def rendered(request: pytest.FixtureRequest, renders: dict[str, Rendered]) -> Rendered:
    return renders[request.param]


# --- running what the containers run, with their environment --------------------------------------

SAMPLE_SECRETS = {
    "admin-key": "sk-admin-sample",
    "openai-api-key": "sk-openai-sample",
    "anthropic-api-key": "sk-ant-sample",
    "responses-encryption-key": Fernet.generate_key().decode(),
    "postgres-dsn": "postgresql://sluice:pw@postgres:5432/sluice",
    "redis-url": "redis://redis:6379/0",
}


def container_env(container: Obj) -> dict[str, str]:
    """The container's environment, with the Secret's keys given sample values (the manifests
    only name the Secret); a key the sample does not know fails the test."""
    env = {"PATH": os.environ["PATH"]}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "sluice-secrets"
            env[e["name"]] = SAMPLE_SECRETS[ref["key"]]
    return env


def loads_config(container: Obj) -> bool:
    return IMAGE_CONFIG in container.get("command", [])


def effective_settings(rendered: Rendered, container: Obj, tmp_path: Path) -> dict[str, Any]:
    """The settings the container's process would read (its file and SLUICE_* variables)."""
    cfg = tmp_path / f"{container['name']}.yaml"
    cfg.write_text(rendered.config_text())
    code = (
        "import json, sys; from sluice.settings import load_settings; s = load_settings(sys.argv[1]); "
        "print(json.dumps({'server': s.server.model_dump(), 'batches': s.batches.model_dump(), "
        "'metrics': {'port': s.metrics.port}, 'state': {'backend': s.state.backend, "
        "'sqlite_path': s.state.sqlite_path}}))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(cfg)],
        env=container_env(container),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def gateway(rendered: Rendered) -> Obj:
    return rendered.one("Deployment", "sluice")


def main_container(workload: Obj) -> Obj:
    (c,) = workload["spec"]["template"]["spec"]["containers"]
    return dict(c)


# --- the tests ------------------------------------------------------------------------------------


def test_the_variants_hold_the_objects_they_promise(rendered: Rendered) -> None:
    kinds = sorted({o["kind"] for o in rendered.objects})
    shared = ["ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"]
    if rendered.variant == "embedded":
        assert kinds == sorted([*shared, "PersistentVolumeClaim"])
    else:
        assert kinds == sorted([*shared, "HorizontalPodAutoscaler", "Job", "ServiceMonitor"])


def test_every_object_validates_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    for obj in rendered.objects:
        if obj["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # a CRD the schemas do not hold: test_service_monitor_scrapes_every_gateway
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)
    # The validator does refuse what Kubernetes would: a misspelt field and a wrong type.
    broken = copy.deepcopy(gateway(rendered))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)
    broken = copy.deepcopy(rendered.one("PodDisruptionBudget", "sluice"))
    broken["spec"]["selector"] = "app=sluice"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_the_config_map_passes_sluice_config_check(rendered: Rendered, tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(rendered.config_text())
    checked = 0
    for _, spec in rendered.pod_specs():
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            assert loads_config(c), c["name"]
            # The file the container reads is the ConfigMap's, mounted read-only where it looks.
            mount = next(m for m in c["volumeMounts"] if m["name"] == "config")
            assert mount == {"name": "config", "mountPath": "/etc/sluice", "readOnly": True}
            r = subprocess.run(
                [sys.executable, "-m", "sluice", "config", "check", str(cfg)],
                env=container_env(c),
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert r.returncode == 0, f"{c['name']}: {r.stderr}"
            assert f"{cfg}: ok" in r.stdout
            checked += 1
    assert checked == (2 if rendered.variant == "embedded" else 3)  # + migrate; + worker, migrate Job
    # Without the Secret's values the same file is refused: the check above did depend on them.
    r = subprocess.run(
        [sys.executable, "-m", "sluice", "config", "check", str(cfg)],
        env={"PATH": os.environ["PATH"]},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1 and "environment variable ADMIN_KEY is not set" in r.stderr


SECRET_FIELDS = {"key", "api_key", "postgres_dsn", "redis_url", "secret", "token", "secret_access_key"}


def _secret_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in SECRET_FIELDS and isinstance(v, str):
                yield v
            elif k == "encryption_keys":
                yield from v
            else:
                yield from _secret_values(v)
    elif isinstance(node, list):
        for v in node:
            yield from _secret_values(v)


def test_secrets_are_referenced_by_name_never_inlined(rendered: Rendered) -> None:
    assert rendered.of("Secret") == []
    assert not any(o.get("data") or o.get("stringData") for o in rendered.objects if o["kind"] != "ConfigMap")
    values = list(_secret_values(yaml.safe_load(rendered.config_text())))
    assert len(values) >= 4
    assert all(re.fullmatch(r"\$\{[A-Z_]+\}", v) for v in values), values
    for _, spec in rendered.pod_specs():
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            for e in c.get("env", []):
                assert "valueFrom" in e or e["name"] == "SLUICE_BATCHES__WORKERS", e
                if "valueFrom" in e:
                    assert e["valueFrom"]["secretKeyRef"]["name"] == "sluice-secrets"


def test_pods_run_locked_down_with_probes_and_resources(rendered: Rendered, tmp_path: Path) -> None:
    for workload, spec in rendered.pod_specs():
        assert spec["automountServiceAccountToken"] is False
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == UID and pod["runAsGroup"] == UID
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        tmp_volume = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp_volume
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
            for side in ("requests", "limits"):
                assert set(c["resources"][side]) == {"cpu", "memory"}, (workload["metadata"]["name"], side)
            assert c["image"] == main_container(gateway(rendered))["image"]
            assert re.fullmatch(r"[\w.\-/]+/sluice:\d+\.\d+\.\d+", c["image"]), c["image"]
    gw = main_container(gateway(rendered))
    settings = effective_settings(rendered, gw, tmp_path)
    ports = {p["name"]: p["containerPort"] for p in gw["ports"]}
    assert ports == {"http": settings["server"]["port"], "metrics": settings["metrics"]["port"]}
    assert settings["server"]["host"] == "0.0.0.0"
    assert gw["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert gw["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert gw["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    spread = gateway(rendered)["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {t["topologyKey"] for t in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    service = rendered.one("Service", "sluice")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 4000, "targetPort": "http", "protocol": "TCP"}
    ]
    assert (
        service["spec"]["selector"].items()
        <= gateway(rendered)["spec"]["template"]["metadata"]["labels"].items()
    )


def test_termination_grace_outlasts_the_prestop_pause_and_the_drains(
    rendered: Rendered, tmp_path: Path
) -> None:
    gw = gateway(rendered)
    c = main_container(gw)
    s = effective_settings(rendered, c, tmp_path)
    pause_s = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause_s >= 1
    drain_s = s["server"]["graceful_shutdown_s"] + (s["batches"]["drain_s"] if s["batches"]["workers"] else 0)
    grace_s = gw["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace_s > pause_s + drain_s, (grace_s, pause_s, drain_s)
    assert grace_s - (pause_s + drain_s) >= 5  # room for the request log's last flush
    for worker in [o for o in rendered.of("Deployment") if o["metadata"]["name"] == "sluice-worker"]:
        ws = effective_settings(rendered, main_container(worker), tmp_path)
        assert (
            worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > ws["batches"]["drain_s"] + 5
        )


def _pods_at_full_strength(rendered: Rendered, deployment: Obj) -> int:
    hpas = [
        h
        for h in rendered.of("HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    ]
    return int(hpas[0]["spec"]["minReplicas"]) if hpas else int(deployment["spec"].get("replicas", 1))


def test_replicas_autoscaling_and_disruption_budgets(rendered: Rendered) -> None:
    gw = gateway(rendered)
    if rendered.variant == "embedded":
        assert gw["spec"]["replicas"] == 1 and gw["spec"]["strategy"] == {"type": "Recreate"}
        assert rendered.of("HorizontalPodAutoscaler") == []
    else:
        assert "replicas" not in gw["spec"]  # the HPA owns the count; an apply must not reset it
        assert gw["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        (hpa,) = rendered.of("HorizontalPodAutoscaler")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "sluice",
        }
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
        assert hpa["spec"]["metrics"] == [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            }
        ]
    for pdb in rendered.of("PodDisruptionBudget"):
        (target,) = [
            d
            for d in rendered.of("Deployment")
            if pdb["spec"]["selector"]["matchLabels"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        n = _pods_at_full_strength(rendered, target)
        spec = pdb["spec"]
        allowed = spec["maxUnavailable"] if "maxUnavailable" in spec else n - spec["minAvailable"]
        assert isinstance(allowed, int)
        assert allowed >= 1, f"{pdb['metadata']['name']} would block every drain of {n} pod(s)"
        if n >= 2:
            assert n - allowed >= 1, f"{pdb['metadata']['name']} lets every pod go at once"


def test_migrations_run_before_the_new_version_serves(rendered: Rendered, tmp_path: Path) -> None:
    gw = gateway(rendered)
    migrate_cmd = ["sluice", "migrate", "--config", IMAGE_CONFIG]
    if rendered.variant == "embedded":
        assert rendered.of("Job") == []  # the Job could not mount the pod's ReadWriteOnce volume
        spec = gw["spec"]["template"]["spec"]
        (init,) = spec["initContainers"]
        assert init["command"] == migrate_cmd
        state = next(v for v in spec["volumes"] if v["name"] == "state")
        assert state == {"name": "state", "persistentVolumeClaim": {"claimName": "sluice-state"}}
        assert rendered.one("PersistentVolumeClaim", "sluice-state")["spec"]["accessModes"] == [
            "ReadWriteOnce"
        ]
        settings = effective_settings(rendered, init, tmp_path)
        for c in (init, main_container(gw)):
            assert {"name": "state", "mountPath": "/var/lib/sluice"} in c["volumeMounts"]
        assert settings["state"] == {"backend": "embedded", "sqlite_path": "/var/lib/sluice/sluice.db"}
    else:
        job = rendered.one("Job", "sluice-migrate")
        (c,) = job["spec"]["template"]["spec"]["containers"]
        assert c["command"] == migrate_cmd and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert effective_settings(rendered, c, tmp_path)["state"]["backend"] == "distributed"
        config_volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == "config")
        assert config_volume == next(
            v for v in gw["spec"]["template"]["spec"]["volumes"] if v["name"] == "config"
        )
        # What `kubectl apply -l sluice.dev/apply-first=true` applies before the rollout: the Job and
        # all it needs (docs/deployment.md).
        first = {
            (o["kind"], o["metadata"]["name"])
            for o in rendered.objects
            if o["metadata"].get("labels", {}).get("sluice.dev/apply-first") == "true"
        }
        config_map = config_volume["configMap"]["name"]
        assert first == {("Job", "sluice-migrate"), ("ConfigMap", config_map), ("ServiceAccount", "sluice")}
        assert job["spec"]["template"]["spec"]["serviceAccountName"] == "sluice"


def _ports(rule: Obj) -> set[tuple[Any, str]]:
    return {(p["port"], p["protocol"]) for p in rule.get("ports", [])}


def test_network_policies_admit_what_sluice_uses_and_no_more(rendered: Rendered) -> None:
    policies = rendered.of("NetworkPolicy")
    for pol in policies:
        selector = pol["spec"]["podSelector"]["matchLabels"]
        for workload, _ in rendered.pod_specs():
            assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    ingress = [r for p in policies for r in p["spec"].get("ingress", [])]
    assert {frozenset(_ports(r)) for r in ingress} == {
        frozenset({("http", "TCP")}),
        frozenset({("metrics", "TCP")}),
    }
    (metrics_rule,) = [r for r in ingress if _ports(r) == {("metrics", "TCP")}]
    assert metrics_rule["from"], "the metrics port is open to anyone"
    egress = set().union(*(_ports(r) for p in policies for r in p["spec"].get("egress", [])))
    expected = {(53, "UDP"), (53, "TCP"), (443, "TCP")}
    if rendered.variant == "distributed":
        expected |= {(5432, "TCP"), (6379, "TCP")}
    assert egress == expected


def test_service_monitor_scrapes_every_gateway(renders: dict[str, Rendered], tmp_path: Path) -> None:
    rendered = renders["distributed"]
    (sm,) = rendered.of("ServiceMonitor")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert set(sm["spec"]) == {"selector", "endpoints"}
    (endpoint,) = sm["spec"]["endpoints"]
    assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout"}
    assert endpoint["path"] == "/metrics" and re.fullmatch(r"\d+s", endpoint["interval"])
    (service,) = [
        s
        for s in rendered.of("Service")
        if sm["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == endpoint["port"]]
    gw = gateway(rendered)
    assert service["spec"]["selector"].items() <= gw["spec"]["template"]["metadata"]["labels"].items()
    container_ports = {p["name"]: p["containerPort"] for p in main_container(gw)["ports"]}
    assert (
        container_ports[port["targetPort"]]
        == effective_settings(rendered, main_container(gw), tmp_path)["metrics"]["port"]
    )


def test_the_worker_deployment_takes_the_background_work(
    renders: dict[str, Rendered], tmp_path: Path
) -> None:
    rendered = renders["distributed"]
    worker = main_container(rendered.one("Deployment", "sluice-worker"))
    assert worker["command"] == ["sluice", "worker", "--config", IMAGE_CONFIG]
    assert "ports" not in worker and "livenessProbe" not in worker
    assert (
        effective_settings(rendered, main_container(gateway(rendered)), tmp_path)["batches"]["workers"]
        is False
    )
    # Embedded, the one gateway runs them itself.
    embedded = renders["embedded"]
    assert (
        effective_settings(embedded, main_container(gateway(embedded)), tmp_path)["batches"]["workers"]
        is True
    )


def test_the_in_flight_autoscaling_component(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(KUSTOMIZE / "overlays/distributed", tmp_path)],
                "components": [os.path.relpath(KUSTOMIZE / "components/inflight-autoscaling", tmp_path)],
            }
        )
    )
    (hpa,) = [o for o in render(tmp_path) if o["kind"] == "HorizontalPodAutoscaler"]
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(hpa, version, strict=True)
    (pods,) = [m["pods"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    name = pods["metric"]["name"]
    # The gauge the gateway really exports under that name.
    assert re.search(rf"^# TYPE {name} gauge$", Metrics().scrape().decode(), re.M)


def test_the_dashboard_and_rules_component(tmp_path: Path) -> None:
    """The component turns deploy/grafana's dashboard and deploy/prometheus's rules into ConfigMaps,
    rendered from a copy of deploy/ holding the real files."""
    deploy = tmp_path / "deploy"
    shutil.copytree(KUSTOMIZE, deploy / "kustomize")
    dashboard = deploy / "grafana/dashboards/sluice.json"
    rules = deploy / "prometheus/alerts.yml"
    for path in (dashboard, rules):
        path.parent.mkdir(parents=True)
        shutil.copy(REPO / path.relative_to(tmp_path), path)
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": ["deploy/kustomize/overlays/distributed"],
                "components": ["deploy/kustomize/components/grafana"],
            }
        )
    )
    objects = render(tmp_path, "--load-restrictor", "LoadRestrictionsNone")
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    for o in maps.values():
        kubernetes_validate.validate(o, K8S_VERSIONS[-1], strict=True)
    board = maps["sluice-grafana-dashboard"]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(board["data"]["sluice.json"]) == json.loads(dashboard.read_text())
    assert json.loads(board["data"]["sluice.json"])["uid"] == "sluice-gateway"
    loaded = yaml.safe_load(maps["sluice-prometheus-rules"]["data"]["sluice-alerts.yml"])
    assert loaded == yaml.safe_load(rules.read_text())
    assert any(r.get("alert") == "SluiceHighErrorRate" for g in loaded["groups"] for r in g["rules"])
