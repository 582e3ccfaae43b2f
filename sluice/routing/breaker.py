"""A circuit breaker per deployment: closed, open, half-open."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class State(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``open_s`` lets one probe
    through (half-open): its success closes the circuit, its failure opens it again."""

    __slots__ = ("_clock", "_failures", "_notify", "_open_s", "_opened_at", "_probing", "_threshold")

    def __init__(
        self, failure_threshold: int, open_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = failure_threshold
        self._open_s = open_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._notify: tuple[Callable[[str], None], ...] = ()

    def watch(self, notify: Callable[[str], None]) -> None:
        """Also call ``notify(state)`` on every change this breaker makes (the circuit gauge, the
        circuit alert); open turning half-open with time is reported when the probe is let through."""
        self._notify = (*self._notify, notify)

    def _changed(self, state: State) -> None:
        for notify in self._notify:
            notify(state.value)

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return State.CLOSED
        if self._probing or self._clock() - self._opened_at >= self._open_s:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        """May a call go to this deployment now? In half-open, only the one probe may."""
        if self._opened_at is None:
            return True
        if self._probing or self._clock() - self._opened_at < self._open_s:
            return False
        self._probing = True
        self._changed(State.HALF_OPEN)
        return True

    def record_success(self) -> None:
        self._failures = 0
        if self._opened_at is not None:
            self._opened_at = None
            self._probing = False
            self._changed(State.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._probing = False
            self._changed(State.OPEN)

    def release_probe(self) -> None:
        """The probe ended without a verdict (the client left): let another one through."""
        self._probing = False
