"""The dashboards' reader: one :class:`DashboardSnapshot` per refresh, read off the UI thread.

:class:`DashboardsReader` is plain Python (no Qt). The dashboards page runs
:meth:`DashboardsReader.read` through the kiosk's :class:`~kiosk.tasks.TaskRunner` on a lane
of its own and draws what comes back on the UI thread. Redis
(:class:`storage.redis_counters.LiveCounters`) serves the live counters when it is up; SQLite
serves the rest, and everything when Redis is away: the day views from the writer's rollups
and the rate window by ``seq`` (:class:`storage.queries.StatsReader`), a few hundred rows per
refresh, in a child process at a lower priority (:mod:`kiosk.admin.statsprocess` says why).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kiosk.admin.statsprocess import StatsProcess
from settings.model import RedisSection
from storage.queries import DayViews
from storage.redis_counters import LiveCounters
from storage.rollups import local_day

log = logging.getLogger(__name__)

#: The product-rate window the dashboards show (ten minutes, one-second buckets).
RATE_WINDOW_S = 600
#: How many products the rate chart draws as lines (the rest would be unreadable).
RATE_LINES = 5
#: Seconds in the moving average of the rate chart, and between two of its points: a 15 s
#: average has nothing a point every 3 s would miss, and a third of the points is a third of
#: the drawing (five wide lines of 601 points took 8 ms of software rendering).
SMOOTH_S = 15
RATE_STEP_S = 3
#: Pairs the dashboards list, and the share of shoppers a pair needs to be listed.
PAIRS_SHOWN = 12
PAIRS_MIN_SUPPORT = 0.01
#: After Redis was found away, how long before it is asked again (not every second).
REDIS_RETRY_S = 10.0


@dataclass
class ProductTrend:
    """One product's interactions over the window, and how fast they change."""

    sku: str
    times: list[float]
    counts: list[int]
    last_minute: int
    previous_minute: int
    #: Interactions per second, one value per :data:`RATE_STEP_S` seconds of the window
    #: (oldest first), as a :data:`SMOOTH_S` moving average: what the rate chart draws.
    smooth: list[float] = field(default_factory=list)

    @property
    def velocity(self) -> int:
        """Change of interactions per minute, last minute against the one before."""
        return self.last_minute - self.previous_minute


@dataclass
class DashboardSnapshot:
    """Everything the dashboards draw, from one refresh."""

    source: str = "none"  # "redis", "sqlite" or "none"
    error: str | None = None
    now: float = field(default_factory=time.time)
    trends: list[ProductTrend] = field(default_factory=list)
    top: list[tuple[str, float]] = field(default_factory=list)
    products_seen: int = 0
    funnel: dict[str, int] | None = None
    dwell: tuple[list[float], list[int]] | None = None
    pairs: list[tuple[str, str, float, float]] | None = None
    traffic: list[tuple[int, int, int]] | None = None
    events_today: int | None = None
    unique_sessions: int | None = None
    #: The local day of the day views (``YYYY-MM-DD``); the rate chart covers the last
    #: :data:`RATE_WINDOW_S`.
    day: str | None = None
    #: Events the day views do not count yet (the rollups of an older database being built).
    backlog: int = 0
    took_s: float = 0.0


def smooth_rate(times: list[float], counts: list[int], now: float) -> list[float]:
    """The window ending at ``now`` as a :data:`SMOOTH_S` moving average of the per-second
    counts (zeros where nothing happened), one value every :data:`RATE_STEP_S` seconds from
    the window's start to ``now``: per-second counts of one product are mostly 0 or 1, an
    average reads as a rate where the raw counts read as a bar code."""
    start = int(now) - RATE_WINDOW_S
    per_second = np.zeros(RATE_WINDOW_S + 1)
    for t, c in zip(times, counts, strict=True):
        slot = int(t) - start
        if 0 <= slot <= RATE_WINDOW_S:
            per_second[slot] += c
    smooth = np.convolve(per_second, np.ones(SMOOTH_S) / SMOOTH_S, mode="same")
    return [float(v) for v in smooth[::RATE_STEP_S]]


def trends_from_rates(
    rates: list[tuple[float, str, int]], now: float, lines: int = RATE_LINES
) -> tuple[list[ProductTrend], int]:
    """From ``(bucket, sku, count)`` rows: the ``lines`` busiest products over the window,
    with per-minute velocity and the smoothed rate; and how many products there were."""
    per_sku: dict[str, dict[float, int]] = {}
    for bucket, sku, count in rates:
        series = per_sku.setdefault(sku, {})
        series[float(bucket)] = series.get(float(bucket), 0) + int(count)
    totals = sorted(per_sku, key=lambda s: (-sum(per_sku[s].values()), s))
    trends = []
    for sku in totals[:lines]:
        series = per_sku[sku]
        times = sorted(series)
        counts = [series[t] for t in times]
        last = sum(c for t, c in series.items() if now - 60 <= t <= now)
        previous = sum(c for t, c in series.items() if now - 120 <= t < now - 60)
        smooth = smooth_rate(times, counts, now)
        trends.append(ProductTrend(sku, times, counts, last, previous, smooth))
    return trends, len(per_sku)


def top_share(
    rows: list[tuple[str, float]], share: float = 0.1, cap: int = 8
) -> list[tuple[str, float]]:
    """The top ``share`` of products (at least one, at most ``cap``), busiest first."""
    if not rows:
        return []
    keep = max(1, min(cap, math.ceil(len(rows) * share)))
    return sorted(rows, key=lambda r: (-r[1], r[0]))[:keep]


class DashboardsReader:
    """Reads the dashboards' figures from ``database`` (and Redis, when ``redis`` is on).

    Lifecycle: :meth:`read` on one worker thread at a time (the page's task lane); it opens
    the SQLite reader's child process on first use and after a failure. :meth:`close` (any
    thread) ends it; the next :meth:`read` opens it again. :meth:`read` never raises for a
    failed read: the snapshot's ``error`` says what failed.
    """

    def __init__(self, database: Path, redis: RedisSection | None = None) -> None:
        self.database = Path(database)
        self._redis = redis if redis is not None and redis.enabled else None
        self._lock = threading.Lock()
        self._stats: StatsProcess | None = None
        self._live: LiveCounters | None = None
        self._live_checked = -math.inf
        self._shut = False

    def read(self) -> DashboardSnapshot:
        """One refresh's figures (blocking: call it off the UI thread)."""
        started = time.perf_counter()
        snap = DashboardSnapshot()
        try:
            self._fill(snap)
        except Exception as exc:
            log.warning("admin dashboards: %s", exc)
            snap.error = f"cannot read the statistics: {exc}"
            self._close_stats()
        snap.took_s = time.perf_counter() - started
        return snap

    def close(self) -> None:
        """End the SQLite reader's child and the Redis connection (reopened on demand)."""
        self._close_stats()
        self._close_live()

    def shutdown(self) -> None:
        """End them for good (the kiosk stops): a read still on its way opens nothing again
        and says the reader was shut down."""
        with self._lock:
            self._shut = True
        self.close()

    def _close_live(self) -> None:
        with self._lock:
            live, self._live = self._live, None
        _close_quietly(live, "the live counters")

    def reader_niceness(self) -> int:
        """The nice value of the SQLite reader's child process (blocking; off the UI thread)."""
        return self._open_stats().niceness()

    def _fill(self, snap: DashboardSnapshot) -> None:
        now = snap.now = time.time()
        stats = self._open_stats()
        live = self._counters()
        snap.day = local_day(now)
        day = stats.day_views(snap.day, min_support=PAIRS_MIN_SUPPORT, pairs_limit=PAIRS_SHOWN)
        top: list[tuple[str, float]] = [(sku, float(n)) for sku, n in day.top]
        if live is not None:
            snap.source = "redis"
            rates = live.product_rate(window_s=RATE_WINDOW_S)
            top = live.top_products(n=1000)
            snap.unique_sessions = live.unique_sessions_today()
        else:
            snap.source = "sqlite"
            rates = stats.recent_rates(window_s=RATE_WINDOW_S, now=now, busiest=RATE_LINES)
            snap.unique_sessions = day.shoppers
        snap.trends, _ = trends_from_rates(rates, now)
        snap.products_seen = len(top)
        snap.top = top_share(top)
        self._fill_day(snap, day)

    @staticmethod
    def _fill_day(snap: DashboardSnapshot, day: DayViews) -> None:
        snap.funnel = day.funnel
        snap.dwell = day.dwell
        snap.pairs = day.pairs
        snap.traffic = day.traffic
        snap.events_today = day.events
        snap.backlog = day.backlog

    def _open_stats(self) -> StatsProcess:
        with self._lock:
            if self._shut:
                raise RuntimeError("the dashboards' reader was shut down")
            if self._stats is None:
                self._stats = StatsProcess(self.database)
            return self._stats

    def _close_stats(self) -> None:
        with self._lock:
            stats, self._stats = self._stats, None
        _close_quietly(stats, "the statistics reader")

    def _counters(self) -> LiveCounters | None:
        if self._redis is None:
            return None
        if self._live is None:
            now = time.monotonic()
            if now - self._live_checked < REDIS_RETRY_S:
                return None  # Redis was away a moment ago: do not wait on it every second
            self._live_checked = now
            try:
                self._live = LiveCounters(self._redis)
            except Exception as exc:
                log.info("admin dashboards: no live counters (%s)", exc)
                return None
        try:
            if self._live.available():
                return self._live
        except Exception as exc:
            log.info("admin dashboards: Redis unavailable (%s)", exc)
        return None


def _close_quietly(reader: StatsProcess | LiveCounters | None, what: str) -> None:
    """Close ``reader``; a failure to close one that is being let go is logged, not raised."""
    if reader is None:
        return
    try:
        reader.close()
    except Exception as exc:
        log.info("admin dashboards: closing %s failed (%s)", what, exc)
