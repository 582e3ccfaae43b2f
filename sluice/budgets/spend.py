"""Spend policies: a user past its threshold today is served from a cheaper alias; a tenant past
its emergency threshold today is in emergency mode (repeats from the cache, everything else from
the cheap alias, large inputs refused) until the next UTC day or until an operator ends it.

Spend today is the budget ledger's day counter of the scope (``ledger.py``), read in the same
step that reserves the request (``Reservation.spent``: no extra round trip). It counts settled
spend and the worst cases of the requests in flight, so a replica switches on the first request
it admits once the shared counter is past the threshold. ``Switches`` remembers, per process,
what it last saw of each tenant and user; a switch is claimed on the ledger (one Redis ``SET NX``
when distributed), and only the claimer reports it: one switch is one event across replicas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sluice.budgets.ledger import KEEP_S, Ledger, period_id, period_start_s
from sluice.errors import StoreUnavailableError
from sluice.policies import SpendPolicy

log = logging.getLogger("sluice.budgets")

SwitchEvent = Literal["spend.user_downgraded", "spend.emergency_started", "spend.emergency_ended"]
SWITCH_EVENTS: tuple[SwitchEvent, ...] = (
    "spend.user_downgraded",
    "spend.emergency_started",
    "spend.emergency_ended",
)
Emit = Callable[[str, SwitchEvent, str], Coroutine[Any, Any, None]]
"""(tenant id, event type, subject id): a webhook event for the switch, sent off the request
path (the subject names the tenant, the user where there is one, and the UTC day:
``acme:d2026-12-07``)."""

_MAX_SEEN = 100_000
_K = TypeVar("_K")


@dataclass(frozen=True, slots=True)
class SpendRule:
    """One caller's spend policies, resolved once (with the budgets' caps): where in the caps its
    tenant's and user's day counters are, the thresholds and the aliases."""

    tenant_id: str
    user_id: str | None
    tenant_cap: int | None
    """Index of the tenant's day cap in the caps (None: the tenant has no emergency threshold)."""
    user_cap: int | None
    """Index of the user's day cap (None: no user threshold applies)."""
    policy: SpendPolicy
    """The effective policy: the user's over the tenant's (emergency fields: the tenant's)."""
    ended: str | None = None
    """The UTC day (``period_id``) an operator ended the tenant's emergency mode for."""

    @property
    def emergency_to(self) -> str | None:
        return self.policy.emergency_to or self.policy.downgrade_to


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the policy does to one request."""

    emergency: bool
    downgrade_to: str | None
    """The alias to serve instead (emergency's or the user's), None: the one asked for."""
    event: SwitchEvent | None = None
    """The switch this request made, when this process's claim of it won."""


class Switches:
    """This process's view of who is switched, and the claim and report of each switch."""

    def __init__(self, ledger: Ledger, clock: Callable[[], float]) -> None:
        self._ledger = ledger
        self._clock = clock
        self._emit: Emit | None = None
        self._emergency: dict[str, str] = {}
        """Tenant -> the UTC day this process last saw it in emergency mode."""
        self._downgraded: dict[tuple[str, str], str] = {}
        """(tenant, user) -> the UTC day this process last served the user downgraded."""
        self._sending: set[asyncio.Task[None]] = set()
        self._day = ("", 0.0, 0.0)
        """(the UTC day's id, when it began, when it ends): formatting a date costs microseconds."""

    def bind(self, emit: Emit) -> None:
        """Where switches are reported (the webhook outbox), known once the app is built."""
        self._emit = emit

    def day(self) -> str:
        now = self._clock()
        day, start, end = self._day
        if not start <= now < end:
            start = period_start_s("day", now)
            day, end = period_id("day", now), start + 86_400
            self._day = (day, start, end)
        return day

    async def judge(self, rule: SpendRule, spent: tuple[int, ...]) -> Verdict:
        """The verdict on a request whose reservation saw ``spent`` (per cap)."""
        day = self.day()
        p = rule.policy
        event: SwitchEvent | None = None
        tenant = rule.tenant_id
        emergency = (
            rule.tenant_cap is not None
            and p.emergency_at_micros is not None
            and rule.ended != day
            and (spent[rule.tenant_cap] >= p.emergency_at_micros or self._emergency.get(tenant) == day)
        )
        if emergency:
            if self._emergency.get(tenant) != day:
                self._remember(self._emergency, tenant, day)
                if await self._claim("spend.emergency_started", tenant, f"{tenant}:{day}"):
                    event = "spend.emergency_started"
            return Verdict(True, rule.emergency_to, event)
        was = self._emergency.get(tenant)
        if was is not None and (was != day or rule.ended == day):  # a new day, or an operator ended it
            del self._emergency[tenant]
            if await self._claim("spend.emergency_ended", tenant, f"{tenant}:{was}"):
                event = "spend.emergency_ended"
        user = rule.user_id
        if (
            user is not None
            and rule.user_cap is not None
            and p.downgrade_at_micros is not None
            and spent[rule.user_cap] >= p.downgrade_at_micros
        ):
            if self._downgraded.get((tenant, user)) != day:
                self._remember(self._downgraded, (tenant, user), day)
                if (
                    await self._claim("spend.user_downgraded", tenant, f"{tenant}:{user}:{day}")
                    and event is None
                ):
                    event = "spend.user_downgraded"
            return Verdict(False, p.downgrade_to, event)
        return Verdict(False, None, event)

    async def _claim(self, event: SwitchEvent, tenant: str, subject: str) -> bool:
        """Claim the switch (one claimer across replicas) and, if won, send its webhook event.
        Fails open: with the ledger unreachable the switch still applies, unreported."""
        try:
            won = await self._ledger.claim(f"sluice:spend:{event}:{subject}", 2 * KEEP_S)
        except StoreUnavailableError as e:
            log.warning("spend switch %s of %s not reported: %s", event, subject, e.message)
            return False
        if won:
            log.warning("%s: %s", event, subject)
            if self._emit is not None:  # the outbox is a store write: off the request path
                task = asyncio.create_task(self._emit(tenant, event, subject))
                self._sending.add(task)
                task.add_done_callback(self._sent)
        return won

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("spend switch webhook event not enqueued: %r", task.exception())

    async def close(self) -> None:
        """Wait for the events still being enqueued (at shutdown)."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=5)

    @staticmethod
    def _remember(seen: dict[_K, str], key: _K, day: str) -> None:
        if len(seen) >= _MAX_SEEN:
            seen.clear()  # bounded: many tenants and users cannot grow it forever
        seen[key] = day
