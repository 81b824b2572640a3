"""Retention of the events table: age purge of uplinked events, and the disk budget.

Both run on the event log's writer thread (the one SQLite writer), in short transactions so an
uplink process claiming a batch waits at most a moment.

- **Age**: an event older than ``retention_days`` is deleted only when the outbox batch that holds
  it was acknowledged (``sent_at`` set). Unsent events are kept, however old.
- **Disk budget** (``disk_budget_mb`` > 0, 2 GB by default): when the database's used pages
  and its WAL file together exceed the budget, acknowledged events go first (oldest first),
  then, if that is not enough, the oldest *unsent* events, with a WARNING that says how many
  were dropped and why. The purge aims at 90 % of the budget, less room for the WAL, so it does
  not fire again at the next event, and ends with a checkpoint that truncates the WAL.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.engine import Connection

from storage.event import utc_iso
from storage.schema import events, outbox, sessions

log = logging.getLogger(__name__)

#: Sent batches whose events are deleted in one transaction (about 500 events each).
BATCHES_PER_TRANSACTION = 20
#: The budget purge deletes down to this share of the budget (hysteresis).
BUDGET_TARGET = 0.9
#: Rounds of "estimate, delete, measure" before the budget purge gives up for this run.
BUDGET_ROUNDS = 10
#: How often the writer purges uplinked events past ``retention_days`` (and once at start).
RETENTION_EVERY_S = 3600.0
#: How often the writer checks ``disk_budget_mb`` (and once at start).
BUDGET_EVERY_S = 60.0
#: Room the purge leaves for the WAL (the size it is cut back to after a checkpoint,
#: storage.db.WAL_SIZE_LIMIT), at most a tenth of the budget.
WAL_ROOM_BYTES = 8 * 1024 * 1024


@dataclass
class PurgeResult:
    """What one retention run deleted."""

    uplinked: int = 0
    unsent: int = 0
    used_bytes_before: int = 0
    used_bytes_after: int = 0


def used_bytes(conn: Connection) -> int:
    """Bytes the database's live pages take (the file does not shrink; freed pages are reused)."""
    page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
    free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar_one())
    return (pages - free) * page_size


def wal_bytes(database: Path) -> int:
    """The size of the database's WAL file (0 when there is none)."""
    try:
        return Path(f"{database}-wal").stat().st_size
    except OSError:
        return 0


def disk_bytes(conn: Connection, database: Path) -> int:
    """What the budget counts: the database's live pages and its WAL file."""
    return used_bytes(conn) + wal_bytes(database)


def _drop_sessions_without_events(conn: Connection, before_epoch: float) -> None:
    has_events = select(events.c.seq).where(events.c.session_id == sessions.c.session_id)
    conn.execute(delete(sessions).where(sessions.c.last_epoch < before_epoch, ~has_events.exists()))


def _delete_sent_batch(
    conn: Connection, batch_id: str, first: int, last: int, cutoff: float
) -> int:
    """Delete the batch's events older than ``cutoff``; drop its outbox row once it is empty."""
    in_batch = events.c.seq.between(first, last)
    deleted = conn.execute(delete(events).where(in_batch, events.c.ts_epoch < cutoff)).rowcount
    left = conn.execute(select(events.c.seq).where(in_batch).limit(1)).first()
    if left is None:
        conn.execute(delete(outbox).where(outbox.c.batch_id == batch_id))
    return max(0, int(deleted))


def purge_uplinked(engine: Engine, cutoff_epoch: float, limit: int | None = None) -> int:
    """Delete acknowledged events older than ``cutoff_epoch`` (at most ``limit``); how many."""
    cutoff_iso = (
        utc_iso(dt.datetime.fromtimestamp(cutoff_epoch, dt.UTC))
        if math.isfinite(cutoff_epoch)
        else "9999"
    )
    with engine.connect() as conn:
        batches = conn.execute(
            select(outbox.c.batch_id, outbox.c.first_seq, outbox.c.last_seq)
            .where(outbox.c.sent_at.is_not(None), outbox.c.first_ts < cutoff_iso)
            .order_by(outbox.c.first_seq)
        ).all()
    total = 0
    for start in range(0, len(batches), BATCHES_PER_TRANSACTION):
        with engine.begin() as conn:
            for batch_id, first, last in batches[start : start + BATCHES_PER_TRANSACTION]:
                if limit is not None and total >= limit:
                    break
                total += _delete_sent_batch(conn, batch_id, first, last, cutoff_epoch)
            _drop_sessions_without_events(conn, cutoff_epoch)
        if limit is not None and total >= limit:
            break
    return total


def _purge_oldest_unsent(conn: Connection, n: int) -> int:
    """Delete the ``n`` oldest events (all unsent here) and mend the outbox rows they were in."""
    nth = conn.scalar(select(events.c.seq).order_by(events.c.seq).offset(max(0, n - 1)).limit(1))
    if nth is None:
        nth = conn.scalar(select(func.max(events.c.seq)))
    if nth is None:
        return 0
    upto = int(nth)
    deleted = int(conn.execute(delete(events).where(events.c.seq <= upto)).rowcount)
    # An unsent batch whose events are all gone would be sent empty: drop it; a batch cut in
    # two keeps its id and its remaining events.
    unsent = outbox.c.sent_at.is_(None)
    conn.execute(delete(outbox).where(unsent, outbox.c.last_seq <= upto))
    start = upto + 1
    remaining = events.c.seq.between(start, outbox.c.last_seq)
    conn.execute(
        update(outbox)
        .where(unsent, outbox.c.first_seq < start, outbox.c.last_seq >= start)
        .values(
            first_seq=start,
            count=select(func.count()).where(remaining).scalar_subquery(),
            first_ts=func.coalesce(
                select(events.c.ts)
                .where(remaining)
                .order_by(events.c.seq)
                .limit(1)
                .scalar_subquery(),
                outbox.c.first_ts,
            ),
        )
    )
    return deleted


def enforce_budget(engine: Engine, budget_bytes: int, database: Path) -> PurgeResult:
    """Bring the database and its WAL under ``budget_bytes``: uplinked events first, then
    unsent ones; then checkpoint and truncate the WAL the deletions wrote."""
    result = PurgeResult()
    with engine.connect() as conn:
        used = result.used_bytes_before = result.used_bytes_after = disk_bytes(conn, database)
    if budget_bytes <= 0 or used <= budget_bytes:
        return result
    # the deletions go through the WAL, so the pages are measured alone, against a target
    # that leaves room for the WAL once it is truncated
    target = int(budget_bytes * BUDGET_TARGET) - min(WAL_ROOM_BYTES, budget_bytes // 10)
    with engine.connect() as conn:
        pages = used_bytes(conn)
    for _ in range(BUDGET_ROUNDS):
        if pages <= target:
            break
        with engine.connect() as conn:
            count = int(conn.scalar(select(func.count()).select_from(events)) or 0)
        if count == 0:
            break
        # Freed pages are only counted once a whole page is empty: estimate, delete, measure.
        quota = max(1, math.ceil((pages - target) / (pages / count)))
        sent = purge_uplinked(engine, float("inf"), limit=quota)
        result.uplinked += sent
        if sent < quota:
            with engine.begin() as conn:
                result.unsent += _purge_oldest_unsent(conn, quota - sent)
                oldest = conn.scalar(select(func.min(events.c.ts_epoch)))
                _drop_sessions_without_events(
                    conn, float(oldest) if oldest is not None else float("inf")
                )
        with engine.connect() as conn:
            pages = used_bytes(conn)
    _truncate_wal(engine, database)
    with engine.connect() as conn:
        result.used_bytes_after = disk_bytes(conn, database)
    return result


def _truncate_wal(engine: Engine, database: Path) -> None:
    """Copy the WAL into the database and cut it to nothing (readers that hold it back make
    the checkpoint stop short: the next purge tries again)."""
    conn = engine.raw_connection()
    try:
        busy, _log, _done = conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        log.info("disk budget: a reader holds the WAL of %s; it is truncated later", database)


@dataclass(frozen=True, slots=True)
class RetentionHealth:
    """What retention deleted since the start, and when it last did."""

    #: Uplinked events deleted (age or disk budget).
    purged_uplinked: int = 0
    #: Events deleted BEFORE they were uplinked, because the disk budget was exceeded.
    purged_unsent: int = 0
    last_purge_at: float | None = None


class RetentionSchedule:
    """When the writer purges: uplinked events past ``retention_days`` every
    :attr:`retention_every_s`, the disk budget every :attr:`budget_every_s`, both at start.

    Runs on the writer thread (:meth:`run_due` between batches); :meth:`snapshot` from any.
    """

    def __init__(self, database: Path, retention_days: float, budget_bytes: int) -> None:
        self.database = database
        self.retention_s = retention_days * 86_400.0
        self.budget_bytes = budget_bytes
        self.retention_every_s = RETENTION_EVERY_S
        self.budget_every_s = BUDGET_EVERY_S
        self._next_retention = 0.0
        self._next_budget = 0.0
        self._health = RetentionHealth()

    def snapshot(self) -> RetentionHealth:
        """The totals so far."""
        return self._health

    def due(self) -> bool:
        """True when a purge or a budget check is due."""
        now = time.monotonic()
        budget_due = bool(self.budget_bytes) and now >= self._next_budget
        return budget_due or now >= self._next_retention

    def run_due(self, engine: Engine) -> None:
        """Run what is due; raises what SQLite raised (the writer treats it as a failure of
        the file)."""
        now = time.monotonic()
        if now >= self._next_retention:
            self._next_retention = now + self.retention_every_s
            n = purge_uplinked(engine, time.time() - self.retention_s)
            if n:
                self._count(uplinked=n)
                log.info(
                    "retention: %d uplinked events older than %d days purged",
                    n,
                    round(self.retention_s / 86_400),
                )
        if self.budget_bytes and now >= self._next_budget:
            self._next_budget = now + self.budget_every_s
            self._enforce_budget(engine)

    def _count(self, *, uplinked: int = 0, unsent: int = 0) -> None:
        h = self._health
        self._health = RetentionHealth(
            h.purged_uplinked + uplinked, h.purged_unsent + unsent, time.time()
        )

    def _enforce_budget(self, engine: Engine) -> None:
        result = enforce_budget(engine, self.budget_bytes, self.database)
        if not (result.uplinked or result.unsent):
            return
        self._count(uplinked=result.uplinked, unsent=result.unsent)
        mb = 1024 * 1024
        if result.unsent:
            log.warning(
                "disk budget exceeded (database and WAL %.1f MB, disk_budget_mb %d): %d UNSENT "
                "events DROPPED before they were uplinked, oldest first (%d in all), and %d "
                "uplinked events purged; now %.1f MB",
                result.used_bytes_before / mb,
                self.budget_bytes // mb,
                result.unsent,
                self._health.purged_unsent,
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
