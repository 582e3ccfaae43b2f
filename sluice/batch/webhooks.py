"""Webhooks, OpenAI's way, which is the Standard Webhooks scheme: an event
``{id: "evt_...", object: "event", created_at, type, data: {id}}`` POSTed as JSON with the headers
``webhook-id`` (the event id, the same on every attempt), ``webhook-timestamp`` (the attempt's
Unix time) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` under the
endpoint's ``whsec_<base64>`` secret.

Events go to an outbox in the store (``enqueue_event``: a row per endpoint that wants the type,
never twice for one event), and ``WebhookSender``, a task in every process that runs the batch
worker, sends them: each claimed with a lease, each attempt under a timeout, in tasks of their own
(the loop never waits on a receiver), retried with exponential backoff and jitter up to
``attempts``. A receiver's address is checked when it is sent to, after DNS resolution, by the
connection's own resolver (the addresses checked are the addresses connected to, so a DNS answer
that changes between a check and the connection cannot slip a private address through): loopback,
private, link-local and other non-global addresses are refused unless ``allow_private``.

Besides tenants' endpoints (in the store), the operator's (``alerts.webhooks`` in the config) take
the deliveries enqueued under the tenant id ``OPERATOR``, which no tenant can have. An endpoint of
``format: slack`` gets ``{"text": ...}`` (Slack's incoming webhooks) instead of the event JSON,
with the same signature headers over what is sent."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
from aiohttp.abc import AbstractResolver, ResolveResult

from sluice.store.protocols import Store
from sluice.store.records import OPERATOR, WebhookDelivery, WebhookEndpoint
from sluice.tasks import Loop

log = logging.getLogger("sluice.webhooks")

BATCH_EVENTS = ("batch.completed", "batch.failed", "batch.expired", "batch.cancelled")
RESPONSE_EVENTS = ("response.completed", "response.failed", "response.cancelled", "response.incomplete")
JOB_EVENTS = ("sluice.job.completed", "sluice.job.failed", "sluice.job.cancelled", "sluice.job.expired")
SPEND_EVENTS = ("spend.user_downgraded", "spend.emergency_started", "spend.emergency_ended")
EVENTS = (*BATCH_EVENTS, *RESPONSE_EVENTS, *JOB_EVENTS, *SPEND_EVENTS)
"""The event types sent: OpenAI's for batches and background responses, and the gateway's own for
background chat completions (``sluice.job.*``) and spend-policy switches (``spend.*``: the
subject ``data.id`` is ``<tenant>[:<user>]:<UTC day>``, e.g. ``acme:d2026-12-07``)."""
MAX_ERROR_CHARS = 300


class _Data(msgspec.Struct):
    id: str


class Event(msgspec.Struct):
    id: str
    created_at: int
    type: str
    data: _Data
    object: str = "event"


_encode = msgspec.json.Encoder().encode


def new_secret() -> str:
    """A signing secret as OpenAI shows one: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def event(event_type: str, subject_id: str, at: int) -> tuple[str, str]:
    """(event id, payload). The id follows from the type and the subject, so the event enqueued
    again (a batch finished again after a crash) is the same event."""
    event_id = "evt_" + hashlib.sha256(f"{event_type}:{subject_id}".encode()).hexdigest()[:32]
    return event_id, _encode(Event(event_id, at, event_type, _Data(subject_id))).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header's value: ``v1,<base64 HMAC-SHA256>`` of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def check_url(url: str) -> str | None:
    """Why a webhook URL is refused before any address is looked at (None: acceptable)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs"
    if not parts.hostname:
        return "no host"
    if parts.username or parts.password:
        return "credentials in the URL"
    return None


def refused(address: str) -> bool:
    """Whether an address is one a tenant's webhook may not reach: anything not globally routable
    (loopback, private, link-local, shared, reserved, multicast), IPv4-mapped IPv6 included."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class RefusedAddress(OSError):
    """The webhook's host resolves to an address it may not reach."""


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing a host any of whose addresses is ``refused``: the connection is
    made to the addresses checked here, at send time."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = aiohttp.ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not self._allow_private:
            for r in found:
                if refused(r["host"]):
                    raise RefusedAddress(f"{host} resolves to {r['host']}, a private address")
        return found

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True)
class WebhookLimits:
    attempts: int = 8
    backoff_s: float = 600.0
    max_backoff_s: float = 21_600.0
    timeout_s: float = 10.0
    concurrency: int = 8
    poll_s: float = 1.0
    allow_private: bool = False


class WebhookSender:
    def __init__(
        self,
        store: Store,
        limits: WebhookLimits,
        *,
        on_failure: Callable[[str], None] = lambda event: None,
        operator: Sequence[WebhookEndpoint] = (),
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """``on_failure(event type)``: one delivery attempt failed (the metrics). ``operator``:
        the operator's endpoints (tenant id ``OPERATOR``), from the config."""
        self._store = store
        self._operator = {w.id: w for w in operator}
        self._limits = limits
        self._on_failure = on_failure
        self._clock = clock
        self._rng = rng
        self._loop = Loop(self.run_once, name="webhook-sender", wait_s=lambda: limits.poll_s, log=log)
        self._sending: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    @property
    def lease_s(self) -> float:
        """A claim outlives an attempt (its timeout) with room to write its outcome."""
        return self._limits.timeout_s * 3 + 30

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def close(self) -> None:
        """Stop: sends in flight are cancelled; their claims run out and they are sent again."""
        await self._loop.stop()
        for t in list(self._sending):
            t.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self._limits.allow_private), limit=self._limits.concurrency
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._limits.timeout_s),
                headers={"user-agent": "sluice-webhooks"},
            )
        return self._session

    async def run_once(self) -> bool:
        """Claim the due deliveries there is room for and start sending them; whether there were any."""
        room = self._limits.concurrency - len(self._sending)
        if room <= 0:
            return False
        due = await self._store.claim_deliveries(self._clock(), self.lease_s, room)
        for d in due:
            task = asyncio.create_task(self._deliver(d), name=f"webhook-{d.id}")
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return bool(due)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._loop.wake()

    async def _deliver(self, d: WebhookDelivery) -> None:
        try:
            error, status = await self._attempt(d)
            now = self._clock()
            attempts = d.attempts + 1
            if error is not None:
                self._on_failure(d.type)
            if error is None:
                outcome, next_at = "delivered", now
            elif attempts >= self._limits.attempts:
                outcome, next_at = "failed", now
                log.warning("webhook %s for %s failed for good: %s", d.type, d.tenant_id, error)
            else:
                outcome, next_at = "pending", now + self.backoff(attempts)
            await self._store.finish_delivery(d, outcome, next_at, error, status, int(now))
        except asyncio.CancelledError:
            raise
        except Exception:  # the store away: the claim runs out and it is sent again
            log.exception("webhook delivery %s not recorded", d.id)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts``: doubling from ``backoff_s``, capped,
        with jitter (half to all of it), so receivers that failed together are not hit together."""
        base = min(self._limits.max_backoff_s, self._limits.backoff_s * 2 ** (attempts - 1))
        return base * (0.5 + self._rng() / 2)

    async def _attempt(self, d: WebhookDelivery) -> tuple[str | None, int | None]:
        """One POST: (None, status) when the receiver took it (2xx), else (why not, status)."""
        if d.tenant_id == OPERATOR:
            hook = self._operator.get(d.webhook_id)
        else:
            hook = {w.id: w for w in await self._store.list_webhooks(d.tenant_id)}.get(d.webhook_id)
        if hook is None:
            return "the webhook endpoint was deleted", None
        problem = check_url(hook.url)
        host = urlsplit(hook.url).hostname or ""
        if problem is None and not self._limits.allow_private and _is_ip(host) and refused(host):
            problem = f"{host} is a private address"  # a literal address is not resolved: checked here
        if problem is not None:
            return problem, None
        body = d.payload.encode() if hook.format != "slack" else slack_body(d.payload)
        ts = int(self._clock())
        headers = {
            "content-type": "application/json",
            "webhook-id": d.event_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(hook.secret, d.event_id, ts, body),
        }
        try:
            async with self._client().post(hook.url, data=body, headers=headers, allow_redirects=False) as r:
                await r.content.read(64 * 1024)
                if 200 <= r.status < 300:
                    return None, r.status
                return f"the receiver answered {r.status}", r.status
        except TimeoutError:
            return f"no answer in {self._limits.timeout_s:g} s", None
        except (aiohttp.ClientError, OSError) as e:
            return _short(e), None


def slack_body(payload: str) -> bytes:
    """A Slack incoming-webhook body for an event: its ``data.message`` (alerts carry one), else
    its type and subject."""
    event = msgspec.json.decode(payload)
    data = event.get("data") or {}
    text = data.get("message") or f"Sluice: {event.get('type')} {data.get('id', '')}".rstrip()
    return _encode({"text": text})


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _short(e: BaseException) -> str:
    cause: Any = e
    while isinstance(cause, aiohttp.ClientConnectorError) and cause.os_error is not None:
        cause = cause.os_error
    text = f"{type(cause).__name__}: {cause}"
    return text[:MAX_ERROR_CHARS]
