"""The versioned schema: an older kiosk's file is migrated in place, a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import Event, EventLog, db
from storage.outbox import Outbox
from storage.queries import StatsReader
from storage.records import COLUMNS, to_row
from tests.support.storage import one_event_held, sqlite_only_config


def _schema_v2_file(path: Path, events: list[Event]) -> None:
    """A database as the kiosk of schema v2 left it, holding ``events``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for version in (1, 2):
        for statement in db.MIGRATIONS[version]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, '2026-01-01')", (version,))
    v2_columns = COLUMNS[: COLUMNS.index("size") + 1]
    conn.executemany(
        f"INSERT INTO events ({', '.join(v2_columns)}) VALUES ({', '.join('?' * len(v2_columns))})",
        [to_row(e, "", "", 4096).values[: len(v2_columns)] for e in events],
    )
    conn.close()


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_autoindex")}


def test_v2_file_is_migrated_and_keeps_its_events(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    old = [
        Event.create("touch", session_id="s1", payload={"sku": "A"}, store_id="st", kiosk_id="k")
        for _ in range(3)
    ]
    _schema_v2_file(path, old)
    assert "ix_events_sku" in _indexes(path)

    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    log.append(Event.create("action", session_id="s2", payload={"sku": "B"}))
    log.stop()

    assert log.health().sqlite_ok
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, db.LATEST_VERSION + 1))
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 4
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    indexes = _indexes(path)
    assert "ix_events_sku_ts" in indexes and "ix_events_sku" not in indexes
    stats = StatsReader(path)
    try:
        # the dashboards' product queries read the new index and see old and new events
        assert stats.top_products(since=0) == [("A", 3), ("B", 1)]
        assert sum(n for _b, _sku, n in stats.product_rate(window_s=3600)) == 4
    finally:
        stats.close()
    # old rows have no stored JSON: the uplink gets it built from their columns, the same
    # bytes as the event log's own encoding
    outbox = Outbox(path)
    try:
        batch = outbox.claim_batch(10, 65_536)
    finally:
        outbox.close()
    assert batch is not None
    expected = [to_row(e, "", "", 4096).json.encode() for e in old]
    assert batch.jsons[:3] == expected
    assert batch.events[3]["type"] == "action" and batch.events[3]["payload"] == {"sku": "B"}


def test_newer_schema_is_refused_and_events_kept_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    _schema_v2_file(path, [])
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '2027-01-01')")

    health = one_event_held(tmp_path)
    assert not health.sqlite_ok
    assert "schema v99 is newer" in (health.sqlite_error or "")
    assert str(path) in (health.sqlite_error or "")
    assert health.memory_held_events == 1
