"""Staff move the database aside while the kiosk runs (operations: "move it aside to start
anew"), with a real redis-server: the event log starts a new file at the configured path,
writes there everything appended since, and Redis is rebuilt from the new file, in both ways
a store meets it: the writer busy on the old file, or failing on it at that moment."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog, Outbox, db
from storage.redis_counters import LiveCounters
from storage.redis_mirror import day_key
from tests.support.waiting import wait_until


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
    wait_until(
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


def _checkpointed_rows(database: Path, copy: Path) -> int:
    """Events in the main file alone (what the WAL checkpoints copied into it)."""
    shutil.copyfile(database, copy)
    with sqlite3.connect(copy) as conn:
        tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchall()
        # the new file's tables, too, reach it by a checkpoint
        (count,) = conn.execute("SELECT count(*) FROM events").fetchone() if tables else (0,)
    copy.unlink()
    Path(f"{copy}-wal").unlink(missing_ok=True)
    Path(f"{copy}-shm").unlink(missing_ok=True)
    return int(count)


def test_moved_aside_while_the_writer_works_starts_a_new_file(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """The writer, the WAL checkpoints, the Redis mirror and a running uplink's outbox all
    follow the path to the new file (each kept a connection to the moved one)."""
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    outbox = Outbox(log.database)
    try:
        _touches(log, 30, "OLD")
        wait_until(
            lambda: log.health().events_written == 30 and log.health().redis_lag_events == 0,
            "30",
        )
        sent = outbox.claim_batch(500, 1 << 20)
        assert sent is not None and len(sent.events) == 30
        outbox.mark_sent(sent.batch_id)
        aside = _move_aside(log.database)
        _touches(log, 10, "NEW")
        wait_until(lambda: log.health().events_written == 40, "the new events")
        wait_until(
            lambda: _checkpointed_rows(log.database, tmp_path / "copy.sqlite") == 10,
            "the WAL checkpoint of the new file",
        )
        assert outbox.backlog().events == 10
        batch = outbox.claim_batch(500, 1 << 20)
        assert batch is not None
        assert [e["payload"]["sku"] for e in batch.events] == ["NEW"] * 10
    finally:
        outbox.close()
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
    wait_until(
        lambda: log.health().events_written == 30 and log.health().redis_lag_events == 0, "30"
    )
    locker = sqlite3.connect(log.database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        _touches(log, 10, "NEW")
        wait_until(lambda: not log.health().sqlite_ok, "the writer to fail on the lock")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    aside = _move_aside(log.database)
    wait_until(lambda: log.health().events_written == 40, "the held events in the new file")
    _check_new_file_and_redis(log, config, aside, 10)


def test_the_checkpoint_thread_follows_the_path_to_a_new_file(tmp_path: Path) -> None:
    """The checkpoint thread kept its connection to the moved file: the new one's WAL was
    never copied into it (until the writer's own checkpoint at 40 MB)."""
    database = tmp_path / "events.sqlite"

    def wal_file_with_rows(n: int) -> sqlite3.Connection:
        # a writer that leaves checkpoints to the thread, as the event log's does
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("CREATE TABLE events (n INTEGER)")
        conn.executemany("INSERT INTO events VALUES (?)", [(i,) for i in range(n)])
        return conn

    old = wal_file_with_rows(3)
    checkpointer = db.Checkpointer(database, every_s=0.05)
    checkpointer.start()
    try:
        checkpointer.nudge(3)
        wait_until(
            lambda: _checkpointed_rows(database, tmp_path / "copy.sqlite") == 3,
            "the first file's checkpoint",
        )
        old.close()
        _move_aside(database)
        new = wal_file_with_rows(7)
        checkpointer.reopen()  # what the event log does when it opened the path again
        checkpointer.nudge(7)
        wait_until(
            lambda: _checkpointed_rows(database, tmp_path / "copy.sqlite") == 7,
            "the new file's checkpoint",
        )
        new.close()
    finally:
        checkpointer.stop()
