"""Live counters for the dashboards, read from Redis (see :mod:`storage.redis_mirror` for the
keys)."""

from __future__ import annotations

import logging
import time
from typing import cast

import redis

from settings.model import RedisSection
from storage.event import JsonObject
from storage.redis_mirror import connect, day_key, decode_presence

log = logging.getLogger(__name__)


class LiveCounters:
    """Per-second product counts, velocity, top products, unique sessions, presence."""

    def __init__(self, section: RedisSection) -> None:
        self.section = section
        self.prefix = section.key_prefix
        self.client = connect(section)

    def available(self) -> bool:
        """True when Redis answers a PING."""
        try:
            return bool(self.client.ping())
        except (redis.RedisError, OSError):
            return False

    def product_rate(self, window_s: float = 600) -> list[tuple[float, str, int]]:
        """(second, sku, interactions) for the last ``window_s`` seconds."""
        now = int(time.time())
        seconds = list(range(now - int(window_s), now + 1))
        pipe = self.client.pipeline(transaction=False)
        for second in seconds:
            pipe.hgetall(f"{self.prefix}:rate:{second}")
        out: list[tuple[float, str, int]] = []
        for second, counts in zip(seconds, pipe.execute(), strict=True):
            for sku, n in sorted(counts.items()):
                out.append((float(second), sku.decode(), int(n)))
        return out

    def velocity(self, sku: str, window_s: float = 60) -> list[tuple[float, int]]:
        """(second, max(0, count - previous second's count)) for one product."""
        now = int(time.time())
        seconds = list(range(now - int(window_s) - 1, now + 1))
        pipe = self.client.pipeline(transaction=False)
        for second in seconds:
            pipe.hget(f"{self.prefix}:rate:{second}", sku)
        counts = [int(v or 0) for v in pipe.execute()]
        return [
            (float(seconds[i]), max(0, counts[i] - counts[i - 1])) for i in range(1, len(seconds))
        ]

    def top_products(self, n: int = 10) -> list[tuple[str, float]]:
        """Today's (local day) products with the most interactions."""
        rows = cast(
            list[tuple[bytes, float]],
            self.client.zrevrange(
                f"{self.prefix}:top:{day_key(time.time())}", 0, n - 1, withscores=True
            ),
        )
        return [(sku.decode(), float(score)) for sku, score in rows]

    def unique_sessions_today(self) -> int:
        """Distinct sessions today (HyperLogLog estimate, exact for small numbers)."""
        return int(self.client.pfcount(f"{self.prefix}:sessions:{day_key(time.time())}"))

    def presence(self) -> JsonObject | None:
        """The last presence.change payload (zone, people, ...) plus ``ts``, or None."""
        raw = cast(dict[bytes, bytes], self.client.hgetall(f"{self.prefix}:presence"))
        return decode_presence(raw)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
