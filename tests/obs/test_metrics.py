"""Metrics from RequestRecords, read back through Prometheus's text parser: the tenant label's
cap, the rejection reasons, cache outcomes counted for answered requests only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from sluice.obs.metrics import Metrics
from sluice.obs.record import RequestRecord


def samples(m: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for family in text_string_to_metric_families(m.scrape().decode()):
        for s in family.samples:
            if s.name == name and (s.value or name == "sluice_circuit_state"):  # series made ahead read 0
                out[tuple(sorted(s.labels.items()))] = s.value
    return out


def rec(tenant: str | None = None, **kw: object) -> RequestRecord:
    return RequestRecord("r", 0, "chat", kw.pop("status", 200), 10.0, tenant_id=tenant, model="m", **kw)  # type: ignore[arg-type]


def test_no_tenant_label_unless_configured() -> None:
    m = Metrics()
    m.observe(rec("acme"), ())
    assert all("tenant" not in dict(k) for k in samples(m, "sluice_requests_total"))


def test_the_tenant_label_is_capped() -> None:
    m = Metrics(tenant_label=True, max_tenants=2)
    for t in ("a", "b", "c", "d", "a", None):
        m.observe(rec(t, input_tokens=10), ())
    tenants = {dict(k)["tenant"]: v for k, v in samples(m, "sluice_requests_total").items()}
    assert tenants == {"a": 2, "b": 1, "other": 2, "-": 1}  # "-": the config's static keys
    tokens = {dict(k)["tenant"]: v for k, v in samples(m, "sluice_tokens_total").items()}
    assert tokens == {"a": 20, "b": 10, "other": 20, "-": 10}


def test_rejections_by_reason_and_cache_outcomes_of_answered_requests() -> None:
    m = Metrics()
    m.observe(rec(status=429, error_type="rate_limit_exceeded", cache="miss"), ())
    m.observe(rec(status=429, error_type="budget_exceeded", cache="miss"), ())
    m.observe(rec(status=502, error_type="upstream_error", cache="miss"), ())
    m.observe(rec(cache="hit", saved_tokens=40, saved_micros=1_500), ())
    m.observe(rec(cache="semantic", saved_tokens=10, saved_micros=500), ())
    reasons = {dict(k)["reason"]: v for k, v in samples(m, "sluice_rejections_total").items()}
    assert reasons == {"rate_limit": 1, "budget": 1}
    outcomes = {dict(k)["outcome"]: v for k, v in samples(m, "sluice_cache_requests_total").items()}
    assert outcomes == {"hit": 1, "semantic": 1}
    saved = {dict(k)["outcome"]: v for k, v in samples(m, "sluice_cache_saved_usd_total").items()}
    assert saved == {"hit": 0.0015, "semantic": 0.0005}


def test_circuit_changes_set_the_gauge() -> None:
    m = Metrics()
    set_state = m.circuit("openai/gpt-4o", "smart")
    series = (("deployment", "openai/gpt-4o"), ("model", "smart"))
    assert samples(m, "sluice_circuit_state") == {series: 0}
    set_state("open")
    assert samples(m, "sluice_circuit_state") == {series: 2}
    set_state("half_open")
    assert samples(m, "sluice_circuit_state") == {series: 1}


def test_model_names_no_alias_has_share_one_series() -> None:
    m = Metrics(models=["m"])
    for name in ("m", "gpt-x-1", "gpt-x-2", "m"):
        m.observe(RequestRecord("r", 0, "chat", 404 if name != "m" else 200, 1.0, model=name), ())
    models = {dict(k)["model"]: v for k, v in samples(m, "sluice_requests_total").items()}
    assert models == {"m": 2, "unknown": 2}


def test_batch_counters_and_webhook_failures() -> None:
    m = Metrics()
    m.batch_lines("completed")
    m.batch_lines("failed", 3)  # the lines a batch's expiry finished at once
    m.batch_ended("expired")
    m.webhook_failed("batch.completed")
    m.webhook_failed("batch.completed")
    assert samples(m, "sluice_batch_lines_finished_total") == {
        (("outcome", "completed"),): 1,
        (("outcome", "failed"),): 3,
    }
    assert samples(m, "sluice_batches_finished_total") == {(("status", "expired"),): 1}
    assert samples(m, "sluice_webhook_failures_total") == {(("event", "batch.completed"),): 2}


def test_auto_route_choices_by_alias_tier_and_reason() -> None:
    m = Metrics()
    m.observe(rec(route="fast; reason=simple"), ())
    m.observe(rec(route="strong; reason=tools"), ())
    m.observe(rec(route="strong; reason=tools"), ())
    m.observe(rec(), ())  # not an auto alias: not counted
    choices = {
        (dict(k)["model"], dict(k)["tier"], dict(k)["reason"]): v
        for k, v in samples(m, "sluice_auto_route_choices_total").items()
    }
    assert choices == {("m", "fast", "simple"): 1, ("m", "strong", "tools"): 2}
