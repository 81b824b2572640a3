"""StatsReader on a real SQLite file written by the EventLog."""

from __future__ import annotations

from pathlib import Path

from settings import KioskConfig
from storage import Event, EventLog
from storage.queries import StatsReader


def _write(tmp_path: Path) -> Path:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    log = EventLog(config)
    log.start()
    baskets = {"s1": ["a", "b"], "s2": ["a", "b", "c"], "s3": ["a"]}
    for sid, skus in baskets.items():
        log.append(Event.create("session.start", session_id=sid))
        for sku in skus:
            log.append(Event.create("touch", session_id=sid, payload={"sku": sku}))
            log.append(
                Event.create("page.view", session_id=sid, payload={"sku": sku, "dwell_ms": 3000})
            )
    for zone in ("passing", "approaching", "engaged", "away", "passing", "away"):
        log.append(Event.create("presence.change", payload={"zone": zone}))
    log.stop()
    return log.database


def test_dashboard_queries(tmp_path: Path) -> None:
    reader = StatsReader(_write(tmp_path))
    try:
        assert reader.top_products(2) == [("a", 6), ("b", 4)]
        assert sum(n for _, _, n in reader.product_rate(window_s=3600)) == 12
        assert reader.funnel() == {
            "passed": 2,
            "approached": 1,
            "engaged": 1,
            "touched": 3,
            "viewed_product": 3,
        }
        pairs = {(a, b): (s, c) for a, b, s, c in reader.pairs(min_support=0.0)}
        assert pairs[("a", "b")] == (2 / 3, 2 / 3)
        assert pairs[("b", "a")] == (2 / 3, 1.0)
        edges, counts = reader.dwell_histogram(bins=4)
        assert len(edges) == 5 and sum(counts) == 6
        hours = reader.traffic_by_hour()
        assert len(hours) == 24 and sum(h[1] for h in hours) == 3 and sum(h[2] for h in hours) == 6
        assert reader.events_today() == 3 + 12 + 6
    finally:
        reader.close()
