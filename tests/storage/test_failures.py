"""The event log's failure paths, with the faults made for real: a Redis that answers wrongly
or goes away, a bad value stored in SQLite, an event appended twice, a writer thread that
fails. SQLite's path must never notice Redis, a commit counts once, a failed writer restarts
and health shows it meanwhile."""

from __future__ import annotations

import ctypes
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog, db, writer
from storage.queries import StatsReader
from storage.redis_counters import LiveCounters
from tests.support.storage import sqlite_only_config, stop_when_written
from tests.support.waiting import wait_until


def _config(tmp_path: Path, server: RedisServer) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.url = server.url
    return config


def _touches(log: EventLog, n: int, session: str, start: int = 0) -> None:
    for i in range(start, start + n):
        log.append(Event.create("touch", session_id=session, payload={"sku": f"p{i % 3}"}))


def _redis_matches_sqlite(config: KioskConfig, database: Path, events: int) -> None:
    live = LiveCounters(config.redis)
    reader = StatsReader(database)
    try:
        p = config.redis.key_prefix
        assert int(live.client.get(f"{p}:seq") or 0) == events
        assert len(live.client.xrange(f"{p}:stream")) == events
        assert dict(live.top_products(5)) == {k: float(v) for k, v in reader.top_products(5)}
    finally:
        reader.close()
        live.close()


def _client(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def _seq_not_a_number(server: RedisServer, prefix: str) -> None:
    with _client(server) as client:
        client.set(f"{prefix}:seq", "not-a-number")


def _stream_of_wrong_type(server: RedisServer, prefix: str) -> None:
    with _client(server) as client:
        client.delete(f"{prefix}:stream")
        client.set(f"{prefix}:stream", "a string where the stream should be")


def _script_flushed(server: RedisServer, prefix: str) -> None:
    with _client(server) as client:
        client.script_flush()


def _lua_error(server: RedisServer, prefix: str) -> None:
    # counters of the wrong type for the next minute: HINCRBY inside the script fails
    now = int(time.time())
    with _client(server) as client:
        for second in range(now - 5, now + 60):
            client.set(f"{prefix}:rate:{second}", "x")


@pytest.mark.parametrize(
    "fault",
    [_seq_not_a_number, _stream_of_wrong_type, _script_flushed, _lua_error],
    ids=["seq-not-a-number", "stream-of-wrong-type", "script-flush", "lua-error"],
)
def test_redis_answering_wrongly_never_touches_sqlite(
    tmp_path: Path,
    redis_server: RedisServer,
    fault: Callable[[RedisServer, str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever Redis answers, every event is written once, the writer keeps going, and once
    Redis is emptied it is refilled from SQLite to match it."""
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 20, "s1")
    wait_until(
        lambda: log.health().redis_lag_events == 0 and log.health().events_written == 20, "20"
    )
    fault(redis_server, config.redis.key_prefix)
    for k in range(5):
        _touches(log, 20, f"s{k + 2}", start=20 * (k + 1))
        wait_until(lambda k=k: log.health().events_written == 40 + 20 * k, "each batch")
    health = log.health()
    assert health.sqlite_ok and health.writer_alive, health
    assert health.events_dropped == 0 and health.events_rejected == 0
    assert health.memory_held_events == 0
    with _client(redis_server) as client:
        client.flushall()
    _touches(log, 10, "s9", start=120)
    wait_until(lambda: log.health().redis_lag_events == 0 and log.health().redis_connected, "Redis")
    assert stop_when_written(log, 130) == (130, "ok")
    assert log.health().writer_restarts == 0
    _redis_matches_sqlite(config, log.database, 130)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_redis_killed_mid_run_never_touches_sqlite(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 20, "s1")
    wait_until(
        lambda: log.health().redis_lag_events == 0 and log.health().events_written == 20, "20"
    )
    redis_server.kill()
    _touches(log, 40, "s2", start=20)
    wait_until(lambda: log.health().events_written == 60, "the events written without Redis")
    wait_until(lambda: not log.health().redis_connected, "Redis to be reported away")
    health = log.health()
    assert health.sqlite_ok and health.redis_error and health.redis_lag_events > 0
    redis_server.start()  # empty: no persistence
    wait_until(lambda: log.health().redis_lag_events == 0 and log.health().redis_connected, "Redis")
    assert stop_when_written(log, 60) == (60, "ok")
    _redis_matches_sqlite(config, log.database, 60)


def test_a_bad_value_in_sqlite_neither_stops_the_writer_nor_redis(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A row edited by hand (a time that is not a number) makes the mirror's replay raise a
    ValueError. It is left out of the live counters, named in the log; the writer goes on."""
    first = EventLog(sqlite_only_config(tmp_path))
    first.start()
    _touches(first, 10, "s1")
    first.stop()
    with sqlite3.connect(first.database) as conn:
        conn.execute("UPDATE events SET ts_epoch = 'garbage' WHERE seq = 4")

    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 10, "s2", start=10)
    wait_until(lambda: log.health().events_written == 10, "the events after the bad row")
    wait_until(lambda: log.health().redis_lag_events == 0 and log.health().redis_connected, "Redis")
    health = log.health()
    assert health.sqlite_ok and health.writer_alive and health.writer_restarts == 0
    log.stop()
    live = LiveCounters(config.redis)
    p = config.redis.key_prefix
    seqs = [int(f[b"seq"]) for _, f in live.client.xrange(f"{p}:stream")]
    live.close()
    assert seqs == [s for s in range(1, 21) if s != 4]
    left_out = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert len(left_out) == 1 and "seq 4" in left_out[0] and "ValueError" in left_out[0]


def test_an_event_appended_twice_is_stored_once_and_never_wedges(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    twice = Event.create("touch", payload={"i": 0})
    log.append(twice)
    wait_until(lambda: log.health().events_written == 1, "the first event")
    log.append(twice)
    for i in range(1, 6):
        log.append(Event.create("touch", payload={"i": i}))
    wait_until(lambda: log.health().events_written == 6, "the five new events")
    health = log.health()
    assert health.sqlite_ok and health.events_rejected == 1 and health.memory_held_events == 0
    assert stop_when_written(log, 6) == (6, "ok")
    with sqlite3.connect(log.database) as conn:
        stored = [
            r[0]
            for r in conn.execute("SELECT json_extract(payload, '$.i') FROM events ORDER BY seq")
        ]
    assert stored == list(range(6))
    assert any(twice.id in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


class WriterFault(Exception):
    """Raised inside the writer thread by the test, as an unforeseen bug would be."""


def _raise_in_thread(name: str, exc: type[BaseException]) -> None:
    (thread,) = [t for t in threading.enumerate() if t.name == name]
    assert thread.ident is not None
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(exc)
    )
    assert done == 1


def test_a_failed_writer_is_shown_red_and_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "WRITER_RESTART_MIN_S", 3.0)
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    # the retention schedule's first run follows the first batch: the fault is raised once
    # the writer took a second one, so it lands in the writer's loop, not in that run
    for n in (1, 2):
        log.append(Event.create("touch"))
        wait_until(lambda n=n: log.health().events_written == n, f"event {n}")
    _raise_in_thread("event-log-writer", WriterFault)
    wait_until(lambda: not log.health().sqlite_ok, "the failed writer to be shown")
    health = log.health()
    assert not health.writer_alive and health.writer_restarts == 1
    assert "WriterFault" in (health.sqlite_error or "")
    for i in range(20):
        log.append(Event.create("touch", payload={"i": i}))
    wait_until(lambda: log.health().events_written == 22, "the restarted writer")
    health = log.health()
    assert health.sqlite_ok and health.writer_alive and health.writer_error
    assert stop_when_written(log, 22) == (22, "ok")


def test_a_database_locked_mid_run_does_not_stop_redis_catching_up(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis comes back while another program holds SQLite's write lock: the mirror reads
    what Redis lacks without that lock, the writer holds its events in memory, and both
    carry on once the lock goes."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(writer, "RETRY_MIN_S", 0.1)
    config = _config(tmp_path, redis_server)
    log = EventLog(config)
    log.start()
    _touches(log, 20, "s1")
    wait_until(
        lambda: log.health().redis_lag_events == 0 and log.health().events_written == 20, "20"
    )
    redis_server.kill()
    _touches(log, 10, "s2", start=20)
    wait_until(lambda: log.health().events_written == 30, "the events written without Redis")
    wait_until(lambda: not log.health().redis_connected, "Redis to be reported away")

    other = sqlite3.connect(log.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        redis_server.start()  # empty: everything is replayed from SQLite under the lock
        wait_until(
            lambda: log.health().redis_connected and log.health().redis_lag_events == 0,
            "Redis to catch up while the database is locked",
        )
        _touches(log, 5, "s3", start=30)
        wait_until(lambda: not log.health().sqlite_ok, "the lock to be reported")
        assert log.health().writer_alive
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert stop_when_written(log, 35) == (35, "ok")
    health = log.health()
    assert health.sqlite_ok and health.writer_restarts == 0
    _redis_matches_sqlite(config, log.database, 35)


def test_a_frozen_redis_never_holds_the_writer_back(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Redis stops answering (SIGSTOP) while the writer commits batch after batch, more than
    the mirror thread keeps in hand: every batch is written while Redis is frozen, and once
    it answers again it is brought up to SQLite, each event counted once."""
    config = _config(tmp_path, redis_server)
    config.storage.flush_max_events = 10
    log = EventLog(config)
    log.start()
    _touches(log, 20, "s1")
    wait_until(
        lambda: log.health().redis_lag_events == 0 and log.health().events_written == 20, "20"
    )
    redis_server.pause()
    try:
        for k in range(30):  # 30 batches: more than redis_mirror.FEED_BACKLOG wait for the mirror
            _touches(log, 10, f"f{k}", start=20 + 10 * k)
            wait_until(lambda k=k: log.health().events_written == 30 + 10 * k, "each batch")
        health = log.health()
        assert health.sqlite_ok and health.memory_held_events == 0 and health.queue_depth == 0
    finally:
        redis_server.resume()
    wait_until(lambda: log.health().redis_lag_events == 0 and log.health().redis_connected, "Redis")
    assert stop_when_written(log, 320) == (320, "ok")
    _redis_matches_sqlite(config, log.database, 320)


def test_a_stop_while_the_failed_writer_pauses_still_writes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "WRITER_RESTART_MIN_S", 60.0)
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    log.append(Event.create("touch"))
    wait_until(lambda: log.health().events_written == 1, "the first event")
    _raise_in_thread("event-log-writer", WriterFault)
    wait_until(lambda: not log.health().writer_alive, "the failed writer to be shown")
    for i in range(10):
        log.append(Event.create("touch", payload={"i": i}))
    log.stop()
    with sqlite3.connect(log.database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 11
    assert log.health().events_written == 11
