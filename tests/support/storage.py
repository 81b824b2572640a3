"""The storage tests' helpers: a config on SQLite alone, and reading the file back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from settings import KioskConfig
from storage import Event, EventLog, StorageHealth
from tests.support.waiting import wait_until


def sqlite_only_config(tmp_path: Path) -> KioskConfig:
    """The default config with its data in ``tmp_path`` and Redis off."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    return config


def one_event_held(tmp_path: Path) -> StorageHealth:
    """Health of a log on ``tmp_path`` (whose database it cannot use) after one event and a
    short stop."""
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    log.append(Event.create("touch"))
    log.stop(timeout=1.0)
    return log.health()


def stop_when_written(log: EventLog, written: int) -> tuple[int, str]:
    """Wait until ``log`` has written ``written`` events in all and stop it; the events in
    its file and the file's integrity check."""
    wait_until(lambda: log.health().events_written == written, "the held events to be written")
    log.stop()
    with sqlite3.connect(log.database) as conn:
        (count,) = conn.execute("SELECT count(*) FROM events").fetchone()
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    return int(count), str(check)
