"""The uplink outbox: batches of events claimed as leases, acknowledged or given back."""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import orjson
import uuid_utils
from sqlalchemy import func, select, update

from storage.db import driver, file_identity, make_engine, migrate
from storage.event import JsonObject
from storage.records import EVENT_JSON_SQL
from storage.schema import events, meta, outbox

log = logging.getLogger(__name__)

#: A claim not acknowledged or released within this time returns to the queue.
LEASE_S = 300.0
#: The batch size the backlog estimate assumes for events not yet batched.
DEFAULT_BATCH_EVENTS = 500
_HW_KEY = "outbox_last_seq"
#: A claim's read of its events: JSON first, the column the batch is cut by.
_EVENTS_SQL = f"SELECT {EVENT_JSON_SQL}, ts, seq FROM events"


@dataclass(frozen=True)
class OutboxBatch:
    """A claimed batch: its events' schema v1 JSON and their timestamps, oldest first."""

    batch_id: str
    jsons: list[bytes]
    timestamps: list[str]
    first_ts: str
    last_ts: str
    count: int

    @classmethod
    def of_rows(cls, batch_id: str, rows: list[tuple[bytes, str, int]]) -> OutboxBatch:
        """The batch of rows ``(json, ts, seq)`` as :data:`_EVENTS_SQL` reads them."""
        timestamps = list(map(itemgetter(1), rows))
        return cls(
            batch_id,
            list(map(itemgetter(0), rows)),
            timestamps,
            timestamps[0],
            timestamps[-1],
            len(rows),
        )

    @property
    def events(self) -> list[JsonObject]:
        """The events as schema v1 dicts (decoded on each call)."""
        return [orjson.loads(body) for body in self.jsons]


@dataclass(frozen=True)
class Backlog:
    """What is still to send: events, batches (formed or to be formed), oldest timestamp."""

    events: int
    batches: int
    oldest_ts: str | None


class Outbox:
    """The outbox tables of the event log's SQLite file; safe from another process (WAL)."""

    def __init__(self, database: Path, *, lease_s: float = LEASE_S) -> None:
        self.database = Path(database)
        self.lease_s = lease_s
        #: The lease owner this instance writes into the batches it claims (unique per run).
        self.owner = f"{os.getpid()}-{uuid_utils.uuid4()}"
        # One connection kept open (two more when the PUBACK and uplink threads overlap):
        # opening one per claim and closing it, which checkpoints the WAL, cost the uplink
        # most of its time.
        self._engine = make_engine(self.database, persistent=True)
        migrate(self._engine, self.database)
        self._identity: tuple[int, int] | None = _identity_or_none(self.database)

    def _follow_path(self) -> None:
        """When the file at the path is another one than the one open (the database was
        moved aside and a new one started while the uplink runs), read the new one from now
        on: the old connection would never see an event written after the move."""
        identity = _identity_or_none(self.database)
        if identity is None or identity == self._identity:
            return  # the same file, or none there yet (the event log makes it)
        log.warning(
            "outbox: %s was moved aside or replaced: batches come from the file there now",
            self.database,
        )
        self._engine.dispose()
        migrate(self._engine, self.database)
        self._identity = identity

    def claim_batch(self, max_events: int, max_bytes: int) -> OutboxBatch | None:
        """The oldest batch not sent and not leased (a new one if none), leased to the caller.

        Raw SQL through sqlite3 here, on purpose: the claim is the uplink's hot path, which
        benchmarks.uplink_drain measures (SQLAlchemy's Row objects and statement handling
        cost it more than the queries did).

        A new batch takes the events after the last batched one, oldest first, up to
        ``max_events`` and ``max_bytes`` of JSON (each event counted with one separator;
        at least one event). SQLite builds each event's JSON as the rows stream out, so the
        events are read once and only as far as the batch reaches.
        """
        self._follow_path()
        now = time.time()
        lease = (self.owner, now + self.lease_s)
        with self._engine.begin() as conn:
            db = driver(conn)
            row = db.execute(
                "SELECT batch_id, first_seq, last_seq FROM outbox "
                "WHERE sent_at IS NULL AND (lease_until IS NULL OR lease_until < ?) "
                "ORDER BY first_seq LIMIT 1",
                (now,),
            ).fetchone()
            if row is not None:
                batch_id, first_seq, last_seq = row
                db.execute(
                    "UPDATE outbox SET lease_owner = ?, lease_until = ?, "
                    "attempts = attempts + 1 WHERE batch_id = ?",
                    (*lease, batch_id),
                )
                rows = db.execute(
                    f"{_EVENTS_SQL} WHERE seq BETWEEN ? AND ? ORDER BY seq", (first_seq, last_seq)
                ).fetchall()
                if not rows:
                    # Its events are gone (the disk budget drops such a batch with them):
                    # nothing left to send.
                    log.warning("outbox: batch %s has no events left; dropped", batch_id)
                    db.execute("DELETE FROM outbox WHERE batch_id = ?", (batch_id,))
                    return self._new_batch(db, max_events, max_bytes, lease, now)
                return OutboxBatch.of_rows(str(batch_id), rows)
            return self._new_batch(db, max_events, max_bytes, lease, now)

    def _new_batch(
        self,
        db: sqlite3.Connection,
        max_events: int,
        max_bytes: int,
        lease: tuple[str, float],
        now: float,
    ) -> OutboxBatch | None:
        hw_row = db.execute("SELECT value FROM meta WHERE key = ?", (_HW_KEY,)).fetchone()
        hw = int(hw_row[0]) if hw_row else 0
        cursor = db.execute(
            f"{_EVENTS_SQL} WHERE seq > ? ORDER BY seq LIMIT ?", (hw, max(1, max_events))
        )
        rows: list[tuple[bytes, str, int]] = []
        total = 0
        try:
            # row by row: SQLite steps only as far as the batch reaches; the rows are kept as
            # they come (tuples), the leanest loop Python has
            for row in cursor:
                size = len(row[0]) + 1
                if rows and total + size > max_bytes:
                    break
                rows.append(row)
                total += size
        finally:
            cursor.close()
        if not rows:
            return None
        batch = OutboxBatch.of_rows(str(uuid_utils.uuid7()), rows)
        first_seq, last_seq = rows[0][2], rows[-1][2]
        first_ts, last_ts, batch_id = batch.first_ts, batch.last_ts, batch.batch_id
        db.execute(
            "INSERT INTO outbox (batch_id, first_seq, last_seq, count, bytes, first_ts, "
            "last_ts, created_at, lease_owner, lease_until, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (batch_id, first_seq, last_seq, batch.count, total, first_ts, last_ts, now, *lease),
        )
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (_HW_KEY, str(last_seq)),
        )
        return batch

    def mark_sent(self, *batch_ids: str) -> None:
        """The receiver acknowledged these batches: they will not be sent again (one
        transaction for all of them)."""
        if not batch_ids:
            return
        now = time.time()
        with self._engine.begin() as conn:
            marked = conn.execute(
                update(outbox)
                .where(outbox.c.batch_id.in_(batch_ids))
                .values(sent_at=now, lease_owner=None, lease_until=None)
            ).rowcount
        if marked < len(set(batch_ids)):
            log.warning(
                "outbox: mark_sent of %d unknown batch(es) among %s",
                len(set(batch_ids)) - marked,
                ", ".join(batch_ids),
            )

    def release(self, batch_id: str) -> None:
        """Sending failed: the batch goes back, same id, same events, and is claimed first."""
        with self._engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.batch_id == batch_id, outbox.c.sent_at.is_(None))
                .values(lease_owner=None, lease_until=None)
            )

    def release_owner(self, owner: str) -> int:
        """Give back every unsent batch leased to ``owner`` (an earlier run's
        :attr:`owner`, killed before it could release them); how many."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.lease_owner == owner, outbox.c.sent_at.is_(None))
                .values(lease_owner=None, lease_until=None)
            )
        return int(result.rowcount)

    def backlog(self) -> Backlog:
        """Events and batches not yet acknowledged, and the oldest timestamp among them."""
        self._follow_path()
        with self._engine.connect() as conn:
            hw = int(conn.scalar(select(meta.c.value).where(meta.c.key == _HW_KEY)) or 0)
            loose = conn.execute(
                select(func.count(), func.min(events.c.ts)).where(events.c.seq > hw)
            ).first()
            formed = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(outbox.c.count), 0),
                    func.min(outbox.c.first_ts),
                ).where(outbox.c.sent_at.is_(None))
            ).first()
        loose_n = int(loose[0]) if loose else 0
        batches = int(formed[0]) if formed else 0
        oldest = (formed[2] if formed else None) or (loose[1] if loose else None)
        return Backlog(
            events=loose_n + (int(formed[1]) if formed else 0),
            batches=batches + math.ceil(loose_n / DEFAULT_BATCH_EVENTS),
            oldest_ts=oldest,
        )

    def close(self) -> None:
        """Release the database handle."""
        self._engine.dispose()


def _identity_or_none(path: Path) -> tuple[int, int] | None:
    try:
        return file_identity(path)
    except OSError:
        return None
