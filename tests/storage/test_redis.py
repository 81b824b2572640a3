"""The Redis hot path against a real redis-server: counters match SQLite, replay after restart."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

import orjson
import pytest

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog
from storage.queries import StatsReader
from storage.records import ts_epoch
from storage.redis_counters import LiveCounters
from storage.redis_mirror import MirrorBatch, RedisMirror, day_key
from tests.support.waiting import wait_until


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


def test_mirror_batch_across_midnight_with_a_raw_newline(redis_server: RedisServer) -> None:
    """One batch whose events fall on two local days counts each on its own day, and an
    event whose stored JSON holds a raw newline still gets exactly one stream entry with its seq."""
    section = KioskConfig().redis.model_copy(update={"url": redis_server.url})
    midnight = dt.datetime(2026, 11, 23).astimezone().timestamp()
    epochs = (midnight - 0.5, midnight - 0.2, midnight + 0.1)
    batch = MirrorBatch(
        seqs=(7, 8, 9),
        types=("touch", "action", "touch"),
        skus=("A", "A", "B"),
        session_ids=("s1", "s2", "s2"),
        epochs=epochs,
        payloads=('{"sku":"A"}', '{"sku":"A"}', '{"sku":"B"}'),
        bodies=('{"n":7}', '{"n":\n"x"}', '{"n":9}'),
    )
    mirror = RedisMirror(section)
    assert mirror.apply(batch)
    client = mirror.client
    p = section.key_prefix
    stream = client.xrange(f"{p}:stream")
    assert [int(fields[b"seq"]) for _, fields in stream] == [7, 8, 9]
    assert [fields[b"e"] for _, fields in stream] == [
        b'{"n":7}',
        b'{"n": "x"}',
        b'{"n":9}',
    ]
    before, after = day_key(epochs[0]), day_key(epochs[2])
    assert before != after
    assert client.zrange(f"{p}:top:{before}", 0, -1, withscores=True) == [(b"A", 2.0)]
    assert client.zrange(f"{p}:top:{after}", 0, -1, withscores=True) == [(b"B", 1.0)]
    assert client.pfcount(f"{p}:sessions:{before}") == 2
    assert client.pfcount(f"{p}:sessions:{after}") == 1
    assert client.hgetall(f"{p}:rate:{int(epochs[0])}") == {b"A": b"2"}
    assert client.get(f"{p}:seq") == b"9"
    # the next batch applies only on top of this one
    assert mirror.apply(batch._replace(seqs=(10, 11, 12)), after=9)
    assert not mirror.apply(batch._replace(seqs=(20, 21, 22)), after=19)
    assert client.get(f"{p}:seq") == b"12"
    client.close()


@pytest.mark.parametrize("origin_kept", [True, False], ids=["origin-recorded", "no-origin-key"])
def test_redis_ahead_of_a_new_database_is_rebuilt_from_it(
    tmp_path: Path,
    redis_server: RedisServer,
    origin_kept: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Staff move a corrupt database aside and the kiosk starts a new one, while Redis still
    holds the old one's keys, its seq far beyond the new file's: Redis is rebuilt from the
    new database (said in the log and in health) and its counters follow SQLite again."""
    config = _config(tmp_path, redis_server)
    old = EventLog(config)
    old.start()
    _touches(old, 50, "old-session")
    old.stop()
    p = config.redis.key_prefix
    live = LiveCounters(config.redis)
    assert int(live.client.get(f"{p}:seq") or 0) == 50
    if not origin_kept:  # keys written before the origin was recorded
        live.client.delete(f"{p}:origin")
    for suffix in ("", "-wal", "-shm"):
        moved = Path(f"{old.database}{suffix}")
        if moved.exists():
            moved.rename(tmp_path / f"events.sqlite.corrupt{suffix}")

    caplog.set_level(logging.INFO, logger="storage")
    log = EventLog(config)
    log.start()
    _touches(log, 12, "new-session")
    wait_until(lambda: log.health().events_written == 12, "the new database's events")
    wait_until(lambda: log.health().redis_rebuilds == 1, "the rebuild")
    log.append(Event.create("touch", session_id="new-session", payload={"sku": "p9"}))
    wait_until(
        lambda: int(live.client.get(f"{p}:seq") or 0) == 13 and log.health().redis_lag_events == 0,
        "the live counters to follow the new database",
    )
    log.stop()
    health = log.health()
    assert health.redis_rebuilds == 1 and health.redis_rebuilt_at is not None
    reason = health.redis_rebuild_reason or ""
    assert ("another database" in reason) if origin_kept else ("holds seq 50" in reason), reason
    stream = live.client.xrange(f"{p}:stream")
    assert [int(fields[b"seq"]) for _, fields in stream] == list(range(1, 14))
    reader = StatsReader(log.database)
    assert dict(live.top_products(5)) == {k: float(v) for k, v in reader.top_products(5)}
    reader.close()
    assert live.unique_sessions_today() == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Redis out of step with SQLite" in warnings[0]
    live.close()
