"""Sliding-window rate limits: per user and per channel cooldowns for passive replies."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class RateLimit:
    """At most `rate` events per `per` seconds for each key (a user, a channel).

    `per` may be given per call (a guild's own cooldown); it never changes other keys' windows.
    """

    def __init__(
        self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.per, self.clock = rate, per, clock
        self._events: dict[Hashable, deque[float]] = {}
        self._refused: dict[Hashable, float] = {}
        """The window (its oldest event) in which each key was last refused."""
        self._longest = per

    def _window(self, key: Hashable, now: float, per: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= per:
            events.popleft()
        return events

    def ready(self, key: Hashable, *, per: float | None = None) -> bool:
        """True when an event for `key` would be allowed now (nothing is recorded)."""
        per = self.per if per is None else per
        if self.rate <= 0 or per <= 0:
            return True
        return len(self._window(key, self.clock(), per)) < self.rate

    def first_refusal(self, key: Hashable, *, per: float | None = None) -> bool:
        """True when `key` is held back now for the first time in its current window (the one
        its oldest recorded event opened); later calls in that window give False."""
        per = self.per if per is None else per
        if self.rate <= 0 or per <= 0:
            return False
        events = self._window(key, self.clock(), per)
        if len(events) < self.rate or self._refused.get(key) == events[0]:
            return False
        self._refused[key] = events[0]
        return True

    def hit(self, key: Hashable, *, per: float | None = None) -> None:
        """Record an event for `key`; forget idle keys now and then."""
        per = self.per if per is None else per
        self._longest = max(self._longest, per)
        now = self.clock()
        events = self._window(key, now, per)
        events.append(now)
        while len(events) > max(self.rate, 1):  # only the last `rate` events matter
            events.popleft()
        if len(self._events) > 50_000:
            self._events = {
                k: v for k, v in self._events.items() if v and now - v[-1] < self._longest
            }
            self._refused = {k: v for k, v in self._refused.items() if k in self._events}
