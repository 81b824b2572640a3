"""The day rollups say exactly what a scan of the events says: after random traffic over
several days (DST change, late events, odd payloads), after a backlog built in chunks, after
kill -9 in the middle of batches; and retention drops whole days."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import KioskConfig
from storage import Event, EventLog, rollups
from storage.records import INSERT_SQL, to_row
from tests.storage.day_scan import random_events, reference, rollup_tables, scan
from tests.support.waiting import wait_until

#: Berlin's clocks go back at 01:00 UTC on 2026-10-25: the traffic crosses it and two midnights.
START = 1_792_879_200.0  # 2026-10-24 22:00 UTC
SPAN_S = 3 * 86_400.0


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def empty_database(tmp_path: Path) -> Path:
    """A database made by the event log (its schema, no events)."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    log = EventLog(config)
    log.start()
    log.stop()
    return log.database


def connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode (the tests begin and commit)."""
    return sqlite3.connect(path, isolation_level=None)


def write_batch(db: sqlite3.Connection, events: list[Event], *, fold: bool = True) -> None:
    """Insert ``events`` in one transaction, as the writer does, folding them when asked."""
    db.execute("BEGIN IMMEDIATE")
    before = db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    db.executemany(INSERT_SQL, [to_row(e, "s1", "k1", 4096).values for e in events])
    last = db.execute("SELECT max(seq) FROM events").fetchone()[0]
    if fold:
        rollups.fold_batch(db, before + 1, last)
    db.execute("COMMIT")


def assert_rollups_match_scan(db: sqlite3.Connection) -> int:
    """Every day of the rollups equals the scan's; how many days."""
    days = scan(db)
    assert rollups.folded_upto(db) == db.execute("SELECT max(seq) FROM events").fetchone()[0]
    assert sorted(days) == list(rollups.days(db))
    for day, figures in days.items():
        assert rollup_tables(db, day) == reference(figures), day
    return len(days)


def test_rollups_match_a_scan_after_random_traffic(tmp_path: Path, berlin: None) -> None:
    rng = random.Random(22)
    db = connect(empty_database(tmp_path))
    events = random_events(rng, 4000, START, SPAN_S)
    while events:
        size = rng.choice([1, 2, 7, 50, 333])
        write_batch(db, events[:size])
        events = events[size:]
    assert assert_rollups_match_scan(db) >= 4
    # the scan is not trivially empty: every view has figures on the busiest day
    busiest = max(scan(db).values(), key=lambda d: d.events)
    assert all(busiest.funnel) and busiest.pairs() and busiest.dwell and busiest.touched


def test_a_backlog_is_built_in_chunks_before_new_batches(
    tmp_path: Path, berlin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the rollups: each written batch folds BUILD_CHUNK older events
    first, and itself once the backlog is gone; the idle catch-up does the same."""
    monkeypatch.setattr(rollups, "BUILD_CHUNK", 700)
    rng = random.Random(5)
    db = connect(empty_database(tmp_path))
    old = random_events(rng, 2000, START, SPAN_S)
    for start in range(0, 2000, 500):
        write_batch(db, old[start : start + 500], fold=False)
    assert rollups.folded_upto(db) == 0
    fresh = random_events(rng, 90, START + SPAN_S, 3600)
    write_batch(db, fresh[:30])
    assert rollups.folded_upto(db) == 700
    write_batch(db, fresh[30:60])
    assert rollups.folded_upto(db) == 1400
    db.execute("BEGIN IMMEDIATE")
    assert rollups.catch_up(db, limit=500) == 160  # 2,060 written, 1,900 folded
    assert rollups.catch_up(db) == 0
    db.execute("COMMIT")
    write_batch(db, fresh[60:])
    assert assert_rollups_match_scan(db) >= 4


def test_prune_drops_days_before_the_cutoff(tmp_path: Path, berlin: None) -> None:
    db = connect(empty_database(tmp_path))
    write_batch(db, random_events(random.Random(3), 600, START, SPAN_S))
    days = list(rollups.days(db))
    db.execute("BEGIN IMMEDIATE")
    dropped = rollups.prune(db, days[2])
    db.execute("COMMIT")
    assert dropped > 0
    assert list(rollups.days(db)) == days[2:]
    for table in rollups.DAY_TABLES:
        (left,) = db.execute(
            f"SELECT count(*) FROM {table.name} WHERE day < ?", (days[2],)
        ).fetchone()
        assert left == 0, table.name


CHILD = """
import random, sys
from pathlib import Path
from settings import KioskConfig
from storage import EventLog
from storage.rollups import DayRollups
from tests.storage.test_rollups import START
from tests.storage.day_scan import random_events
config = KioskConfig()
config.paths.data_dir = Path(sys.argv[1])
config.redis.enabled = False
log = EventLog(config, batch_hooks=[DayRollups(retention_days=3650)])
log.start()
rng = random.Random(int(sys.argv[2]))
appended = 0
while True:
    for event in random_events(rng, 200, START + appended, 600):
        log.append(event)
    appended += 200
    print(log.health().events_written, flush=True)
"""


def test_kill_9_mid_batch_leaves_rollups_equal_to_the_events(tmp_path: Path, berlin: None) -> None:
    """The event log's writer folds with the hook; killed while it writes, four times."""
    database = empty_database(tmp_path)
    repo = Path(__file__).resolve().parents[2]
    for run in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(run)],
            cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        target = random.Random(run).randint(2000, 6000)
        for line in child.stdout:
            if int(line) >= target:
                break
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    db = sqlite3.connect(database, isolation_level=None)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] >= 4 * 2000
    assert assert_rollups_match_scan(db) >= 1


def test_the_writer_hook_drops_days_past_retention(tmp_path: Path, berlin: None) -> None:
    """The writer's hook folds every batch and drops the days older than retention_days;
    the events of those days are retention's to delete."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    now = START + 100 * 86_400
    log = EventLog(config, batch_hooks=[rollups.DayRollups(90, clock=lambda: now)])
    log.start()
    rng = random.Random(9)
    for event in random_events(rng, 300, START, 86_400) + random_events(rng, 300, now - 3600, 60):
        log.append(event)
    wait_until(lambda: log.health().events_written == 600, "600 events written")
    log.stop()
    db = connect(log.database)
    assert list(rollups.days(db)) == [rollups.local_day(now)]
    (old,) = db.execute(
        "SELECT count(*) FROM events WHERE ts_epoch < ?", (now - 86_400,)
    ).fetchone()
    assert old == 300  # retention's to delete once uplinked: the rollups do not count them
