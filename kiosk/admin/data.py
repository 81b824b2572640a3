"""Every read the admin panel makes, on one worker thread, never on the UI thread.

The panel asks (:meth:`AdminData.request_status`, :meth:`AdminData.request_dashboards`) and
gets plain snapshots back through queued signals. A request made while the previous one is
still running is dropped, so a slow database makes the dashboards refresh less often, never
makes requests pile up. Redis (``storage.redis_counters.LiveCounters``) serves the live
counters when it is up; SQLite (``storage.queries.StatsReader``, in a child process:
:mod:`kiosk.admin.statsprocess`) serves the rest, and everything when Redis is away.
"""

from __future__ import annotations

import atexit
import logging
import math
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from kiosk.admin.statsprocess import StatsProcess
from kiosk.services import KioskServices
from storage.redis_counters import LiveCounters

log = logging.getLogger(__name__)

#: The product-rate window the dashboards show (ten minutes, one-second buckets).
RATE_WINDOW_S = 600
#: How many products the rate chart draws as lines (the rest would be unreadable).
RATE_LINES = 5


@dataclass
class StatusSnapshot:
    """What the status page shows that needs I/O: storage health, uplink status, memory."""

    storage: Any | None = None
    storage_error: str | None = None
    uplink: Any | None = None
    uplink_error: str | None = None
    memory_rss: int = 0
    memory_total: int = 0
    taken_at: float = field(default_factory=time.time)


@dataclass
class ProductTrend:
    """One product's interactions over the window, and how fast they change."""

    sku: str
    times: list[float]
    counts: list[int]
    last_minute: int
    previous_minute: int

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
    #: Start of the period of the day's views (top, funnel, dwell, pairs, traffic): local
    #: midnight, epoch seconds. The rate chart covers the last :data:`RATE_WINDOW_S`.
    since: float | None = None
    took_s: float = 0.0


def start_of_day(now: float) -> float:
    """Local midnight before ``now`` (epoch seconds): where "today" starts, DST included."""
    day = time.localtime(now)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


def trends_from_rates(
    rates: list[tuple[float, str, int]], now: float, lines: int = RATE_LINES
) -> tuple[list[ProductTrend], int]:
    """Per-product series from ``(bucket, sku, count)`` rows: the ``lines`` busiest
    products over the window, with per-minute velocity; and how many products there were."""
    per_sku: dict[str, dict[float, int]] = {}
    for bucket, sku, count in rates:
        series = per_sku.setdefault(sku, {})
        series[float(bucket)] = series.get(float(bucket), 0) + int(count)
    totals = sorted(per_sku, key=lambda s: (-sum(per_sku[s].values()), s))
    trends = []
    for sku in totals[:lines]:
        series = per_sku[sku]
        times = sorted(series)
        last = sum(c for t, c in series.items() if now - 60 <= t <= now)
        previous = sum(c for t, c in series.items() if now - 120 <= t < now - 60)
        trends.append(ProductTrend(sku, times, [series[t] for t in times], last, previous))
    return trends, len(per_sku)


def top_share(
    rows: list[tuple[str, float]], share: float = 0.1, cap: int = 8
) -> list[tuple[str, float]]:
    """The top ``share`` of products (at least one, at most ``cap``), busiest first."""
    if not rows:
        return []
    keep = max(1, min(cap, math.ceil(len(rows) * share)))
    return sorted(rows, key=lambda r: (-r[1], r[0]))[:keep]


class _Worker(QObject):
    """Lives on the data thread; owns the database and Redis readers."""

    statusReady = Signal(object)
    dashboardsReady = Signal(object)

    def __init__(self, services: KioskServices) -> None:
        super().__init__()
        self._services = services
        self._reader: StatsProcess | None = None
        self._live: LiveCounters | None = None
        self._live_checked = 0.0
        self._heavy: dict[str, Any] = {}
        self._heavy_at = 0.0
        self._heavy_cost = 0.0

    def _database(self) -> Path:
        log_obj = self._services.event_log
        database = getattr(log_obj, "database", None) if log_obj is not None else None
        if database is None:
            database = self._services.config.storage.database
        if database is None:
            raise RuntimeError("no database configured ([storage] database)")
        return Path(database)

    def _stats(self) -> StatsProcess:
        if self._reader is None:
            self._reader = StatsProcess(self._database())
        return self._reader

    def _counters(self) -> LiveCounters | None:
        config = self._services.config
        if not config.redis.enabled:
            return None
        if self._live is None:
            now = time.monotonic()
            if now - self._live_checked < 10.0:
                return None  # Redis was away a moment ago: do not wait on it every second
            self._live_checked = now
            try:
                self._live = LiveCounters(config.redis)
            except Exception as exc:
                log.info("admin dashboards: no live counters (%s)", exc)
                return None
        try:
            if self._live.available():
                return self._live
        except Exception as exc:
            log.info("admin dashboards: Redis unavailable (%s)", exc)
        return None

    @Slot()
    def status(self) -> None:
        """Read storage health, uplink status and memory; emit a :class:`StatusSnapshot`."""
        snap = StatusSnapshot()
        if self._services.event_log is not None:
            try:
                snap.storage = self._services.event_log.health()
            except Exception as exc:
                snap.storage_error = f"storage health failed: {exc}"
        if self._services.uplink is not None:
            try:
                snap.uplink = self._services.uplink.status()
            except Exception as exc:
                snap.uplink_error = f"uplink status failed: {exc}"
        try:
            snap.memory_rss = psutil.Process().memory_info().rss
            snap.memory_total = psutil.virtual_memory().total
        except psutil.Error:
            pass
        self.statusReady.emit(snap)

    @Slot()
    def dashboards(self) -> None:
        """Run the dashboard queries; emit a :class:`DashboardSnapshot`."""
        started = time.perf_counter()
        snap = DashboardSnapshot()
        try:
            self._fill(snap)
        except Exception as exc:
            log.warning("admin dashboards: %s", exc)
            snap.error = f"cannot read the statistics: {exc}"
            self._close_reader()
        snap.took_s = time.perf_counter() - started
        self.dashboardsReady.emit(snap)

    def _fill(self, snap: DashboardSnapshot) -> None:
        now = time.time()
        snap.now = now
        live = self._counters()
        stats = self._stats()
        today = start_of_day(now)
        snap.since = today
        if live is not None:
            snap.source = "redis"
            rates = live.product_rate(window_s=RATE_WINDOW_S)
            top: list[tuple[str, float]] | None = live.top_products(n=1000)  # today's
            snap.unique_sessions = live.unique_sessions_today()
        else:
            snap.source = "sqlite"
            rates = stats.product_rate(window_s=RATE_WINDOW_S, bucket_s=1, now=now)
            top = None  # a scan of today's log: with the other whole-day views below
        snap.trends, _ = trends_from_rates(rates, now)
        # The day's views cost a scan of today's log: refresh them every second while they
        # are cheap, less often (four times their cost) when the log is large, and at once
        # when the day changes or SQLite has to stand in for Redis.
        mono = time.monotonic()
        if (
            not self._heavy
            or self._heavy.get("since") != today
            or (top is None and "top" not in self._heavy)
            or mono - self._heavy_at >= max(1.0, 4 * self._heavy_cost)
        ):
            began = time.perf_counter()
            heavy: dict[str, Any] = {
                "since": today,
                "funnel": stats.funnel(since=today),
                "dwell": stats.dwell_histogram(bins=12, since=today),
                "pairs": stats.pairs(min_support=0.01, limit=12, since=today),
                "traffic": stats.traffic_by_hour(since=today),
                "events_today": stats.events_today(),
            }
            if top is None:
                heavy["top"] = [
                    (sku, float(n)) for sku, n in stats.top_products(n=1000, since=today)
                ]
            self._heavy = heavy
            self._heavy_cost = time.perf_counter() - began
            self._heavy_at = mono
        if top is None:
            top = self._heavy["top"]
        snap.products_seen = len(top)
        snap.top = top_share(top)
        snap.funnel = self._heavy["funnel"]
        snap.dwell = self._heavy["dwell"]
        snap.pairs = self._heavy["pairs"]
        snap.traffic = self._heavy["traffic"]
        snap.events_today = self._heavy["events_today"]

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:
                log.debug("closing the stats reader failed", exc_info=True)
            self._reader = None
        self._heavy = {}

    @Slot()
    def close(self) -> None:
        """Close the readers (on the data thread, which opened them)."""
        self._close_reader()
        if self._live is not None:
            try:
                self._live.close()
            except Exception:
                log.debug("closing the live counters failed", exc_info=True)
            self._live = None


class AdminData(QObject):
    """The admin panel's data thread: ask for a refresh, get a snapshot signal back."""

    statusReady = Signal(object)
    dashboardsReady = Signal(object)
    _askStatus = Signal()
    _askDashboards = Signal()
    _askClose = Signal()
    _askCloseNow = Signal()

    def __init__(
        self,
        services: KioskServices,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("admin-data")
        self._worker = _Worker(services)
        self._worker.moveToThread(self._thread)
        self._askStatus.connect(self._worker.status)
        self._askDashboards.connect(self._worker.dashboards)
        self._askClose.connect(self._worker.close)
        # at shutdown: wait until the readers are closed on their own thread
        self._askCloseNow.connect(self._worker.close, Qt.ConnectionType.BlockingQueuedConnection)
        self._worker.statusReady.connect(self._status_done)
        self._worker.dashboardsReady.connect(self._dashboards_done)
        self._status_busy = False
        self._dashboards_busy = False
        self._thread.start()
        # Qt aborts the process when a running QThread is destroyed: a kiosk that stops
        # without quitting the event loop (a script, a test) must not crash on the way out
        own = weakref.ref(self)

        def stop_at_exit() -> None:
            data = own()
            if data is not None:
                data.stop()

        atexit.register(stop_at_exit)

    @property
    def busy(self) -> bool:
        """True while a request runs."""
        return self._status_busy or self._dashboards_busy

    def request_status(self) -> bool:
        """Ask for a :class:`StatusSnapshot`; False (dropped) while one is being read."""
        if self._status_busy:
            return False
        self._status_busy = True
        self._askStatus.emit()
        return True

    def request_dashboards(self) -> bool:
        """Ask for a :class:`DashboardSnapshot`; False (dropped) while one is being read."""
        if self._dashboards_busy:
            return False
        self._dashboards_busy = True
        self._askDashboards.emit()
        return True

    def release(self) -> None:
        """Close the database and Redis readers (the panel closed); they reopen on demand."""
        self._askClose.emit()

    def stop(self) -> None:
        """Close the readers and end the thread (safe to call twice)."""
        try:
            running = self._thread.isRunning()
        except RuntimeError:  # Qt already deleted it
            return
        if running:
            self._askCloseNow.emit()
            self._thread.quit()
            if not self._thread.wait(5000):
                log.warning("admin data thread did not stop within 5s")

    def _status_done(self, snap: StatusSnapshot) -> None:
        self._status_busy = False
        self.statusReady.emit(snap)

    def _dashboards_done(self, snap: DashboardSnapshot) -> None:
        self._dashboards_busy = False
        self.dashboardsReady.emit(snap)
