"""The observability stack, assembled once: the metrics registry behind ``GET /metrics``, the
request line, the request log's writer, and the Observer that feeds them; started and flushed
with the app."""

from __future__ import annotations

import abc
import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from sluice.budgets.ledger import Ledger, budget_key
from sluice.obs.access import AccessLog
from sluice.obs.metrics import CONTENT_TYPE, Metrics
from sluice.pipeline.observe import Observer
from sluice.routing.router import Router
from sluice.settings import Settings
from sluice.store.log_writer import RequestLogWriter
from sluice.store.protocols import Store
from sluice.store.records import BatchQueueStats

log = logging.getLogger("sluice")


class _ScrapeRead(abc.ABC):
    """Gauges read from elsewhere when ``/metrics`` is scraped, at most once per ``every_s``
    however often it is scraped (scrapes at once share one read). A read that fails or takes
    longer than ``timeout_s`` leaves the last figures (logged); the scrape still answers."""

    what = ""

    def __init__(
        self, *, every_s: float, timeout_s: float = 2.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._every_s, self._timeout_s = every_s, timeout_s
        self._clock = clock
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if now - self._at < self._every_s:
                return
            self._at = now
            try:
                await asyncio.wait_for(self._update(now), self._timeout_s)
            except Exception:  # fails open by design: the metrics answer without fresh figures
                log.warning("%s metrics not read", self.what, exc_info=True)

    @abc.abstractmethod
    async def _update(self, now: float) -> None:
        """Read the figures and set the gauges (``now``: this refresh's instant)."""


class BatchQueueGauges(_ScrapeRead):
    """The batch queue's gauges, from one indexed query (``Store.batch_queue_stats``), so every
    replica reports the same depth."""

    what = "batch queue"

    def __init__(
        self,
        read: Callable[[], Awaitable[BatchQueueStats]],
        metrics: Metrics,
        *,
        every_s: float = 1.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(every_s=every_s, timeout_s=timeout_s, clock=clock)
        self._read, self._metrics = read, metrics

    async def _update(self, now: float) -> None:
        stats = await self._read()
        oldest = stats.oldest_pending_at
        self._metrics.batch_queue(
            stats.lines, stats.batches, 0.0 if oldest is None else max(0.0, now - oldest)
        )


class BudgetGauges(_ScrapeRead):
    """``sluice_budget_used_ratio``: each tenant's own budgets (at most ``limit``, from the store)
    against what the ledger has counted in their current periods: one query and one ledger read
    (a pipelined round trip on Redis) per refresh, nothing per request."""

    what = "budget"

    def __init__(
        self,
        store: Store,
        ledger: Ledger,
        metrics: Metrics,
        *,
        limit: int,
        every_s: float = 10.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(every_s=every_s, timeout_s=timeout_s, clock=clock)
        self._store, self._ledger, self._metrics, self._limit = store, ledger, metrics, limit

    async def _update(self, now: float) -> None:
        budgets = await self._store.tenant_budgets(self._limit)
        used = await self._ledger.used([budget_key(t, "tenant", t, b.period, now) for t, b in budgets])
        rows: list[tuple[str, str, str, float]] = []
        for (tenant, b), (tokens, micros) in zip(budgets, used, strict=True):
            for metric, spent, cap in (("tokens", tokens, b.max_tokens), ("cost", micros, b.max_cost_micros)):
                if cap is not None:
                    rows.append((tenant, metric, b.period, spent / cap if cap else 1.0))
        self._metrics.budget_use(rows)


@dataclass(slots=True)
class Observability:
    observer: Observer
    metrics: Metrics | None
    access: AccessLog | None
    writer: RequestLogWriter | None
    shutdown_s: float
    queue: BatchQueueGauges | None = field(default=None)
    budgets: BudgetGauges | None = field(default=None)

    def start(self) -> None:
        if self.writer is not None:
            self.writer.start()

    async def close(self) -> None:
        """Flush: the request lines, then every queued record (the store is still open)."""
        if self.access is not None:
            self.access.flush()
        if self.writer is not None:
            await self.writer.close(self.shutdown_s)
        if self.metrics is not None:
            self.metrics.process_exited(os.getpid())

    async def scrape(self, request: Request) -> Response:
        assert self.metrics is not None
        if self.queue is not None:
            await self.queue.refresh()
        if self.budgets is not None:
            await self.budgets.refresh()
        return Response(self.metrics.scrape(), media_type=CONTENT_TYPE)


def _redact(text: str) -> str:
    """PII out of a prompt or answer before it is logged (the detectors load on first use)."""
    from sluice.guardrails.pii import redact

    return redact(text).text


def build_observer(
    settings: Settings,
    store: Store,
    router: Router,
    ledger: Ledger | None = None,
    tap: Callable[[int, float], None] | None = None,
) -> Observability:
    m = settings.metrics
    metrics = (
        Metrics(models=settings.models, tenant_label=m.tenant_label, max_tenants=m.max_tenants)
        if m.enabled
        else None
    )
    if metrics is not None:
        for alias, d in router.aliased_deployments:
            d.breaker.watch(metrics.circuit(d.name, alias))
    lg = settings.logging
    access = AccessLog(fmt=lg.format) if lg.requests and lg.level in ("debug", "info") else None
    writer = None
    rl = settings.request_log
    if rl.enabled:
        writer = RequestLogWriter(
            store,
            queue_max=rl.queue_max,
            when_full=rl.when_full,
            batch_max=rl.batch_max,
            flush_s=rl.flush_ms / 1000,
            on_queue=metrics.log_queue.set if metrics is not None else lambda n: None,
            on_written=metrics.log_written.inc if metrics is not None else lambda n: None,
            on_dropped=metrics.log_dropped.inc if metrics is not None else lambda: None,
        )
    payloads = settings.logging.payloads
    observer = Observer(
        metrics=metrics, access=access, writer=writer, payloads=payloads, redact=_redact, tap=tap
    )
    queue = None if metrics is None else BatchQueueGauges(store.batch_queue_stats, metrics)
    budgets = None
    if metrics is not None and ledger is not None and m.tenant_label:  # the series name tenants
        budgets = BudgetGauges(store, ledger, metrics, limit=2 * m.max_tenants)  # a day and a month each
    return Observability(observer, metrics, access, writer, shutdown_s=10.0, queue=queue, budgets=budgets)
