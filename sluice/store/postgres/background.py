"""Background requests' and webhooks' part of ``PostgresStore`` (``store/background_rows.py`` has
the SQL): a background request's batch of one line, created in one transaction; the webhook
endpoints; the outbox, claimed ``FOR UPDATE SKIP LOCKED`` so two replicas never send one row."""

from __future__ import annotations

import os
from collections.abc import Sequence

from sluice.store.background_rows import (
    CANCEL_JOB,
    CANCEL_LINE,
    CLAIM_ALERT,
    DELIVERY,
    DUE,
    FINISH_DELIVERY,
    JOB_BATCH,
    JOB_LINE,
    NEW_DELIVERY,
    NEW_LINE,
    WEBHOOK,
    delivery_row,
    job,
    wants,
    webhook_row,
    webhook_values,
)
from sluice.store.batch_rows import BATCH, BATCH_PARAMS, COUNTS, batch_row, batch_values, numbered
from sluice.store.postgres.batches import _changed, _Connections
from sluice.store.records import BackgroundJob, NewBatchLine, StoredBatch, WebhookDelivery, WebhookEndpoint


class PostgresBackground:
    async def create_job(self: _Connections, batch: StoredBatch, line: NewBatchLine) -> None:
        async with self._conn() as conn, conn.transaction():
            await conn.execute(
                numbered(f"INSERT INTO batches ({BATCH}) VALUES ({BATCH_PARAMS})"), *batch_values(batch)
            )
            await conn.execute(numbered(NEW_LINE), batch.id, line.custom_id, line.line_no, line.id, line.body)

    async def get_job(self: _Connections, owner: str, job_id: str) -> BackgroundJob | None:
        async with self._conn() as conn:
            rows = await conn.fetch(numbered(JOB_BATCH), owner, job_id)
            if not rows:
                return None
            counts = (await conn.fetch(numbered(COUNTS), job_id))[0]
            lines = await conn.fetch(numbered(JOB_LINE), job_id)
        return job(batch_row(rows[0], tuple(counts)), lines[0]) if lines else None

    async def cancel_job(self: _Connections, owner: str, job_id: str, at: int) -> bool:
        async with self._conn() as conn, conn.transaction():
            if not _changed(await conn.execute(numbered(CANCEL_JOB), at, owner, job_id)):
                return False
            await conn.execute(numbered(CANCEL_LINE), job_id)
        return True

    async def cancelled_jobs(self: _Connections, job_ids: Sequence[str]) -> list[str]:
        if not job_ids:
            return []
        rows = await self._fetch(
            "SELECT id FROM batches WHERE id = ANY($1::text[]) AND status IN ('cancelling', 'cancelled')",
            list(job_ids),
        )
        return [r["id"] for r in rows]

    async def add_webhook(self: _Connections, webhook: WebhookEndpoint) -> None:
        async with self._conn() as conn:
            await conn.execute(
                f"INSERT INTO webhooks ({WEBHOOK}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                *webhook_values(webhook),
            )

    async def list_webhooks(self: _Connections, tenant_id: str) -> list[WebhookEndpoint]:
        rows = await self._fetch(
            f"SELECT {WEBHOOK} FROM webhooks WHERE tenant_id = $1 ORDER BY created_at, id", tenant_id
        )
        return [webhook_row(r) for r in rows]

    async def delete_webhook(self: _Connections, tenant_id: str, webhook_id: str) -> bool:
        async with self._conn() as conn:
            status = await conn.execute(
                "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2", tenant_id, webhook_id
            )
        return _changed(status)

    async def enqueue_event(
        self: _Connections, tenant_id: str, event_id: str, event_type: str, payload: str, at: float
    ) -> int:
        hooks = [
            w.id for w in await PostgresBackground.list_webhooks(self, tenant_id) if wants(w, event_type)
        ]
        return await PostgresBackground.enqueue_deliveries(
            self, tenant_id, hooks, event_id, event_type, payload, at
        )

    async def enqueue_deliveries(
        self: _Connections,
        tenant_id: str,
        webhook_ids: Sequence[str],
        event_id: str,
        event_type: str,
        payload: str,
        at: float,
    ) -> int:
        if not webhook_ids:
            return 0
        async with self._conn() as conn, conn.transaction():
            await conn.executemany(
                numbered(NEW_DELIVERY),
                [
                    (
                        "whd_" + os.urandom(12).hex(),
                        tenant_id,
                        webhook_id,
                        event_id,
                        event_type,
                        payload,
                        at,
                        int(at),
                    )
                    for webhook_id in webhook_ids
                ],
            )
        return len(webhook_ids)

    async def claim_alert(self: _Connections, key: str, now: float, until: float) -> bool:
        async with self._conn() as conn:
            return _changed(await conn.execute(numbered(CLAIM_ALERT), key, until, now))

    async def prune_alert_marks(self: _Connections, before: float) -> int:
        async with self._conn() as conn:
            status = await conn.execute("DELETE FROM alert_marks WHERE until < $1", before)
        return int(status.rsplit(" ", 1)[-1])

    async def claim_deliveries(
        self: _Connections, now: float, lease_s: float, limit: int
    ) -> list[WebhookDelivery]:
        async with self._conn() as conn, conn.transaction():
            rows = await conn.fetch(numbered(DUE) + " FOR UPDATE SKIP LOCKED", now, now, limit)
            if rows:
                await conn.execute(
                    "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = ANY($2::text[])",
                    now + lease_s,
                    [r["id"] for r in rows],
                )
        return [delivery_row({**dict(r), "lease_until": now + lease_s}) for r in rows]

    async def finish_delivery(
        self: _Connections,
        claimed: WebhookDelivery,
        status: str,
        next_at: float,
        error: str | None,
        http_status: int | None,
        at: int,
    ) -> bool:
        async with self._conn() as conn:
            result = await conn.execute(
                numbered(FINISH_DELIVERY),
                status,
                next_at,
                error,
                http_status,
                at if status == "delivered" else None,
                claimed.id,
                claimed.lease_until,
            )
        return _changed(result)

    async def list_deliveries(self: _Connections, tenant_id: str, limit: int) -> list[WebhookDelivery]:
        rows = await self._fetch(
            f"SELECT {DELIVERY} FROM webhook_deliveries WHERE tenant_id = $1"
            " ORDER BY created_at DESC, id DESC LIMIT $2",
            tenant_id,
            limit,
        )
        return [delivery_row(r) for r in rows]
