"""The analysts' SQLite file: the events received, the batches, and the quarantine.

Every valid event of a message lands in ``events`` (keyed by event id, so a batch delivered
twice leaves one row per event). An event that fails the schema goes, with the reason and
its JSON, to ``quarantine``; so does a whole message that cannot be read as a batch (its
bytes as received). Both happen in one transaction, and only after it has committed does
the receiver acknowledge the message. An analyst lists the quarantine and replays it (after
a schema update, say): :meth:`EventStore.replay` checks each entry again and lands what
now passes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uplink.schema import BatchChecker, CheckedMessage, MalformedMessage, RejectedEvent

log = logging.getLogger(__name__)

SCHEMA_SQL = """
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
    -- sha256 of kind, topic and raw: a redelivered message is quarantined once
    digest      BLOB NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS quarantine_waiting ON quarantine (id) WHERE replayed_at IS NULL;
"""

#: Columns of ``events`` in table order (also the CSV/Parquet column order).
EVENT_COLUMNS = (
    "event_id",
    "ts",
    "ts_epoch",
    "mono_ns",
    "clock_synced",
    "store_id",
    "kiosk_id",
    "session_id",
    "type",
    "page",
    "element",
    "sku",
    "payload",
    "simulated",
    "batch_id",
    "received_at",
)
_INSERT_EVENT = (
    f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
_INSERT_QUARANTINE = (
    "INSERT OR IGNORE INTO quarantine (received_at, topic, kind, store_id, kiosk_id, "
    "batch_id, part, event_id, reason, raw, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _digest(kind: str, topic: str, raw: bytes) -> bytes:
    return hashlib.sha256(b"\0".join((kind.encode(), topic.encode("utf-8"), raw))).digest()


@dataclass(frozen=True)
class Landed:
    """What one message left in the file."""

    new: int
    duplicate: int
    quarantined: int


@dataclass(frozen=True)
class QuarantineEntry:
    """One row of ``quarantine``."""

    id: int
    received_at: str
    topic: str
    kind: str
    store_id: str | None
    kiosk_id: str | None
    batch_id: str | None
    part: int | None
    event_id: str | None
    reason: str
    raw: bytes
    replayed_at: str | None


@dataclass(frozen=True)
class Replayed:
    """The outcome of a replay: entries that now landed, and those still failing."""

    landed: int
    events_new: int
    still_failing: list[tuple[int, str]]


def now_iso() -> str:
    """The current UTC time as ``...Z`` with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _raw_event(event: Any) -> bytes:
    # the event as it came, re-encoded from its parsed JSON (the message's other events
    # landed, so its own bytes alone are kept)
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the same JSON, escaped
        return json.dumps(event, separators=(",", ":"), default=str).encode("ascii")


def _event_id(event: Any) -> str | None:
    ident = event.get("id") if isinstance(event, dict) else None
    return None if ident is None else str(ident)[:128]


def _row(event: dict[str, Any], batch: dict[str, Any], now: str) -> tuple[Any, ...]:
    """The ``events`` row of a valid event; ValueError etc. for one the table cannot hold."""
    payload = event["payload"]
    sku = payload.get("sku")
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the same JSON, escaped
            text = json.dumps(payload, separators=(",", ":"))
    row = (
        event["id"],
        event["ts"],
        datetime.fromisoformat(event["ts"]).timestamp(),
        event["mono_ns"],
        int(bool(event["clock_synced"])),
        event["store_id"],
        event["kiosk_id"],
        event["session_id"],
        event["type"],
        event["page"],
        event["element"],
        None if sku is None else str(sku),
        text,
        int(bool(event["simulated"])),
        batch["batch_id"],
        now,
    )
    for value in row:
        if isinstance(value, str) and not value.isascii():
            value.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
    return row


class EventStore:
    """The receiver's SQLite file (one writer: the receiver's network thread)."""

    def __init__(self, database: Path) -> None:
        database = Path(database)
        database.parent.mkdir(parents=True, exist_ok=True)
        self.database = database
        self._conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA_SQL)

    def ingest(self, checked: CheckedMessage, topic: str) -> Landed:
        """Land the message's valid events and quarantine its rejected ones, in one
        transaction. Raises ``sqlite3.Error`` (nothing written) when the file cannot be
        written."""
        batch = checked.batch
        now = now_iso()
        rows = []
        rejected = list(checked.rejected)
        for event in checked.events:
            try:
                rows.append(_row(event, batch, now))
            except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
                reason = f"event ({_event_id(event)}): does not fit the table: {exc!r:.200}"
                rejected.append(RejectedEvent(-1, event, reason))
        quarantined = []
        for r in rejected:
            raw = _raw_event(r.event)
            quarantined.append(
                (
                    now,
                    topic,
                    "event",
                    batch["store_id"],
                    batch["kiosk_id"],
                    batch["batch_id"],
                    batch["part"],
                    _event_id(r.event),
                    r.reason,
                    raw,
                    _digest("event", topic, raw),
                )
            )
        with self._transaction() as conn:
            new = max(conn.executemany(_INSERT_EVENT, rows).rowcount, 0) if rows else 0
            # a redelivered message's rejects are there already (digest): counted once
            held = conn.executemany(_INSERT_QUARANTINE, quarantined).rowcount if quarantined else 0
            conn.execute(
                "INSERT OR IGNORE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch["batch_id"],
                    batch["part"],
                    batch["parts"],
                    batch["store_id"],
                    batch["kiosk_id"],
                    batch["first_ts"],
                    batch["last_ts"],
                    batch["count"],
                    new,
                    now,
                ),
            )
        return Landed(new, len(rows) - new, max(held, 0))

    def quarantine_message(self, topic: str, reason: str, payload: bytes) -> None:
        """Keep a message that cannot be read as a batch, byte for byte, with the reason.
        Raises ``sqlite3.Error`` when the file cannot be written."""
        with self._transaction() as conn:
            store, kiosk = _ids_of_topic(topic)
            digest = _digest("message", topic, payload)
            conn.execute(
                _INSERT_QUARANTINE,
                (now_iso(), topic, "message", store, kiosk, None, None, None, reason, payload,
                 digest),
            )  # fmt: skip

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)

    def quarantined(
        self, *, include_replayed: bool = False, ids: Sequence[int] = ()
    ) -> list[QuarantineEntry]:
        """Quarantine entries, oldest first (those not replayed yet, unless asked)."""
        where = [] if include_replayed else ["replayed_at IS NULL"]
        params: list[Any] = []
        if ids:
            where.append(f"id IN ({', '.join('?' for _ in ids)})")
            params.extend(ids)
        sql = (
            "SELECT id, received_at, topic, kind, store_id, kiosk_id, batch_id, part, "
            "event_id, reason, raw, replayed_at FROM quarantine"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY id"
        )
        return [
            QuarantineEntry(
                id=row[0],
                received_at=row[1],
                topic=row[2],
                kind=row[3],
                store_id=row[4],
                kiosk_id=row[5],
                batch_id=row[6],
                part=row[7],
                event_id=row[8],
                reason=row[9],
                raw=_bytes(row[10]),
                replayed_at=row[11],
            )
            for row in self._conn.execute(sql, params)
        ]

    def replay(self, checker: BatchChecker, ids: Sequence[int] = ()) -> Replayed:
        """Check the quarantined entries (``ids``, or all not yet replayed) again with
        ``checker``: each one that passes now lands and is marked replayed; the others keep
        their place with the new reason. A replayed message's events that still fail are
        quarantined anew, each on its own."""
        landed = 0
        events_new = 0
        failing: list[tuple[int, str]] = []
        for entry in self.quarantined(ids=ids):
            if entry.kind == "event":
                new, problem = self._replay_event(checker, entry)
            else:
                new, problem = self._replay_message(checker, entry)
            if problem is None:
                landed += 1
                events_new += new
            else:
                failing.append((entry.id, problem))
                with self._transaction() as conn:
                    conn.execute(
                        "UPDATE quarantine SET reason = ? WHERE id = ?", (problem, entry.id)
                    )
        return Replayed(landed, events_new, failing)

    def _replay_event(
        self, checker: BatchChecker, entry: QuarantineEntry
    ) -> tuple[int, str | None]:
        try:
            event = checker.parse(entry.raw)
        except MalformedMessage as exc:
            return 0, str(exc)
        problem = checker.event_problem(event)
        if problem is not None:
            return 0, problem
        batch = {"batch_id": entry.batch_id or ""}
        try:
            row = _row(event, batch, now_iso())
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            return 0, f"does not fit the table: {exc!r:.200}"
        with self._transaction() as conn:
            new = max(conn.execute(_INSERT_EVENT, row).rowcount, 0)
            self._mark_replayed(conn, entry.id)
        return new, None

    def _replay_message(
        self, checker: BatchChecker, entry: QuarantineEntry
    ) -> tuple[int, str | None]:
        try:
            checked = checker.check(entry.raw)
            check_topic(entry.topic, checked.batch)
        except MalformedMessage as exc:
            return 0, str(exc)
        landed = self.ingest(checked, entry.topic)
        with self._transaction() as conn:
            self._mark_replayed(conn, entry.id)
        return landed.new, None

    @staticmethod
    def _mark_replayed(conn: sqlite3.Connection, entry_id: int) -> None:
        conn.execute("UPDATE quarantine SET replayed_at = ? WHERE id = ?", (now_iso(), entry_id))

    def count(self) -> int:
        """Events in the table."""
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._conn.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` .. ``COMMIT``, rolled back on any error (which goes on)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if kind is None:
            self._conn.execute("COMMIT")
            return
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                log.debug("receiver: rollback: %s", exc)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _ids_of_topic(topic: str) -> tuple[str | None, str | None]:
    parts = topic.split("/")
    return (parts[-3], parts[-2]) if len(parts) >= 3 else (None, None)


def check_topic(topic: str, batch: dict[str, Any]) -> None:
    """A kiosk may only speak for itself: ``<prefix>/<store>/<kiosk>/events`` must name the
    batch's store and kiosk; :class:`MalformedMessage` otherwise."""
    store, kiosk = _ids_of_topic(topic)
    if store is not None and (store, kiosk) != (batch["store_id"], batch["kiosk_id"]):
        raise MalformedMessage(
            f"topic names {store}/{kiosk} but the batch says "
            f"{batch['store_id']}/{batch['kiosk_id']}"
        )


def open_existing(database: Path) -> EventStore:
    """The receiver's file at ``database``; ``FileNotFoundError`` naming it when absent."""
    if not Path(database).is_file():
        raise FileNotFoundError(f"{database}: no such receiver database")
    return EventStore(database)


def export_events(database: Path, fmt: str, out: Path) -> int:
    """Write the ``events`` table to ``out`` as ``csv`` or ``parquet``; returns the rows."""
    if not Path(database).is_file():
        raise FileNotFoundError(f"{database}: no such receiver database")
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY ts_epoch, event_id"
        )
        if fmt == "csv":
            return _export_csv(cursor, out)
        if fmt == "parquet":
            return _export_parquet(cursor, out)
        raise ValueError(f"unknown export format {fmt!r} (csv or parquet)")
    finally:
        conn.close()


def _export_csv(cursor: sqlite3.Cursor, out: Path) -> int:
    import csv

    rows = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVENT_COLUMNS)
        while chunk := cursor.fetchmany(10_000):
            writer.writerows(chunk)
            rows += len(chunk)
    return rows


def _export_parquet(cursor: sqlite3.Cursor, out: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise RuntimeError(
            "parquet export needs pyarrow: pip install 'retail-edge-kiosk[parquet]'"
        ) from None
    schema = pa.schema(
        [
            ("event_id", pa.string()),
            ("ts", pa.timestamp("us", tz="UTC")),
            ("ts_epoch", pa.float64()),
            ("mono_ns", pa.int64()),
            ("clock_synced", pa.bool_()),
            ("store_id", pa.string()),
            ("kiosk_id", pa.string()),
            ("session_id", pa.string()),
            ("type", pa.string()),
            ("page", pa.string()),
            ("element", pa.string()),
            ("sku", pa.string()),
            ("payload", pa.string()),
            ("simulated", pa.bool_()),
            ("batch_id", pa.string()),
            ("received_at", pa.timestamp("ms", tz="UTC")),
        ]
    )
    rows = 0
    with pq.ParquetWriter(out, schema) as writer:
        while chunk := cursor.fetchmany(50_000):
            columns = list(zip(*chunk, strict=True))
            arrays = []
            for field, values in zip(schema, columns, strict=True):
                if pa.types.is_timestamp(field.type):
                    values = tuple(datetime.fromisoformat(v) for v in values)
                elif pa.types.is_boolean(field.type):
                    values = tuple(bool(v) for v in values)
                arrays.append(pa.array(values, type=field.type))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            rows += len(chunk)
    if rows == 0:
        # ParquetWriter with no batch still writes a valid, empty file with the schema.
        log.info("export: the events table is empty")
    return rows


def describe_entries(entries: Iterable[QuarantineEntry]) -> list[str]:
    """One line per entry, for ``kiosk-receive quarantine list``."""
    lines = []
    for e in entries:
        where = f"{e.store_id or '?'}/{e.kiosk_id or '?'}"
        what = f"event {e.event_id}" if e.kind == "event" else f"message ({len(e.raw)} bytes)"
        batch = f" batch {e.batch_id} part {e.part}" if e.batch_id else ""
        done = f" [replayed {e.replayed_at}]" if e.replayed_at else ""
        lines.append(f"{e.id}\t{e.received_at}\t{where}\t{what}{batch}: {e.reason}{done}")
    return lines
