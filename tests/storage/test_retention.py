"""Retention on real SQLite files: uplinked events age out, unsent ones only over the budget."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from pathlib import Path

import pytest
import uuid_utils

from settings import KioskConfig
from storage import Event, EventLog, Outbox
from storage.event import utc_iso
from tests.support.waiting import wait_until

DAY = 86_400.0


def _config(tmp_path: Path, budget_mb: int = 0) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.redis.enabled = False
    config.storage.disk_budget_mb = budget_mb
    return config


def _event(i: int, age_days: float, session: str | None = None, pad: int = 0) -> Event:
    """A touch stamped ``age_days`` ago (explicit timestamp, as a kiosk offline for months)."""
    ts = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
    payload: dict[str, object] = {"i": i}
    if pad:
        payload["pad"] = "x" * pad
    return Event(
        id=str(uuid_utils.uuid7()),
        ts=utc_iso(ts),
        mono_ns=time.monotonic_ns(),
        clock_synced=True,
        store_id="",
        kiosk_id="",
        session_id=session,
        type="touch",
        page=None,
        element=None,
        payload=payload,
    )


def _write(config: KioskConfig, events: list[Event]) -> Path:
    log = EventLog(config)
    log.start()
    for e in events:
        log.append(e)
    log.stop()
    return log.database


def _remaining(database: Path) -> list[int]:
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [
            r[0]
            for r in conn.execute("SELECT json_extract(payload, '$.i') FROM events ORDER BY seq")
        ]


def test_only_uplinked_events_age_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = _config(tmp_path)
    old, recent = config.storage.retention_days + 10, 1
    events = [_event(i, old) for i in range(25)] + [_event(i, recent) for i in range(25, 35)]
    database = _write(config, events)
    outbox = Outbox(database)
    sent_old = outbox.claim_batch(10, 65_536)  # 0..9, old, acknowledged
    leased_old = outbox.claim_batch(10, 65_536)  # 10..19, old, claimed but never acknowledged
    mixed = outbox.claim_batch(10, 65_536)  # 20..24 old + 25..29 recent, acknowledged
    assert sent_old and leased_old and mixed
    outbox.mark_sent(sent_old.batch_id)
    outbox.mark_sent(mixed.batch_id)
    # 30..34 recent, never batched
    assert _remaining(database) == list(range(35))

    caplog.set_level(logging.INFO, logger="storage")
    log = EventLog(config)
    log.start()  # retention runs once at start, on the writer thread
    wait_until(lambda: log.health().purged_uplinked >= 15, "the start-up purge did not run")
    log.stop()

    assert _remaining(database) == list(range(10, 20)) + list(range(25, 35))
    health = log.health()
    assert health.purged_uplinked == 15 and health.purged_unsent == 0
    assert health.last_purge_at is not None
    purge_lines = [r for r in caplog.records if "uplinked events older than" in r.getMessage()]
    assert purge_lines and all(r.threadName == "event-log-writer" for r in purge_lines)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    with sqlite3.connect(database) as conn:
        batches = {r[0] for r in conn.execute("SELECT batch_id FROM outbox")}
    # the emptied batch's outbox row goes; the half-purged and the unsent ones stay
    assert batches == {leased_old.batch_id, mixed.batch_id}
    # the unsent old events are still sent later, in order
    outbox.release(leased_old.batch_id)
    again = outbox.claim_batch(10, 65_536)
    assert again is not None and [e["payload"]["i"] for e in again.events] == list(range(10, 20))
    outbox.close()


def test_retention_runs_periodically_while_logging(tmp_path: Path) -> None:
    config = _config(tmp_path)
    log = EventLog(config)
    log.retention.retention_every_s = 0.05
    log.start()
    for i in range(20):
        log.append(_event(i, config.storage.retention_days + 1))
    wait_until(lambda: log.health().events_written == 20, "events not written")
    outbox = Outbox(log.database)
    batch = outbox.claim_batch(20, 65_536)
    assert batch is not None
    assert log.health().purged_uplinked == 0
    outbox.mark_sent(batch.batch_id)
    wait_until(lambda: log.health().purged_uplinked == 20, "the periodic purge did not run")
    log.append(_event(99, 0))
    log.stop()
    outbox.close()
    assert _remaining(log.database) == [99]


def test_disk_budget_drops_uplinked_then_oldest_unsent_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # ~3 MB of recent events (1 KB payloads) against a 1 MB budget
    config = _config(tmp_path)
    database = _write(
        config, [_event(i, 0.5, session=f"s{i // 100}", pad=1000) for i in range(3000)]
    )
    outbox = Outbox(database)
    sent = outbox.claim_batch(200, 10_000_000)
    assert sent is not None and sent.count == 200
    outbox.mark_sent(sent.batch_id)
    unsent = outbox.claim_batch(500, 10_000_000)  # formed, leased, not acknowledged
    assert unsent is not None
    outbox.release(unsent.batch_id)

    budget = _config(tmp_path, budget_mb=1)
    caplog.set_level(logging.INFO, logger="storage")
    log = EventLog(budget)
    log.start()
    wait_until(lambda: log.health().purged_unsent > 0, "the budget purge did not run")
    log.append(_event(3000, 0))
    log.stop()

    health = log.health()
    assert health.purged_uplinked == 200
    left = _remaining(database)
    # the oldest went first: what is left is the newest, without a gap
    assert left == list(range(3001 - len(left), 3001))
    assert health.purged_unsent == 3000 - 200 - (len(left) - 1)
    with sqlite3.connect(database) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        sessions = {r[0] for r in conn.execute("SELECT session_id FROM sessions")}
        with_events = {r[0] for r in conn.execute("SELECT DISTINCT session_id FROM events") if r[0]}
    assert (pages - free) * page <= 1024 * 1024
    assert sessions == with_events
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"{health.purged_unsent} UNSENT events DROPPED" in warnings[0]
    assert "disk budget exceeded" in warnings[0]
    # the uplink goes on from the oldest event left, in order, none twice
    seen: list[int] = []
    while (batch := outbox.claim_batch(500, 10_000_000)) is not None:
        seen += [e["payload"]["i"] for e in batch.events]
        outbox.mark_sent(batch.batch_id)
    assert seen == left
    outbox.close()


def test_no_budget_keeps_unsent_events_forever(tmp_path: Path) -> None:
    config = _config(tmp_path)
    database = _write(config, [_event(i, 3650) for i in range(10)])
    log = EventLog(config)
    log.start()
    log.append(_event(10, 0))
    log.stop()
    assert _remaining(database) == list(range(11))
    assert log.health().purged_uplinked == log.health().purged_unsent == 0


def test_disk_budget_counts_the_wal(tmp_path: Path) -> None:
    """The database's pages alone fit the budget but with its WAL they do not: the budget
    purges, then truncates the WAL, and pages and WAL together end under it."""
    config = _config(tmp_path)
    database = tmp_path / "events.sqlite"
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        log = EventLog(config)
        log.start()
        # a reader's snapshot holds every checkpoint back: the WAL takes all the writes
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        for i in range(6000):
            log.append(_event(i, 0.5, pad=1000))
        log.stop()
        reader.execute("COMMIT")  # still connected: the WAL file stays as it is
        mb = 1024 * 1024
        with sqlite3.connect(database) as conn:
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        used = (pages - free) * page
        wal = Path(f"{database}-wal").stat().st_size
        budget_mb = used // mb + 1
        assert used < budget_mb * mb < used + wal, (used, wal)

        budgeted = EventLog(_config(tmp_path, budget_mb=budget_mb))
        budgeted.start()
        wait_until(lambda: budgeted.health().purged_unsent > 0, "the budget purge")
        budgeted.stop()
        with sqlite3.connect(database) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        wal = Path(f"{database}-wal").stat().st_size
        assert (pages - free) * page + wal <= budget_mb * mb
        left = _remaining(database)
        assert left == list(range(6000 - len(left), 6000))
    finally:
        reader.close()


def test_the_default_budget_is_set() -> None:
    assert KioskConfig().storage.disk_budget_mb == 2048
