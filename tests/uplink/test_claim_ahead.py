"""ClaimAhead on a real SQLite outbox: batches claimed ahead in order, none lost at stop."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import storage
from settings import KioskConfig
from tests.support.waiting import wait_until
from uplink.claim_ahead import ClaimAhead, ReadyBatch


def outbox_with_events(tmp_path: Path, n: int) -> storage.Outbox:
    """A real event log's file holding ``n`` events, and its outbox."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.paths.log_dir = tmp_path / "logs"
    config.storage.database = tmp_path / "events.sqlite"
    config.redis.enabled = False
    log = storage.EventLog(config)
    log.start()
    for i in range(n):
        log.append(storage.Event.create(storage.EventType.TOUCH, page=f"p-{i}", element="e"))
    log.stop(timeout=30)
    return storage.Outbox(config.storage.database)


def claimer(outbox: storage.Outbox, events_per_batch: int) -> ClaimAhead:
    def claim() -> ReadyBatch | None:
        batch = outbox.claim_batch(events_per_batch, 1_000_000)
        if batch is None:
            return None
        return ReadyBatch.of(batch, store_id="s", kiosk_id="k", max_message_bytes=131_072)

    return ClaimAhead(claim, depth=2)


def started(outbox: storage.Outbox) -> ClaimAhead:
    """A started claimer of ten-event batches, once its first claim is done."""
    ahead = claimer(outbox, 10)
    ahead.start()
    ahead.wait_ready(10)
    return ahead


def leased(outbox: storage.Outbox) -> int:
    with sqlite3.connect(outbox.database) as conn:
        return int(
            conn.execute("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL").fetchone()[0]
        )


def test_batches_come_oldest_first_and_the_untaken_ones_go_back(tmp_path: Path) -> None:
    outbox = outbox_with_events(tmp_path, 50)
    ahead = started(outbox)
    first, empty = ahead.take()
    assert first is not None and not empty
    assert first.batch.count == 10 and first.messages[0].batch_id == first.batch.batch_id
    # it claims up to two ahead of the sender, not the whole outbox
    wait_until(lambda: leased(outbox) == 3, what="two batches claimed ahead")
    left = ahead.stop()
    assert len(left) == 2 and leased(outbox) == 3
    assert first.batch.timestamps[-1] <= left[0].first_ts <= left[1].first_ts
    for batch in left:
        outbox.release(batch.batch_id)
    outbox.mark_sent(first.batch.batch_id)
    # the given-back batches come again, same ids, same events, before any new one
    again = [outbox.claim_batch(10, 1_000_000) for _ in range(2)]
    assert [(b.batch_id, b.jsons) for b in again if b] == [(b.batch_id, b.jsons) for b in left]


def test_an_empty_outbox_is_said_and_tried_again(tmp_path: Path) -> None:
    outbox = outbox_with_events(tmp_path, 5)
    ahead = started(outbox)
    only, _ = ahead.take()
    assert only is not None and only.batch.count == 5
    ahead.wait_ready(10)
    assert ahead.take() == (None, True)
    assert ahead.stop() == []


def test_a_failing_claim_is_raised_by_take(tmp_path: Path) -> None:
    outbox = outbox_with_events(tmp_path, 5)
    outbox.database.unlink()
    (tmp_path / "events.sqlite-wal").unlink(missing_ok=True)
    outbox.database.mkdir()  # the database's path is now a folder: SQLite cannot open it
    ahead = started(outbox)
    with pytest.raises(Exception, match=r"unable to open|folder|directory"):
        ahead.take()
    assert ahead.stop() == []


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ClaimAhead(lambda: None, depth=0)
