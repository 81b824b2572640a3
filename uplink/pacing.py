"""Pacing: token buckets for AWS IoT Core's per-connection limits, and reconnect backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity``.

    :meth:`delay` is non-blocking: it takes the tokens and returns 0, or says how long to
    wait before they are there (taking nothing), so a single thread can keep polling its
    network connection while it waits.
    """

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(
                f"token bucket needs a positive rate and capacity, got {rate}, {capacity}"
            )
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def delay(self, cost: float) -> float:
        """Take ``cost`` tokens and return 0.0, or return the seconds until they are there.

        A cost above the capacity is allowed once the bucket is full (it then goes into
        debt), so an item larger than a second's worth is slowed down, never refused.
        """
        self._refill()
        need = min(cost, self.capacity)
        if self._tokens + 1e-9 >= need:  # float refill rounding
            self._tokens -= cost
            return 0.0
        return (need - self._tokens) / self.rate

    def refund(self, cost: float) -> None:
        """Give back tokens taken for something that was not sent after all."""
        self._tokens = min(self.capacity, self._tokens + cost)


class RateLimiter:
    """Publishes per second and bytes per second, both at once (AWS: 100/s and 512 KB/s)."""

    def __init__(
        self,
        publishes_per_s: float,
        bytes_per_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # One second of burst: a reconnecting kiosk does not flood the broker.
        self.publishes = TokenBucket(publishes_per_s, max(1.0, publishes_per_s), clock)
        self.bytes = TokenBucket(bytes_per_s, bytes_per_s, clock)

    def delay(self, nbytes: int) -> float:
        """0.0 when a message of ``nbytes`` may go now (its tokens are taken), else the wait."""
        wait = self.publishes.delay(1)
        if wait > 0:
            return wait
        wait = self.bytes.delay(nbytes)
        if wait > 0:
            self.publishes.refund(1)  # nothing was sent
        return wait


class Backoff:
    """Exponential backoff with jitter between reconnect attempts.

    The n-th wait is drawn uniformly from [d/2, d] with d = min(max_s, min_s * 2**n): a
    store full of kiosks coming back after a Wi-Fi outage does not reconnect in lockstep.
    """

    def __init__(self, min_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self.min_s = min_s
        self.max_s = max(min_s, max_s)
        self.attempts = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """The next wait in seconds (and count the attempt)."""
        ceiling = min(self.max_s, self.min_s * (2 ** min(self.attempts, 30)))
        self.attempts += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """After a successful connection: start again from ``min_s``."""
        self.attempts = 0
