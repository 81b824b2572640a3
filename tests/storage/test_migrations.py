"""The versioned schema: an older kiosk's file is migrated in place, a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import Event, EventLog, db
from storage.db import make_engine, migrate
from storage.outbox import Outbox
from storage.queries import StatsReader
from storage.records import COLUMNS, to_row
from tests.support.storage import one_event_held, sqlite_only_config

#: The DDL older kiosks wrote, by version, as they wrote it (before the schema was declared
#: in storage.schema): the files out in shops were made by these statements.
OLD_DDL: dict[int, list[str]] = {
    1: [
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            ts TEXT NOT NULL,
            ts_epoch REAL NOT NULL,
            mono_ns INTEGER NOT NULL,
            clock_synced INTEGER NOT NULL,
            store_id TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            session_id TEXT,
            type TEXT NOT NULL,
            page TEXT,
            element TEXT,
            sku TEXT,
            payload TEXT NOT NULL,
            simulated INTEGER NOT NULL,
            size INTEGER NOT NULL
        )""",
        "CREATE INDEX ix_events_ts ON events (ts_epoch)",
        "CREATE INDEX ix_events_session ON events (session_id, seq) WHERE session_id IS NOT NULL",
        "CREATE INDEX ix_events_sku ON events (sku, ts_epoch) WHERE sku IS NOT NULL",
        """CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            first_ts TEXT NOT NULL,
            first_epoch REAL NOT NULL,
            last_epoch REAL NOT NULL,
            started_ts TEXT,
            ended_ts TEXT,
            end_reason TEXT,
            events INTEGER NOT NULL DEFAULT 0,
            touches INTEGER NOT NULL DEFAULT 0,
            simulated INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX ix_sessions_first ON sessions (first_epoch)",
        """CREATE TABLE outbox (
            batch_id TEXT PRIMARY KEY,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            count INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            first_ts TEXT NOT NULL,
            last_ts TEXT NOT NULL,
            created_at REAL NOT NULL,
            lease_owner TEXT,
            lease_until REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at REAL
        )""",
        "CREATE INDEX ix_outbox_unsent ON outbox (first_seq) WHERE sent_at IS NULL",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
    2: ["ALTER TABLE sessions ADD COLUMN page_views INTEGER NOT NULL DEFAULT 0"],
    3: [
        "DROP INDEX ix_events_sku",
        "CREATE INDEX ix_events_sku_ts ON events (ts_epoch, sku, session_id) WHERE sku IS NOT NULL",
    ],
    4: ["ALTER TABLE events ADD COLUMN json TEXT"],
}


def _old_file(path: Path, version: int) -> None:
    """An empty database as the kiosk of schema ``version`` left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for step in range(1, version + 1):
        for statement in OLD_DDL[step]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, '2026-01-01')", (step,))
    conn.close()


def _schema(path: Path) -> dict[str, object]:
    """What a file's schema is, as SQLite reads it: each table's columns (name, type, not
    null, default, primary key) and each index's table, columns, uniqueness and WHERE."""
    with sqlite3.connect(path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        shape: dict[str, object] = {}
        for table in sorted(tables):
            columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
            shape[table] = [(c[1], c[2].upper(), c[3], c[4], c[5]) for c in columns]
            for _seq, index, unique, _origin, partial in conn.execute(
                f"PRAGMA index_list({table})"
            ):
                keys = [r[2] for r in conn.execute(f"PRAGMA index_info({index})")]
                # a WITHOUT ROWID table's primary key is the table itself: no row of its own
                row = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (index,)
                ).fetchone()
                sql = row[0] if row else ""
                where = " ".join(sql.split(" WHERE ")[1].split()) if partial else None
                name = "(autoindex)" if index.startswith("sqlite_autoindex") else index
                shape[f"{table}.{name}.{'/'.join(keys)}"] = (unique, where)
        autoincrement = conn.execute(
            "SELECT sql LIKE '%AUTOINCREMENT%' FROM sqlite_master WHERE name = 'events'"
        ).fetchone()[0]
        shape["events autoincrement"] = bool(autoincrement)
    return shape


def _migrated(path: Path) -> None:
    engine = make_engine(path)
    try:
        migrate(engine, path)
    finally:
        engine.dispose()


def test_every_older_file_migrates_to_the_declared_schema(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite"
    _migrated(new)
    declared = _schema(new)
    assert declared["events autoincrement"]
    for version in sorted(OLD_DDL):
        old = tmp_path / f"v{version}.sqlite"
        _old_file(old, version)
        _migrated(old)
        assert _schema(old) == declared, f"a v{version} file migrated differs"
        with sqlite3.connect(old) as conn:
            versions = [v for (v,) in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, db.LATEST_VERSION + 1))


def _schema_v2_file(path: Path, events: list[Event]) -> None:
    """A database as the kiosk of schema v2 left it, holding ``events``."""
    _old_file(path, 2)
    conn = sqlite3.connect(path, isolation_level=None)
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
