"""Sliding-window rate limits: per user and per channel cooldowns for passive replies."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class RateLimit:
    """At most `rate` events per `per` seconds for each key (a user, a channel)."""

    def __init__(
        self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.per, self.clock = rate, per, clock
        self._events: dict[Hashable, deque[float]] = {}

    def _window(self, key: Hashable, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.per:
            events.popleft()
        return events

    def ready(self, key: Hashable, *, per: float | None = None) -> bool:
        """True when an event for `key` would be allowed now (nothing is recorded)."""
        if per is not None:
            self.per = per
        if self.rate <= 0 or self.per <= 0:
            return True
        return len(self._window(key, self.clock())) < self.rate

    def hit(self, key: Hashable) -> None:
        """Record an event for `key`; forget idle keys now and then."""
        now = self.clock()
        self._window(key, now).append(now)
        if len(self._events) > 50_000:
            self._events = {k: v for k, v in self._events.items() if v and now - v[-1] < self.per}
