"""An alert, and the ``Notifier`` that sends it once: it takes the alert's mark in the store
(``Store.claim_alert``: one per kind, subject and threshold per cooldown, or per budget period,
whichever replica gets there first) and puts the event in the webhook outbox for the tenant's
endpoints that want its type and the operator's (``alerts.webhooks``); the webhook sender signs,
sends and retries it. ``fire`` never blocks its caller: the store is reached in a task."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from sluice.errors import StoreUnavailableError
from sluice.settings import AlertSettings
from sluice.store.protocols import Store
from sluice.store.records import OPERATOR, WebhookEndpoint

log = logging.getLogger("sluice.alerts")

_MAX_PENDING = 1000


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    """``budget``, ``spend_rate``, ``error_rate``, ``latency`` or ``circuit_open``."""
    subject: str
    """What it is about: ``tenant:acme``, ``user:acme/u1``, ``gateway``, ``deployment:chat/openai/gpt-4o``."""
    threshold: str
    """Which threshold was passed (``80`` percent of a budget, ``0.05`` of requests failing...)."""
    value: float
    limit: float
    message: str
    tenant_id: str | None = None
    """Whose endpoints get it too (None: the operator's only)."""
    until: float | None = None
    """The mark holds until then (a budget period's end); None: ``alerts.cooldown_s`` from now."""
    period: str = ""
    """Part of the mark's key: a budget's period (``d2026-11-24``), so each period alerts anew."""

    @property
    def type(self) -> str:
        return f"sluice.alert.{self.kind}"

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.subject}|{self.threshold}|{self.period}"


class _Data(msgspec.Struct):
    id: str
    kind: str
    subject: str
    threshold: str
    value: float
    limit: float
    message: str
    tenant_id: str | None


class _Event(msgspec.Struct):
    id: str
    created_at: int
    type: str
    data: _Data
    object: str = "event"


def payload(alert: Alert, at: float) -> tuple[str, str]:
    """(event id, the event's JSON): the Standard Webhooks event the endpoints get, its ``data``
    the alert (``message`` is the line a Slack-format endpoint shows)."""
    digest = hashlib.sha256(f"{alert.key}|{int(at)}".encode()).hexdigest()
    event_id = "evt_" + digest[:32]
    data = _Data(
        "alert_" + digest[32:56],
        alert.kind,
        alert.subject,
        alert.threshold,
        alert.value,
        alert.limit,
        alert.message,
        alert.tenant_id,
    )
    return event_id, msgspec.json.encode(_Event(event_id, int(at), alert.type, data)).decode()


def operator_endpoints(settings: AlertSettings) -> list[WebhookEndpoint]:
    """The operator's endpoints as the webhook sender knows endpoints; each id follows from its
    URL and format, so a delivery still pending after the config is reordered finds its endpoint."""
    out = []
    for w in settings.webhooks:
        wid = "op_" + hashlib.sha256(f"{w.url}|{w.format}".encode()).hexdigest()[:24]
        out.append(WebhookEndpoint(OPERATOR, wid, w.url, w.events, w.secret.get_secret_value(), 0, w.format))
    return out


class Notifier:
    def __init__(
        self,
        store: Store,
        operator: Sequence[WebhookEndpoint],
        *,
        cooldown_s: float,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``wake``: the webhook sender's, so an alert goes out at once rather than at its next poll."""
        self._store = store
        self._operator = operator
        self._cooldown_s = cooldown_s
        self._wake = wake
        self._clock = clock
        self._pending: set[asyncio.Task[bool]] = set()

    def fire(self, alert: Alert) -> None:
        """Send ``alert`` unless its mark is held (in a task: the caller does not wait)."""
        if len(self._pending) >= _MAX_PENDING:
            log.warning("alert %s dropped: %d alerts waiting for the store", alert.key, len(self._pending))
            return
        task = asyncio.get_running_loop().create_task(self.send(alert), name=f"alert-{alert.kind}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def send(self, alert: Alert) -> bool:
        """Whether this call sent it (it took the mark); a store error is logged, not raised."""
        now = self._clock()
        until = alert.until if alert.until is not None else now + self._cooldown_s
        try:
            if not await self._store.claim_alert(alert.key, now, until):
                return False
            event_id, body = payload(alert, now)
            sent = 0
            if alert.tenant_id is not None:
                sent += await self._store.enqueue_event(alert.tenant_id, event_id, alert.type, body, now)
            ops = [w.id for w in self._operator if w.events is None or alert.type in w.events]
            sent += await self._store.enqueue_deliveries(OPERATOR, ops, event_id, alert.type, body, now)
        except StoreUnavailableError as e:
            log.warning("alert %s not sent: %s", alert.key, e.message)
            return False
        log.warning("alert: %s", alert.message, extra={"alert": alert.type, "endpoints": sent})
        if sent:
            self._wake()
        return True

    async def close(self) -> None:
        """Wait (briefly) for alerts on their way to the outbox."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=5)
