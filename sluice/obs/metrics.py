"""Prometheus metrics: one ``Metrics`` per process, fed one RequestRecord per finished request.

Each process keeps its own registry. With several workers (``PROMETHEUS_MULTIPROC_DIR`` set
before ``prometheus_client`` is imported, which ``sluice serve --workers N`` does), the values
live in memory-mapped files that ``/metrics`` merges across the workers.

Label children are looked up once per label set and kept: ``.labels()`` costs ~2 µs, an
increment on a kept child ~0.6 µs. The tenant label is off by default (its cardinality is the
operator's to choose) and, when on, capped at ``max_tenants`` values per process; later tenants
are counted as ``other``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from sluice.obs.record import RequestRecord

disable_created_metrics()  # no ``*_created`` series: a third fewer lines per scrape, nothing lost
CONTENT_TYPE = CONTENT_TYPE_LATEST
STATIC_TENANT = "-"
"""The tenant label of the config's static keys (and of requests refused before authentication)."""
OTHER_TENANT = "other"
UNKNOWN_MODEL = "unknown"
"""The model label of a request for a name that is no configured alias (clients choose the names)."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
_OVERHEAD_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
_RETRIEVAL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_CIRCUIT_VALUES = {"closed": 0, "half_open": 1, "open": 2}
_REJECTIONS = {
    "rate_limit_exceeded": "rate_limit",
    "budget_exceeded": "budget",
    "context_length_exceeded": "input_tokens",
    "emergency_input_too_large": "emergency",
}
"""Error codes that mean the gateway itself refused the request, by reason."""
_LINE_STATUSES = ("pending", "running")
_LIVE_BATCHES = ("validating", "in_progress", "finalizing", "cancelling")


@dataclass(slots=True)
class _Shape:
    """The children one kind of request increments (found once, kept)."""

    requests: Any
    latency: Any
    overhead: Any
    ttft: Any
    retries: Any
    fallbacks: Any
    input_tokens: Any
    output_tokens: Any
    cached_tokens: Any
    cost: Any
    rejection: Any


class AttemptLike(Protocol):
    deployment: str
    error: str | None
    latency_s: float


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class Metrics:
    def __init__(
        self, *, models: Iterable[str] | None = None, tenant_label: bool = False, max_tenants: int = 100
    ) -> None:
        self._models = None if models is None else frozenset(models)
        """The configured aliases: any other name a client sends is labelled ``unknown``."""
        self.registry = CollectorRegistry(auto_describe=True)
        self._multiprocess = multiprocess_dir() is not None
        if not self._multiprocess:
            ProcessCollector(registry=self.registry)
        self._tenant_label = tenant_label
        self._max_tenants = max_tenants
        self._tenants: set[str] = set()
        t = ("tenant",) if tenant_label else ()
        r = self.registry

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(name, doc, labels, registry=r)

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, labels, registry=r, buckets=buckets)

        def gauge(
            name: str, doc: str, labels: tuple[str, ...], mode: Literal["livesum", "livemax", "mostrecent"]
        ) -> Gauge:
            return Gauge(name, doc, labels, registry=r, multiprocess_mode=mode)

        self._requests = counter(
            "sluice_requests",
            "Requests finished, by endpoint, model alias, deployment, status and error type.",
            ("endpoint", "model", "deployment", "status", "error_type", *t),
        )
        self._latency = histogram(
            "sluice_request_duration_seconds",
            "Arrival to last byte.",
            ("endpoint", "model"),
            _LATENCY_BUCKETS,
        )
        self._overhead = histogram(
            "sluice_overhead_seconds",
            "The gateway's own time per request, without the upstream attempts.",
            ("endpoint",),
            _OVERHEAD_BUCKETS,
        )
        self._ttft = histogram(
            "sluice_time_to_first_token_seconds",
            "Arrival to the first chunk sent, streams only.",
            ("model",),
            _LATENCY_BUCKETS,
        )
        self._upstream = histogram(
            "sluice_upstream_duration_seconds",
            "One upstream attempt, by deployment and outcome (ok or error).",
            ("deployment", "outcome"),
            _LATENCY_BUCKETS,
        )
        self._attempts = counter(
            "sluice_upstream_attempts",
            "Upstream attempts, by deployment and result (ok or the error code).",
            ("deployment", "result"),
        )
        self._retries = counter("sluice_retries", "Attempts beyond the first, by model alias.", ("model",))
        self._fallbacks = counter("sluice_fallbacks", "Requests answered by a fallback alias.", ("model",))
        self._tokens = counter(
            "sluice_tokens",
            "Tokens by model alias and kind (input, output, cached: input from the provider's prompt cache).",
            ("model", "kind", *t),
        )
        self._cost = counter("sluice_cost_usd", "Spend in USD by model alias.", ("model", *t))
        self._cache = counter(
            "sluice_cache_requests", "Response-cache outcomes: hit, semantic, miss.", ("outcome",)
        )
        self._saved_tokens = counter(
            "sluice_cache_saved_tokens", "Tokens cache hits did not spend.", ("outcome",)
        )
        self._saved_usd = counter("sluice_cache_saved_usd", "USD cache hits did not spend.", ("outcome",))
        self._rejections = counter(
            "sluice_rejections",
            "Requests the gateway refused itself: rate_limit, budget, input_tokens.",
            ("reason", *t),
        )
        self._guardrails = counter(
            "sluice_guardrail_actions",
            "Guardrail actions by stage (input, output), category and action.",
            ("stage", "category", "action"),
        )
        self._retrieval = histogram(
            "sluice_retrieval_seconds",
            "Retrieval from the caller's vector stores (the query's embedding and every store's search), by endpoint.",
            ("endpoint",),
            _RETRIEVAL_BUCKETS,
        )
        self._prompts = counter(
            "sluice_prompt_requests",
            "Requests that ran a stored prompt, by prompt, version, experiment arm (empty: none) and status.",
            ("prompt", "version", "arm", "status"),
        )
        self._in_flight = gauge("sluice_in_flight_requests", "Requests being served.", (), "livesum")
        self.in_flight = 0
        if not self._multiprocess:  # read when scraped: a request then pays no lock for it
            self._in_flight.set_function(lambda: self.in_flight)
        self._circuit = gauge(
            "sluice_circuit_state",
            "A deployment's circuit breaker, by deployment and the model alias it serves: 0 closed, "
            "1 half-open, 2 open (the worst of the workers).",
            ("deployment", "model"),
            "livemax",
        )
        self.log_queue = gauge(
            "sluice_request_log_queue", "Request records waiting for the writer.", (), "livesum"
        )
        self.log_written = counter("sluice_request_log_written", "Request records stored.", ())
        self.log_dropped = counter(
            "sluice_request_log_dropped", "Request records dropped because the writer's queue was full.", ()
        )
        # Batches. The queue's gauges are read from the store when scraped (``batch_queue``), so
        # every replica and worker process shows the same figures: mostrecent, not a sum.
        self._batch_lines = counter(
            "sluice_batch_lines_finished",
            "Batch lines given their result, by outcome (completed, failed): rate() is lines per second.",
            ("outcome",),
        )
        self._batches_ended = counter(
            "sluice_batches_finished",
            "Batches that reached their last status: completed, failed, expired, cancelled.",
            ("status",),
        )
        self._queue_lines = gauge(
            "sluice_batch_queue_lines",
            "Lines of running batches without a result, by status (pending, running); from the store.",
            ("status",),
            "mostrecent",
        )
        self._oldest_pending = gauge(
            "sluice_batch_oldest_pending_seconds",
            "How long the oldest pending batch line has waited (since its batch started); 0 when none.",
            (),
            "mostrecent",
        )
        self._batches = gauge(
            "sluice_batches",
            "Batches not yet finished, by status (validating, in_progress, finalizing, cancelling); from the store.",
            ("status",),
            "mostrecent",
        )
        self._webhook_failures = counter(
            "sluice_webhook_failures",
            "Webhook deliveries that failed (an attempt answered non-2xx or not at all), by event type.",
            ("event",),
        )
        self._budget_used = gauge(
            "sluice_budget_used_ratio",
            "A tenant's own budget used in its current period, by tenant, metric (tokens, cost) and "
            "period (day, month): used / cap; read from the ledger when scraped (with tenant_label only).",
            ("tenant", "metric", "period"),
            "mostrecent",
        )
        self._spend_switches = counter(
            "sluice_spend_switches",
            "Spend-policy switches (spend.user_downgraded, spend.emergency_started, spend.emergency_ended), "
            "by event: counted once across replicas, by the replica that claimed the switch.",
            ("event",),
        )
        self._spend_requests = counter(
            "sluice_spend_policy_requests",
            "Requests a spend policy acted on, by action (user_downgraded, emergency, emergency_refused).",
            ("action",),
        )
        self._auto_routes = counter(
            "sluice_auto_route_choices",
            "Requests to an auto alias, by the alias, the tier chosen and why (the x-sluice-route reason: "
            "simple, difficulty, tools, images, json, conversation, context, allowed, hint, header).",
            ("model", "tier", "reason"),
        )
        self._shapes: dict[tuple[Any, ...], _Shape] = {}
        self._attempt_children: dict[tuple[str, str | None], tuple[Any, Any]] = {}
        self._cache_children = {
            outcome: (
                self._cache.labels(outcome),
                self._saved_tokens.labels(outcome),
                self._saved_usd.labels(outcome),
            )
            for outcome in ("hit", "semantic", "miss")
        }

    def _tenant(self, tenant_id: str | None) -> tuple[str, ...]:
        if not self._tenant_label:
            return ()
        if tenant_id is None:
            return (STATIC_TENANT,)
        if tenant_id in self._tenants:
            return (tenant_id,)
        if len(self._tenants) >= self._max_tenants:
            return (OTHER_TENANT,)
        self._tenants.add(tenant_id)
        return (tenant_id,)

    def observe(self, r: RequestRecord, attempts: Iterable[AttemptLike]) -> None:
        """Count one finished request: a few increments on children found with one lookup per
        request shape (endpoint, model, deployment, status, error, tenant) and per attempt."""
        tenant = self._tenant(r.tenant_id)
        model = r.model
        if self._models is not None and model is not None and model not in self._models:
            model = UNKNOWN_MODEL  # one series for every name no alias has, however many there are
        key = (r.endpoint, model, r.deployment, r.status, r.error_type, tenant)
        s = self._shapes.get(key)
        if s is None:
            s = self._shapes[key] = self._shape(r, tenant)
        s.requests.inc()
        s.latency.observe(r.latency_ms / 1000)
        s.overhead.observe(r.overhead_ms / 1000)
        if r.ttft_ms is not None:
            s.ttft.observe(r.ttft_ms / 1000)
        n = 0
        for a in attempts:
            n += 1
            pair = self._attempt_children.get((a.deployment, a.error))
            if pair is None:
                pair = self._attempt_children[(a.deployment, a.error)] = (
                    self._upstream.labels(a.deployment, "ok" if a.error is None else "error"),
                    self._attempts.labels(a.deployment, a.error or "ok"),
                )
            pair[0].observe(a.latency_s)
            pair[1].inc()
        if n > 1:
            s.retries.inc(n - 1)
        if r.fallback:
            s.fallbacks.inc()
        if r.input_tokens:
            s.input_tokens.inc(r.input_tokens)
        if r.output_tokens:
            s.output_tokens.inc(r.output_tokens)
        if r.cached_tokens:
            s.cached_tokens.inc(r.cached_tokens)
        if r.cost_micros:
            s.cost.inc(r.cost_micros / 1_000_000)
        if r.cache is not None and r.status == 200:  # a hit rate among answered requests
            hits, saved_tokens, saved_usd = self._cache_children[r.cache]
            hits.inc()
            if r.saved_tokens:
                saved_tokens.inc(r.saved_tokens)
            if r.saved_micros:
                saved_usd.inc(r.saved_micros / 1_000_000)
        if s.rejection is not None:
            s.rejection.inc()
        if r.retrieval_ms is not None:
            self._retrieval.labels(r.endpoint).observe(r.retrieval_ms / 1000)
        if r.spend is not None:
            self._spend_requests.labels(r.spend).inc()
        if r.spend_event is not None:
            self._spend_switches.labels(r.spend_event).inc()
        if r.route is not None:
            tier, _, reason = r.route.partition("; reason=")
            self._auto_routes.labels(model or "", tier, reason).inc()

    def _shape(self, r: RequestRecord, tenant: tuple[str, ...]) -> _Shape:
        model = r.model or ""
        if self._models is not None and model and model not in self._models:
            model = UNKNOWN_MODEL
        reason = _REJECTIONS.get(r.error_type) if r.error_type is not None else None
        return _Shape(
            requests=self._requests.labels(
                r.endpoint, model, r.deployment or "", str(r.status), r.error_type or "", *tenant
            ),
            latency=self._latency.labels(r.endpoint, model),
            overhead=self._overhead.labels(r.endpoint),
            ttft=self._ttft.labels(model),
            retries=self._retries.labels(model),
            fallbacks=self._fallbacks.labels(model),
            input_tokens=self._tokens.labels(model, "input", *tenant),
            output_tokens=self._tokens.labels(model, "output", *tenant),
            cached_tokens=self._tokens.labels(model, "cached", *tenant),
            cost=self._cost.labels(model, *tenant),
            rejection=None if reason is None else self._rejections.labels(reason, *tenant),
        )

    def started(self) -> None:
        self.in_flight += 1
        if self._multiprocess:
            self._in_flight.inc()

    def ended(self) -> None:
        self.in_flight -= 1
        if self._multiprocess:
            self._in_flight.dec()

    def prompt(self, r: RequestRecord) -> None:
        """Count a request that ran a stored prompt (per version; quality per version is
        ``/admin/.../prompts/{name}/quality``)."""
        if r.prompt_name is not None:
            self._prompts.labels(
                r.prompt_name, str(r.prompt_version), "" if r.arm is None else str(r.arm), str(r.status)
            ).inc()

    def guardrail(self, stage: str, category: str, action: str) -> None:
        self._guardrails.labels(stage, category, action).inc()

    def batch_lines(self, outcome: str, n: int = 1) -> None:
        """``n`` batch lines got their result (once per line: a re-run line is not counted again)."""
        self._batch_lines.labels(outcome).inc(n)

    def batch_ended(self, status: str) -> None:
        self._batches_ended.labels(status).inc()

    def batch_queue(
        self, lines: Mapping[str, int], batches: Mapping[str, int], oldest_pending_s: float
    ) -> None:
        """The queue as the store has it (``Store.batch_queue_stats``); a status absent is zero."""
        for status in _LINE_STATUSES:
            self._queue_lines.labels(status).set(lines.get(status, 0))
        for status in _LIVE_BATCHES:
            self._batches.labels(status).set(batches.get(status, 0))
        self._oldest_pending.set(oldest_pending_s)

    def budget_use(self, rows: Iterable[tuple[str, str, str, float]]) -> None:
        """Every tenant budget's (tenant, metric, period, used / cap) as the ledger has it now; a
        budget not among ``rows`` (deleted) loses its series."""
        self._budget_used.clear()
        for tenant, metric, period, ratio in rows:
            self._budget_used.labels(tenant, metric, period).set(ratio)

    def webhook_failed(self, event: str) -> None:
        """One webhook delivery attempt failed (``event``: the event type, e.g. ``batch.completed``)."""
        self._webhook_failures.labels(event).inc()

    def circuit(self, deployment: str, model: str) -> Callable[[str], None]:
        """A setter for the circuit state of one deployment of the alias ``model`` (a breaker calls
        it on each change); the alias label lets an alert ask whether all of a model's are open."""
        child = self._circuit.labels(deployment, model)
        child.set(0)
        return lambda state: child.set(_CIRCUIT_VALUES[state])

    def scrape(self) -> bytes:
        """The text exposition: this process's registry, or every worker's when multiprocess."""
        if not self._multiprocess:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return generate_latest(merged)

    @staticmethod
    def process_exited(pid: int) -> None:
        """Drop a finished worker's live gauges (in-flight, queue, circuit) from the merge."""
        path = multiprocess_dir()
        if path is not None:
            multiprocess.mark_process_dead(pid, path)
