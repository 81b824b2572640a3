"""WAL checkpoints: on their own thread, with the writer's own as a bound on the WAL."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from storage import Event, EventLog, db
from tests.support.storage import sqlite_only_config


def test_the_writer_leaves_checkpoints_to_the_checkpoint_thread(tmp_path: Path) -> None:
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    assert log.writer.engine is not None
    with log.writer.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == db.WRITER_CHECKPOINT_PAGES
    for i in range(db.CHECKPOINT_EVENTS + 500):
        log.append(Event.create("touch", payload={"sku": f"p{i % 5}"}))
    deadline = time.monotonic() + 20
    while log.writer.checkpointer.checkpoints == 0:
        assert time.monotonic() < deadline, "no checkpoint after 2,500 events"
        time.sleep(0.05)
    log.stop()
    assert log.writer.checkpointer.error is None
    with sqlite3.connect(log.database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2500
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_writer_bounds_the_wal_when_no_checkpoint_thread_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the background checkpoints never finish (a sustained load keeps the WAL
    growing under them), the writer's own checkpoint at its raised threshold still keeps
    the WAL file bounded."""
    monkeypatch.setattr("storage.writer.WRITER_CHECKPOINT_PAGES", 200)
    monkeypatch.setattr(db, "WAL_SIZE_LIMIT", 1024 * 1024)
    log = EventLog(sqlite_only_config(tmp_path))
    monkeypatch.setattr(log.writer.checkpointer, "start", lambda: None)
    log.start()
    wal = Path(f"{log.database}-wal")
    for i in range(12_000):
        log.append(Event.create("touch", session_id=f"s{i // 20}", payload={"sku": f"p{i}"}))
    largest = 0
    deadline = time.monotonic() + 60
    while log.health().events_written < 12_000:
        assert time.monotonic() < deadline, "the writer did not keep up"
        largest = max(largest, wal.stat().st_size if wal.exists() else 0)
        time.sleep(0.002)
    largest = max(largest, wal.stat().st_size)
    log.stop()
    assert log.health().events_written == 12_000
    # 200 pages of 4 KB and one batch past them; without the bound, about 6 MB
    assert 0 < largest < 2 * 1024 * 1024
    assert log.writer.checkpointer.checkpoints == 0


def test_a_failing_checkpoint_is_logged_and_the_thread_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = db.Checkpointer(tmp_path / "missing" / "events.sqlite", every_s=0.05)
    checkpointer.start()
    try:
        checkpointer.nudge(db.CHECKPOINT_EVENTS)
        deadline = time.monotonic() + 10
        while checkpointer.error is None:
            assert time.monotonic() < deadline, "the failure was not reported"
            time.sleep(0.02)
        assert "cannot open the database file" in checkpointer.error
        checkpointer.nudge(1)
        time.sleep(0.2)
    finally:
        checkpointer.stop()
    assert checkpointer.checkpoints == 0
    failures = [r for r in caplog.records if "WAL checkpoint failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
