"""Outbox claims, leases, acknowledgements and release on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from settings import KioskConfig
from storage import Event, EventLog, Outbox
from storage.records import to_row


def _filled(tmp_path: Path, n: int) -> Path:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    log = EventLog(config)
    log.start()
    for i in range(n):
        log.append(Event.create("touch", payload={"i": i}))
    log.stop()
    return log.database


def test_claim_release_mark_sent(tmp_path: Path) -> None:
    outbox = Outbox(_filled(tmp_path, 25))
    assert outbox.backlog().events == 25
    first = outbox.claim_batch(10, 65_536)
    assert first is not None and first.count == 10
    assert [e["payload"]["i"] for e in first.events] == list(range(10))
    second = outbox.claim_batch(10, 65_536)
    assert second is not None and second.events[0]["payload"]["i"] == 10
    outbox.release(first.batch_id)
    again = outbox.claim_batch(10, 65_536)
    assert again is not None and again.batch_id == first.batch_id and again.events == first.events
    outbox.mark_sent(again.batch_id)
    outbox.mark_sent(second.batch_id)
    backlog = outbox.backlog()
    assert backlog.events == 5 and backlog.batches == 1
    last = outbox.claim_batch(100, 65_536)
    assert last is not None and last.count == 5
    outbox.mark_sent(last.batch_id)
    assert outbox.claim_batch(10, 65_536) is None
    assert outbox.backlog().events == 0


def test_several_batches_marked_sent_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(_filled(tmp_path, 30))
    batches = [outbox.claim_batch(10, 65_536) for _ in range(3)]
    assert all(batches)
    ids = [b.batch_id for b in batches if b is not None]
    outbox.mark_sent(ids[0], ids[2], "no-such-batch")
    backlog = outbox.backlog()
    assert backlog.events == 10 and backlog.batches == 1
    assert any("1 unknown batch(es)" in r.getMessage() for r in caplog.records)
    outbox.release(ids[1])
    again = outbox.claim_batch(10, 65_536)
    assert again is not None and again.batch_id == ids[1]


def test_a_returned_batch_whose_events_are_gone_is_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = _filled(tmp_path, 15)
    outbox = Outbox(database)
    empty = outbox.claim_batch(10, 65_536)
    assert empty is not None
    outbox.release(empty.batch_id)
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM events WHERE seq <= 10")
    rest = outbox.claim_batch(10, 65_536)
    assert rest is not None and rest.batch_id != empty.batch_id
    assert [e["payload"]["i"] for e in rest.events] == list(range(10, 15))
    assert any("no events left; dropped" in r.getMessage() for r in caplog.records)
    with sqlite3.connect(database) as conn:
        assert conn.execute(
            "SELECT count(*) FROM outbox WHERE batch_id = ?", (empty.batch_id,)
        ).fetchone() == (0,)


def test_expired_lease_comes_back_and_bytes_bound(tmp_path: Path) -> None:
    database = _filled(tmp_path, 8)
    dead = Outbox(database, lease_s=0.0)
    lost = dead.claim_batch(3, 65_536)
    assert lost is not None
    other = Outbox(database)
    back = other.claim_batch(3, 65_536)
    assert back is not None and back.batch_id == lost.batch_id
    small = other.claim_batch(100, 300)
    assert small is not None and small.count == 1


def test_release_owner_gives_back_only_that_runs_unsent_batches(tmp_path: Path) -> None:
    database = _filled(tmp_path, 30)
    killed, other = Outbox(database), Outbox(database)
    held = killed.claim_batch(10, 65_536)
    done = killed.claim_batch(10, 65_536)
    mine = other.claim_batch(10, 65_536)
    assert held is not None and done is not None and mine is not None
    killed.mark_sent(done.batch_id)
    assert other.claim_batch(10, 65_536) is None
    assert other.release_owner(killed.owner) == 1
    back = other.claim_batch(10, 65_536)
    assert back is not None and back.batch_id == held.batch_id
    assert other.claim_batch(10, 65_536) is None


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.dictionaries(st.text(), JSON_VALUES, max_size=5),
    page=st.none() | st.text(max_size=128),
    session_id=st.none() | st.text(min_size=1, max_size=128),
)
def test_claimed_json_is_byte_for_byte_the_recorded_event(
    tmp_path_factory: pytest.TempPathFactory,
    payload: dict[str, Any],
    page: str | None,
    session_id: str | None,
) -> None:
    """The uplink sends each event's JSON as recorded; for rows recorded before schema v4,
    which lack it, SQLite builds it from the columns: the same bytes as the event log's own
    encoding of the event (the Redis stream's), for any payload, text and missing field."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path_factory.mktemp("outbox-json")
    config.redis.enabled = False
    event = Event.create(
        "action", payload=payload, page=page, session_id=session_id, simulated=True
    )
    expected = to_row(event, config.kiosk.store_id, config.kiosk.kiosk_id, 65_536).json.encode()
    log = EventLog(config)
    log.start()
    log.append(event)
    log.stop()
    outbox = Outbox(log.database)
    try:
        stored = outbox.claim_batch(10, 131_072)
        assert stored is not None
        outbox.release(stored.batch_id)
        with sqlite3.connect(log.database) as conn:
            conn.execute("UPDATE events SET json = NULL")  # as a v3 kiosk left the row
        built = outbox.claim_batch(10, 131_072)
    finally:
        outbox.close()
    assert built is not None
    for batch in (stored, built):
        assert batch.events[0]["id"] == event.id and batch.timestamps == [event.ts]
        assert batch.jsons == [expected]
