"""The observability stack, assembled once: the metrics registry behind ``GET /metrics``, the
request line, the request log's writer, and the Observer that feeds them; started and flushed
with the app."""

from __future__ import annotations

import os
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from sluice.obs.access import AccessLog
from sluice.obs.metrics import CONTENT_TYPE, Metrics
from sluice.pipeline.observe import Observer
from sluice.routing.router import Router
from sluice.settings import Settings
from sluice.store.log_writer import RequestLogWriter
from sluice.store.protocols import Store


@dataclass(slots=True)
class Observability:
    observer: Observer
    metrics: Metrics | None
    access: AccessLog | None
    writer: RequestLogWriter | None
    shutdown_s: float

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
    return Observability(observer, metrics, access, writer, shutdown_s=10.0)
