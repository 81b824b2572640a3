"""The batch writer: the one thread that writes the event log's SQLite file.

It takes the appended events from the :class:`~storage.intake.Intake`, turns them into rows
and inserts them in batches, one transaction each (the sessions table, the per-batch hooks
and the batch's rows commit together), then hands each committed batch to the Redis
catch-up and nudges the WAL checkpointer; between batches it runs the retention schedule.
When the file cannot be written (full disk, read-only, locked, corrupt, moved aside) it
holds the rows in memory and in the spill file and opens the file again with a growing
pause; should the thread itself fail, it is restarted (shown in health meanwhile).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from settings import KioskConfig
from storage.batch_hooks import BatchHook, BatchHooks, HookFailures, WrittenBatch
from storage.db import (
    WRITER_CHECKPOINT_PAGES,
    Checkpointer,
    database_id,
    describe,
    driver,
    file_identity,
    make_engine,
    migrate,
    quick_check,
)
from storage.event import Event, EventRejected
from storage.held import HeldRows
from storage.intake import Intake
from storage.records import INSERT_SQL, SESSIONS_UPSERT_SQL, Row, to_row
from storage.redis_mirror import RedisCatchUp
from storage.retention import RetentionSchedule
from storage.schema import events
from storage.spill import Spill, spill_path

log = logging.getLogger(__name__)

#: First and longest pause before reopening a database that failed.
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0
#: First and longest pause before the writer thread is restarted after it failed.
WRITER_RESTART_MIN_S = 1.0
WRITER_RESTART_MAX_S = 30.0
#: The writer's INSERT: an id already stored is not stored again, so a batch written twice
#: (or an event appended twice) can never wedge the writer on the unique id. Raw SQL through
#: sqlite3's executemany, on purpose: this is the hot path that benchmarks.event_log
#: measures (SQLAlchemy's statement and parameter handling cost it more than SQLite did).
WRITE_SQL = f"{INSERT_SQL} ON CONFLICT (id) DO NOTHING"
#: The batch's last seq (hot path, as above).
LAST_SEQ_SQL = "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
#: Errors of the rows, not the file: the batch is written row by row and the rows SQLite
#: refuses are rejected (counted and logged), the others written.
_ROW_ERRORS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError)
_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class WriterSettings:
    """What the writer is told by the config (``[storage]``, ``[kiosk]``)."""

    database: Path
    flush_interval_s: float
    flush_max_events: int
    memory_bound: int
    payload_max_bytes: int
    strict: bool
    store_id: str
    kiosk_id: str
    spill_bytes: int

    @classmethod
    def of_config(cls, config: KioskConfig, database: Path) -> WriterSettings:
        """The settings of ``config`` for the file ``database``."""
        s = config.storage
        return cls(
            database=database,
            flush_interval_s=s.flush_interval_ms / 1000.0,
            flush_max_events=s.flush_max_events,
            memory_bound=s.memory_bound,
            payload_max_bytes=s.payload_max_bytes,
            strict=s.durability == "strict",
            store_id=config.kiosk.store_id,
            kiosk_id=config.kiosk.kiosk_id,
            spill_bytes=s.spill_mb * 1024 * 1024,
        )


@dataclass(frozen=True, slots=True)
class WriterHealth:
    """The writer's state: the file's last error, the thread, what it wrote and holds."""

    sqlite_error: str | None
    alive: bool
    restarts: int
    error: str | None
    events_today: int
    events_written: int
    events_rejected: int
    memory_held_events: int
    last_flush_at: float | None
    spill_held_events: int
    spill_full: bool
    hooks: HookFailures


def local_midnight_epoch() -> float:
    """The epoch of today's local midnight."""
    now = dt.datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class BatchWriter:
    """The writer thread, ``event-log-writer``, and everything only it touches."""

    def __init__(
        self,
        settings: WriterSettings,
        intake: Intake,
        *,
        batch_hooks: Sequence[BatchHook] = (),
        catch_up: RedisCatchUp | None = None,
        retention: RetentionSchedule | None = None,
    ) -> None:
        self.settings = settings
        self._intake = intake
        self._hooks = BatchHooks(batch_hooks)
        self._catch_up = catch_up
        self._retention = retention
        spill = Spill(spill_path(settings.database), settings.spill_bytes)
        self.held = HeldRows(spill if settings.spill_bytes else None)
        self.checkpointer = Checkpointer(settings.database)
        self.engine: Engine | None = None
        self._thread: threading.Thread | None = None
        #: (device, inode) of the file the writer opened.
        self._file_identity: tuple[int, int] | None = None
        self._sqlite_error: str | None = None
        self._retry_at = 0.0
        self._retry_s = RETRY_MIN_S
        self._last_seq = 0
        self._stop_seen = False
        #: Set by stop(): cuts a restart's pause short so a graceful stop still writes all.
        self._stop_asked = threading.Event()
        self._down = False
        self._restarts = 0
        self._error: str | None = None
        self._today_start = 0.0
        self._events_today = 0
        self._written = 0
        self._rejected = 0
        self._last_flush: float | None = None

    # --- any thread --------------------------------------------------------------------------

    def start(self) -> None:
        """Hold what the spill file kept, open the database and start the thread."""
        self.held.open_spill()
        self._open()
        self.checkpointer.start()
        self._thread = threading.Thread(
            target=self._supervise, name="event-log-writer", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Wait for the thread to write what was queued before the intake was closed."""
        self._stop_asked.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("event log writer did not finish within %.1f s", timeout)
            elif len(self.held):
                log.error(
                    "event log stopped with %d events NOT saved to SQLite (%d of them kept in "
                    "the spill file, written at the next start)",
                    len(self.held),
                    self.held.spilled,
                )
        self.checkpointer.stop()
        if self.engine is not None:
            self.engine.dispose()

    def snapshot(self, stopped: bool) -> WriterHealth:
        """The writer's state (``stopped``: the log was stopped, a finished thread is fine)."""
        thread = self._thread
        alive = not self._down and (thread is None or thread.is_alive() or stopped)
        error = self._sqlite_error
        if not alive:
            error = (
                f"the event log writer failed ({self._error or 'it stopped'}); "
                "events wait in memory until it is restarted"
            )
        spill = self.held.spill
        return WriterHealth(
            sqlite_error=error,
            alive=alive,
            restarts=self._restarts,
            error=self._error,
            events_today=self._events_today,
            events_written=self._written,
            events_rejected=self._rejected,
            memory_held_events=len(self.held),
            last_flush_at=self._last_flush,
            spill_held_events=self.held.spilled,
            spill_full=spill is not None and spill.full,
            hooks=self._hooks.snapshot(),
        )

    # --- the file ----------------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        message = describe(exc, self.settings.database)
        if message != self._sqlite_error:
            log.error("event log: %s; keeping events in memory", message)
        self._sqlite_error = message
        self._close()
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(RETRY_MAX_S, self._retry_s * 2)

    def _close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def _open(self) -> bool:
        database = self.settings.database
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
            engine = make_engine(
                database,
                strict=self.settings.strict,
                persistent=True,
                checkpoint_pages=WRITER_CHECKPOINT_PAGES,
            )
            if database.exists() and database.stat().st_size > 0:
                quick_check(engine, database)
            migrate(engine, database)
            origin = database_id(engine)
            identity = file_identity(database)
            today_start = local_midnight_epoch()
            with engine.connect() as conn:
                today = conn.scalar(select(func.count()).where(events.c.ts_epoch >= today_start))
                last_seq = conn.scalar(select(func.max(events.c.seq)))
        except Exception as exc:
            self._fail(exc)
            return False
        self.engine = engine
        self._file_identity = identity
        self._today_start = today_start
        self._events_today = int(today or 0)
        self._last_seq = int(last_seq or 0)
        self.checkpointer.reopen()
        if self._catch_up is not None:
            self._catch_up.opened(origin, self._last_seq)
        if self._sqlite_error is not None:
            log.info("event log: %s is usable again", database)
        self._sqlite_error = None
        self._retry_s = RETRY_MIN_S
        return True

    def _check_file(self) -> None:
        """Before each write (a stat call): when the file at the database's path is no longer
        the one open (moved aside or replaced while the kiosk runs), close it and open the path
        again, so what is written from now on goes to the file there, not the one moved away."""
        if self.engine is None:
            return
        database = self.settings.database
        try:
            identity: tuple[int, int] | None = file_identity(database)
        except FileNotFoundError:
            identity = None
        except OSError:
            return  # cannot tell: the next write says what is wrong
        if identity == self._file_identity:
            return
        log.warning(
            "event log: %s was moved aside or replaced while open (%s): opening the path again; "
            "events appended from now on go to the file there",
            database,
            "no file there now" if identity is None else "another file there now",
        )
        self._close()
        self._retry_at = 0.0

    # --- the thread --------------------------------------------------------------------------

    def _supervise(self) -> None:
        """The writer thread: runs :meth:`_run`, and restarts it after any failure (a bug,
        a value nothing foresaw), with a growing pause, shown in health meanwhile."""
        pause = WRITER_RESTART_MIN_S
        while True:
            try:
                self._run()
                return
            except Exception as exc:
                self._down = True
                self._restarts += 1
                self._error = f"{type(exc).__name__}: {exc}"
                log.exception(
                    "event log writer failed (%s); %d events wait in memory; restarting in %.0f s",
                    self._error,
                    len(self.held) + self._intake.depth(),
                    pause,
                )
            self._close()
            self._stop_asked.wait(pause)
            pause = min(WRITER_RESTART_MAX_S, pause * 2)
            self._retry_at = 0.0
            self._down = False
            log.info("event log writer restarted")

    def _run(self) -> None:
        while not self._stop_seen:
            self._take()
            self._write_held()
            if self.held.spill_pending(self.engine is not None):
                self.held.keep_in_spill(self.engine is not None)  # a batch refused, or all in
            self._intake.relieve()
        # Anything appended before stop() sits before the marker; a failed SQLite gets
        # one more chance so a graceful stop loses nothing.
        self._convert(self._intake.take_rest())
        if len(self.held) and self.engine is None:
            self._open()
        if self.engine is not None:
            self._flush_held()
        self.held.close(self.engine is not None)

    def _take(self) -> None:
        """Take queued events into the held rows, as many as memory allows."""
        room = self.settings.memory_bound - len(self.held)
        wait = 0.25 if self.engine is not None else 0.1
        if room <= 0:
            time.sleep(wait)
            return
        taken = self._intake.take(
            min(room, self.settings.flush_max_events), wait, self.settings.flush_interval_s
        )
        self._stop_seen = taken.stop_seen
        self._convert(taken.events)

    def _write_held(self) -> None:
        """Write the held rows when the file takes them; else spill them and retry when due."""
        if len(self.held):
            self._check_file()
        if self.engine is None:
            # held: into the spill before a retry, which may take a while (after stop()
            # the retry is the last, and what it cannot write is spilled at the end)
            if len(self.held) and not self._stop_seen:
                self.held.keep_in_spill(database_open=False)
            if time.monotonic() >= self._retry_at:
                self._open()
        if self.engine is not None:
            self._flush_held()
            self._run_retention()

    def _run_retention(self) -> None:
        retention = self._retention
        if retention is None or self.engine is None or not retention.due():
            return
        try:
            retention.run_due(self.engine)
        except Exception as exc:
            self._fail(exc)

    def _convert(self, taken: list[Event]) -> None:
        s = self.settings
        store_id, kiosk_id, payload_max = s.store_id, s.kiosk_id, s.payload_max_bytes
        keep = self.held.add
        for event in taken:
            try:
                keep(to_row(event, store_id, kiosk_id, payload_max))
            except EventRejected as exc:
                self._rejected += 1
                log.error("event log: %s", exc)
            except Exception as exc:
                # a value nothing foresaw: this event goes, the writer and the others stay
                self._rejected += 1
                log.error(
                    "event log: %s event cannot be stored (%s: %s)",
                    getattr(event, "type", type(event).__name__),
                    type(exc).__name__,
                    exc,
                )

    # --- batches -----------------------------------------------------------------------------

    def _flush_held(self) -> None:
        held = self.held
        while len(held) and self.engine is not None:
            rows = held.first(self.settings.flush_max_events)
            try:
                self._write(rows)
            except _ROW_ERRORS:
                self._write_one_by_one(len(rows))
                continue
            except Exception as exc:
                self._fail(exc)
                return
            held.written(len(rows))

    def _write_one_by_one(self, n: int) -> None:
        """A batch SQLite refused for its rows, not its file: each row on its own, the ones
        refused rejected (counted, logged with their id), so one bad row never wedges the
        writer."""
        for _ in range(n):
            if self.engine is None:
                return
            (row,) = self.held.first(1)
            try:
                self._write([row])
            except _ROW_ERRORS as exc:
                self._rejected += 1
                log.error(
                    "event log: %s event %r cannot be stored (%s: %s)",
                    row.values[8],
                    row.values[0],
                    type(exc).__name__,
                    exc,
                )
            except Exception as exc:
                self._fail(exc)
                return
            self.held.written(1)

    def _write(self, rows: list[Row]) -> None:
        assert self.engine is not None
        with self.engine.begin() as conn:
            db = driver(conn)
            inserted = db.executemany(WRITE_SQL, [r.values for r in rows]).rowcount
            (last,) = db.execute(LAST_SEQ_SQL).fetchone()
            # One writer and AUTOINCREMENT: the rows inserted hold the seqs after the last
            # batch's (without a gap unless an id was stored already: it takes a seq too).
            first = self._last_seq + 1
            db.execute(SESSIONS_UPSERT_SQL, (first, last))
            if inserted != len(rows):
                self._reject_duplicates(conn, rows, first, last)
            if inserted and self._hooks.hooks:
                self._hooks.run(db, WrittenBatch(conn, first, last, rows))
        self._last_seq = int(last)
        self._committed(rows, first, inserted)

    def _committed(self, rows: list[Row], first: int, inserted: int) -> None:
        """After a batch's commit: the checkpointer, the Redis catch-up, the counts."""
        self.checkpointer.nudge(inserted)
        if self._catch_up is not None:
            if inserted == len(rows):
                self._catch_up.committed(first, rows)
            else:
                self._catch_up.committed_upto(self._last_seq)  # replayed from SQLite
        now = time.time()
        if now >= self._today_start + _DAY_S:
            self._today_start = local_midnight_epoch()
            self._events_today = 0
        today = sum(1 for r in rows if r.values[2] >= self._today_start)
        self._events_today += max(0, today - (len(rows) - inserted))
        self._written += inserted
        self._last_flush = now

    def _reject_duplicates(self, conn: Connection, rows: list[Row], first: int, last: int) -> None:
        """Log and count the rows of a batch that were not inserted (seqs ``first``..``last``
        hold the others): their id was stored already."""
        stored = conn.scalars(select(events.c.id).where(events.c.seq.between(first, last)))
        ids = set(stored)
        duplicates = []
        for row in rows:
            if row.values[0] in ids:
                ids.discard(row.values[0])  # twice in this batch: the first one was stored
            else:
                duplicates.append(row.values[0])
        self._rejected += len(duplicates)
        log.error(
            "event log: %d events not stored again: their id is stored already (%s)",
            len(duplicates),
            ", ".join(map(str, duplicates[:3])) + (" ..." if len(duplicates) > 3 else ""),
        )
