"""bot.discord.cooldown: sliding windows per key; a per-call window leaves other keys alone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.cooldown import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_event_per_window_per_key() -> None:
    clock = Clock()
    limit = RateLimit(1, 5.0, clock=clock)
    assert limit.ready("ann")
    limit.hit("ann")
    assert not limit.ready("ann") and limit.ready("bob")
    clock.now += 4.9
    assert not limit.ready("ann")
    clock.now += 0.1
    assert limit.ready("ann")


def test_a_short_window_elsewhere_does_not_shorten_a_long_one() -> None:
    clock = Clock()
    limit = RateLimit(1, 5.0, clock=clock)
    limit.hit(("guild-a", 1), per=60.0)
    assert limit.ready(("guild-b", 1), per=0.0)  # cooldown off in guild B
    limit.hit(("guild-b", 1), per=0.0)
    clock.now += 30
    assert not limit.ready(("guild-a", 1), per=60.0)
    clock.now += 30
    assert limit.ready(("guild-a", 1), per=60.0)


def test_the_first_refusal_of_each_window_is_told_once() -> None:
    clock = Clock()
    limit = RateLimit(1, 5.0, clock=clock)
    assert not limit.first_refusal("ann")  # not held back
    limit.hit("ann")
    assert [limit.first_refusal("ann") for _ in range(3)] == [True, False, False]
    assert not limit.first_refusal("bob")
    clock.now += 4.9
    assert not limit.first_refusal("ann")  # the same window
    clock.now += 0.1
    assert limit.ready("ann") and not limit.first_refusal("ann")  # over: not held back
    limit.hit("ann")
    clock.now += 1
    assert limit.first_refusal("ann")  # a new window
    limit.hit(("guild", 1), per=60.0)
    clock.now += 30
    assert limit.first_refusal(("guild", 1), per=60.0)


def test_a_channel_window_is_refused_once_until_an_event_leaves_it() -> None:
    clock = Clock()
    limit = RateLimit(2, 10.0, clock=clock)
    limit.hit("c")
    clock.now += 1
    limit.hit("c")
    assert limit.first_refusal("c") and not limit.first_refusal("c")
    clock.now += 9  # the first event leaves the window: room for one more
    assert limit.ready("c")
    limit.hit("c")
    assert limit.first_refusal("c")


@settings(max_examples=50, deadline=None)
@given(
    rate=st.integers(1, 5),
    per=st.floats(0.5, 100),
    gaps=st.lists(st.floats(0, 50), min_size=1, max_size=60),
)
def test_never_more_than_rate_events_in_any_window(
    rate: int, per: float, gaps: list[float]
) -> None:
    clock = Clock()
    limit = RateLimit(rate, per, clock=clock)
    allowed: list[float] = []
    for gap in gaps:
        clock.now += gap
        if limit.ready("k"):
            limit.hit("k")
            allowed.append(clock.now)
    for i, start in enumerate(allowed):
        inside = [t for t in allowed[i:] if t - start < per]
        assert len(inside) <= rate
    assert allowed[0] == 1000.0 + gaps[0]


def test_a_rate_of_zero_or_a_window_of_zero_never_holds_back() -> None:
    clock = Clock()
    for limit in (RateLimit(0, 5.0, clock=clock), RateLimit(1, 0.0, clock=clock)):
        for _ in range(3):
            limit.hit("ann")
        assert limit.ready("ann") and not limit.first_refusal("ann")


def test_a_per_call_window_is_kept_by_the_hits_that_use_it() -> None:
    clock = Clock()
    limit = RateLimit(2, 10.0, clock=clock)
    limit.hit("ann", per=100.0)
    clock.now += 50
    limit.hit("ann", per=100.0)  # the first event is still inside the 100 s window
    clock.now += 10
    assert not limit.ready("ann", per=100.0)
    clock.now += 40  # the first event leaves it
    assert limit.ready("ann", per=100.0)


def test_idle_keys_are_forgotten_once_more_than_50000_are_known() -> None:
    clock = Clock()
    limit = RateLimit(2, 10.0, clock=clock)
    limit.hit(0)
    limit.hit(0)
    assert limit.first_refusal(0)
    for n in range(1, 49_999):
        limit.hit(n)
    clock.now += 10.0  # one whole window later: all of them are idle
    limit.hit("ann")
    assert len(limit._events) == 50_000 and 0 in limit._refused  # nothing forgotten yet
    limit.hit("bob")
    assert set(limit._events) == {"ann", "bob"} and limit._refused == {}


def test_forgetting_idle_keys_keeps_a_key_inside_its_longer_window() -> None:
    clock = Clock()
    limit = RateLimit(1, 10.0, clock=clock)
    limit.hit("slow", per=100.0)
    for n in range(50_000):
        limit.hit(n)
    clock.now += 50.0
    limit.hit("ann")  # more than 50,000 keys: the idle ones go, "slow" is still held back
    assert not limit.ready("slow", per=100.0)


def test_a_window_under_a_second_tells_its_first_refusal() -> None:
    clock = Clock()
    limit = RateLimit(1, 0.5, clock=clock)
    limit.hit("ann")
    assert limit.first_refusal("ann") and not limit.first_refusal("ann")


def test_only_the_last_rate_events_open_the_window() -> None:
    clock = Clock()
    limit = RateLimit(1, 10.0, clock=clock)
    limit.hit("ann")
    clock.now += 5
    limit.hit("ann")  # recorded although held back: the window now runs from here
    clock.now += 1
    assert limit.first_refusal("ann")
    clock.now += 5  # the first event has left; the second still holds "ann" back
    assert not limit.ready("ann") and not limit.first_refusal("ann")
