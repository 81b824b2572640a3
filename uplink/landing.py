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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    CheckConstraint,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Result,
    RowMapping,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from storage import JsonObject, JsonValue
from storage.db import make_engine
from storage.schema import event_columns
from uplink.schema import BatchChecker, CheckedMessage, MalformedMessage, RejectedEvent

log = logging.getLogger(__name__)

#: The receiver's schema, declared once. A file made by an older receiver (from the same
#: tables written as DDL) has exactly this schema; a test compares them.
metadata = MetaData()

#: One row per event id: the uplink is at-least-once, so a batch delivered twice adds nothing.
events = Table(
    "events",
    metadata,
    Column("event_id", Text, primary_key=True, nullable=True),
    *event_columns(mono_ns_required=False),
    Column("batch_id", Text, nullable=False),
    Column("received_at", Text, nullable=False),
)
Index("events_store_ts", events.c.store_id, events.c.ts_epoch)
Index("events_type_ts", events.c.type, events.c.ts_epoch)
Index("events_sku", events.c.sku, sqlite_where=events.c.sku.is_not(None))

#: One row per message part received: ``new_events < count`` shows a redelivery.
batches = Table(
    "batches",
    metadata,
    Column("batch_id", Text, nullable=False),
    Column("part", Integer, nullable=False),
    Column("parts", Integer, nullable=False),
    Column("store_id", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("first_ts", Text),
    Column("last_ts", Text),
    Column("count", Integer, nullable=False),
    Column("new_events", Integer, nullable=False),
    Column("received_at", Text, nullable=False),
    PrimaryKeyConstraint("batch_id", "part"),
)

#: What failed the schemas: one event of a readable message, or a whole message as received.
quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, nullable=True),
    Column("received_at", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("kind", Text, CheckConstraint("kind IN ('event', 'message')"), nullable=False),
    Column("store_id", Text),
    Column("kiosk_id", Text),
    Column("batch_id", Text),
    Column("part", Integer),
    Column("event_id", Text),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("replayed_at", Text),
    # sha256 of kind, topic and raw: a redelivered message is quarantined once
    Column("digest", LargeBinary, nullable=False, unique=True),
)
Index("quarantine_waiting", quarantine.c.id, sqlite_where=quarantine.c.replayed_at.is_(None))


#: Every status message a kiosk sent (retained and live), once per (kiosk, sent time): the
#: fields the health views read, and the message as received (``payload``).
def _status_columns() -> list[Column[object]]:
    return [
        Column("store_id", Text, nullable=False),
        Column("kiosk_id", Text, nullable=False),
        Column("sent_at", Text, nullable=False),
        Column("received_at", Text, nullable=False),
        Column("state", Text, nullable=False),
        Column("software", Text),
        Column("bundle_id", Text),
        Column("uptime_s", Float),
        Column("restarts_24h", Integer),
        Column("crash_loop", Integer),
        Column("backlog_events", Integer),
        Column("camera", Text),
        Column("payload", Text, nullable=False),
    ]


kiosk_status = Table(
    "kiosk_status",
    metadata,
    *_status_columns(),
    PrimaryKeyConstraint("store_id", "kiosk_id", "sent_at"),
)

#: The newest status message of each kiosk (by sent time), the same columns.
kiosk_status_latest = Table(
    "kiosk_status_latest",
    metadata,
    *_status_columns(),
    PrimaryKeyConstraint("store_id", "kiosk_id"),
)

#: Columns of ``events`` in table order (also the CSV/Parquet column order).
EVENT_COLUMNS = tuple(column.name for column in events.columns)

# OR IGNORE: an event id or a quarantine digest already there is a redelivery, kept once
_INSERT_EVENT = insert(events).prefix_with("OR IGNORE")
_INSERT_QUARANTINE = insert(quarantine).prefix_with("OR IGNORE")
_INSERT_BATCH = insert(batches).prefix_with("OR IGNORE")
_INSERT_STATUS = insert(kiosk_status).prefix_with("OR IGNORE")
_QUARANTINE_FIELDS = (
    quarantine.c.id,
    quarantine.c.received_at,
    quarantine.c.topic,
    quarantine.c.kind,
    quarantine.c.store_id,
    quarantine.c.kiosk_id,
    quarantine.c.batch_id,
    quarantine.c.part,
    quarantine.c.event_id,
    quarantine.c.reason,
    quarantine.c.raw,
    quarantine.c.replayed_at,
)
#: The exception types that mean "this event does not fit the table" when making its row.
_UNFIT = (ValueError, KeyError, TypeError, AttributeError, OverflowError)


class ReceiverDatabaseError(RuntimeError):
    """The receiver's SQLite file cannot be read or written (full disk, locked, corrupt):
    ``str()`` is one line naming the file and SQLite's reason. Nothing of the failed
    transaction was written."""


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


def _raw_event(event: JsonValue) -> bytes:
    # the event as it came, re-encoded from its parsed JSON (the message's other events
    # landed, so its own bytes alone are kept)
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the same JSON, escaped
        return json.dumps(event, separators=(",", ":"), default=str).encode("ascii")


def _event_id(event: JsonValue) -> str | None:
    ident = event.get("id") if isinstance(event, dict) else None
    return None if ident is None else str(ident)[:128]


def _payload_text(payload: JsonObject) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the same JSON, escaped
            text = json.dumps(payload, separators=(",", ":"))
    return text


def _row(event: Mapping[str, JsonValue], batch_id: str, now: str) -> dict[str, object]:
    """The ``events`` row of a valid event; ValueError etc. for one the table cannot hold."""
    payload = event["payload"]
    if not isinstance(payload, dict):
        raise TypeError(f"payload is {type(payload).__name__}, not an object")
    ts = event["ts"]
    if not isinstance(ts, str):
        raise TypeError(f"ts is {type(ts).__name__}, not a string")
    sku = payload.get("sku")
    row: dict[str, object] = {
        "event_id": event["id"],
        "ts": ts,
        "ts_epoch": datetime.fromisoformat(ts).timestamp(),
        "mono_ns": event["mono_ns"],
        "clock_synced": int(bool(event["clock_synced"])),
        "store_id": event["store_id"],
        "kiosk_id": event["kiosk_id"],
        "session_id": event["session_id"],
        "type": event["type"],
        "page": event["page"],
        "element": event["element"],
        "sku": None if sku is None else str(sku),
        "payload": _payload_text(payload),
        "simulated": int(bool(event["simulated"])),
        "batch_id": batch_id,
        "received_at": now,
    }
    for value in row.values():
        if isinstance(value, str) and not value.isascii():
            value.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
    return row


def _quarantine_row(
    topic: str, rejected: RejectedEvent, batch: Mapping[str, JsonValue], now: str
) -> dict[str, object]:
    raw = _raw_event(rejected.event)
    return {
        "received_at": now,
        "topic": topic,
        "kind": "event",
        "store_id": batch["store_id"],
        "kiosk_id": batch["kiosk_id"],
        "batch_id": batch["batch_id"],
        "part": batch["part"],
        "event_id": _event_id(rejected.event),
        "reason": rejected.reason,
        "raw": raw,
        "digest": _digest("event", topic, raw),
    }


def _entry(values: RowMapping) -> QuarantineEntry:
    return QuarantineEntry(
        id=_int(values["id"]),
        received_at=str(values["received_at"]),
        topic=str(values["topic"]),
        kind=str(values["kind"]),
        store_id=_text_or_none(values["store_id"]),
        kiosk_id=_text_or_none(values["kiosk_id"]),
        batch_id=_text_or_none(values["batch_id"]),
        part=None if values["part"] is None else _int(values["part"]),
        event_id=_text_or_none(values["event_id"]),
        reason=str(values["reason"]),
        raw=_bytes(values["raw"]),
        replayed_at=_text_or_none(values["replayed_at"]),
    )


class EventStore:
    """The receiver's SQLite file (one writer: the receiver's network thread; readers any).

    Every method raises :class:`ReceiverDatabaseError` when the file cannot be used.
    """

    def __init__(self, database: Path) -> None:
        database = Path(database)
        database.parent.mkdir(parents=True, exist_ok=True)
        self.database = database
        # storage's engine: WAL, synchronous NORMAL, a busy timeout, BEGIN IMMEDIATE
        self._engine = make_engine(database, persistent=True)
        with _reporting("create the tables of", database):
            metadata.create_all(self._engine)
        self._reader: Engine | None = None

    def ingest(self, checked: CheckedMessage, topic: str) -> Landed:
        """Land the message's valid events and quarantine its rejected ones, in one
        transaction (nothing written when it fails)."""
        batch = checked.batch
        now = now_iso()
        rows = []
        rejected = list(checked.rejected)
        for event in checked.events:
            try:
                rows.append(_row(event, str(batch["batch_id"]), now))
            except _UNFIT as exc:
                reason = f"event ({_event_id(event)}): does not fit the table: {exc!r:.200}"
                rejected.append(RejectedEvent(-1, event, reason))
        quarantined = [_quarantine_row(topic, r, batch, now) for r in rejected]
        with self._transaction() as conn:
            new = max(conn.execute(_INSERT_EVENT, rows).rowcount, 0) if rows else 0
            # a redelivered message's rejects are there already (digest): counted once
            held = conn.execute(_INSERT_QUARANTINE, quarantined).rowcount if quarantined else 0
            part = {name: batch[name] for name in _BATCH_FIELDS}
            conn.execute(_INSERT_BATCH, {**part, "new_events": new, "received_at": now})
        return Landed(new, len(rows) - new, max(held, 0))

    def quarantine_message(self, topic: str, reason: str, payload: bytes) -> None:
        """Keep a message that cannot be read as a batch, byte for byte, with the reason."""
        store, kiosk = _ids_of_topic(topic)
        entry = {
            "received_at": now_iso(),
            "topic": topic,
            "kind": "message",
            "store_id": store,
            "kiosk_id": kiosk,
            "reason": reason,
            "raw": payload,
            "digest": _digest("message", topic, payload),
        }
        with self._transaction() as conn:
            conn.execute(_INSERT_QUARANTINE, entry)

    def store_status(self, row: Mapping[str, object]) -> bool:
        """Keep a status message (a :func:`uplink.kiosk_status.status_row`) in
        ``kiosk_status``, once per (kiosk, sent time), and as the kiosk's latest when it was
        sent after the one kept; True when it was new."""
        with self._transaction() as conn:
            new = max(conn.execute(_INSERT_STATUS, row).rowcount, 0)
            latest = sqlite_insert(kiosk_status_latest).values(row)
            conn.execute(
                latest.on_conflict_do_update(
                    index_elements=["store_id", "kiosk_id"],
                    set_={name: latest.excluded[name] for name in row},
                    where=latest.excluded.sent_at > kiosk_status_latest.c.sent_at,
                )
            )
        return new > 0

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """``BEGIN IMMEDIATE`` .. ``COMMIT``, rolled back on any error (which goes on)."""
        with _reporting("write", self.database), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A read-only connection of its own (a reader never takes the write lock)."""
        if self._reader is None:
            self._reader = make_engine(self.database, readonly=True)
        with _reporting("read", self.database), self._reader.connect() as conn:
            yield conn

    def quarantined(
        self, *, include_replayed: bool = False, ids: Sequence[int] = ()
    ) -> list[QuarantineEntry]:
        """Quarantine entries, oldest first (those not replayed yet, unless asked)."""
        query = select(*_QUARANTINE_FIELDS).order_by(quarantine.c.id)
        if not include_replayed:
            query = query.where(quarantine.c.replayed_at.is_(None))
        if ids:
            query = query.where(quarantine.c.id.in_(ids))
        with self._reading() as conn:
            return [_entry(values) for values in conn.execute(query).mappings()]

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
                        update(quarantine).where(quarantine.c.id == entry.id).values(reason=problem)
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
        if not isinstance(event, dict):
            return 0, f"the entry is {type(event).__name__}, not an event object"
        try:
            row = _row(event, entry.batch_id or "", now_iso())
        except _UNFIT as exc:
            return 0, f"does not fit the table: {exc!r:.200}"
        with self._transaction() as conn:
            new = max(conn.execute(_INSERT_EVENT, row).rowcount, 0)
            _mark_replayed(conn, entry.id)
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
            _mark_replayed(conn, entry.id)
        return landed.new, None

    def count(self) -> int:
        """Events in the table."""
        with self._reading() as conn:
            return int(conn.scalar(select(func.count()).select_from(events)) or 0)

    def close(self) -> None:
        """Close the database."""
        self._engine.dispose()
        if self._reader is not None:
            self._reader.dispose()


#: The message's envelope fields a ``batches`` row keeps as they came.
_BATCH_FIELDS = (
    "batch_id", "part", "parts", "store_id", "kiosk_id", "first_ts", "last_ts", "count",
)  # fmt: skip


def _mark_replayed(conn: Connection, entry_id: int) -> None:
    conn.execute(
        update(quarantine).where(quarantine.c.id == entry_id).values(replayed_at=now_iso())
    )


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected an integer, the database gave {value!r}")
    return value


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _ids_of_topic(topic: str) -> tuple[str | None, str | None]:
    parts = topic.split("/")
    return (parts[-3], parts[-2]) if len(parts) >= 3 else (None, None)


def check_topic(topic: str, batch: Mapping[str, JsonValue]) -> None:
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


@contextmanager
def _reporting(doing: str, database: Path) -> Iterator[None]:
    """SQLAlchemy's errors (several lines, the statement included) as one line naming the file."""
    try:
        yield
    except SQLAlchemyError as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        raise ReceiverDatabaseError(f"cannot {doing} {database}: {reason}") from exc


def export_events(database: Path, fmt: str, out: Path) -> int:
    """Write the ``events`` table to ``out`` as ``csv`` or ``parquet``; returns the rows.

    Raises ``FileNotFoundError``, ``ValueError`` (the format) or
    :class:`ReceiverDatabaseError`, each one line."""
    database = Path(database)
    if not database.is_file():
        raise FileNotFoundError(f"{database}: no such receiver database")
    exporters = {"csv": _export_csv, "parquet": _export_parquet}
    if fmt not in exporters:
        raise ValueError(f"unknown export format {fmt!r} (csv or parquet)")
    engine = make_engine(database, readonly=True)
    try:
        with _reporting("read", database), engine.connect() as conn:
            query = select(events).order_by(events.c.ts_epoch, events.c.event_id)
            return exporters[fmt](conn.execute(query), out)
    finally:
        engine.dispose()


def _export_csv(result: Result[*tuple[object, ...]], out: Path) -> int:
    import csv

    rows = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EVENT_COLUMNS)
        while chunk := result.fetchmany(10_000):
            writer.writerows(chunk)
            rows += len(chunk)
    return rows


def _export_parquet(result: Result[*tuple[object, ...]], out: Path) -> int:
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
        while chunk := result.fetchmany(50_000):
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
