"""CircuitBreaker on a fake clock: when a mirror host is skipped, and when it is tried again."""

from __future__ import annotations

import pytest

from bot.library.breaker import CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def breaker(clock: FakeClock, failures: int = 3) -> CircuitBreaker:
    return CircuitBreaker(failures=failures, cooldown=60.0, clock=clock)


def test_a_connection_failure_opens_it_at_once(clock: FakeClock) -> None:
    b = breaker(clock)
    assert b.allow()
    b.failed(at_once=True)
    assert b.state == "open"
    assert [b.allow() for _ in range(5)] == [False] * 5


def test_it_opens_after_n_consecutive_slow_failures(clock: FakeClock) -> None:
    b = breaker(clock, failures=3)
    b.failed()
    b.failed()
    assert (b.state, b.allow()) == ("closed", True)
    b.failed()
    assert (b.state, b.allow()) == ("open", False)


def test_a_success_resets_the_count(clock: FakeClock) -> None:
    b = breaker(clock, failures=3)
    for _ in range(4):
        b.failed()
        b.failed()
        b.succeeded()  # a 404 is an answer: the host is up
    assert (b.state, b.allow()) == ("closed", True)


def test_half_open_lets_one_probe_through_after_the_cooldown(clock: FakeClock) -> None:
    b = breaker(clock)
    b.failed(at_once=True)
    clock.now += 59.9
    assert not b.allow()
    clock.now += 0.1
    assert b.state == "half-open"
    assert [b.allow() for _ in range(3)] == [True, False, False]
    b.succeeded()
    assert (b.state, b.allow(), b.allow()) == ("closed", True, True)


def test_a_failed_probe_opens_it_for_another_cooldown(clock: FakeClock) -> None:
    b = breaker(clock, failures=3)
    b.failed(at_once=True)
    clock.now += 60
    assert b.allow()
    b.failed()  # one slow failure of the probe is enough
    assert (b.state, b.allow()) == ("open", False)
    clock.now += 59
    assert not b.allow()
    clock.now += 1
    assert b.allow()


def test_an_abandoned_probe_lets_the_next_request_probe(clock: FakeClock) -> None:
    b = breaker(clock)
    b.failed(at_once=True)
    clock.now += 60
    assert b.allow()
    assert not b.allow()
    b.abandoned()
    assert b.allow()


def test_late_slow_failures_do_not_extend_an_open_breaker(clock: FakeClock) -> None:
    b = breaker(clock, failures=1)
    b.failed()
    clock.now += 30
    b.failed()  # a request started before it opened times out now
    clock.now += 30
    assert b.allow()


def test_failures_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failures=0)
