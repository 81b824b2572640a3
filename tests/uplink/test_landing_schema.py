"""The receiver's schema declared with SQLAlchemy Core is the one older receivers wrote as DDL:
a file made before opens, takes messages and reads back the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.uplink import make_events
from tests.uplink.test_kiosk_status import STATUS as STATUS_TOPIC
from tests.uplink.test_kiosk_status import status_body
from uplink.batch import serialise_batch
from uplink.kiosk_status import status_row
from uplink.landing import EventStore, ReceiverDatabaseError
from uplink.receiver_cli import main as receive_main
from uplink.schema import BatchChecker

TOPIC = "retail/demo-store/kiosk-01/events"

#: The receiver's tables as receivers before the SQLAlchemy schema created them (kept here,
#: verbatim, as the reference the declared schema must match).
HISTORICAL_DDL = """
CREATE TABLE IF NOT EXISTS events (
    event_id     TEXT PRIMARY KEY,
    ts           TEXT NOT NULL,
    ts_epoch     REAL NOT NULL,
    mono_ns      INTEGER,
    clock_synced INTEGER NOT NULL,
    store_id     TEXT NOT NULL,
    kiosk_id     TEXT NOT NULL,
    session_id   TEXT,
    type         TEXT NOT NULL,
    page         TEXT,
    element      TEXT,
    sku          TEXT,
    payload      TEXT NOT NULL,
    simulated    INTEGER NOT NULL,
    batch_id     TEXT NOT NULL,
    received_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_store_ts ON events (store_id, ts_epoch);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (type, ts_epoch);
CREATE INDEX IF NOT EXISTS events_sku ON events (sku) WHERE sku IS NOT NULL;
CREATE TABLE IF NOT EXISTS batches (
    batch_id    TEXT NOT NULL,
    part        INTEGER NOT NULL,
    parts       INTEGER NOT NULL,
    store_id    TEXT NOT NULL,
    kiosk_id    TEXT NOT NULL,
    first_ts    TEXT,
    last_ts     TEXT,
    count       INTEGER NOT NULL,
    new_events  INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (batch_id, part)
);
CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('event', 'message')),
    store_id    TEXT,
    kiosk_id    TEXT,
    batch_id    TEXT,
    part        INTEGER,
    event_id    TEXT,
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    replayed_at TEXT,
    digest      BLOB NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS quarantine_waiting ON quarantine (id) WHERE replayed_at IS NULL;
"""


def structure(db: Path) -> dict[str, object]:
    """Tables (columns: name, type, not null, default, primary key position) and indexes
    (unique, origin, partial, columns, and the WHERE of a partial one), by name."""
    with sqlite3.connect(db) as conn:
        found: dict[str, object] = {}
        tables = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        for (table,) in tables:
            columns = conn.execute(f"PRAGMA table_info({table})").fetchall()
            found[table] = [tuple(column[1:]) for column in columns]
            for _seq, name, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})"):
                indexed = [row[2] for row in conn.execute(f"PRAGMA index_info({name})")]
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,))
                where = (sql.fetchone()[0] or "").partition(" WHERE ")[2]
                key = name if origin == "c" else f"{table}: {origin} {indexed}"
                found[key] = (unique, origin, partial, indexed, where)
    return found


def old_receiver_file(db: Path) -> Path:
    with sqlite3.connect(db) as conn:
        conn.executescript(HISTORICAL_DDL)
    return db


def test_the_declared_schema_is_the_one_older_receivers_made(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite"
    EventStore(new).close()
    old = old_receiver_file(tmp_path / "old.sqlite")
    added = {"kiosk_status", "kiosk_status_latest"}
    declared = {
        name: shape for name, shape in structure(new).items() if not added & set(name.split(":"))
    }
    assert declared == structure(old)
    # the CHECK on quarantine.kind holds in both
    for db in (new, old):
        with sqlite3.connect(db) as conn, pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO quarantine (received_at, topic, kind, reason, raw, digest) "
                "VALUES ('t', 't', 'other', 'r', x'00', x'01')"
            )


def test_a_file_made_by_an_older_receiver_takes_messages(tmp_path: Path) -> None:
    db = old_receiver_file(tmp_path / "received.sqlite")
    store = EventStore(db)
    try:
        events = make_events(5)
        events[2]["payload"] = "not an object"
        [message] = serialise_batch(
            "b-1", events, store_id="demo-store", kiosk_id="kiosk-01", max_message_bytes=65_536
        )
        checker = BatchChecker()
        landed = store.ingest(checker.check(message.payload), TOPIC)
        again = store.ingest(checker.check(message.payload), TOPIC)
        assert (landed.new, landed.duplicate, landed.quarantined) == (4, 0, 1)
        assert (again.new, again.duplicate, again.quarantined) == (0, 4, 0)
        assert store.count() == 4
        [entry] = store.quarantined()
        assert (entry.kind, entry.batch_id, entry.part, entry.event_id) == (
            "event", "b-1", 1, events[2]["id"],
        )  # fmt: skip
    finally:
        store.close()


def test_an_older_receivers_file_gains_the_status_tables(tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite"
    EventStore(new).close()
    old = old_receiver_file(tmp_path / "old.sqlite")
    store = EventStore(old)
    try:
        row = status_row(STATUS_TOPIC, status_body("2026-11-27T10:00:00.000Z"), "t")
        assert store.store_status(row)
        assert not store.store_status(row)
    finally:
        store.close()
    assert structure(old) == structure(new)
    with sqlite3.connect(old) as conn:
        kept = conn.execute("SELECT kiosk_id, backlog_events FROM kiosk_status_latest").fetchall()
    assert kept == [("kiosk-01", 17)]


def test_a_database_that_cannot_be_read_is_one_line_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "received.sqlite"
    db.write_bytes(b"this is not a database, " * 100)
    with pytest.raises(ReceiverDatabaseError) as caught:
        EventStore(db)
    message = str(caught.value)
    assert "\n" not in message and str(db) in message and "not a database" in message


@pytest.mark.parametrize(
    "argv", [["quarantine", "list"], ["export", "--format", "csv"], ["--broker", "mqtt://x:1"]]
)
def test_the_commands_name_a_database_they_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    db = tmp_path / "received.sqlite"
    db.write_bytes(b"this is not a database, " * 100)
    assert receive_main([*argv, "--db", str(db)]) in (1, 2)
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("kiosk-receive") and str(db) in line and "not a database" in line
