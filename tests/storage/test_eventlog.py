"""EventLog against a real SQLite file in tmp_path."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import jsonschema
import pytest

from settings import KioskConfig
from storage import Event, EventLog, EventRejected

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schema" / "event-v1.json"


def _config(tmp_path: Path) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    return config


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
    config = _config(tmp_path)
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
    log = EventLog(_config(tmp_path))
    log.start()
    log.append(Event.create("touch"))
    log.stop(timeout=1.0)
    health = log.health()
    assert not health.sqlite_ok
    assert "corrupt" in (health.sqlite_error or "")
    assert health.memory_held_events == 1
