"""The event log: ``append`` from any thread, one writer thread batching into SQLite."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import shutil
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine

from settings import KioskConfig
from storage.batch_hooks import BatchHook, BatchHooks, WrittenBatch
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
from storage.event import EventRejected
from storage.event_schema import EventCheck
from storage.hot import MirrorFeed
from storage.records import INSERT_SQL, SESSIONS_UPSERT_SQL, Row, to_row
from storage.retention import enforce_budget, purge_uplinked
from storage.spill import Spill, spill_path

log = logging.getLogger(__name__)

#: How long ``append`` waits for room in a full queue before it drops the event (loudly).
BACKPRESSURE_WAIT_S = 0.25
#: First and longest pause before reopening a database that failed.
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0
#: How often the writer purges uplinked events past ``retention_days`` (and once at start).
RETENTION_EVERY_S = 3600.0
#: How often the writer checks ``disk_budget_mb`` (and once at start).
BUDGET_EVERY_S = 60.0
#: First and longest pause before the writer thread is restarted after it failed.
WRITER_RESTART_MIN_S = 1.0
WRITER_RESTART_MAX_S = 30.0
#: The writer's INSERT: an id already stored is not stored again, so a batch written twice
#: (or an event appended twice) can never wedge the writer on the unique id.
WRITE_SQL = f"{INSERT_SQL} ON CONFLICT (id) DO NOTHING"
#: Errors of the rows, not the file: the batch is written row by row and the rows SQLite
#: refuses are rejected (counted and logged), the others written.
_ROW_ERRORS = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.IntegrityError)
_STOP = object()


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What the admin status page and the control socket show about the event log."""

    sqlite_ok: bool
    sqlite_error: str | None
    redis_connected: bool
    redis_lag_events: int
    queue_depth: int
    backpressure: bool
    events_today: int
    db_bytes: int
    free_disk_bytes: int | None
    memory_held_events: int
    last_flush_at: float | None
    events_written: int = 0
    events_dropped: int = 0
    events_rejected: int = 0
    #: Uplinked events deleted by retention (age or disk budget).
    purged_uplinked: int = 0
    #: Events deleted BEFORE they were uplinked, because the disk budget was exceeded.
    purged_unsent: int = 0
    last_purge_at: float | None = None
    #: False while the writer thread is down (it is restarted; ``sqlite_ok`` is False then).
    writer_alive: bool = True
    #: Times the writer thread failed and was restarted, and the last failure.
    writer_restarts: int = 0
    writer_error: str | None = None
    #: The Redis mirror's last failure (None while it works).
    redis_error: str | None = None
    #: Times Redis's keys were found out of step with SQLite (another database's, or a seq
    #: beyond SQLite's last) and rebuilt from SQLite; when and why the last time.
    redis_rebuilds: int = 0
    redis_rebuilt_at: float | None = None
    redis_rebuild_reason: str | None = None
    #: Held events also kept in the spill file (a kill does not lose them), and whether it
    #: was full (the events held beyond it are in memory only).
    spill_held_events: int = 0
    spill_full: bool = False
    #: Times a per-batch hook (the dashboards' rollups) failed, and the last failure; the
    #: batches' events were stored all the same.
    batch_hook_failures: int = 0
    batch_hook_error: str | None = None


def database_path(config: KioskConfig) -> Path:
    """The SQLite file of ``config`` (``[storage] database`` or ``events.sqlite`` in data)."""
    if config.storage.database is not None:
        return Path(config.storage.database)
    if config.paths.data_dir is not None:
        return config.data_path("events.sqlite")
    return Path(platformdirs.user_data_dir("retail-edge-kiosk")) / "events.sqlite"


def _local_midnight_epoch() -> float:
    now = dt.datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


class EventLog:
    """Durable interaction log: SQLite is the truth, written in batches by one thread."""

    def __init__(self, config: KioskConfig, *, batch_hooks: Sequence[BatchHook] = ()) -> None:
        self.config = config
        self._hooks = BatchHooks(batch_hooks)
        s = config.storage
        self._database = database_path(config)
        self._interval = s.flush_interval_ms / 1000.0
        self._max_events = s.flush_max_events
        self._queue_max = s.queue_max
        self._memory_bound = s.memory_bound
        self._payload_max = s.payload_max_bytes
        self._strict = s.durability == "strict"
        self._store_id = config.kiosk.store_id
        self._kiosk_id = config.kiosk.kiosk_id
        self._retention_s = s.retention_days * 86_400.0
        self._budget_bytes = s.disk_budget_mb * 1024 * 1024
        self.retention_every_s = RETENTION_EVERY_S
        self.budget_every_s = BUDGET_EVERY_S
        self._next_retention = 0.0
        self._next_budget = 0.0
        self._purged_uplinked = 0
        self._purged_unsent = 0
        self._last_purge: float | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: deque[Row] = deque()
        self._engine: Engine | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._sqlite_error: str | None = None
        self._backpressure = False
        self._saturated = False
        self._bp_logged = 0.0
        self._events_today = 0
        self._today_start = 0.0
        self._written = 0
        self._dropped = 0
        self._rejected = 0
        self._last_flush: float | None = None
        self._retry_at = 0.0
        self._retry_s = RETRY_MIN_S
        self._last_seq = 0
        self._feed = MirrorFeed(config.redis, self._database) if config.redis.enabled else None
        self._checkpointer = Checkpointer(self._database)
        self._check = EventCheck()
        self._stop_seen = False
        #: Set by stop(): cuts a restart's pause short so a graceful stop still writes all.
        self._stop_asked = threading.Event()
        self._writer_down = False
        self._writer_restarts = 0
        self._writer_error: str | None = None
        #: (device, inode) of the file the writer opened.
        self._file_identity: tuple[int, int] | None = None
        self._spill: Spill | None = (
            Spill(spill_path(self._database), s.spill_mb * 1024 * 1024) if s.spill_mb else None
        )
        #: The first pending rows that the spill file holds too.
        self._spilled = 0

    @property
    def database(self) -> Path:
        """The SQLite file (the uplink's :class:`storage.Outbox` opens the same file)."""
        return self._database

    # --- caller side -----------------------------------------------------------------------

    def start(self) -> None:
        """Open (or create and migrate) the database and start the writer thread; events an
        earlier run held in the spill file are written first."""
        if self._spill is not None:
            held = self._spill.open()
            self._pending.extend(held)
            if self._spill.usable:
                self._spilled = len(held)
            else:
                self._spill = None
        self._open()
        self._checkpointer.start()
        if self._feed is not None:
            self._feed.start()
        self._thread = threading.Thread(
            target=self._supervise, name="event-log-writer", daemon=True
        )
        self._thread.start()

    def append(self, event: Any) -> None:
        """Queue one event; returns at once unless the queue is full (back-pressure).

        Raises :class:`EventRejected` (one line: the event, the field, the rule) for an event
        that does not match the published schema (``resources/schema/event-v1.json``).
        """
        try:
            self._check(event, self._store_id, self._kiosk_id, self._payload_max)
        except EventRejected:
            self._rejected += 1
            raise
        if self._stopped:
            self._dropped += 1
            log.warning("event log stopped: %s event not saved", getattr(event, "type", "?"))
            return
        q = self._queue
        if q.qsize() < self._queue_max:
            q.put(event)
            return
        self._wait_for_room(event)

    def _wait_for_room(self, event: Any) -> None:
        self._backpressure = True
        now = time.monotonic()
        if now - self._bp_logged > 10.0:
            self._bp_logged = now
            log.warning(
                "event log back-pressure: %d events queued (queue_max %d); callers wait",
                self._queue.qsize(),
                self._queue_max,
            )
        deadline = now + (0.0 if self._saturated else BACKPRESSURE_WAIT_S)
        while self._queue.qsize() >= self._queue_max:
            if time.monotonic() >= deadline:
                self._saturated = True
                self._dropped += 1
                log.error(
                    "event log full (queue %d, memory %d): %s event DROPPED (%d so far)",
                    self._queue.qsize(),
                    len(self._pending),
                    getattr(event, "type", "?"),
                    self._dropped,
                )
                return
            time.sleep(0.001)
        self._queue.put(event)

    def stop(self, timeout: float = 5.0) -> None:
        """Write everything queued, then stop the writer thread."""
        if self._thread is None or self._stopped:
            self._stopped = True
            return
        self._stopped = True
        self._stop_asked.set()
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("event log writer did not finish within %.1f s", timeout)
        elif self._pending:
            log.error(
                "event log stopped with %d events NOT saved to SQLite (%d of them kept in the "
                "spill file, written at the next start)",
                len(self._pending),
                self._spilled,
            )
        if self._feed is not None:
            self._feed.stop(timeout)
        self._checkpointer.stop()
        if self._engine is not None:
            self._engine.dispose()

    def health(self) -> StorageHealth:
        """A snapshot of the log's state (cheap: a few stat calls)."""
        db_bytes = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                db_bytes += Path(f"{self._database}{suffix}").stat().st_size
            except OSError:
                pass
        try:
            free: int | None = shutil.disk_usage(self._database.parent).free
        except OSError:
            free = None
        depth = self._queue.qsize()
        thread = self._thread
        alive = not self._writer_down and (thread is None or thread.is_alive() or self._stopped)
        sqlite_error = self._sqlite_error
        if not alive:
            sqlite_error = (
                f"the event log writer failed ({self._writer_error or 'it stopped'}); "
                "events wait in memory until it is restarted"
            )
        feed = self._feed
        hooks = self._hooks.snapshot()
        return StorageHealth(
            sqlite_ok=sqlite_error is None,
            sqlite_error=sqlite_error,
            redis_connected=bool(feed and feed.mirror.connected),
            redis_lag_events=feed.lag_events if feed is not None else 0,
            queue_depth=depth,
            backpressure=self._backpressure or depth >= self._queue_max,
            events_today=self._events_today,
            db_bytes=db_bytes,
            free_disk_bytes=free,
            memory_held_events=len(self._pending),
            last_flush_at=self._last_flush,
            events_written=self._written,
            events_dropped=self._dropped,
            events_rejected=self._rejected,
            purged_uplinked=self._purged_uplinked,
            purged_unsent=self._purged_unsent,
            last_purge_at=self._last_purge,
            writer_alive=alive,
            writer_restarts=self._writer_restarts,
            writer_error=self._writer_error,
            redis_error=feed.mirror.error if feed is not None else None,
            redis_rebuilds=feed.rebuilds if feed is not None else 0,
            redis_rebuilt_at=feed.rebuilt_at if feed is not None else None,
            redis_rebuild_reason=feed.rebuild_reason if feed is not None else None,
            spill_held_events=self._spilled,
            spill_full=self._spill is not None and self._spill.full,
            batch_hook_failures=hooks.failures,
            batch_hook_error=hooks.error,
        )

    # --- writer thread ---------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        message = describe(exc, self._database)
        if message != self._sqlite_error:
            log.error("event log: %s; keeping events in memory", message)
        self._sqlite_error = message
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(RETRY_MAX_S, self._retry_s * 2)

    def _open(self) -> bool:
        try:
            self._database.parent.mkdir(parents=True, exist_ok=True)
            engine = make_engine(
                self._database,
                strict=self._strict,
                persistent=True,
                checkpoint_pages=WRITER_CHECKPOINT_PAGES,
            )
            if self._database.exists() and self._database.stat().st_size > 0:
                quick_check(engine, self._database)
            migrate(engine, self._database)
            origin = database_id(engine)
            identity = file_identity(self._database)
            self._today_start = _local_midnight_epoch()
            with engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "SELECT count(*) FROM events WHERE ts_epoch >= ?", (self._today_start,)
                ).first()
                seq = conn.exec_driver_sql("SELECT max(seq) FROM events").first()
            self._events_today = int(row[0]) if row else 0
            self._last_seq = int(seq[0] or 0) if seq else 0
        except Exception as exc:
            self._fail(exc)
            return False
        self._engine = engine
        self._file_identity = identity
        self._checkpointer.reopen()
        if self._feed is not None:
            self._feed.opened(origin, self._last_seq)
        if self._sqlite_error is not None:
            log.info("event log: %s is usable again", self._database)
        self._sqlite_error = None
        self._retry_s = RETRY_MIN_S
        return True

    def _check_file(self) -> None:
        """Before each write (a stat call): when the file at the database's path is no longer
        the one open (moved aside or replaced while the kiosk runs), close it and open the path
        again, so what is written from now on goes to the file there, not the one moved away."""
        if self._engine is None:
            return
        try:
            identity: tuple[int, int] | None = file_identity(self._database)
        except FileNotFoundError:
            identity = None
        except OSError:
            return  # cannot tell: the next write says what is wrong
        if identity == self._file_identity:
            return
        log.warning(
            "event log: %s was moved aside or replaced while open (%s): opening the path again; "
            "events appended from now on go to the file there",
            self._database,
            "no file there now" if identity is None else "another file there now",
        )
        self._engine.dispose()
        self._engine = None
        self._retry_at = 0.0

    def _supervise(self) -> None:
        """The writer thread: runs :meth:`_run`, and restarts it after any failure (a bug,
        a value nothing foresaw), with a growing pause, shown in health meanwhile."""
        pause = WRITER_RESTART_MIN_S
        while True:
            try:
                self._run()
                return
            except Exception as exc:
                self._writer_down = True
                self._writer_restarts += 1
                self._writer_error = f"{type(exc).__name__}: {exc}"
                log.exception(
                    "event log writer failed (%s); %d events wait in memory; restarting in %.0f s",
                    self._writer_error,
                    len(self._pending) + self._queue.qsize(),
                    pause,
                )
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
            self._stop_asked.wait(pause)
            pause = min(WRITER_RESTART_MAX_S, pause * 2)
            self._retry_at = 0.0
            self._writer_down = False
            log.info("event log writer restarted")

    def _run(self) -> None:
        while not self._stop_seen:
            room = self._memory_bound - len(self._pending)
            wait = 0.25 if self._engine is not None else 0.1
            if room > 0:
                self._collect(min(room, self._max_events), wait)
            else:
                time.sleep(wait)
            if self._pending:
                self._check_file()
            if self._engine is None:
                # held: into the spill before a retry, which may take a while (after stop()
                # the retry is the last, and what it cannot write is spilled below)
                if self._spill is not None and self._pending and not self._stop_seen:
                    self._keep_spill(self._spill)
                if time.monotonic() >= self._retry_at:
                    self._open()
            if self._engine is not None:
                self._flush_pending()
                self._retention()
            spill = self._spill
            if spill is not None and (not spill.empty or (self._pending and self._engine is None)):
                self._keep_spill(spill)  # a batch just refused, or all written: clear it
            if self._queue.qsize() < self._queue_max // 2:
                self._backpressure = False
                self._saturated = False
        # Anything appended before stop() sits before the marker; a failed SQLite gets
        # one more chance so a graceful stop loses nothing.
        self._drain_rest()
        if self._pending and self._engine is None:
            self._open()
        if self._engine is not None:
            self._flush_pending()
        if self._spill is not None:
            self._keep_spill(self._spill)
            self._spill.close()

    def _keep_spill(self, spill: Spill) -> None:
        """Held rows not in the spill file yet go there (fsync'd); once the database holds
        every pending row, the spill is cleared."""
        try:
            if not self._pending:
                if not spill.empty:
                    spill.clear()
                self._spilled = 0
            elif self._engine is None and self._spilled < len(self._pending) and not spill.full:
                self._spilled += spill.add(list(islice(self._pending, self._spilled, None)))
        except OSError as exc:
            log.error(
                "event log: the spill file %s failed (%s); events held while the database "
                "cannot be written are kept in memory only from now on",
                spill.path,
                exc,
            )
            spill.close()
            self._spill = None

    def _drain_rest(self) -> None:
        items = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                items.append(item)
        self._convert(items)

    def _convert(self, events: list[Any]) -> None:
        store_id, kiosk_id, payload_max = self._store_id, self._kiosk_id, self._payload_max
        keep = self._pending.append
        for event in events:
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

    def _collect(self, limit: int, wait: float) -> None:
        """Take up to ``limit`` queued events (waiting up to ``wait`` for the first, then up
        to the flush interval for more) into the pending rows; notes when stop was asked."""
        q = self._queue
        try:
            items = [q.get(timeout=wait)]
        except queue.Empty:
            return
        take = q.get_nowait
        deadline = time.monotonic() + self._interval
        while len(items) < limit and items[-1] is not _STOP:
            try:
                items.append(take())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(q.get(timeout=remaining))
                except queue.Empty:
                    break
        # stop() puts the marker after the last event it accepts
        if items[-1] is _STOP:
            self._stop_seen = True
            items.pop()
        self._convert(items)

    def _flush_pending(self) -> None:
        while self._pending and self._engine is not None:
            n = min(len(self._pending), self._max_events)
            rows = [self._pending[i] for i in range(n)]
            try:
                self._write(rows)
            except _ROW_ERRORS:
                self._write_one_by_one(n)
                continue
            except Exception as exc:
                self._fail(exc)
                return
            for _ in range(n):
                self._pending.popleft()
            if self._spilled:
                self._spilled = max(0, self._spilled - n)

    def _write_one_by_one(self, n: int) -> None:
        """A batch SQLite refused for its rows, not its file: each row on its own, the ones
        refused rejected (counted, logged with their id), so one bad row never wedges the
        writer."""
        for _ in range(n):
            if self._engine is None:
                return
            row = self._pending[0]
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
            self._pending.popleft()
            if self._spilled:
                self._spilled -= 1

    def _write(self, rows: list[Row]) -> None:
        assert self._engine is not None
        with self._engine.begin() as conn:
            db = driver(conn)
            inserted = db.executemany(WRITE_SQL, [r.values for r in rows]).rowcount
            (last,) = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
            # One writer and AUTOINCREMENT: the rows inserted hold the seqs after the last
            # batch's (without a gap unless an id was stored already: it takes a seq too).
            first = self._last_seq + 1
            db.execute(SESSIONS_UPSERT_SQL, (first, last))
            if inserted != len(rows):
                self._reject_duplicates(db, rows, first, last)
            if inserted and self._hooks.hooks:
                self._hooks.run(db, WrittenBatch(conn, first, last, rows))
        self._last_seq = int(last)
        self._checkpointer.nudge(inserted)
        if self._feed is not None:
            if inserted == len(rows):
                self._feed.committed(first, rows)
            else:
                self._feed.committed_upto(self._last_seq)  # replayed from SQLite
        now = time.time()
        if now >= self._today_start + 86_400:
            self._today_start = _local_midnight_epoch()
            self._events_today = 0
        today = sum(1 for r in rows if r.values[2] >= self._today_start)
        self._events_today += max(0, today - (len(rows) - inserted))
        self._written += inserted
        self._last_flush = now

    def _reject_duplicates(
        self, db: sqlite3.Connection, rows: list[Row], first: int, last: int
    ) -> None:
        """Log and count the rows of a batch that were not inserted (seqs ``first``..``last``
        hold the others): their id was stored already."""
        ids = {
            r[0]
            for r in db.execute("SELECT id FROM events WHERE seq BETWEEN ? AND ?", (first, last))
        }
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

    # --- retention (writer thread) ---------------------------------------------------------

    def _retention(self) -> None:
        """Age purge (hourly) and disk budget (every minute), both at start; see retention."""
        now = time.monotonic()
        if self._engine is None or (now < self._next_retention and now < self._next_budget):
            return
        try:
            if now >= self._next_retention:
                self._next_retention = now + self.retention_every_s
                n = purge_uplinked(self._engine, time.time() - self._retention_s)
                if n:
                    self._purged_uplinked += n
                    self._last_purge = time.time()
                    log.info(
                        "retention: %d uplinked events older than %d days purged",
                        n,
                        round(self._retention_s / 86_400),
                    )
            if self._budget_bytes and now >= self._next_budget:
                self._next_budget = now + self.budget_every_s
                self._enforce_budget()
        except Exception as exc:
            self._fail(exc)

    def _enforce_budget(self) -> None:
        assert self._engine is not None
        result = enforce_budget(self._engine, self._budget_bytes, self._database)
        if not (result.uplinked or result.unsent):
            return
        self._purged_uplinked += result.uplinked
        self._purged_unsent += result.unsent
        self._last_purge = time.time()
        mb = 1024 * 1024
        if result.unsent:
            log.warning(
                "disk budget exceeded (database and WAL %.1f MB, disk_budget_mb %d): %d UNSENT "
                "events DROPPED before they were uplinked, oldest first (%d in all), and %d "
                "uplinked events purged; now %.1f MB",
                result.used_bytes_before / mb,
                self._budget_bytes // mb,
                result.unsent,
                self._purged_unsent,
                result.uplinked,
                result.used_bytes_after / mb,
            )
        else:
            log.info(
                "disk budget: %d uplinked events purged (database %.1f -> %.1f MB)",
                result.uplinked,
                result.used_bytes_before / mb,
                result.used_bytes_after / mb,
            )
