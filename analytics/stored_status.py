"""The kiosks' status messages as ``kiosk-receive`` kept them (``kiosk_status``), read back.

Each status message a kiosk's uplink published (retained and live) is a row of
``kiosk_status`` (:mod:`uplink.kiosk_status`; its fields in docs/events.md). The daily
report reads a kiosk's last one of the day, the data API its newest. A file made by a
receiver older than these tables has no status: every kiosk of it is "not reported".
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

_FIELDS = (
    "kiosk_id, sent_at, received_at, state, software, bundle_id, uptime_s, restarts_24h,"
    " crash_loop, backlog_events, camera"
)


@dataclass(frozen=True)
class StoredStatus:
    """One status message of a kiosk: what its uplink could tell (None: not in the message)."""

    sent_at: str
    received_at: str
    state: str
    software: str | None
    bundle_id: str | None
    uptime_s: float | None
    restarts_24h: int | None
    crash_loop: bool | None
    backlog_events: int | None
    camera: str | None


def _status(row: tuple[object, ...]) -> tuple[str, StoredStatus]:
    kiosk, sent, received, state, software, bundle, uptime, restarts, loop, backlog, camera = row
    return str(kiosk), StoredStatus(
        sent_at=str(sent),
        received_at=str(received),
        state=str(state),
        software=None if software is None else str(software),
        bundle_id=None if bundle is None else str(bundle),
        uptime_s=None if uptime is None else float(str(uptime)),
        restarts_24h=None if restarts is None else int(str(restarts)),
        crash_loop=None if loop is None else bool(loop),
        backlog_events=None if backlog is None else int(str(backlog)),
        camera=None if camera is None else str(camera),
    )


def _has_status(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'kiosk_status'"
    ).fetchone()
    return bool(found and found[0])


def newest_status(conn: sqlite3.Connection, store_id: str, kiosk_id: str) -> StoredStatus | None:
    """The newest status message (by sent time) of the kiosk; None when it sent none."""
    if not _has_status(conn):
        return None
    row = conn.execute(
        f"SELECT {_FIELDS} FROM kiosk_status_latest WHERE store_id = ? AND kiosk_id = ?",
        (store_id, kiosk_id),
    ).fetchone()
    return None if row is None else _status(row)[1]


def day_statuses(database: Path, store_id: str, date: str) -> dict[str, StoredStatus]:
    """Each kiosk of ``store_id`` with the last status message it sent on the UTC ``date``
    (``YYYY-MM-DD``), by kiosk id; raises ``sqlite3.Error`` when the file cannot be read."""
    day = dt.date.fromisoformat(date)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        if not _has_status(conn):
            return {}
        rows = conn.execute(
            f"SELECT {_FIELDS} FROM kiosk_status WHERE store_id = ?"
            " AND julianday(sent_at) >= julianday(?) AND julianday(sent_at) < julianday(?)"
            " ORDER BY kiosk_id, julianday(sent_at)",
            (store_id, start.isoformat(), (start + dt.timedelta(days=1)).isoformat()),
        ).fetchall()
    finally:
        conn.close()
    # ordered by sent time: each kiosk's last row wins
    return dict(_status(row) for row in rows)
