"""Read-only statistics for the admin dashboards (plain Python types, safe off the UI thread)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from storage.db import make_engine

log = logging.getLogger(__name__)

Since = float | dt.datetime | None
_PRESENCE_STEPS = {"passing": 1, "approaching": 2, "engaged": 3}


def _epoch(since: Since) -> float:
    if since is None:
        return float("-inf")
    if isinstance(since, dt.datetime):
        return since.timestamp()
    return float(since)


def _local_midnight() -> float:
    now = dt.datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class StatsReader:
    """Statistics from the event log's SQLite file over its own read-only connection."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self._engine = make_engine(self.database, readonly=True)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._engine.connect() as conn:
            return list(conn.exec_driver_sql(sql, params).fetchall())

    def product_rate(
        self, window_s: float = 600, bucket_s: float = 1, now: float | None = None
    ) -> list[tuple[float, str, int]]:
        """(bucket start epoch s, sku, interactions) over the last ``window_s`` seconds."""
        end = time.time() if now is None else now
        bucket = max(float(bucket_s), 1e-3)
        rows = self._rows(
            "SELECT CAST(ts_epoch / ? AS INTEGER), sku, count(*) FROM events "
            "WHERE sku IS NOT NULL AND ts_epoch >= ? AND ts_epoch <= ? "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            (bucket, end - window_s, end),
        )
        return [(float(b) * bucket, str(sku), int(n)) for b, sku, n in rows]

    def funnel(self, since: Since = None) -> dict[str, int]:
        """Presence episodes that passed/approached/engaged, sessions that touched/viewed."""
        start = _epoch(since)
        rows = self._rows(
            "SELECT json_extract(payload, '$.zone') FROM events "
            "WHERE type = 'presence.change' AND ts_epoch >= ? ORDER BY seq",
            (start,),
        )
        passed = approached = engaged = 0
        deepest = 0
        for (zone,) in rows:
            level = _PRESENCE_STEPS.get(str(zone), 0)
            if level == 0:
                deepest = 0
                continue
            if deepest == 0:
                passed += 1
            if level >= 2 and deepest < 2:
                approached += 1
            if level >= 3 and deepest < 3:
                engaged += 1
            deepest = max(deepest, level)
        touched = self._rows(
            "SELECT count(DISTINCT session_id) FROM events "
            "WHERE type = 'touch' AND session_id IS NOT NULL AND ts_epoch >= ?",
            (start,),
        )[0][0]
        viewed = self._rows(
            "SELECT count(DISTINCT session_id) FROM events "
            "WHERE sku IS NOT NULL AND session_id IS NOT NULL AND ts_epoch >= ?",
            (start,),
        )[0][0]
        return {
            "passed": passed,
            "approached": approached,
            "engaged": engaged,
            "touched": int(touched or 0),
            "viewed_product": int(viewed or 0),
        }

    def dwell_histogram(self, bins: int = 12, since: Since = None) -> tuple[list[float], list[int]]:
        """Page-view dwell times (s): ``bins + 1`` edges and ``bins`` counts."""
        values = [
            float(v) / 1000.0
            for (v,) in self._rows(
                "SELECT json_extract(payload, '$.dwell_ms') FROM events "
                "WHERE type = 'page.view' AND ts_epoch >= ?",
                (_epoch(since),),
            )
            if isinstance(v, int | float) and v >= 0
        ]
        bins = max(1, int(bins))
        top = max(values) if values else 60.0
        width = (top or 1.0) / bins
        edges = [round(i * width, 6) for i in range(bins + 1)]
        counts = [0] * bins
        for v in values:
            counts[min(bins - 1, int(v / width))] += 1
        return edges, counts

    def top_products(self, n: int = 10, since: Since = None) -> list[tuple[str, int]]:
        """The ``n`` products with the most interactions."""
        rows = self._rows(
            "SELECT sku, count(*) AS c FROM events WHERE sku IS NOT NULL AND ts_epoch >= ? "
            "GROUP BY sku ORDER BY c DESC, sku LIMIT ?",
            (_epoch(since), int(n)),
        )
        return [(str(s), int(c)) for s, c in rows]

    def pairs(
        self, min_support: float = 0.01, limit: int = 20, since: Since = None
    ) -> list[tuple[str, str, float, float]]:
        """Products seen in the same session: (a, b, support, confidence a->b)."""
        rows = self._rows(
            "SELECT DISTINCT session_id, sku FROM events "
            "WHERE sku IS NOT NULL AND session_id IS NOT NULL AND ts_epoch >= ?",
            (_epoch(since),),
        )
        baskets: dict[str, set[str]] = defaultdict(set)
        for session, sku in rows:
            baskets[session].add(str(sku))
        sessions = self._rows(
            "SELECT count(DISTINCT session_id) FROM events "
            "WHERE session_id IS NOT NULL AND ts_epoch >= ?",
            (_epoch(since),),
        )[0][0]
        total = max(int(sessions or 0), len(baskets))
        if total == 0:
            return []
        single: Counter[str] = Counter()
        both: Counter[tuple[str, str]] = Counter()
        for items in baskets.values():
            single.update(items)
            for a, b in itertools.permutations(sorted(items), 2):
                both[(a, b)] += 1
        out = [
            (a, b, n / total, n / single[a])
            for (a, b), n in both.items()
            if n / total >= min_support
        ]
        out.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
        return out[: int(limit)]

    def traffic_by_hour(self, since: Since = None) -> list[tuple[int, int, int]]:
        """(local hour 0-23, sessions started, touches) for every hour of the day."""
        start = _epoch(since)
        sessions = [0] * 24
        touches = [0] * 24
        for (epoch,) in self._rows(
            "SELECT ts_epoch FROM events WHERE type = 'session.start' AND ts_epoch >= ?", (start,)
        ):
            sessions[dt.datetime.fromtimestamp(epoch).hour] += 1
        for (epoch,) in self._rows(
            "SELECT ts_epoch FROM events WHERE type = 'touch' AND ts_epoch >= ?", (start,)
        ):
            touches[dt.datetime.fromtimestamp(epoch).hour] += 1
        return [(h, sessions[h], touches[h]) for h in range(24)]

    def events_today(self) -> int:
        """Events since local midnight."""
        row = self._rows("SELECT count(*) FROM events WHERE ts_epoch >= ?", (_local_midnight(),))
        return int(row[0][0])

    def close(self) -> None:
        """Release the connection."""
        self._engine.dispose()
