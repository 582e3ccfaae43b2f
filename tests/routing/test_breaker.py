from sluice.routing.breaker import Breaker, State
from tests.fixtures.clock import Clock


def test_opens_after_threshold_consecutive_failures() -> None:
    clock = Clock(100.0)
    b = Breaker(failure_threshold=3, open_s=10, clock=clock)
    b.record_failure()
    b.record_failure()
    b.record_success()  # resets the run
    b.record_failure()
    b.record_failure()
    assert b.state is State.CLOSED and b.allow()
    b.record_failure()
    assert b.state is State.OPEN
    assert not b.allow()


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock(100.0)
    b = Breaker(failure_threshold=1, open_s=10, clock=clock)
    b.record_failure()
    clock.now += 9.9
    assert not b.allow()
    clock.now += 0.1
    assert b.state is State.HALF_OPEN
    assert b.allow()
    assert not b.allow()  # a second caller waits for the probe's verdict


def test_probe_success_closes_and_failure_reopens() -> None:
    clock = Clock(100.0)
    b = Breaker(failure_threshold=2, open_s=5, clock=clock)
    b.record_failure()
    b.record_failure()
    clock.now += 5
    assert b.allow()
    b.record_failure()  # one failed probe is enough to open again
    assert b.state is State.OPEN
    clock.now += 5
    assert b.allow()
    b.record_success()
    assert b.state is State.CLOSED and b.allow() and b.allow()


def test_released_probe_lets_the_next_one_in() -> None:
    clock = Clock(100.0)
    b = Breaker(failure_threshold=1, open_s=1, clock=clock)
    b.record_failure()
    clock.now += 1
    assert b.allow()
    b.release_probe()
    assert b.allow()


def test_each_change_is_reported_once() -> None:
    clock = Clock(100.0)
    b = Breaker(failure_threshold=2, open_s=10, clock=clock)
    seen: list[str] = []
    b.watch(seen.append)
    b.record_success()
    b.record_failure()
    assert seen == []
    b.record_failure()
    assert seen == ["open"]
    clock.now += 10
    assert b.allow()
    b.record_failure()
    clock.now += 10
    assert b.allow()
    b.record_success()
    b.record_success()
    assert seen == ["open", "half_open", "open", "half_open", "closed"]
