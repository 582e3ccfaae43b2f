"""``/admin/tenants/{tenant_id}/webhooks``: a tenant's webhook endpoints (the signing secret is
shown once, when one is made) and ``.../webhooks/deliveries``, the outbox as it stands: each
event's status, attempts, last error and next attempt. The events are sent by the workers
(``sluice/batch/webhooks.py``)."""

from __future__ import annotations

import os
import time
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from sluice.admin.service import AdminService
from sluice.batch.webhooks import EVENTS as OUTCOME_EVENTS
from sluice.batch.webhooks import check_url, new_secret
from sluice.errors import InvalidRequestError, NotFoundError
from sluice.settings import ALERT_EVENTS
from sluice.store.protocols import Store
from sluice.store.records import WebhookDelivery, WebhookEndpoint

MAX_URL_CHARS = 2048
EVENTS = (*OUTCOME_EVENTS, *ALERT_EVENTS)
"""What a tenant's endpoint may subscribe to: batches' and background requests' outcomes, and
the tenant's alerts (docs/alerts.md)."""


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        min_length=1, max_length=MAX_URL_CHARS, description="An http(s) URL that receives the events."
    )
    events: list[str] | None = Field(
        None, min_length=1, description=f"Event types to send (default: all): {', '.join(EVENTS)}."
    )
    format: Literal["standard", "slack"] = Field(
        "standard",
        description='standard: the event JSON; slack: a Slack incoming-webhook body, {"text": ...} (signed the same way).',
    )


class WebhookOut(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    tenant_id: str
    url: str
    events: list[str] | None
    format: Literal["standard", "slack"]
    created_at: int

    @classmethod
    def of(cls, w: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=w.id,
            tenant_id=w.tenant_id,
            url=w.url,
            events=w.events,
            format="slack" if w.format == "slack" else "standard",
            created_at=w.created_at,
        )


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The whsec_ signing secret: shown this once, keep it.")


class WebhookList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookOut]


class WebhookDeleted(BaseModel):
    id: str
    deleted: bool = True


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str
    type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None
    last_status: int | None
    next_attempt_at: float | None = Field(description="When a pending delivery is tried next.")
    created_at: int
    delivered_at: int | None

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            event_id=d.event_id,
            type=d.type,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            last_status=d.last_status,
            next_attempt_at=d.next_at if d.status == "pending" else None,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


class DeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DeliveryOut]


def webhook_routes(service: AdminService, store: Store) -> APIRouter:
    r = APIRouter()

    @r.post("/tenants/{tenant_id}/webhooks", status_code=201)
    async def create_webhook(tenant_id: str, body: WebhookIn) -> WebhookCreated:
        await service.tenant(tenant_id)
        problem = check_url(body.url)
        if problem is not None:
            raise InvalidRequestError(f"url: {problem}.", param="url")
        unknown = sorted(set(body.events or ()) - set(EVENTS))
        if unknown:
            raise InvalidRequestError(f"events: unknown event type '{unknown[0]}'.", param="events")
        w = WebhookEndpoint(
            tenant_id,
            "wh_" + os.urandom(12).hex(),
            body.url,
            body.events,
            new_secret(),
            int(time.time()),
            body.format,
        )
        await store.add_webhook(w)
        return WebhookCreated(**WebhookOut.of(w).model_dump(), secret=w.secret)

    @r.get("/tenants/{tenant_id}/webhooks")
    async def list_webhooks(tenant_id: str) -> WebhookList:
        await service.tenant(tenant_id)
        return WebhookList(data=[WebhookOut.of(w) for w in await store.list_webhooks(tenant_id)])

    @r.get("/tenants/{tenant_id}/webhooks/deliveries")
    async def list_deliveries(tenant_id: str, limit: int = Query(50, ge=1, le=500)) -> DeliveryList:
        await service.tenant(tenant_id)
        return DeliveryList(data=[DeliveryOut.of(d) for d in await store.list_deliveries(tenant_id, limit)])

    @r.delete("/tenants/{tenant_id}/webhooks/{webhook_id}")
    async def delete_webhook(tenant_id: str, webhook_id: str) -> WebhookDeleted:
        await service.tenant(tenant_id)
        if not await store.delete_webhook(tenant_id, webhook_id):
            raise NotFoundError(
                f"No webhook '{webhook_id}' for tenant '{tenant_id}'.", code="webhook_not_found"
            )
        return WebhookDeleted(id=webhook_id)

    return r
