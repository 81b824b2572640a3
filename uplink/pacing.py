"""Pacing: AWS IoT Core's per-connection limits at every instant, and reconnect backoff."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

#: The window the limits hold in: a second, and a margin for the network. A broker counts
#: what arrives; a message held up on the way and one sent after it on time arrive closer
#: together than they left, so every window of this length on the kiosk's clock holds at
#: most a second's allowance, and any second at the broker then does too unless the delays
#: of two messages differ by more than the margin (0.2 s). The sustained rate is thus 1/1.2
#: of the configured limits (80 publishes/s and 400 KB/s by default: 66/s and 333 KB/s).
WINDOW_S = 1.2
#: MQTT's bytes around a PUBLISH payload beyond the topic: fixed header (up to 5 bytes),
#: topic length (2) and packet id (2). The byte limit counts whole packets.
PUBLISH_OVERHEAD = 9


def publish_bytes(topic: str, payload: bytes) -> int:
    """The size of the PUBLISH packet carrying ``payload`` on ``topic``, at most."""
    return len(payload) + len(topic.encode("utf-8")) + PUBLISH_OVERHEAD


class RateLimiter:
    """At most ``publishes_per_s`` publishes and ``bytes_per_s`` bytes in EVERY window of
    :data:`WINDOW_S` seconds (AWS IoT Core allows 100 publishes and 512 KB per second and
    connection), including the first one after a connect: a sliding log of what was sent,
    not a token bucket (whose full bucket lets a second's worth go at once on top of the
    second's own allowance).

    :meth:`delay` is non-blocking: it takes the room and returns 0, or says how long to
    wait before there is room (taking nothing), so one thread can keep polling its network
    connection while it waits. A message larger than ``bytes_per_s`` goes alone, once the
    window is empty (never refused: the config keeps messages below the byte limit).
    """

    def __init__(
        self,
        publishes_per_s: float,
        bytes_per_s: float,
        clock: Callable[[], float] = time.monotonic,
        window_s: float = WINDOW_S,
    ) -> None:
        if publishes_per_s <= 0 or bytes_per_s <= 0:
            raise ValueError(
                f"rate limits must be positive, got {publishes_per_s}/s and {bytes_per_s} B/s"
            )
        self.max_publishes = max(1, int(publishes_per_s))
        self.max_bytes = bytes_per_s
        self.window_s = window_s
        self._clock = clock
        #: (time, bytes) of each publish still inside the window, oldest first.
        self._sent: deque[tuple[float, int]] = deque()
        self._bytes = 0

    def delay(self, nbytes: int) -> float:
        """0.0 when a publish of ``nbytes`` may go now (its room is taken), else the wait."""
        now = self._clock()
        sent = self._sent
        horizon = now - self.window_s
        while sent and sent[0][0] <= horizon:
            self._bytes -= sent.popleft()[1]
        wait = 0.0
        if len(sent) >= self.max_publishes:
            # the publish that must leave the window first
            wait = sent[len(sent) - self.max_publishes][0] - horizon
        excess = self._bytes + nbytes - self.max_bytes
        if excess > 0 and sent:
            freed = 0
            leaves = sent[-1][0]
            for at, size in sent:
                freed += size
                if freed >= excess:
                    leaves = at
                    break
            wait = max(wait, leaves - horizon)
        if wait > 0:
            return wait
        sent.append((now, nbytes))
        self._bytes += nbytes
        return 0.0


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
