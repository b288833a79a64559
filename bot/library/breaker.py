"""A circuit breaker for one mirror host: skip a host that is down instead of waiting on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Closed: requests go through. Open: the host is skipped until `cooldown` seconds pass.

    Then half-open: one request (the probe) goes through; its success closes the breaker, its
    failure opens it again. A connection failure opens the breaker at once; `failures`
    consecutive slow failures (timeouts, missed deadlines) open it too. Any answer from the host
    (a 404 included) is a success.
    """

    def __init__(
        self,
        *,
        failures: int = 3,
        cooldown: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._count = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> State:
        """The state now (an open breaker whose cooldown has passed is half-open)."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May a request go to the host now? In half-open state, True once: for the probe."""
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._probing:
            self._probing = True
            return True
        return False

    def succeeded(self) -> None:
        """The host answered: close the breaker."""
        self._count = 0
        self._opened_at = None
        self._probing = False

    def failed(self, *, at_once: bool = False) -> None:
        """A slow failure (`at_once`: a connection failure, which opens the breaker at once)."""
        if self._probing or at_once:
            self._open()
            return
        if self._opened_at is not None:
            return  # already open: a late failure of an earlier request changes nothing
        self._count += 1
        if self._count >= self.failures:
            self._open()

    def abandoned(self) -> None:
        """A request ended without telling anything about the host (cancelled): free the probe."""
        self._probing = False

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._probing = False
        self._count = 0
