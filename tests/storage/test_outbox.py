"""Outbox claims, leases, acknowledgements and release on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from settings import KioskConfig
from storage import Event, EventLog, Outbox


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
