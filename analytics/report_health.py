"""Per-kiosk health for the daily report: the kiosks' events, and their status messages.

From the events (with the time each reached the receiver):

- *active hours*: UTC hours of the day with any event from the kiosk (simulated ones too: they
  show the kiosk was running), and its first and last event;
- *reboots*: times the kiosk's monotonic clock (``mono_ns``, ``time.monotonic_ns()``, which
  starts again at each boot of the machine) went back between two of its events in ``ts``
  order; an application restart without a reboot does not show here;
- *delivery delay*: ``received_at - ts``, the median and the longest: how far behind the
  uplink was (its backlog in time, not in events);
- *camera*: presence changes seen (none on a day with shoppers means no presence sensing) and
  sessions that ended because the camera was lost.

From the kiosk's last status message of the day, as the receiver kept it
(:mod:`analytics.stored_status`): uptime as the kiosk measures it, restarts in the 24 hours
before it and whether in a crash loop, the outbox's backlog in events, the camera's state.
A kiosk that sent none that day shows "not reported"; a report made from a lake without the
receiver's file has no status at all, and :func:`status_note` says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from analytics.queries import SOURCE_VIEW, EventSource
from analytics.stored_status import StoredStatus

#: Under the health table when the kiosks' status messages were read.
STATUS_READ = (
    "Uptime, restarts (in the 24 hours before), backlog and camera are from each kiosk's last "
    'status message of the day as the receiver kept it; "not reported": the kiosk sent none '
    "that day. The reasons of the restarts stay on the kiosk (its Status page)."
)
#: Under the health table when there was no receiver file to read them from.
STATUS_UNREAD = (
    "Uptime, restarts, backlog and camera: not read (they are in the receiver's SQLite file: "
    "make the report with --sqlite, or give --status-db beside --lake)."
)


def status_note(statuses_read: bool) -> str:
    """The note under the health table."""
    return STATUS_READ if statuses_read else STATUS_UNREAD


_HEALTH = f"""
WITH ordered AS (
    SELECT kiosk_id, ts, received_at, type, payload, mono_ns,
           lag(mono_ns) OVER (PARTITION BY kiosk_id ORDER BY ts, event_id) AS previous_mono
    FROM {SOURCE_VIEW} WHERE store_id = $store
)
SELECT kiosk_id, count(*), count(DISTINCT hour(ts)), epoch_us(min(ts)), epoch_us(max(ts)),
       count(*) FILTER (WHERE mono_ns < previous_mono),
       quantile_cont(epoch(received_at) - epoch(ts), 0.5),
       max(epoch(received_at) - epoch(ts)),
       count(*) FILTER (WHERE type = 'presence.change'),
       count(*) FILTER (
           WHERE type = 'session.end' AND json_extract_string(payload, '$.reason') = 'camera lost'
       )
FROM ordered GROUP BY kiosk_id ORDER BY kiosk_id
"""


@dataclass(frozen=True)
class KioskHealth:
    """One kiosk's day as its events show it (module docstring); ``events`` 0: silent."""

    kiosk_id: str
    events: int
    active_hours: int
    first_event: dt.datetime | None
    last_event: dt.datetime | None
    reboots: int
    median_delay_s: float | None
    longest_delay_s: float | None
    presence_changes: int
    camera_lost_sessions: int
    #: Its last status message of the day; None: not reported (or not read).
    status: StoredStatus | None = None


def silent(kiosk_id: str) -> KioskHealth:
    """A kiosk known from other days that sent nothing on this one."""
    return KioskHealth(kiosk_id, 0, 0, None, None, 0, None, None, 0, 0)


def kiosk_health(source: EventSource, date: str, store_id: str) -> list[KioskHealth]:
    """Each kiosk of ``store_id`` with events on the UTC ``date``, by kiosk id."""
    db = duckdb.connect()
    try:
        db.execute("SET TimeZone = 'UTC'")
        source.day_view(db, date, store_id)
        rows = db.execute(_HEALTH, {"store": store_id}).fetchall()
    finally:
        db.close()
    return [
        KioskHealth(
            kiosk_id=str(kiosk),
            events=int(events),
            active_hours=int(hours),
            first_event=_utc(first),
            last_event=_utc(last),
            reboots=int(reboots),
            median_delay_s=None if median is None else float(median),
            longest_delay_s=None if longest is None else float(longest),
            presence_changes=int(presence),
            camera_lost_sessions=int(camera_lost),
        )
        for kiosk, events, hours, first, last, reboots, median, longest, presence, camera_lost in (
            rows
        )
    ]


def _utc(epoch_us: int) -> dt.datetime:
    # fetched as microseconds: DuckDB hands TIMESTAMPTZ values over only with pytz installed
    return dt.datetime.fromtimestamp(epoch_us / 1e6, tz=dt.UTC)


def kiosks_seen(source: EventSource, dates: list[str], store_id: str) -> set[str]:
    """The kiosk ids of ``store_id`` with any event on any of ``dates``."""
    db = duckdb.connect()
    try:
        seen: set[str] = set()
        for date in dates:
            source.day_view(db, date, store_id)
            query = f"SELECT DISTINCT kiosk_id FROM {SOURCE_VIEW} WHERE store_id = $store"
            seen.update(str(row[0]) for row in db.execute(query, {"store": store_id}).fetchall())
            db.unregister(SOURCE_VIEW)
            db.execute(f"DROP VIEW IF EXISTS {SOURCE_VIEW}")
        return seen
    finally:
        db.close()
