"""The dashboards' figures over the lake, fleet-wide or for one store, with DuckDB.

One module for every reader of the figures (the notebook, the daily report, the data API):
:class:`DashboardQueries` answers, for one UTC day, the traffic by hour, the presence-to-touch
funnel, the page-view dwell, the top products, the products viewed together (pairs and
triples) and the per-product interactions per second with their velocity. Its events come from an
:class:`EventSource`: the lake (:class:`LakeSource`: the day's Parquet files, local or on
S3, read through pyarrow's filesystem, so no DuckDB extension is downloaded) or the
receiver's SQLite file (:class:`SQLiteSource`, the same rows typed the same way): a day
answers the same from either.

Definitions (``simulated`` events are left out unless asked for):

- *traffic*: per UTC hour, events, sessions started (``session.start``) and touches.
- *funnel*: presence episodes per kiosk, in ``ts`` order: an episode is a run of presence
  changes to ``passing``, ``approaching`` or ``engaged`` (any other zone ends it); it
  *passed*, and *approached* / *engaged* when it reached that zone. Then shoppers (sessions
  with any event that day), those who touched, and those who saw a product (an event with
  a ``sku``).
- *dwell*: page views' ``dwell_ms`` in the dashboards' bins (:data:`DWELL_EDGES_MS`, the
  last bin open-ended), with the median and the 90th percentile.
- *top products*: interactions (events with a ``sku``) per product; the top ``share`` of
  the products by rank (10 %: the top tenth, at least one), ties at the edge kept.
- *pairs*: products seen in the same session: ``support`` = sessions with both / shoppers,
  ``confidence`` (a -> b) = sessions with both / sessions with a, ``lift`` = confidence /
  (sessions with b / shoppers); both orders of each pair.
- *triples*: three products seen in the same session: ``support`` = sessions with all three /
  shoppers, ``confidence`` of the rule {a, b} -> c = sessions with all three / sessions with
  a and b, ``lift`` = confidence / (sessions with c / shoppers); each triple as its three
  rules (``a < b``). Apriori: only products, then pairs, that reach the support make triples.
- *rates*: interactions per product (those asked for, or the day's five busiest) in each
  whole UTC second that had any, and their
  *velocity*: the non-negative difference from the second before (0 when that second had
  none), ``max(0, n(t) - n(t - 1))``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import duckdb

from analytics.lake_table import LANDED_COLUMNS, lake_table
from analytics.lake_target import LakeTarget, LocalLake, day_dataset
from storage.rollups import DWELL_EDGES_MS

#: The view each query reads: the day's events (of the store asked for, if one was).
DAY_VIEW = "day_events"
#: The view an :class:`EventSource` makes: the day's events as they are stored.
SOURCE_VIEW = "day_source"


class EventSource(Protocol):
    """Where a day's events come from. Called on the caller's thread; raises ``OSError``
    (the lake) or ``sqlite3.Error`` (the receiver's file) when they cannot be read."""

    def day_view(self, db: duckdb.DuckDBPyConnection, date: str, store_id: str | None) -> None:
        """Make the temporary view :data:`SOURCE_VIEW` on ``db`` the day's events (UTC
        ``date``, ``YYYY-MM-DD``) of ``store_id`` or of every store, in the lake's columns."""
        ...

    def day_key(self, date: str, store_id: str | None) -> Hashable | None:
        """What the view of the day reads: a view made while this was the same answers
        alike, so it is used again; None when the view must be made afresh for each query."""
        ...


class LakeSource:
    """The day's Parquet files of a lake (:mod:`analytics.lake_target`): DuckDB's own
    Parquet reader for a local lake, pyarrow's filesystem (a dataset) for S3."""

    def __init__(self, lake: LakeTarget) -> None:
        self.lake = lake

    def day_view(self, db: duckdb.DuckDBPyConnection, date: str, store_id: str | None) -> None:
        """The view over the day's files (the lake's empty table when there are none)."""
        if isinstance(self.lake, LocalLake):
            files = self.lake.day_files(date, store_id)
            if files:
                db.read_parquet(files).create_view(SOURCE_VIEW, replace=True)
                return
        dataset = day_dataset(self.lake, date, store_id)
        db.register(SOURCE_VIEW, lake_table([]) if dataset is None else dataset)

    def day_key(self, date: str, store_id: str | None) -> Hashable | None:
        """A local lake's day files: each is written once (atomically, under a new name) and
        the view reads them at each query, so the same files give the same answers."""
        if isinstance(self.lake, LocalLake):
            return tuple(self.lake.day_files(date, store_id))
        return None


class SQLiteSource:
    """The day's rows of the receiver's SQLite file, typed as the lake types them."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)

    def day_view(self, db: duckdb.DuckDBPyConnection, date: str, store_id: str | None) -> None:
        """The rows whose ``ts`` falls on the UTC day (read-only connection), as a table."""
        start = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC).timestamp()
        query = f"SELECT {LANDED_COLUMNS} FROM events WHERE ts_epoch >= ? AND ts_epoch < ?"
        args: list[object] = [start, start + 86_400]
        if store_id is not None:
            query += " AND store_id = ?"
            args.append(store_id)
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            table = lake_table(conn.execute(query, args).fetchall())
        finally:
            conn.close()
        db.register(SOURCE_VIEW, table)

    def day_key(self, date: str, store_id: str | None) -> Hashable | None:
        """None: the view is a copy of the rows, made afresh for each query."""
        return None


@dataclass(frozen=True)
class HourTraffic:
    """One UTC hour of a day."""

    hour: int
    events: int
    sessions: int
    touches: int


@dataclass(frozen=True)
class Funnel:
    """Presence episodes, then shoppers, from passing by to touching and seeing a product."""

    passed: int
    approached: int
    engaged: int
    shoppers: int
    touched: int
    viewed_product: int


@dataclass(frozen=True)
class Dwell:
    """Page views per dwell bin (lower edges in seconds), with the median and 90th
    percentile in seconds (None without any view)."""

    edges_s: tuple[float, ...]
    counts: tuple[int, ...]
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class ProductCount:
    """A product and its interactions."""

    sku: str
    interactions: int


@dataclass(frozen=True)
class Pair:
    """Products ``a`` and ``b`` seen in the same sessions (the rule a -> b)."""

    a: str
    b: str
    sessions: int
    support: float
    confidence: float
    lift: float


@dataclass(frozen=True)
class Triple:
    """Products ``a``, ``b`` and ``c`` seen in the same sessions (the rule {a, b} -> c)."""

    a: str
    b: str
    c: str
    sessions: int
    support: float
    confidence: float
    lift: float


class ProductRate(NamedTuple):
    """A product's interactions in one UTC second (epoch seconds) and their velocity (a
    tuple: a day of a busy product is tens of thousands of them, made straight from
    DuckDB's rows)."""

    second: int
    sku: str
    per_second: int
    velocity: int


_TRAFFIC = f"""
SELECT hour(ts) AS hour, count(*), count(*) FILTER (WHERE type = 'session.start'),
       count(*) FILTER (WHERE type = 'touch')
FROM {DAY_VIEW} GROUP BY 1
"""
_FUNNEL = f"""
WITH changes AS (
    SELECT store_id, kiosk_id, ts, event_id,
           CASE zone WHEN 'passing' THEN 1 WHEN 'approaching' THEN 2 WHEN 'engaged' THEN 3
                ELSE 0 END AS level
    FROM {DAY_VIEW} WHERE type = 'presence.change'
), numbered AS (
    SELECT level, store_id, kiosk_id,
           sum(CASE WHEN level = 0 THEN 1 ELSE 0 END) OVER (
               PARTITION BY store_id, kiosk_id ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING
           ) AS episode
    FROM changes
), episodes AS (
    SELECT max(level) AS deepest FROM numbered WHERE level > 0
    GROUP BY store_id, kiosk_id, episode
), presence AS (
    SELECT count(*), count(*) FILTER (WHERE deepest >= 2), count(*) FILTER (WHERE deepest >= 3)
    FROM episodes
), shoppers AS (
    SELECT count(DISTINCT session_id),
           count(DISTINCT session_id) FILTER (WHERE type = 'touch'),
           count(DISTINCT session_id) FILTER (WHERE sku IS NOT NULL)
    FROM {DAY_VIEW} WHERE session_id IS NOT NULL
)
SELECT * FROM presence CROSS JOIN shoppers
"""
#: A page view's bin: how many of the bins' lower edges its dwell reached, less one.
_DWELL = f"""
SELECT len(list_filter({list(DWELL_EDGES_MS)}, lambda edge: edge <= dwell_ms)) - 1, count(*)
FROM {DAY_VIEW} WHERE type = 'page.view' AND dwell_ms >= 0 GROUP BY 1
"""
_DWELL_QUANTILES = f"""
SELECT quantile_cont(dwell_ms, 0.5) / 1000, quantile_cont(dwell_ms, 0.9) / 1000
FROM {DAY_VIEW} WHERE type = 'page.view' AND dwell_ms >= 0
"""
_TOP = f"""
WITH counts AS (
    SELECT sku, count(*) AS n FROM {DAY_VIEW} WHERE sku IS NOT NULL GROUP BY sku
), ranked AS (
    SELECT sku, n, rank() OVER (ORDER BY n DESC) AS place, count(*) OVER () AS products
    FROM counts
)
SELECT sku, n FROM ranked WHERE place <= greatest(1, ceil($share * products))
ORDER BY n DESC, sku
"""
# the day's baskets (products per hashed session id), shoppers, sessions per product, and the
# baskets' products that reach the support: a pair or triple is never seen in more sessions
# than any of its products, so only those can make one that does (apriori)
_FREQUENT_PRODUCTS = f"""
WITH baskets AS (
    SELECT DISTINCT hash(session_id) AS session, sku FROM {DAY_VIEW}
    WHERE session_id IS NOT NULL AND sku IS NOT NULL
), shoppers AS (
    SELECT count(DISTINCT session_id) AS n FROM {DAY_VIEW} WHERE session_id IS NOT NULL
), seen AS (
    SELECT sku, count(*) AS n FROM baskets GROUP BY sku
), frequent AS (
    SELECT b.session, b.sku FROM baskets AS b JOIN seen USING (sku)
    WHERE seen.n / (SELECT n FROM shoppers) >= $min_support
)"""
# each pair counted once (a < b), then given in both orders
_PAIRS = f"""{_FREQUENT_PRODUCTS}, once AS MATERIALIZED (
    -- materialised: read twice below (about a third of a thin day's query otherwise)
    SELECT x.sku AS a, y.sku AS b, count(*) AS n FROM frequent AS x
    JOIN frequent AS y ON x.session = y.session AND x.sku < y.sku GROUP BY 1, 2
    HAVING count(*) / (SELECT n FROM shoppers) >= $min_support
), together AS (
    SELECT a, b, n FROM once UNION ALL SELECT b, a, n FROM once
)
SELECT t.a, t.b, t.n, t.n / s.n AS support, t.n / sa.n AS confidence,
       (t.n / sa.n) / (sb.n / s.n) AS lift
FROM together AS t JOIN seen AS sa ON sa.sku = t.a JOIN seen AS sb ON sb.sku = t.b
CROSS JOIN shoppers AS s
ORDER BY support DESC, confidence DESC, t.a, t.b
LIMIT $limit
"""
# each triple counted once (a < b < c) within sessions holding a frequent pair (a, b), whose
# other two pairs are frequent too (apriori), then given as its three rules
_TRIPLES = f"""{_FREQUENT_PRODUCTS}, sessions_of_pairs AS (
    SELECT x.session, x.sku AS a, y.sku AS b FROM frequent AS x
    JOIN frequent AS y ON x.session = y.session AND x.sku < y.sku
), pairs AS (
    SELECT a, b, count(*) AS n FROM sessions_of_pairs GROUP BY 1, 2
    HAVING count(*) / (SELECT n FROM shoppers) >= $min_support
), frequent_pairs AS MATERIALIZED (
    -- the sessions of the frequent pairs only, once (about a third of the time of joining
    -- the third product to every pair's sessions first)
    SELECT p.session, p.a, p.b FROM sessions_of_pairs AS p JOIN pairs AS ab USING (a, b)
), once AS MATERIALIZED (
    SELECT p.a, p.b, z.sku AS c, count(*) AS n FROM frequent_pairs AS p
    JOIN frequent AS z ON z.session = p.session AND z.sku > p.b
    SEMI JOIN pairs AS ac ON ac.a = p.a AND ac.b = z.sku
    SEMI JOIN pairs AS bc ON bc.a = p.b AND bc.b = z.sku
    GROUP BY 1, 2, 3 HAVING count(*) / (SELECT n FROM shoppers) >= $min_support
), rules AS (
    SELECT a, b, c, n FROM once UNION ALL SELECT a, c, b, n FROM once
    UNION ALL SELECT b, c, a, n FROM once
)
SELECT r.a, r.b, r.c, r.n, r.n / s.n AS support, r.n / ab.n AS confidence,
       (r.n / ab.n) / (sc.n / s.n) AS lift
FROM rules AS r JOIN pairs AS ab ON ab.a = r.a AND ab.b = r.b JOIN seen AS sc ON sc.sku = r.c
CROSS JOIN shoppers AS s
ORDER BY support DESC, confidence DESC, r.a, r.b, r.c
LIMIT $limit
"""
# the products asked for, or the day's busiest ones (ties by name)
_RATES = f"""
WITH wanted AS (
    SELECT sku FROM {DAY_VIEW} WHERE sku IS NOT NULL GROUP BY sku
    HAVING len($skus) = 0 OR list_contains($skus, sku)
    ORDER BY count(*) DESC, sku LIMIT $busiest
), seconds AS (
    SELECT epoch_us(ts) // 1000000 AS second, sku, count(*) AS n
    FROM {DAY_VIEW} WHERE sku IN (SELECT sku FROM wanted) GROUP BY 1, 2
)
SELECT second, sku, n,
       greatest(n - CASE WHEN lag(second) OVER w = second - 1 THEN lag(n) OVER w ELSE 0 END, 0)
FROM seconds WINDOW w AS (PARTITION BY sku ORDER BY second)
ORDER BY second, sku
"""


class DashboardQueries:
    """The dashboards' figures of one UTC day over ``source`` (module docstring).

    One DuckDB connection of its own, used by one thread at a time (a lock keeps it so);
    each method reads the day's events once. ``close()`` when done.
    """

    def __init__(self, source: EventSource, *, include_simulated: bool = False) -> None:
        self.source = source
        self.include_simulated = include_simulated
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")
        self._lock = threading.Lock()
        #: The day, store and source key :data:`DAY_VIEW` was last made for (None: remake).
        self._made: tuple[str, str | None, Hashable] | None = None

    def _day(self, date: str, store_id: str | None) -> None:
        """Make :data:`DAY_VIEW` the day's events (of the store), unless the views made for
        the last query read the same (:meth:`EventSource.day_key`): on a thin day making
        them costs about as much as the query."""
        dt.date.fromisoformat(date)  # ValueError naming a date that is not YYYY-MM-DD
        key = self.source.day_key(date, store_id)
        wanted = None if key is None else (date, store_id, key)
        if wanted is not None and wanted == self._made:
            return
        self._made = None
        self._db.unregister(SOURCE_VIEW)
        self._db.execute(f"DROP VIEW IF EXISTS {SOURCE_VIEW}")
        self.source.day_view(self._db, date, store_id)
        where = [] if self.include_simulated else ["NOT simulated"]
        if store_id is not None:
            where.append(f"store_id = '{_quoted(store_id)}'")
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        self._db.execute(
            f"CREATE OR REPLACE TEMP VIEW {DAY_VIEW} AS SELECT * FROM {SOURCE_VIEW} {condition}"
        )
        self._made = wanted

    def _rows(
        self, date: str, store_id: str | None, sql: str, params: dict[str, object] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            self._day(date, store_id)
            return self._db.execute(sql, params or {}).fetchall()

    def traffic_by_hour(self, date: str, store_id: str | None = None) -> list[HourTraffic]:
        """Every UTC hour of the day, 0 to 23."""
        found = {int(row[0]): row for row in self._rows(date, store_id, _TRAFFIC)}
        return [
            HourTraffic(hour, *(int(v) for v in found[hour][1:]))
            if hour in found
            else HourTraffic(hour, 0, 0, 0)
            for hour in range(24)
        ]

    def funnel(self, date: str, store_id: str | None = None) -> Funnel:
        """Presence episodes and shoppers of the day."""
        with self._lock:
            self._day(date, store_id)
            [counts] = self._db.execute(_FUNNEL).fetchall()
        return Funnel(*(int(v) for v in counts))

    def dwell(self, date: str, store_id: str | None = None) -> Dwell:
        """Page views per dwell bin, the median and the 90th percentile."""
        with self._lock:
            self._day(date, store_id)
            bins = dict(self._db.execute(_DWELL).fetchall())
            [(median, p90)] = self._db.execute(_DWELL_QUANTILES).fetchall()
        counts = tuple(int(bins.get(index, 0)) for index in range(len(DWELL_EDGES_MS)))
        return Dwell(
            edges_s=tuple(edge / 1000 for edge in DWELL_EDGES_MS),
            counts=counts,
            median_s=None if median is None else float(median),
            p90_s=None if p90 is None else float(p90),
        )

    def top_products(
        self, date: str, store_id: str | None = None, *, share: float = 0.1
    ) -> list[ProductCount]:
        """The top ``share`` of the products by interactions, busiest first."""
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], not {share}")
        rows = self._rows(date, store_id, _TOP, {"share": share})
        return [ProductCount(str(sku), int(n)) for sku, n in rows]

    def pairs(
        self,
        date: str,
        store_id: str | None = None,
        *,
        min_support: float = 0.01,
        limit: int = 20,
    ) -> list[Pair]:
        """Products viewed together, strongest first (both orders of each pair)."""
        rows = self._rows(date, store_id, _PAIRS, {"min_support": min_support, "limit": limit})
        return [
            Pair(str(a), str(b), int(n), float(s), float(c), float(lift))
            for a, b, n, s, c, lift in rows
        ]

    def triples(
        self,
        date: str,
        store_id: str | None = None,
        *,
        min_support: float = 0.01,
        limit: int = 20,
    ) -> list[Triple]:
        """Three products viewed together, strongest first (each triple as its three rules
        {a, b} -> c, with ``a < b``)."""
        rows = self._rows(date, store_id, _TRIPLES, {"min_support": min_support, "limit": limit})
        return [
            Triple(str(a), str(b), str(c), int(n), float(s), float(conf), float(lift))
            for a, b, c, n, s, conf, lift in rows
        ]

    def product_rates(
        self,
        date: str,
        store_id: str | None = None,
        *,
        skus: Sequence[str] = (),
        busiest: int | None = 5,
    ) -> list[ProductRate]:
        """Interactions per second and velocity of ``skus``, or else of the day's
        ``busiest`` products (None: every product), by second and product."""
        limit = len(skus) if skus else busiest
        params = {"skus": list(skus), "busiest": limit if limit is not None else 2**62}
        with self._lock:
            self._day(date, store_id)
            table = self._db.sql(_RATES, params=params).to_arrow_table()
        # column by column through Arrow: about half the time of DuckDB's Python rows
        columns = (table.column(index).to_pylist() for index in range(table.num_columns))
        return list(map(ProductRate._make, zip(*columns, strict=True)))

    def close(self) -> None:
        """Close the DuckDB connection."""
        self._db.close()


def _quoted(text: str) -> str:
    return text.replace("'", "''")
