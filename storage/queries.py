"""Read-only statistics for the admin dashboards (plain Python types, safe off the UI thread).

The day views (top products, funnel, dwell, pairs, traffic) come from the rollups the event
log's writer keeps (:mod:`storage.rollups`): one refresh reads a few hundred rows, whatever
the size of the log. The product-rate window follows the log by ``seq``: the first call reads
the window's events, later calls only the events written since. Queries are SQLAlchemy Core.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Integer, and_, func, select

from storage import rollups
from storage.db import make_engine
from storage.schema import (
    events,
    rollup_days,
    rollup_dwell,
    rollup_pairs,
    rollup_products,
    rollup_progress,
    rollup_traffic,
)

Since = float | dt.datetime | None

#: The edges (seconds) the dashboards draw the dwell bins between; the last bin is
#: open-ended and drawn as wide as the one before it.
DWELL_EDGES_S = [edge / 1000 for edge in rollups.DWELL_EDGES_MS] + [
    (2 * rollups.DWELL_EDGES_MS[-1] - rollups.DWELL_EDGES_MS[-2]) / 1000
]
_FUNNEL_COLUMNS = ("passed", "approached", "engaged", "touched", "viewed")


def _epoch(since: Since) -> float:
    if since is None:
        return float("-inf")
    if isinstance(since, dt.datetime):
        return since.timestamp()
    return float(since)


@dataclass(frozen=True, slots=True)
class DayViews:
    """One local day's figures, read from the rollups in one transaction (they agree)."""

    day: str
    #: Events of the day.
    events: int = 0
    #: Shoppers: sessions with any event that day.
    shoppers: int = 0
    #: Every product seen, busiest first: (sku, interactions).
    top: list[tuple[str, int]] = field(default_factory=list)
    #: Presence episodes that passed/approached/engaged; sessions that touched/viewed one.
    funnel: dict[str, int] = field(default_factory=dict)
    #: Page-view dwell: :data:`DWELL_EDGES_S` and a count per bin.
    dwell: tuple[list[float], list[int]] = field(default_factory=lambda: ([], []))
    #: Products seen in the same session: (a, b, support, confidence a -> b).
    pairs: list[tuple[str, str, float, float]] = field(default_factory=list)
    #: (local hour 0-23, sessions started, touches) for every hour.
    traffic: list[tuple[int, int, int]] = field(default_factory=list)
    #: Events the rollups do not hold yet (a database from before them is being built).
    backlog: int = 0


class StatsReader:
    """Statistics from the event log's SQLite file over its own read-only connection.

    Keeps the product-rate window between calls (:meth:`recent_rates`): one reader per
    caller, used from one thread at a time.
    """

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self._engine = make_engine(self.database, readonly=True)
        self._rates: dict[int, Counter[str]] = {}
        self._rates_seq: int | None = None
        self._rates_window = 0.0

    def day_views(
        self, day: str | None = None, *, min_support: float = 0.01, pairs_limit: int = 12
    ) -> DayViews:
        """The rollups' figures of ``day`` (``YYYY-MM-DD``, local; today by default)."""
        day = rollups.local_day(time.time()) if day is None else day
        with self._engine.connect() as conn, conn.begin():
            totals = conn.execute(
                select(*(rollup_days.c[name] for name in ("sessions", *_FUNNEL_COLUMNS))).where(
                    rollup_days.c.day == day
                )
            ).first()
            shoppers, *funnel = totals if totals is not None else (0,) * 6
            traffic = _traffic(conn, day)
            return DayViews(
                day=day,
                events=sum(n for _, n, _, _ in traffic),
                shoppers=int(shoppers),
                top=_top(conn, day),
                funnel=_funnel(funnel),
                dwell=_dwell(conn, day),
                pairs=_pairs(conn, day, int(shoppers), min_support, pairs_limit),
                traffic=_hours(traffic),
                backlog=_backlog(conn),
            )

    def recent_rates(
        self, window_s: float = 600, now: float | None = None, *, busiest: int | None = None
    ) -> list[tuple[float, str, int]]:
        """(second, sku, interactions) for each whole second from ``now - window_s`` to
        ``now``: the window's events read once, then only the events written since. With
        ``busiest``, only the rows of the ``busiest`` products with the most interactions in
        the window (ties by name): what the rate chart draws, a few thousand rows at most."""
        end = time.time() if now is None else now
        first, last = math.floor(end - window_s), math.floor(end)
        seconds = self._rate_seconds(window_s, first)
        for second in [second for second in seconds if second < first]:
            del seconds[second]
        shown = {second: counts for second, counts in seconds.items() if second <= last}
        wanted: set[str] | None = None
        if busiest is not None:
            totals: Counter[str] = Counter()
            for counts in shown.values():
                totals.update(counts)
            ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
            wanted = {sku for sku, _ in ranked[:busiest]}
        return sorted(
            (float(second), sku, n)
            for second, counts in shown.items()
            for sku, n in counts.items()
            if wanted is None or sku in wanted
        )

    def _rate_seconds(self, window_s: float, first: int) -> dict[int, Counter[str]]:
        """The window's interactions per second and product, brought up to the newest event."""
        with self._engine.connect() as conn, conn.begin():
            newest = int(conn.execute(select(func.max(events.c.seq))).scalar() or 0)
            if (
                self._rates_seq is None
                or newest < self._rates_seq
                or window_s != self._rates_window
            ):
                # first call, another window, or another file at the path: read it whole
                self._rates.clear()
                rows = conn.execute(
                    select(events.c.ts_epoch, events.c.sku).where(
                        events.c.sku.is_not(None), events.c.ts_epoch >= first
                    )
                )
            else:
                rows = conn.execute(
                    select(events.c.ts_epoch, events.c.sku).where(
                        events.c.seq > self._rates_seq, events.c.sku.is_not(None)
                    )
                )
            seconds = self._rates
            for epoch, sku in rows:
                second = math.floor(epoch)
                counts = seconds.get(second)
                if counts is None:
                    counts = seconds[second] = Counter()
                counts[str(sku)] += 1
        self._rates_seq, self._rates_window = newest, window_s
        return seconds

    def product_rate(
        self, window_s: float = 600, bucket_s: float = 1, now: float | None = None
    ) -> list[tuple[float, str, int]]:
        """(bucket start epoch s, sku, interactions) over the last ``window_s`` seconds, read
        from the events (the Redis mirror's checks compare against it)."""
        end = time.time() if now is None else now
        bucket = max(float(bucket_s), 1e-3)
        slot = func.cast(events.c.ts_epoch / bucket, Integer)
        query = (
            select(slot, events.c.sku, func.count())
            .where(events.c.sku.is_not(None), events.c.ts_epoch.between(end - window_s, end))
            .group_by(slot, events.c.sku)
            .order_by(slot, events.c.sku)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(float(b) * bucket, str(sku), int(n)) for b, sku, n in rows]

    def top_products(self, n: int = 10, since: Since = None) -> list[tuple[str, int]]:
        """The ``n`` products with the most interactions since ``since``, read from the
        events (the Redis mirror's checks compare against it)."""
        count = func.count().label("c")
        query = (
            select(events.c.sku, count)
            .where(events.c.sku.is_not(None), events.c.ts_epoch >= _epoch(since))
            .group_by(events.c.sku)
            .order_by(count.desc(), events.c.sku)
            .limit(int(n))
        )
        with self._engine.connect() as conn:
            return [(str(s), int(c)) for s, c in conn.execute(query)]

    def close(self) -> None:
        """Release the connection."""
        self._engine.dispose()


def _top(conn: Connection, day: str) -> list[tuple[str, int]]:
    products = rollup_products
    rows = conn.execute(
        select(products.c.sku, products.c.events)
        .where(products.c.day == day, products.c.events > 0)
        .order_by(products.c.events.desc(), products.c.sku)
    )
    return [(str(sku), int(n)) for sku, n in rows]


def _funnel(values: list[int]) -> dict[str, int]:
    names = ("passed", "approached", "engaged", "touched", "viewed_product")
    return {name: int(value) for name, value in zip(names, values, strict=True)}


def _dwell(conn: Connection, day: str) -> tuple[list[float], list[int]]:
    dwell = rollup_dwell
    counts = [0] * len(rollups.DWELL_EDGES_MS)
    rows = conn.execute(
        select(dwell.c.bin, func.sum(dwell.c.views)).where(dwell.c.day == day).group_by(dwell.c.bin)
    )
    for index, views in rows:
        counts[int(index)] = int(views)
    return list(DWELL_EDGES_S), counts


def _traffic(conn: Connection, day: str) -> list[tuple[int, int, int, int]]:
    traffic = rollup_traffic
    rows = conn.execute(
        select(traffic.c.hour, traffic.c.events, traffic.c.sessions, traffic.c.touches).where(
            traffic.c.day == day
        )
    )
    return [(int(h), int(e), int(s), int(t)) for h, e, s, t in rows]


def _hours(traffic: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int]]:
    sessions = [0] * 24
    touches = [0] * 24
    for hour, _events, started, touched in traffic:
        sessions[hour] += started
        touches[hour] += touched
    return [(hour, sessions[hour], touches[hour]) for hour in range(24)]


def _pairs(
    conn: Connection, day: str, shoppers: int, min_support: float, limit: int
) -> list[tuple[str, str, float, float]]:
    """The day's pairs with support (share of shoppers) >= ``min_support``, strongest first."""
    if shoppers == 0:
        return []
    pairs = rollup_pairs
    first = rollup_products.alias("first")
    second = rollup_products.alias("second")
    # the index on (day, sessions) reads only the pairs near or above the threshold; the
    # exact test is the division below. A pair is stored once (a < b): both orders here.
    floor = max(0, math.floor(min_support * shoppers) - 1)
    rows = conn.execute(
        select(pairs.c.a, pairs.c.b, pairs.c.sessions, first.c.sessions, second.c.sessions)
        .join_from(pairs, first, and_(first.c.day == pairs.c.day, first.c.sku == pairs.c.a))
        .join(second, and_(second.c.day == pairs.c.day, second.c.sku == pairs.c.b))
        .where(pairs.c.day == day, pairs.c.sessions >= floor)
    )
    found = []
    for a, b, n, seen_a, seen_b in rows:
        if n / shoppers >= min_support:
            found.append((str(a), str(b), n / shoppers, n / seen_a))
            found.append((str(b), str(a), n / shoppers, n / seen_b))
    found.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    return found[: int(limit)]


def _backlog(conn: Connection) -> int:
    folded = conn.execute(select(rollup_progress.c.seq)).scalar()
    newest = conn.execute(select(func.max(events.c.seq))).scalar()
    return max(0, int(newest or 0) - int(folded or 0))
