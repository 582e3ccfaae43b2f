"""Background requests' and webhooks' rows and the SQL both stores share (written with ``?``;
``batch_rows.numbered`` makes PostgreSQL's ``$n`` of it). A background request is a batch of kind
``background`` with one line; a webhook event is a row per endpoint in the outbox,
``webhook_deliveries``, sent and retried by the workers."""

from __future__ import annotations

from typing import Any

import msgspec

from sluice.store.batch_rows import BATCH
from sluice.store.records import BackgroundJob, LineResult, StoredBatch, WebhookDelivery, WebhookEndpoint

JOB_BATCH = f"SELECT {BATCH} FROM batches WHERE owner = ? AND id = ? AND kind = 'background'"
JOB_LINE = (
    "SELECT status, body, status_code, request_id, response, error_code, error_message, input_tokens,"
    " output_tokens, cached_tokens FROM batch_lines WHERE batch_id = ?"
)
NEW_LINE = "INSERT INTO batch_lines (batch_id, custom_id, line_no, id, body, status) VALUES (?, ?, ?, ?, ?, 'pending')"
CANCEL_JOB = (
    "UPDATE batches SET status = 'cancelling', cancelling_at = ? WHERE owner = ? AND id = ?"
    " AND kind = 'background' AND status = 'in_progress' AND ending IS NULL AND EXISTS (SELECT 1 FROM"
    " batch_lines l WHERE l.batch_id = batches.id AND l.status IN ('pending', 'running'))"
)
"""Only while its line has no result: a request that finished is not cancelled after the fact."""
CANCEL_LINE = (
    "UPDATE batch_lines SET status = 'failed', lease_until = NULL, error_code = 'cancelled',"
    " error_message = 'The request was cancelled.' WHERE batch_id = ? AND status IN ('pending', 'running')"
)
"""The line's result, ``cancelled``: a run still going is stopped by its worker, and whatever it
comes to is not written (a line's result is written once)."""

WEBHOOK = "tenant_id, id, url, events, secret, created_at, format"
DELIVERY = (
    "id, tenant_id, webhook_id, event_id, type, payload, status, attempts, next_at, created_at,"
    " last_error, last_status, delivered_at, lease_until"
)
NEW_DELIVERY = (
    "INSERT INTO webhook_deliveries (id, tenant_id, webhook_id, event_id, type, payload, status, attempts,"
    " next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING"
)
"""An event for an endpoint, once: the same event enqueued again (a worker finishing a batch
again after a crash) is the same row."""
DUE = (
    f"SELECT {DELIVERY} FROM webhook_deliveries WHERE status = 'pending' AND next_at <= ?"
    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_at LIMIT ?"
)
CLAIM_ALERT = (
    "INSERT INTO alert_marks (key, until) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET until = excluded.until"
    " WHERE alert_marks.until <= ?"
)
"""An alert's mark, taken only when there is none or its cooldown is over: one statement, so two
replicas racing for it cannot both take it (one row changed: this caller sends the alert)."""
FINISH_DELIVERY = (
    "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_at = ?, lease_until = NULL,"
    " last_error = ?, last_status = ?, delivered_at = ? WHERE id = ? AND lease_until = ?"
)


def job(batch: StoredBatch, r: Any) -> BackgroundJob:
    result = None
    if r["status"] in ("completed", "failed"):
        result = LineResult(
            r["status"],
            r["status_code"],
            r["request_id"],
            r["response"],
            r["error_code"],
            r["error_message"],
            r["input_tokens"],
            r["output_tokens"],
            r["cached_tokens"],
        )
    return BackgroundJob(batch, r["status"], r["body"], result)


def webhook_values(w: WebhookEndpoint) -> tuple[Any, ...]:
    events = None if w.events is None else msgspec.json.encode(w.events).decode()
    return (w.tenant_id, w.id, w.url, events, w.secret, w.created_at, w.format)


def webhook_row(r: Any) -> WebhookEndpoint:
    events = r["events"]
    return WebhookEndpoint(
        r["tenant_id"],
        r["id"],
        r["url"],
        None if events is None else msgspec.json.decode(events),
        r["secret"],
        r["created_at"],
        r["format"],
    )


def delivery_row(r: Any) -> WebhookDelivery:
    return WebhookDelivery(
        r["id"],
        r["tenant_id"],
        r["webhook_id"],
        r["event_id"],
        r["type"],
        r["payload"],
        r["status"],
        r["attempts"],
        r["next_at"],
        r["created_at"],
        r["last_error"],
        r["last_status"],
        r["delivered_at"],
        r["lease_until"],
    )


def wants(w: WebhookEndpoint, event_type: str) -> bool:
    return w.events is None or event_type in w.events
