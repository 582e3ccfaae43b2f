"""The observability stack, assembled once: the metrics registry behind ``GET /metrics``, the
request line, the request log's writer, and the Observer that feeds them; started and flushed
with the app."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from sluice.obs.access import AccessLog
from sluice.obs.metrics import CONTENT_TYPE, Metrics
from sluice.pipeline.observe import Observer
from sluice.routing.router import Router
from sluice.settings import Settings
from sluice.store.log_writer import RequestLogWriter
from sluice.store.protocols import Store
from sluice.store.records import BatchQueueStats

log = logging.getLogger("sluice")


class BatchQueueGauges:
    """The batch queue's gauges, read from the store when ``/metrics`` is scraped: one indexed
    query (``Store.batch_queue_stats``), at most once per ``every_s`` however often it is scraped,
    so every replica reports the same depth. A store that does not answer in ``timeout_s`` leaves
    the last figures (logged); the scrape still answers."""

    def __init__(
        self,
        read: Callable[[], Awaitable[BatchQueueStats]],
        metrics: Metrics,
        *,
        every_s: float = 1.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._read, self._metrics = read, metrics
        self._every_s, self._timeout_s = every_s, timeout_s
        self._clock = clock
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:  # scrapes at once share one read
            now = self._clock()
            if now - self._at < self._every_s:
                return
            self._at = now
            try:
                stats = await asyncio.wait_for(self._read(), self._timeout_s)
            except Exception:  # fails open by design: the metrics answer without fresh queue figures
                log.warning("batch queue metrics not read from the store", exc_info=True)
                return
            oldest = stats.oldest_pending_at
            self._metrics.batch_queue(
                stats.lines, stats.batches, 0.0 if oldest is None else max(0.0, now - oldest)
            )


@dataclass(slots=True)
class Observability:
    observer: Observer
    metrics: Metrics | None
    access: AccessLog | None
    writer: RequestLogWriter | None
    shutdown_s: float
    queue: BatchQueueGauges | None = field(default=None)

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
        return Response(self.metrics.scrape(), media_type=CONTENT_TYPE)


def _redact(text: str) -> str:
    """PII out of a prompt or answer before it is logged (the detectors load on first use)."""
    from sluice.guardrails.pii import redact

    return redact(text).text


def build_observer(settings: Settings, store: Store, router: Router) -> Observability:
    m = settings.metrics
    metrics = (
        Metrics(models=settings.models, tenant_label=m.tenant_label, max_tenants=m.max_tenants)
        if m.enabled
        else None
    )
    if metrics is not None:
        for d in router.deployments:
            d.breaker.watch(metrics.circuit(d.name))
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
    observer = Observer(metrics=metrics, access=access, writer=writer, payloads=payloads, redact=_redact)
    queue = None if metrics is None else BatchQueueGauges(store.batch_queue_stats, metrics)
    return Observability(observer, metrics, access, writer, shutdown_s=10.0, queue=queue)
