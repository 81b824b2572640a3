"""Staff move the database aside while the kiosk runs (operations: "move it aside to start
anew"), with a real redis-server: the event log starts a new file at the configured path,
writes there everything appended since, and Redis is rebuilt from the new file, in both ways
a store meets it: the writer busy on the old file, or failing on it at that moment."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog, db
from storage.hot import day_key
from storage.live import LiveCounters
from tests.storage.helpers import wait_for


def _config(tmp_path: Path, server: RedisServer) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.url = server.url
    return config


def _touches(log: EventLog, n: int, sku: str) -> None:
    for _ in range(n):
        log.append(Event.create("touch", session_id=f"s-{sku}", payload={"sku": sku}))


def _move_aside(database: Path) -> Path:
    aside = database.with_name("events.sqlite.aside")
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{database}{suffix}")
        if path.exists():
            path.rename(f"{aside}{suffix}")
    return aside


def _skus(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT json_extract(payload, '$.sku'), count(*) FROM events GROUP BY 1"
        ).fetchall()
    return {str(sku): int(n) for sku, n in rows}


def _check_new_file_and_redis(log: EventLog, config: KioskConfig, aside: Path, new: int) -> None:
    wait_for(
        lambda: (
            log.health().redis_rebuilds == 1
            and log.health().redis_lag_events == 0
            and log.health().memory_held_events == 0
        ),
        "Redis to be rebuilt from the new file",
    )
    health = log.health()
    assert health.sqlite_ok and health.redis_connected, health
    assert "another database" in (health.redis_rebuild_reason or "")
    log.stop()
    assert _skus(log.database) == {"NEW": new}
    assert _skus(aside) == {"OLD": 30}
    live = LiveCounters(config.redis)
    try:
        p = config.redis.key_prefix
        assert int(live.client.get(f"{p}:seq") or 0) == new
        assert live.client.xlen(f"{p}:stream") == new
        top = live.client.zrange(f"{p}:top:{day_key(time.time())}", 0, -1)
        assert top == [b"NEW"]
    finally:
        live.close()


def test_moved_aside_while_the_writer_works_starts_a_new_file(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 30, "OLD")
    wait_for(lambda: log.health().events_written == 30 and log.health().redis_lag_events == 0, "30")
    aside = _move_aside(log.database)
    _touches(log, 10, "NEW")
    wait_for(lambda: log.health().events_written == 40, "the new events")
    _check_new_file_and_redis(log, config, aside, 10)


def test_moved_aside_while_the_writer_fails_rebuilds_redis_from_the_new_file(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer cannot use the file (here: another program holds its lock) when staff
    move it aside: the new file gets the held events, and Redis, which holds a higher seq of
    the old file's, follows the new one (it used to keep the old counters and skip every new
    event up to the old seq, showing no lag)."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 30, "OLD")
    wait_for(lambda: log.health().events_written == 30 and log.health().redis_lag_events == 0, "30")
    locker = sqlite3.connect(log.database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        _touches(log, 10, "NEW")
        wait_for(lambda: not log.health().sqlite_ok, "the writer to fail on the lock")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    aside = _move_aside(log.database)
    wait_for(lambda: log.health().events_written == 40, "the held events in the new file")
    _check_new_file_and_redis(log, config, aside, 10)
