"""The sessions table, maintained by the writer from each batch, on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import Event, EventLog
from tests.support.storage import sqlite_only_config


def _session(sid: str, touches: int, simulated: bool = False) -> list[Event]:
    events = [Event.create("session.start", session_id=sid, payload={"trigger": "touch"})]
    for i in range(touches):
        events.append(
            Event.create("touch", session_id=sid, payload={"sku": f"p{i}"}, simulated=simulated)
        )
        events.append(
            Event.create(
                "page.view", session_id=sid, payload={"dwell_ms": 100 * i}, simulated=simulated
            )
        )
    return events


def test_sessions_follow_their_events_across_batches(tmp_path: Path) -> None:
    config = sqlite_only_config(tmp_path)
    config.storage.flush_max_events = 3  # one session spread over several batches
    log = EventLog(config)
    log.start()
    first = _session("s1", 4)
    second = _session("s2", 2, simulated=True)
    for e in first + second:
        log.append(e)
    log.append(Event.create("presence.change", payload={"zone": "away"}))  # no session
    log.stop()
    # the end arrives after a restart: the row is updated, not replaced
    log = EventLog(config)
    log.start()
    end = Event.create("session.end", session_id="s1", payload={"reason": "idle", "touches": 4})
    log.append(end)
    log.stop()

    with sqlite3.connect(log.database) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["session_id"]: dict(r) for r in conn.execute("SELECT * FROM sessions")}
        epochs = {
            sid: (low, high)
            for sid, low, high in conn.execute(
                "SELECT session_id, min(ts_epoch), max(ts_epoch) FROM events "
                "WHERE session_id IS NOT NULL GROUP BY session_id"
            )
        }
    assert set(rows) == {"s1", "s2"}
    s1, s2 = rows["s1"], rows["s2"]
    assert (s1["events"], s1["touches"], s1["page_views"]) == (10, 4, 4)
    assert s1["first_ts"] == s1["started_ts"] == first[0].ts
    assert s1["ended_ts"] == end.ts and s1["end_reason"] == "idle"
    assert (s1["first_epoch"], s1["last_epoch"]) == epochs["s1"]
    assert s1["simulated"] == 0
    assert (s2["events"], s2["touches"], s2["page_views"], s2["simulated"]) == (5, 2, 2, 1)
    assert s2["ended_ts"] is None and s2["end_reason"] is None
