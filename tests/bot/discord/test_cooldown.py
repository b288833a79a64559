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
