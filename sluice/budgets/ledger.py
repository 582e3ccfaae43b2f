"""The ``Ledger`` protocol: reserve a request's worst case against every budget of its caller,
all or nothing, then settle the actual spend; the in-process ``MemoryLedger``; and the one function
that names every budget key: ``sluice:budget:<tenant or '-'>:<kind>:<id>:<period-id>``."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sluice.policies import Period

Metric = Literal["tokens", "cost"]

KEEP_S = 86_400
"""A period's counters outlive it by a day, for settles of requests that began before it ended."""
ONCE_KEEP_S = 7 * 86_400
"""How long a settle's ``once`` key is remembered: past any batch's completion window."""


def once_key(once: str) -> str:
    """Set once the work under ``once`` is charged."""
    return f"sluice:charged:{once}"


def held_key(once: str) -> str:
    """The reservation of the run of ``once`` now under way: ``t``, ``c`` and its ``run``."""
    return f"sluice:reserved:{once}"


def period_id(period: Period, now_s: float) -> str:
    """The UTC day (``d2026-11-24``) or month (``m2026-11``) that ``now_s`` falls in."""
    t = dt.datetime.fromtimestamp(now_s, dt.UTC)
    return f"d{t:%Y-%m-%d}" if period == "day" else f"m{t:%Y-%m}"


def period_start_s(period: Period, now_s: float) -> int:
    """When the period that ``now_s`` falls in began (Unix seconds)."""
    t = dt.datetime.fromtimestamp(now_s, dt.UTC)
    return int(dt.datetime(t.year, t.month, t.day if period == "day" else 1, tzinfo=dt.UTC).timestamp())


def period_end_s(period: Period, now_s: float) -> int:
    """When the period that ``now_s`` falls in ends (Unix seconds)."""
    t = dt.datetime.fromtimestamp(now_s, dt.UTC)
    if period == "day":
        return period_start_s(period, now_s) + 86_400
    return int(dt.datetime(t.year + t.month // 12, t.month % 12 + 1, 1, tzinfo=dt.UTC).timestamp())


def budget_key(tenant_id: str | None, kind: str, scope_id: str, period: Period, now_s: float) -> str:
    """Every budget key, here and nowhere else (static config keys have no tenant: '-')."""
    return f"sluice:budget:{tenant_id or '-'}:{kind}:{scope_id}:{period_id(period, now_s)}"


class PeriodKeys:
    """The counter keys and expiry times of a set of caps at a moment, computed once per set of
    caps and period rather than per request (formatting dates is most of a reservation's cost)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Cap, ...], tuple[float, float, list[str], list[int]]] = {}

    def at(self, caps: Sequence[Cap], now_s: float) -> tuple[list[str], list[int]]:
        """The caps' keys, and when each may be forgotten (the period's end plus ``KEEP_S``)."""
        key = tuple(caps)
        hit = self._cache.get(key)
        if hit is not None and hit[0] <= now_s < hit[1]:
            return hit[2], hit[3]
        keys = [budget_key(c.tenant_id, c.kind, c.scope_id, c.period, now_s) for c in caps]
        period_ends = [period_end_s(c.period, now_s) for c in caps]
        if len(self._cache) >= 10_000:
            self._cache.clear()  # bounded: many distinct callers cannot grow it forever
        valid_from = max(period_start_s(c.period, now_s) for c in caps) if caps else now_s
        self._cache[key] = (
            valid_from,
            min(period_ends, default=now_s),
            keys,
            [e + KEEP_S for e in period_ends],
        )
        return keys, [e + KEEP_S for e in period_ends]


@dataclass(frozen=True, slots=True)
class Cap:
    """One budget to check: a scope's token and cost caps for one period (None: no cap)."""

    tenant_id: str | None
    kind: str
    scope_id: str
    period: Period
    max_tokens: int | None
    max_cost_micros: int | None


@dataclass(frozen=True, slots=True)
class Reservation:
    """What settle corrects: the counters one reservation added to, and how much."""

    keys: tuple[str, ...]
    tokens: int
    cost_micros: int
    once: tuple[str, str] | None = None
    """(key, run): charged once per key (a batch line's), by one of its runs (its request id)."""
    spent: tuple[int, ...] = field(default=(), compare=False)
    """The micro-dollars counted under each key just before this reservation (settled spend and
    the reservations in flight), read in the same step: what spend policies compare (``spend.py``)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """The first cap (broadest scope first) the reservation would exceed; nothing was recorded."""

    cap: Cap
    metric: Metric


class Ledger(Protocol):
    """Budget counters per scope and period: in-process (``MemoryLedger``) or on Redis
    (``RedisLedger``). Both raise ``StoreUnavailableError`` when the counters cannot be reached."""

    async def reserve(
        self, caps: Sequence[Cap], tokens: int, cost_micros: int, once: tuple[str, str] | None = None
    ) -> Reservation | Refusal:
        """Only if ``tokens`` and ``cost_micros`` fit under every cap, add them to each, atomically.
        With ``once`` (key, run): the work is charged once per key whichever of its runs settles
        (a batch line run again after its process died), and a run that takes the key over
        releases the reservation an earlier run left unsettled (its process is gone)."""
        ...

    async def settle(
        self, reservation: Reservation, tokens: int, cost_micros: int
    ) -> list[tuple[int, int]] | None:
        """Replace the reserved amounts with the actual ones (the rest is released); under a
        ``once`` key charged already, release the whole reservation and charge nothing. Returns
        the tokens and micro-dollars counted under each of the reservation's keys afterwards, as
        the same call saw them ((0, 0) for a key gone), or None when nothing had to change (the
        reservation was exact): what budget alerts compare with the caps, at no extra cost."""
        ...

    async def used(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        """The tokens and micro-dollars counted under each of ``keys`` (``budget_key``), (0, 0)
        where nothing is: read by the budget gauges when ``/metrics`` is scraped."""
        ...

    async def claim(self, key: str, ttl_s: int) -> bool:
        """True for the one caller, across every process sharing the ledger, that claims ``key``
        first within ``ttl_s``: one switch of a spend policy is one event, whichever replica saw it."""
        ...

    async def close(self) -> None: ...


def refusal(
    caps: Sequence[Cap], used: Sequence[tuple[int, int]], tokens: int, cost_micros: int
) -> Refusal | None:
    """The first cap that ``tokens`` and ``cost_micros`` on top of ``used`` (per cap) would exceed."""
    for cap, (used_tokens, used_micros) in zip(caps, used, strict=True):
        if cap.max_tokens is not None and used_tokens + tokens > cap.max_tokens:
            return Refusal(cap, "tokens")
        if cap.max_cost_micros is not None and used_micros + cost_micros > cap.max_cost_micros:
            return Refusal(cap, "cost")
    return None


class MemoryLedger:
    """A ``Ledger`` in this process (several workers on one host each enforce the whole budget).
    Nothing here awaits, so each call is atomic on the event loop. ``clock`` gives Unix seconds."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._spent: dict[str, list[int]] = {}
        """Key -> [tokens, micros]."""
        self._ends: dict[str, float] = {}
        """Key -> when it may be forgotten."""
        self._sweep_at = 0.0
        self._keys = PeriodKeys()

    async def reserve(
        self, caps: Sequence[Cap], tokens: int, cost_micros: int, once: tuple[str, str] | None = None
    ) -> Reservation | Refusal:
        """``once``'s hand-over of an unsettled reservation is not needed here: the counters die
        with the process whose runs would have left one."""
        now = self._clock()
        if now >= self._sweep_at:
            self._sweep(now)
        keys, ends = self._keys.at(caps, now)
        used = [(s[0], s[1]) for s in (self._spent.get(k, (0, 0)) for k in keys)]
        refused = refusal(caps, used, tokens, cost_micros)
        if refused is not None:
            return refused
        for key, end in zip(keys, ends, strict=True):
            spent = self._spent.get(key)
            if spent is None:
                spent = self._spent[key] = [0, 0]
                self._ends[key] = end
            spent[0] += tokens
            spent[1] += cost_micros
        return Reservation(tuple(keys), tokens, cost_micros, once, tuple(u[1] for u in used))

    async def settle(
        self, reservation: Reservation, tokens: int, cost_micros: int
    ) -> list[tuple[int, int]] | None:
        if reservation.once is not None and (tokens or cost_micros):  # nothing served: nothing to mark
            key = once_key(reservation.once[0])
            if key in self._ends:
                tokens = cost_micros = 0  # charged by an earlier run: release this reservation
            else:
                self._ends[key] = self._clock() + ONCE_KEEP_S
        used = []
        for key in reservation.keys:
            spent = self._spent.get(key)
            if spent is not None:
                spent[0] += tokens - reservation.tokens
                spent[1] += cost_micros - reservation.cost_micros
                used.append((spent[0], spent[1]))
            else:
                used.append((0, 0))
        return used

    async def used(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        return [(s[0], s[1]) for s in (self._spent.get(k, (0, 0)) for k in keys)]

    async def claim(self, key: str, ttl_s: int) -> bool:
        now = self._clock()
        if self._ends.get(key, 0) > now:
            return False
        self._ends[key] = now + ttl_s  # swept like a ``once`` key
        return True

    async def close(self) -> None:
        """Nothing to release: the counters live and die with the process."""

    def _sweep(self, now: float) -> None:
        """Once a minute, forget the counters of periods that ended over a day ago."""
        self._sweep_at = now + 60
        for key in [k for k, end in self._ends.items() if end <= now]:
            del self._ends[key]
            self._spent.pop(key, None)  # a ``once`` key has no counters
