"""Background requests' and webhooks' part of ``SqliteStore`` (``store/background_rows.py`` has
the SQL): a background request's batch of one line, created in one transaction; the webhook
endpoints; the outbox, claimed with a lease in a ``BEGIN IMMEDIATE`` transaction."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

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
from sluice.store.batch_rows import BATCH, BATCH_PARAMS, COUNTS, batch_row, batch_values
from sluice.store.records import BackgroundJob, NewBatchLine, StoredBatch, WebhookDelivery, WebhookEndpoint
from sluice.store.sqlite.batches import _Connections, _transaction


class SqliteBackground:
    async def create_job(self: _Connections, batch: StoredBatch, line: NewBatchLine) -> None:
        async with _transaction(self) as db:
            await db.execute(f"INSERT INTO batches ({BATCH}) VALUES ({BATCH_PARAMS})", batch_values(batch))
            await db.execute(NEW_LINE, (batch.id, line.custom_id, line.line_no, line.id, line.body))

    async def get_job(self: _Connections, owner: str, job_id: str) -> BackgroundJob | None:
        rows = await self._all(JOB_BATCH, (owner, job_id))
        if not rows:
            return None
        counts = (await self._all(COUNTS, (job_id,)))[0]
        lines = await self._all(JOB_LINE, (job_id,))
        return job(batch_row(rows[0], tuple(counts)), lines[0]) if lines else None

    async def cancel_job(self: _Connections, owner: str, job_id: str, at: int) -> bool:
        async with _transaction(self) as db:
            cur = await db.execute(CANCEL_JOB, (at, owner, job_id))
            if cur.rowcount <= 0:
                return False
            await db.execute(CANCEL_LINE, (job_id,))
        return True

    async def cancelled_jobs(self: _Connections, job_ids: Sequence[str]) -> list[str]:
        if not job_ids:
            return []
        marks = ", ".join("?" for _ in job_ids)
        rows = await self._all(
            f"SELECT id FROM batches WHERE id IN ({marks}) AND status IN ('cancelling', 'cancelled')",
            tuple(job_ids),
        )
        return [r["id"] for r in rows]

    async def add_webhook(self: _Connections, webhook: WebhookEndpoint) -> None:
        await self._write(
            f"INSERT INTO webhooks ({WEBHOOK}) VALUES (?, ?, ?, ?, ?, ?, ?)", webhook_values(webhook)
        )

    async def list_webhooks(self: _Connections, tenant_id: str) -> list[WebhookEndpoint]:
        rows = await self._all(
            f"SELECT {WEBHOOK} FROM webhooks WHERE tenant_id = ? ORDER BY created_at, id", (tenant_id,)
        )
        return [webhook_row(r) for r in rows]

    async def delete_webhook(self: _Connections, tenant_id: str, webhook_id: str) -> bool:
        return (
            await self._write("DELETE FROM webhooks WHERE tenant_id = ? AND id = ?", (tenant_id, webhook_id))
            > 0
        )

    async def enqueue_event(
        self: _Connections, tenant_id: str, event_id: str, event_type: str, payload: str, at: float
    ) -> int:
        hooks = [w.id for w in await SqliteBackground.list_webhooks(self, tenant_id) if wants(w, event_type)]
        return await SqliteBackground.enqueue_deliveries(
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
        async with _transaction(self) as db:
            await db.executemany(
                NEW_DELIVERY,
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
        return await self._write(CLAIM_ALERT, (key, until, now)) > 0

    async def prune_alert_marks(self: _Connections, before: float) -> int:
        return await self._write("DELETE FROM alert_marks WHERE until < ?", (before,))

    async def claim_deliveries(
        self: _Connections, now: float, lease_s: float, limit: int
    ) -> list[WebhookDelivery]:
        if not await self._all(DUE, (now, now, 1)):  # a read first: an idle poll takes no write lock
            return []
        async with _transaction(self) as db:
            rows = list(await db.execute_fetchall(DUE, (now, now, limit)))
            await db.executemany(
                "UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?",
                [(now + lease_s, r["id"]) for r in rows],
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
        args: tuple[Any, ...] = (
            status,
            next_at,
            error,
            http_status,
            at if status == "delivered" else None,
            claimed.id,
            claimed.lease_until,
        )
        return await self._write(FINISH_DELIVERY, args) > 0

    async def list_deliveries(self: _Connections, tenant_id: str, limit: int) -> list[WebhookDelivery]:
        rows = await self._all(
            f"SELECT {DELIVERY} FROM webhook_deliveries WHERE tenant_id = ? ORDER BY created_at DESC, id DESC"
            " LIMIT ?",
            (tenant_id, limit),
        )
        return [delivery_row(r) for r in rows]
