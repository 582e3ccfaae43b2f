"""The batch pacer's decisions (``sluice/batch/pacing.py``), on an injected clock."""

from __future__ import annotations

from sluice.batch.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_no_interactive_traffic_lets_every_line_start_at_once() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(0, 16) == 16
    assert p.grant(0, 16) == 16  # the count did not move: still quiet
    assert p.wait_s() == 0.0


def test_while_interactive_requests_arrive_lines_start_one_at_a_time_at_the_rate() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(5, 16) == 1  # the first line after a pause starts at once
    assert p.grant(6, 16) == 0
    assert abs(p.wait_s() - 0.05) < 1e-9
    clock.now = 1000.03
    assert p.grant(7, 16) == 0 and abs(p.wait_s() - 0.02) < 1e-9
    clock.now = 1000.05
    assert p.grant(8, 16) == 1
    assert p.grant(8, 16) == 0
    clock.now = 1000.11
    assert p.grant(8, 16) == 1  # still busy: the last request started 0.1 s ago


def test_a_second_without_a_new_interactive_request_ends_the_pacing() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(1, 16) == 1
    clock.now = 1000.999
    assert p.grant(1, 16) == 1
    assert p.grant(1, 16) == 0
    clock.now = 1001.0  # a full quiet_s since request 1 started
    assert p.grant(1, 16) == 16
    assert p.grant(2, 16) == 0  # a new one: busy again, and the last paced start still counts
    clock.now = 1001.05
    assert p.grant(2, 16) == 1


def test_a_grant_with_no_line_to_run_is_given_back() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(1, 4) == 1
    p.unused()  # nothing was pending
    assert p.grant(2, 4) == 1  # so a line queued now starts at once (a lone background job)
    assert p.grant(3, 4) == 0


def test_unused_after_a_quiet_grant_changes_nothing() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(1, 4) == 1
    clock.now = 1002.0
    assert p.grant(1, 4) == 4
    p.unused()
    assert p.grant(2, 4) == 1 and p.grant(3, 4) == 0


def test_rate_zero_turns_pacing_off() -> None:
    clock = Clock()
    p = Pacer(rate=0, quiet_s=1.0, clock=clock)
    assert [p.grant(n, 8) for n in range(1, 5)] == [8, 8, 8, 8]
    assert p.wait_s() == 0.0


def test_nothing_wanted_is_nothing_granted_and_takes_no_slot() -> None:
    clock = Clock()
    p = Pacer(rate=20, quiet_s=1.0, clock=clock)
    assert p.grant(1, 0) == 0
    assert p.grant(2, 3) == 1
