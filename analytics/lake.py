"""The Parquet lake: the receiver's landed events copied, exactly once, into Hive-style files.

``events/date=YYYY-MM-DD/store=STORE/part-<uuid>.parquet`` under a local folder or an S3
prefix (:mod:`analytics.lake_target`), each file of :data:`analytics.lake_table.LAKE_SCHEMA`.

**Exactly once.** The receiver's SQLite landing table is the de-duplication index: it keeps
one row per event id, so a batch delivered twice or out of order adds only its new events,
each with a ``rowid`` higher than every row before it (the receiver only ever inserts, and
SQLite's write lock orders the inserts). The lake copies rows by ``rowid``: the journal
table ``lake_flushes``, in the same SQLite file, says which ``rowid`` range each flush
holds. A flush

1. records its range and a new flush id in one transaction (``done_at`` empty),
2. writes one file per day and store of the range, each named from the flush id, the day
   and the store (``uuid5``), atomically (:mod:`analytics.lake_target`),
3. sets ``done_at`` in a second transaction.

The watermark is the end of the last done flush. A receiver killed anywhere in this leaves
at most one flush without ``done_at``; the next start redoes exactly that range, which
makes the same file names, each replacing any file of it already written. Rows after the
watermark that no flush recorded yet are written by the next flushes. Nothing is written
twice, nothing is skipped, and no reader ever sees a partial file.

**Files are bounded.** A flush holds at most ``file_rows`` rows (the size bound); the rows
waiting are flushed when there are that many, or ``file_age_s`` after the first of them was
seen (the time bound), or when the writer stops. A new lake (another ``uri``) has its own
watermark in the journal and starts from the first landed row.

The writer runs on a thread of its own next to the receiver (:class:`LakeWriter`); the
journal's two small transactions per flush queue with the receiver's on SQLite's write lock.
When the lake cannot be written (S3 away, a full disk) the rows wait in SQLite, the writer
says why in :attr:`LakeStatus.problem`, logs it once and tries again, backing off.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Column, Index, Integer, MetaData, Table, Text
from sqlalchemy.exc import SQLAlchemyError

from analytics.lake_table import SELECT_LANDED, lake_table, partitions
from analytics.lake_target import LakeTarget
from storage.db import driver, make_engine

log = logging.getLogger(__name__)

#: The journal's own schema, created in the receiver's file next to its tables.
metadata = MetaData()

#: One row per flush: the ``rowid`` range of the landing table it holds, and when it was
#: done (NULL while it is being written, or when it was cut short).
lake_flushes = Table(
    "lake_flushes",
    metadata,
    Column("flush_id", Text, primary_key=True, nullable=True),
    Column("lake", Text, nullable=False),
    Column("first_rowid", Integer, nullable=False),
    Column("last_rowid", Integer, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("done_at", Text),
    Column("events", Integer),
    Column("files", Integer),
)
Index("lake_flushes_done", lake_flushes.c.lake, lake_flushes.c.done_at, lake_flushes.c.last_rowid)

#: The namespace of the files' uuid5 names (a random uuid4, fixed here).
FILE_NAMESPACE = uuid.UUID("6f0f6c41-2a8e-4b53-9a7e-3c2d6f1e8b11")
#: Rows read from SQLite at a time while a flush's table is built.
READ_CHUNK = 50_000
#: The longest pause between two tries after the lake could not be written.
BACKOFF_MAX_S = 60.0


class LakeError(RuntimeError):
    """The lake or the journal cannot be used; ``str()`` is one line naming which and why."""


@dataclass(frozen=True)
class LakeBounds:
    """When the rows waiting are closed into files."""

    #: The size bound: rows per flush (so per file at most).
    file_rows: int = 200_000
    #: The time bound: seconds the first waiting row may wait.
    file_age_s: float = 300.0
    #: Seconds between two looks at the landing table.
    poll_s: float = 1.0

    def __post_init__(self) -> None:
        if self.file_rows < 1:
            raise ValueError(f"lake file_rows must be at least 1, not {self.file_rows}")
        if self.file_age_s <= 0 or self.poll_s <= 0:
            raise ValueError("lake file_age_s and poll_s must be positive")


@dataclass(frozen=True)
class LakeStatus:
    """What the writer has done since it started, and what waits."""

    files: int = 0
    events: int = 0
    #: Landed rows not yet in a closed file (at the last look).
    waiting: int = 0
    #: Why the last flush failed (None once one works again).
    problem: str | None = None

    def line(self) -> str:
        """One progress line."""
        text = f"lake: {self.events:,} events in {self.files:,} files, {self.waiting:,} waiting"
        return text if self.problem is None else f"{text}; {self.problem} (retrying)"


@dataclass(frozen=True)
class Flush:
    """One journal row: the rows after ``after`` up to ``last`` go in ``flush_id``'s files."""

    flush_id: str
    after: int
    last: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def file_name(flush_id: str, folder: str) -> str:
    """The file a flush writes into ``folder``: the same for the same flush and folder."""
    return f"part-{uuid.uuid5(FILE_NAMESPACE, f'{flush_id}/{folder}')}.parquet"


class LakeJournal:
    """The ``lake_flushes`` table in the receiver's SQLite file, for one lake."""

    def __init__(self, database: Path, lake: str) -> None:
        self.database = Path(database)
        self.lake = lake
        if not self.database.is_file():
            raise LakeError(f"{self.database}: no such receiver database")
        self._engine = make_engine(self.database, persistent=True)
        with self._sql("create the lake journal in"):
            metadata.create_all(self._engine)
        # reads take no write lock (WAL): the receiver's inserts go on while a flush reads
        self._reader = make_engine(self.database, readonly=True, persistent=True)

    @contextmanager
    def _sql(self, doing: str) -> Iterator[None]:
        try:
            yield
        except (SQLAlchemyError, sqlite3.Error) as exc:
            reason = getattr(exc, "orig", None) or exc
            raise LakeError(f"cannot {doing} {self.database}: {reason}") from exc

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        with self._sql(doing), self._engine.begin() as conn:
            yield driver(conn)

    @contextmanager
    def _reading(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A read transaction: one snapshot, no write lock."""
        with self._sql(doing), self._reader.begin() as conn:
            yield driver(conn)

    def state(self) -> tuple[int, int, Flush | None]:
        """(watermark, newest landed rowid, the flush cut short if any), read together."""
        with self._reading("read the lake journal of") as db:
            row = db.execute(
                "SELECT coalesce(max(last_rowid), 0) FROM lake_flushes "
                "WHERE lake = ? AND done_at IS NOT NULL",
                (self.lake,),
            ).fetchone()
            newest = db.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()
            open_row = db.execute(
                "SELECT flush_id, first_rowid - 1, last_rowid FROM lake_flushes "
                "WHERE lake = ? AND done_at IS NULL ORDER BY first_rowid LIMIT 1",
                (self.lake,),
            ).fetchone()
        pending = None if open_row is None else Flush(str(open_row[0]), *map(int, open_row[1:]))
        return int(row[0]), int(newest[0]), pending

    def begin(self, after: int, limit: int) -> Flush | None:
        """Record the next flush: up to ``limit`` rows after rowid ``after`` (None: none).
        :class:`LakeError` when the journal moved on since ``after`` was read (another
        writer fills the same lake from the same file: its rows would be written twice)."""
        with self._transaction("record a lake flush in") as db:
            now = db.execute(
                "SELECT coalesce(max(last_rowid), 0), count(*) - count(done_at) "
                "FROM lake_flushes WHERE lake = ?",
                (self.lake,),
            ).fetchone()
            if tuple(now) != (after, 0):
                raise LakeError(
                    f"another writer is filling {self.lake} from {self.database}: "
                    "run one lake writer per lake and receiver database"
                )
            row = db.execute(
                "SELECT max(rowid) FROM (SELECT rowid FROM events WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?)",
                (after, limit),
            ).fetchone()
            if row is None or row[0] is None:
                return None
            flush = Flush(str(uuid.uuid4()), after, int(row[0]))
            db.execute(
                "INSERT INTO lake_flushes (flush_id, lake, first_rowid, last_rowid, started_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (flush.flush_id, self.lake, after + 1, flush.last, _now()),
            )
        return flush

    def rows(self, flush: Flush) -> pa.Table:
        """The flush's rows as a lake table (read in chunks of :data:`READ_CHUNK`)."""
        tables = []
        with self._reading("read the events of") as db:
            cursor = db.execute(SELECT_LANDED, (flush.after, flush.last))
            while chunk := cursor.fetchmany(READ_CHUNK):
                tables.append(lake_table(chunk))
        return pa.concat_tables(tables) if tables else lake_table([])

    def done(self, flush: Flush, events: int, files: int) -> None:
        """Mark the flush written."""
        with self._transaction("record a lake flush in") as db:
            db.execute(
                "UPDATE lake_flushes SET done_at = ?, events = ?, files = ? WHERE flush_id = ?",
                (_now(), events, files, flush.flush_id),
            )

    def close(self) -> None:
        """Release the connections."""
        self._reader.dispose()
        self._engine.dispose()


class LakeWriter:
    """Copies the receiver's landed events into ``lake``, exactly once (module docstring).

    Lifecycle: ``start()`` (first writes what an earlier run left waiting, then follows the
    landing table on a thread named ``lake-writer``), ``status()`` from any thread,
    ``stop()`` (closes the rows still waiting into files, then returns). :meth:`drain` does
    the same work on the caller's thread (tests, benchmarks, a one-off backfill).
    """

    def __init__(self, database: Path, lake: LakeTarget, bounds: LakeBounds | None = None) -> None:
        self.lake = lake
        self.bounds = bounds or LakeBounds()
        self.journal = LakeJournal(database, lake.uri)
        self._status = LakeStatus()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def status(self) -> LakeStatus:
        """What the writer has done so far."""
        with self._lock:
            return self._status

    def _set(self, waiting: int, problem: str | None) -> None:
        with self._lock:
            self._status = replace(self._status, waiting=waiting, problem=problem)

    def write(self, flush: Flush) -> int:
        """Write one recorded flush's files and mark it done; the files written."""
        table = self.journal.rows(flush)
        written = 0
        for part in partitions(table):
            self.lake.put(f"{part.folder}/{file_name(flush.flush_id, part.folder)}", part.table)
            written += 1
        self.journal.done(flush, table.num_rows, written)
        with self._lock:
            status = self._status
            self._status = replace(
                status, files=status.files + written, events=status.events + table.num_rows
            )
        log.debug("lake: flush %s: %d events in %d files", flush.flush_id, table.num_rows, written)
        return written

    def flush_once(self, *, whole_only: bool) -> tuple[bool, int]:
        """Redo a flush cut short, or write the next one (only a full ``file_rows`` one when
        ``whole_only``): (whether a flush was written, the rows still waiting)."""
        watermark, newest, pending = self.journal.state()
        waiting = max(newest - watermark, 0)
        self._set(waiting, self.status().problem)
        if pending is None:
            if waiting == 0 or (whole_only and waiting < self.bounds.file_rows):
                return False, waiting
            pending = self.journal.begin(watermark, self.bounds.file_rows)
            if pending is None:
                return False, 0
        else:
            log.info("lake: writing again flush %s, cut short earlier", pending.flush_id)
        self.write(pending)
        waiting = max(newest - pending.last, 0)
        self._set(waiting, None)
        return True, waiting

    def drain(self) -> None:
        """Write everything waiting, in flushes of at most ``file_rows`` rows. Raises
        :class:`LakeError` or ``OSError`` when the lake or the journal cannot be used."""
        while self.flush_once(whole_only=False)[1] > 0:
            pass

    def _step(self, due: bool) -> int:
        """Write what is due: everything when ``due``, else each full flush; rows waiting."""
        if due:
            self.drain()
            return 0
        while True:
            wrote, waiting = self.flush_once(whole_only=True)
            if not wrote:
                return waiting

    def start(self) -> None:
        """Start the writer's thread."""
        self._thread = threading.Thread(target=self._run, name="lake-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        first_seen: float | None = None
        due = True  # at start: whatever an earlier run left waiting
        while True:
            try:
                waiting = self._step(due)
                failures = 0
            except (LakeError, OSError, pa.ArrowException) as exc:
                failures += 1
                self._failed(exc)
                if self._stop.wait(min(BACKOFF_MAX_S, self.bounds.poll_s * 2**failures)):
                    break
                continue
            now = time.monotonic()
            if not waiting:
                first_seen = None
            elif first_seen is None:
                first_seen = now
            due = first_seen is not None and now - first_seen >= self.bounds.file_age_s
            if not due and self._stop.wait(self.bounds.poll_s):
                break
        self._final_drain()

    def _failed(self, exc: BaseException) -> None:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if problem != self.status().problem:
            log.error("lake: %s; the events wait in the receiver's database", problem)
        self._set(self.status().waiting, problem)

    def _final_drain(self) -> None:
        try:
            self.drain()
        except (LakeError, OSError, pa.ArrowException) as exc:
            self._failed(exc)
            log.error("lake: %d events stay waiting for the next start", self.status().waiting)

    def stop(self, timeout: float = 60.0) -> None:
        """Close what waits into files and stop the thread (waiting up to ``timeout``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("lake: the writer did not finish within %.0f s", timeout)
        self.journal.close()
