"""Retention of the events table: age purge of uplinked events, and the disk budget.

Both run on the event log's writer thread (the one SQLite writer), in short transactions so an
uplink process claiming a batch waits at most a moment.

- **Age**: an event older than ``retention_days`` is deleted only when the outbox batch that holds
  it was acknowledged (``sent_at`` set). Unsent events are kept, however old.
- **Disk budget** (``disk_budget_mb`` > 0): when the database's used pages exceed the budget,
  acknowledged events go first (oldest first), then, if that is not enough, the oldest *unsent*
  events, with a WARNING that says how many were dropped and why. The purge aims at 90 % of the
  budget so it does not fire again at the next event.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from storage.event import utc_iso

log = logging.getLogger(__name__)

#: Sent batches whose events are deleted in one transaction (about 500 events each).
BATCHES_PER_TRANSACTION = 20
#: The budget purge deletes down to this share of the budget (hysteresis).
BUDGET_TARGET = 0.9
#: Rounds of "estimate, delete, measure" before the budget purge gives up for this run.
BUDGET_ROUNDS = 10


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


def _drop_sessions_without_events(conn: Connection, before_epoch: float) -> None:
    conn.exec_driver_sql(
        "DELETE FROM sessions WHERE last_epoch < ? AND NOT EXISTS "
        "(SELECT 1 FROM events WHERE events.session_id = sessions.session_id)",
        (before_epoch,),
    )


def _delete_sent_batch(
    conn: Connection, batch_id: str, first: int, last: int, cutoff: float
) -> int:
    """Delete the batch's events older than ``cutoff``; drop its outbox row once it is empty."""
    deleted = conn.exec_driver_sql(
        "DELETE FROM events WHERE seq BETWEEN ? AND ? AND ts_epoch < ?", (first, last, cutoff)
    ).rowcount
    left = conn.exec_driver_sql(
        "SELECT 1 FROM events WHERE seq BETWEEN ? AND ? LIMIT 1", (first, last)
    ).first()
    if left is None:
        conn.exec_driver_sql("DELETE FROM outbox WHERE batch_id = ?", (batch_id,))
    return max(0, int(deleted))


def purge_uplinked(engine: Engine, cutoff_epoch: float, limit: int | None = None) -> int:
    """Delete acknowledged events older than ``cutoff_epoch`` (at most ``limit``); how many."""
    cutoff_iso = (
        utc_iso(dt.datetime.fromtimestamp(cutoff_epoch, dt.UTC))
        if math.isfinite(cutoff_epoch)
        else "9999"
    )
    with engine.connect() as conn:
        batches = conn.exec_driver_sql(
            "SELECT batch_id, first_seq, last_seq FROM outbox "
            "WHERE sent_at IS NOT NULL AND first_ts < ? ORDER BY first_seq",
            (cutoff_iso,),
        ).fetchall()
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
    row = conn.exec_driver_sql(
        "SELECT seq FROM events ORDER BY seq LIMIT 1 OFFSET ?", (max(0, n - 1),)
    ).first()
    if row is None:
        row = conn.exec_driver_sql("SELECT max(seq) FROM events").first()
    if row is None or row[0] is None:
        return 0
    upto = int(row[0])
    deleted = int(conn.exec_driver_sql("DELETE FROM events WHERE seq <= ?", (upto,)).rowcount)
    # An unsent batch whose events are all gone would be sent empty: drop it; a batch cut in
    # two keeps its id and its remaining events.
    conn.exec_driver_sql("DELETE FROM outbox WHERE sent_at IS NULL AND last_seq <= ?", (upto,))
    conn.exec_driver_sql(
        "UPDATE outbox SET first_seq = ?1, count = (SELECT count(*) FROM events "
        "WHERE seq BETWEEN ?1 AND outbox.last_seq), first_ts = coalesce((SELECT ts FROM events "
        "WHERE seq BETWEEN ?1 AND outbox.last_seq ORDER BY seq LIMIT 1), first_ts) "
        "WHERE sent_at IS NULL AND first_seq < ?1 AND last_seq >= ?1",
        (upto + 1,),
    )
    return deleted


def enforce_budget(engine: Engine, budget_bytes: int) -> PurgeResult:
    """Bring the used size under ``budget_bytes``: uplinked events first, then unsent ones."""
    result = PurgeResult()
    with engine.connect() as conn:
        used = result.used_bytes_before = result.used_bytes_after = used_bytes(conn)
    if budget_bytes <= 0 or used <= budget_bytes:
        return result
    target = int(budget_bytes * BUDGET_TARGET)
    for _ in range(BUDGET_ROUNDS):
        with engine.connect() as conn:
            count = int(conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one())
        if count == 0:
            break
        # Freed pages are only counted once a whole page is empty: estimate, delete, measure.
        quota = max(1, math.ceil((used - target) / (used / count)))
        sent = purge_uplinked(engine, float("inf"), limit=quota)
        result.uplinked += sent
        if sent < quota:
            with engine.begin() as conn:
                result.unsent += _purge_oldest_unsent(conn, quota - sent)
                oldest = conn.exec_driver_sql("SELECT min(ts_epoch) FROM events").scalar()
                _drop_sessions_without_events(
                    conn, float(oldest) if oldest is not None else float("inf")
                )
        with engine.connect() as conn:
            used = result.used_bytes_after = used_bytes(conn)
        if used <= target:
            break
    return result
