"""StatsReader on a real SQLite file written by the EventLog with the rollups' hook: the day
views equal a scan of the events, the rate window follows the log by seq and equals a scan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path

from settings import KioskConfig
from storage import Event, EventLog
from storage.event import utc_iso
from storage.queries import DWELL_EDGES_S, StatsReader
from storage.rollups import DayRollups, local_day
from tests.storage.day_scan import DayScan, random_events, scan
from tests.support.waiting import wait_until


def _log(tmp_path: Path) -> EventLog:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    log = EventLog(config, batch_hooks=[DayRollups(config.storage.retention_days)])
    log.start()
    return log


def _append(log: EventLog, events: list[Event]) -> None:
    written = log.health().events_written
    for event in events:
        log.append(event)
    wait_until(lambda: log.health().events_written == written + len(events), "events written")


def _expected(day: DayScan) -> dict[str, object]:
    """The day views as the dashboards' old scan worked them out."""
    pairs = []
    single = day.basket_counts()
    for (a, b), n in day.pairs().items():
        if n / len(day.sessions) >= 0.01:
            pairs.append((a, b, n / len(day.sessions), n / single[a]))
    pairs.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    dwell = [0] * (len(DWELL_EDGES_S) - 1)
    for (_page, index), n in day.dwell.items():
        dwell[index] += n
    return {
        "events": day.events,
        "shoppers": len(day.sessions),
        "top": sorted(day.products.items(), key=lambda r: (-r[1], r[0])),
        "funnel": {
            "passed": day.funnel[0],
            "approached": day.funnel[1],
            "engaged": day.funnel[2],
            "touched": len(day.touched),
            "viewed_product": len(day.baskets),
        },
        "dwell": (DWELL_EDGES_S, dwell),
        "pairs": pairs,
        "traffic": [
            (h, day.traffic[(h, "session.start")], day.traffic[(h, "touch")]) for h in range(24)
        ],
        "backlog": 0,
    }


def test_day_views_equal_a_scan_of_the_events(tmp_path: Path) -> None:
    log = _log(tmp_path)
    now = time.time()
    try:
        _append(log, random_events(random.Random(4), 3000, now - 2 * 86_400, 2 * 86_400))
    finally:
        log.stop()
    reader = StatsReader(log.database)
    try:
        with sqlite3.connect(log.database) as db:
            days = scan(db)
        assert len(days) >= 2
        for day, figures in days.items():
            # every pair above the support threshold, not only the 12 the dashboards show
            views = dataclasses.asdict(reader.day_views(day, pairs_limit=10_000))
            assert views.pop("day") == day
            assert views == _expected(figures), day
        assert reader.day_views().day == local_day(time.time())
    finally:
        reader.close()


def _scan_rates(database: Path, window_s: float, now: float) -> list[tuple[float, str, int]]:
    counts: Counter[tuple[int, str]] = Counter()
    with sqlite3.connect(database) as db:
        for epoch, sku in db.execute("SELECT ts_epoch, sku FROM events WHERE sku IS NOT NULL"):
            if math.floor(now - window_s) <= math.floor(epoch) <= math.floor(now):
                counts[(math.floor(epoch), sku)] += 1
    return sorted((float(s), sku, n) for (s, sku), n in counts.items())


def test_the_rate_window_reads_only_new_events_and_equals_a_scan(tmp_path: Path) -> None:
    log = _log(tmp_path)
    rng = random.Random(11)
    now = time.time()
    reader = StatsReader(log.database)
    try:
        _append(log, random_events(rng, 800, now - 900, 900))
        assert reader.recent_rates(600, now) == _scan_rates(log.database, 600, now)
        # late events (one inside the window, one before it) and new ones; the window moves on
        late = Event.create("touch", session_id="s-late", payload={"sku": "SKU-LATE"})
        stamp = dt.datetime.fromtimestamp(now - 300, dt.UTC)
        _append(log, [dataclasses.replace(late, ts=utc_iso(stamp))])
        _append(log, random_events(rng, 300, now, 120))
        later = now + 150
        assert reader.recent_rates(600, later) == _scan_rates(log.database, 600, later)
        assert any(sku == "SKU-LATE" for _, sku, _ in reader.recent_rates(600, later))
        # the busiest products' rows alone: what the rate chart draws
        rates = _scan_rates(log.database, 600, later)
        totals: Counter[str] = Counter()
        for _, sku, n in rates:
            totals[sku] += n
        top = {sku for sku, _ in sorted(totals.items(), key=lambda r: (-r[1], r[0]))[:3]}
        assert reader.recent_rates(600, later, busiest=3) == [r for r in rates if r[1] in top]
        # another window is read whole again
        assert reader.recent_rates(60, later) == _scan_rates(log.database, 60, later)
    finally:
        reader.close()
        log.stop()


def test_event_queries(tmp_path: Path) -> None:
    """top_products and product_rate read the events themselves (the Redis mirror's checks)."""
    log = _log(tmp_path)
    baskets = {"s1": ["a", "b"], "s2": ["a", "b", "c"], "s3": ["a"]}
    try:
        _append(
            log,
            [
                Event.create(type_, session_id=sid, payload={"sku": sku})
                for sid, skus in baskets.items()
                for sku in skus
                for type_ in ("touch", "page.view")
            ],
        )
    finally:
        log.stop()
    reader = StatsReader(log.database)
    try:
        assert reader.top_products(2) == [("a", 6), ("b", 4)]
        assert sum(n for _, _, n in reader.product_rate(window_s=3600)) == 12
    finally:
        reader.close()
