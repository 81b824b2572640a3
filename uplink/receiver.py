"""The analysts' receiver: subscribe to kiosk uplinks, check, de-duplicate, land in SQLite.

Each message is checked against the batch schema and the schema-v1 event schema, then its
events are inserted into the ``events`` table keyed by event id, so a batch delivered twice
(the uplink is at-least-once) leaves one row per event. A malformed message is counted,
logged and kept in ``rejected``; the receiver goes on. The PUBACK goes back to the broker only
after the transaction committed, so a receiver killed mid-message gets it again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from uplink.schema import BatchChecker, MalformedMessage
from uplink.transport import BrokerEndpoint, make_paho_client

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
CREATE TABLE IF NOT EXISTS rejected (
    id          INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,
    topic       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    excerpt     TEXT NOT NULL
);
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


@dataclass(frozen=True)
class ReceiverStats:
    """Counters since the receiver started (shown as progress)."""

    messages: int = 0
    events_new: int = 0
    events_duplicate: int = 0
    malformed: int = 0
    connected: bool = False

    def line(self) -> str:
        """One progress line."""
        return (
            f"{self.messages:,} messages, {self.events_new + self.events_duplicate:,} events "
            f"({self.events_new:,} new, {self.events_duplicate:,} duplicate), "
            f"{self.malformed:,} malformed" + ("" if self.connected else ", not connected")
        )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp()


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

    def ingest(self, batch: dict[str, Any], topic: str) -> tuple[int, int]:
        """Insert the batch's events; returns (new, duplicate) event counts.

        Raises :class:`MalformedMessage` for an event whose fields cannot fill the typed
        columns (nothing is written then) and ``sqlite3.Error`` when the file cannot be written.
        """
        try:
            rows = self._rows(batch)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedMessage(f"event fields do not fit the table: {exc!r:.200}") from None
        return self._insert(batch, rows)

    def _rows(self, batch: dict[str, Any]) -> list[tuple[Any, ...]]:
        now = _now_iso()
        rows = []
        for event in batch["events"]:
            payload = event.get("payload") or {}
            sku = payload.get("sku")
            rows.append(
                (
                    event["id"],
                    event["ts"],
                    _epoch(event["ts"]),
                    event.get("mono_ns"),
                    int(bool(event.get("clock_synced"))),
                    event["store_id"] or batch["store_id"],
                    event["kiosk_id"] or batch["kiosk_id"],
                    event.get("session_id"),
                    event["type"],
                    event.get("page"),
                    event.get("element"),
                    None if sku is None else str(sku),
                    json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
                    int(bool(event.get("simulated", False))),
                    batch["batch_id"],
                    now,
                )
            )
        return rows

    def _insert(self, batch: dict[str, Any], rows: list[tuple[Any, ...]]) -> tuple[int, int]:
        now = rows[0][-1] if rows else _now_iso()
        conn = self._conn
        conn.execute("BEGIN")
        try:
            cursor = conn.executemany(_INSERT_EVENT, rows)
            new = max(cursor.rowcount, 0)
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
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return new, len(rows) - new

    def reject(self, topic: str, reason: str, payload: bytes) -> None:
        """Keep what a malformed message was, for whoever debugs the kiosk that sent it."""
        excerpt = payload[:512].decode("utf-8", errors="replace")
        self._conn.execute(
            "INSERT INTO rejected (received_at, topic, reason, size, excerpt) "
            "VALUES (?, ?, ?, ?, ?)",
            (_now_iso(), topic, reason, len(payload), excerpt),
        )

    def count(self) -> int:
        """Events in the table."""
        return int(self._conn.execute("SELECT count(*) FROM events").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._conn.close()


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` -> (host, port, tls)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "mqtt", url
    scheme = scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
    tls = scheme in ("mqtts", "ssl")
    rest = rest.rstrip("/")
    host, colon, port_text = rest.rpartition(":")
    if not colon or "]" in port_text:
        host, port_text = rest, ""
    host = host.strip("[]")
    if not host:
        raise ValueError(f"broker URL {url!r}: no host")
    try:
        port = int(port_text) if port_text else (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"broker URL {url!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65_536:
        raise ValueError(f"broker URL {url!r}: port {port} out of range")
    return host, port, tls


class Receiver:
    """Subscribes to ``topic`` on ``endpoint`` and lands every batch in ``database``.

    Lifecycle: ``start()`` (connects in the background, reconnects on its own), ``stats()``
    from any thread, ``stop()``. With a ``client_id`` the broker keeps a persistent session,
    so batches published while the receiver is away wait for it.
    """

    def __init__(
        self,
        endpoint: BrokerEndpoint,
        topic: str,
        database: Path,
        *,
        client_id: str = "",
        checker: BatchChecker | None = None,
        reconnect_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        endpoint.check_files()
        self.endpoint = endpoint
        self.topic = topic
        self.store = EventStore(database)
        self.checker = checker or BatchChecker()
        self._client = make_paho_client(endpoint, client_id, clean=not client_id)
        # paho types the delays as int but waits on floats; tests use sub-second delays.
        self._client.reconnect_delay_set(*reconnect_s)  # type: ignore[arg-type]
        # PUBACK only after the events are committed (see _on_message).
        self._client.manual_ack_set(True)
        #: Set when the database cannot be written; the receiver then stops.
        self.fatal: str | None = None
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._stats = ReceiverStats()
        self._subscribed = threading.Event()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if reason.is_failure:
            log.warning("receiver: %s refused the connection: %s", self.endpoint.describe(), reason)
            return
        log.info(
            "receiver: connected to %s, subscribing to %s", self.endpoint.describe(), self.topic
        )
        client.subscribe(self.topic, qos=1)
        self._bump(connected=True)
        self._subscribed.set()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        log.info("receiver: disconnected (%s); reconnecting", reason)
        self._bump(connected=False)

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        payload = bytes(message.payload)
        topic = message.topic
        try:
            batch = self.checker.check(payload)
            self._check_topic(topic, batch)
            new, duplicate = self.store.ingest(batch, topic)
        except MalformedMessage as exc:
            log.warning(
                "receiver: malformed message on %s (%d bytes): %s", topic, len(payload), exc
            )
            self.store.reject(topic, str(exc), payload)
            client.ack(message.mid, message.qos)
            self._bump(messages=1, malformed=1)
            return
        except sqlite3.Error as exc:
            # Not acknowledged: the broker keeps the message for the next session.
            self.fatal = f"cannot write {self.store.database}: {exc}"
            log.error("receiver: %s; stopping without acknowledging", self.fatal)
            client.disconnect()
            return
        client.ack(message.mid, message.qos)
        self._bump(messages=1, events_new=new, events_duplicate=duplicate)

    @staticmethod
    def _check_topic(topic: str, batch: dict[str, Any]) -> None:
        # A kiosk may only speak for itself: retail/<store>/<kiosk>/events must match.
        parts = topic.split("/")
        if len(parts) >= 3 and (parts[-3], parts[-2]) != (batch["store_id"], batch["kiosk_id"]):
            raise MalformedMessage(
                f"topic names {parts[-3]}/{parts[-2]} but the batch says "
                f"{batch['store_id']}/{batch['kiosk_id']}"
            )

    def _bump(self, *, connected: bool | None = None, **counts: int) -> None:
        with self._lock:
            values: dict[str, Any] = {
                key: getattr(self._stats, key) + value for key, value in counts.items()
            }
            if connected is not None:
                values["connected"] = connected
            self._stats = replace(self._stats, **values)

    def stats(self) -> ReceiverStats:
        """Counters so far."""
        with self._lock:
            return self._stats

    def start(self) -> None:
        """Connect in the background (retrying while the broker is away) and subscribe."""
        self._client.connect_async(
            self.endpoint.host, self.endpoint.port, keepalive=self.endpoint.keepalive_s
        )
        rc = self._client.loop_start()
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"receiver: paho could not start its thread ({rc})")

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the first subscription is on its way (tests wait for it)."""
        if not self._subscribed.wait(timeout):
            return False
        # SUBACK follows the SUBSCRIBE on the same connection; a short grace keeps tests honest.
        time.sleep(0.2)
        return True

    def stop(self) -> None:
        """Disconnect and close the database."""
        self._client.disconnect()
        self._client.loop_stop()
        self.store.close()


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
