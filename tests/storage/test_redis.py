"""The Redis hot path against a real redis-server: counters match SQLite, replay after restart."""

from __future__ import annotations

import time
from pathlib import Path

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog
from storage.live import LiveCounters
from storage.queries import StatsReader


def _config(tmp_path: Path, server: RedisServer) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.url = server.url
    return config


def _touches(log: EventLog, n: int, session: str) -> None:
    for i in range(n):
        log.append(Event.create("touch", session_id=session, payload={"sku": f"p{i % 3}"}))


def test_counters_match_sqlite_after_restart(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        config = _config(tmp_path, server)
        log = EventLog(config)
        log.start()
        _touches(log, 30, "s1")
        deadline = time.monotonic() + 10
        while log.health().events_today < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop()
        _touches(log, 30, "s2")
        server.start()
        deadline = time.monotonic() + 15
        live = LiveCounters(config.redis)
        while time.monotonic() < deadline:
            _touches(log, 0, "s3")
            h = log.health()
            if h.redis_connected and h.redis_lag_events == 0 and h.events_today == 60:
                break
            time.sleep(0.1)
        log.stop()
        assert live.available()
        reader = StatsReader(log.database)
        assert dict(live.top_products(5)) == {k: float(v) for k, v in reader.top_products(5)}
        assert live.unique_sessions_today() == 2
        assert sum(n for _, _, n in live.product_rate(600)) == 60
        assert len(live.client.xrange(f"{config.redis.key_prefix}:stream")) == 60
        reader.close()
        live.close()
    finally:
        server.stop()
