"""EventLog against a real SQLite file in tmp_path."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from storage import Event, EventLog, EventRejected, EventType, db, writer
from tests.support.storage import one_event_held, sqlite_only_config, stop_when_written
from tests.support.waiting import wait_until

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schema" / "event-v1.json"


def test_event_matches_published_schema() -> None:
    event = Event.create("touch", payload={"sku": "A1"}, store_id="s1", kiosk_id="k1")
    jsonschema.validate(event.to_json_dict(), json.loads(SCHEMA.read_text()))


def test_oversized_and_non_json_payload_rejected() -> None:
    with pytest.raises(EventRejected, match="limit is 4096"):
        Event.create("touch", payload={"x": "y" * 5000})
    with pytest.raises(EventRejected, match="not JSON"):
        Event.create("touch", payload={"x": object()})
    with pytest.raises(EventRejected, match="unknown event type"):
        Event.create("bogus")


def test_graceful_stop_loses_nothing_four_threads(tmp_path: Path) -> None:
    config = sqlite_only_config(tmp_path)
    log = EventLog(config)
    log.start()
    assert log.database == tmp_path / "events.sqlite"

    def produce(n: int) -> None:
        for i in range(n):
            log.append(Event.create("touch", session_id=f"s{n}", payload={"sku": f"p{i % 7}"}))

    threads = [threading.Thread(target=produce, args=(500 + k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.stop()
    with sqlite3.connect(log.database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2006
        assert conn.execute("SELECT count(DISTINCT id) FROM events").fetchone()[0] == 2006
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        stores = conn.execute("SELECT DISTINCT store_id, kiosk_id FROM events").fetchall()
    assert stores == [("demo-store", "kiosk-01")]
    health = log.health()
    assert health.sqlite_ok and health.events_today == 2006 and health.queue_depth == 0


def test_corrupt_file_keeps_events_in_memory(tmp_path: Path) -> None:
    (tmp_path / "events.sqlite").write_bytes(b"this is not a database" * 100)
    health = one_event_held(tmp_path)
    assert not health.sqlite_ok
    assert "corrupt" in (health.sqlite_error or "")
    assert health.memory_held_events == 1


def test_locked_database_holds_events_then_writes_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(writer, "RETRY_MIN_S", 0.1)
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    try:
        log.append(Event.create("touch"))
        wait_until(lambda: log.health().events_written == 1, "the first event")

        # Another program takes the write lock and keeps it.
        other = sqlite3.connect(log.database, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        for i in range(50):
            log.append(Event.create("touch", payload={"i": i}))
        wait_until(lambda: not log.health().sqlite_ok, "the lock to be reported")
        assert "locked" in (log.health().sqlite_error or "")

        # every event is held, in memory or still queued (one the writer is moving from the
        # queue into memory is briefly in neither count: wait for them all to settle)
        def held() -> int:
            health = log.health()
            return health.memory_held_events + health.queue_depth

        wait_until(lambda: held() == 50, "the 50 events to be held")
        assert log.health().events_written == 1

        other.execute("ROLLBACK")
        other.close()
        assert stop_when_written(log, 51) == (51, "ok")
        assert log.health().sqlite_ok
    finally:
        log.stop(timeout=10.0)  # a failure here must not leave its writer running into later tests


def _set_read_only(path: Path, read_only: bool) -> None:
    """chmod, and for root (whom permissions do not stop) the immutable attribute."""
    if read_only:
        path.chmod(0o444)
    if os.geteuid() == 0:
        done = subprocess.run(
            ["chattr", "+i" if read_only else "-i", str(path)], capture_output=True, check=False
        )
        if done.returncode != 0 and read_only:
            path.chmod(0o644)
            pytest.skip(f"running as root and chattr cannot make files read-only: {done.stderr!r}")
    if not read_only:
        path.chmod(0o644)


def test_read_only_database_is_reported_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "RETRY_MIN_S", 0.1)
    monkeypatch.setattr(writer, "RETRY_MAX_S", 0.2)
    first = EventLog(sqlite_only_config(tmp_path))
    first.start()
    first.append(Event.create("touch"))
    first.stop()

    _set_read_only(first.database, True)
    try:
        log = EventLog(sqlite_only_config(tmp_path))
        log.start()
        for i in range(20):
            log.append(Event.create("touch", payload={"i": i}))
        wait_until(lambda: not log.health().sqlite_ok, "the read-only file to be reported")
        assert "read-only" in (log.health().sqlite_error or "")
        wait_until(lambda: log.health().memory_held_events == 20, "the events held in memory")
    finally:
        _set_read_only(first.database, False)
    count, _check = stop_when_written(log, 20)
    assert count == 21


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of its own (needs root, as CI has; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_full_disk_holds_events_then_writes_them_all(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "RETRY_MIN_S", 0.1)
    monkeypatch.setattr(writer, "RETRY_MAX_S", 0.2)
    log = EventLog(sqlite_only_config(small_disk))
    log.start()
    for i in range(10):
        log.append(Event.create("touch", payload={"i": i}))
    wait_until(lambda: log.health().events_written == 10, "the first events")

    ballast = small_disk / "ballast"
    with ballast.open("wb") as f:  # fill the disk to the last block
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    for i in range(300):
        log.append(Event.create("touch", payload={"i": i, "note": "x" * 1000}))
    wait_until(lambda: not log.health().sqlite_ok, "the full disk to be reported")
    health = log.health()
    assert "disk is full" in (health.sqlite_error or ""), health.sqlite_error
    assert health.events_dropped == 0

    ballast.unlink()
    assert stop_when_written(log, 310) == (310, "ok")
    assert log.health().sqlite_ok


def test_an_event_type_member_is_stored_as_its_plain_string(tmp_path: Path) -> None:
    event = Event.create(EventType.PAGE_VIEW, payload={"sku": "A1"})
    assert type(event.type) is str and event.type == "page.view"
    assert event.to_json_dict()["type"] == "page.view"
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    log.append(event)
    log.stop()
    with sqlite3.connect(log.database) as conn:
        row = conn.execute("SELECT type, sku, json FROM events").fetchone()
    assert row[0] == "page.view" and row[1] == "A1"  # counted as a product type
    assert json.loads(row[2])["type"] == "page.view"
