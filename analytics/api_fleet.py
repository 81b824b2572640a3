"""The fleet as the receiver's SQLite file knows it: its stores and each kiosk's health.

``kiosk-receive`` lands event batches (``events``, ``batches``), what failed the schemas
(``quarantine``) and the kiosks' status messages (``kiosk_status``). A kiosk's health here
is what its batches say: when one last came, the newest event time, how many batches and
events came in the last 24 hours, how many were redeliveries (a batch sent again after a
lost acknowledgement or an outage) and how many events were quarantined; and what its
newest status message says (uptime, restarts, crash loop, backlog, camera, software,
bundle), null when the kiosk sent none.
Every read is on a read-only connection of its own, so the receiver's inserts never wait.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from analytics.api_models import KioskHealthOut, KioskStatusOut, StoreOut
from analytics.stored_status import newest_status

#: The window of the health counters.
HEALTH_WINDOW = dt.timedelta(hours=24)


def _stamp(moment: dt.datetime) -> str:
    """A time as the receiver writes ``received_at`` (sorts as text)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FleetDatabase:
    """Reads the receiver's SQLite file. Methods raise ``sqlite3.Error`` when it cannot be
    read; any thread may call them."""

    def __init__(self, database: Path) -> None:
        self.database = Path(database)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            yield conn
        finally:
            conn.close()

    def stores(self) -> list[StoreOut]:
        """Every store that has sent a batch, by name."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT store_id, count(DISTINCT kiosk_id), max(received_at) FROM batches"
                " GROUP BY store_id ORDER BY store_id"
            ).fetchall()
        return [StoreOut(store_id=s, kiosks=k, last_seen=seen) for s, k, seen in rows]

    def kiosk_stores(self, kiosk_id: str) -> list[str]:
        """The stores that have a kiosk named ``kiosk_id``."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT DISTINCT store_id FROM batches WHERE kiosk_id = ? ORDER BY 1", (kiosk_id,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def health(self, store_id: str, kiosk_id: str, now: dt.datetime) -> KioskHealthOut | None:
        """The kiosk's health at ``now`` (UTC); None when it never sent a batch."""
        since = _stamp(now - HEALTH_WINDOW)
        with self._reading() as conn:
            [(last_seen, batches, events, redelivered)] = conn.execute(
                "SELECT max(received_at),"
                " count(*) FILTER (WHERE received_at >= :since),"
                " coalesce(sum(new_events) FILTER (WHERE received_at >= :since), 0),"
                " count(*) FILTER (WHERE received_at >= :since AND new_events < count)"
                " FROM batches WHERE store_id = :store AND kiosk_id = :kiosk",
                {"since": since, "store": store_id, "kiosk": kiosk_id},
            ).fetchall()
            if last_seen is None:
                return None
            [(last_event,)] = conn.execute(
                "SELECT max(ts) FROM events WHERE store_id = ? AND kiosk_id = ?",
                (store_id, kiosk_id),
            ).fetchall()
            [(quarantined,)] = conn.execute(
                "SELECT count(*) FROM quarantine WHERE store_id = ? AND kiosk_id = ?"
                " AND received_at >= ? AND replayed_at IS NULL",
                (store_id, kiosk_id, since),
            ).fetchall()
            status = newest_status(conn, store_id, kiosk_id)
        seen = dt.datetime.fromisoformat(str(last_seen))
        return KioskHealthOut(
            store_id=store_id,
            kiosk_id=kiosk_id,
            last_seen=str(last_seen),
            last_event_ts=None if last_event is None else str(last_event),
            quiet_s=max(0.0, (now - seen).total_seconds()),
            batches_24h=int(batches),
            events_24h=int(events),
            redelivered_batches_24h=int(redelivered),
            quarantined_events_24h=int(quarantined),
            status=None if status is None else KioskStatusOut(**asdict(status)),
        )
