"""The Redis hot path against a real redis-server: counters match SQLite, replay after restart."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog
from storage.live import LiveCounters
from storage.queries import StatsReader
from storage.records import ts_epoch


def _config(tmp_path: Path, server: RedisServer) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.url = server.url
    return config


def _touches(log: EventLog, n: int, session: str) -> None:
    for i in range(n):
        log.append(Event.create("touch", session_id=session, payload={"sku": f"p{i % 3}"}))


def test_counters_match_sqlite_after_restart(tmp_path: Path, redis_server: RedisServer) -> None:
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 30, "s1")
    deadline = time.monotonic() + 10
    while log.health().events_today < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    redis_server.stop()
    _touches(log, 30, "s2")
    redis_server.start()
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


def test_a_batch_lands_whole_stream_counters_presence_and_expiry(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """What one batch leaves in Redis: every event in the stream (seq and JSON), product
    counts, sessions, the latest presence, the last seq, and an expiry on every counter."""
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    log.append(Event.create("presence.change", payload={"zone": "approaching", "people": 1}))
    _touches(log, 12, "s1")
    log.append(Event.create("presence.change", payload={"zone": "engaged", "people": 2}))
    _touches(log, 6, "s2")
    log.stop()
    assert log.health().redis_connected
    live = LiveCounters(config.redis)
    p = config.redis.key_prefix
    stream = live.client.xrange(f"{p}:stream")
    assert [int(fields[b"seq"]) for _, fields in stream] == list(range(1, 21))
    events = [orjson.loads(fields[b"e"]) for _, fields in stream]
    assert [e["type"] for e in events].count("touch") == 18
    assert int(live.client.get(f"{p}:seq") or 0) == 20
    assert dict(live.top_products(5)) == {"p0": 6.0, "p1": 6.0, "p2": 6.0}
    assert live.unique_sessions_today() == 2
    presence = live.presence()
    assert presence is not None and presence["zone"] == "engaged" and presence["people"] == 2
    assert events[13]["type"] == "presence.change"
    assert presence["ts"] == pytest.approx(ts_epoch(events[13]["ts"]), abs=1e-6)
    for key in live.client.scan_iter(f"{p}:*"):
        if key.decode().split(":")[1] in ("rate", "top", "sessions"):
            assert live.client.ttl(key) > 0, key
    live.close()


def test_redis_emptied_between_batches_is_refilled_from_sqlite(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Redis loses its data without the writer seeing an error (FLUSHALL, or a restart
    without persistence between two batches): the next batch notices the gap in the same
    call and the day is replayed from SQLite before it."""
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 30, "s1")
    live = LiveCounters(config.redis)
    deadline = time.monotonic() + 10
    while live.client.get(f"{config.redis.key_prefix}:seq") != b"30":
        assert time.monotonic() < deadline, "the first batch never reached Redis"
        time.sleep(0.05)
    live.client.flushall()
    _touches(log, 9, "s2")
    log.stop()
    assert int(live.client.get(f"{config.redis.key_prefix}:seq") or 0) == 39
    assert sum(n for _, _, n in live.product_rate(600)) == 39
    assert live.unique_sessions_today() == 2
    assert len(live.client.xrange(f"{config.redis.key_prefix}:stream")) == 39
    live.close()
