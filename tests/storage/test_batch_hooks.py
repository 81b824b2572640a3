"""The writer's per-batch hooks: run in each batch's transaction; a failing hook never costs
the batch its events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import func, select, text

from storage import Event, EventLog
from storage.batch_hooks import WrittenBatch
from storage.schema import events
from tests.support.storage import sqlite_only_config

COUNT_KEY = "hooked_events"


def count_into_meta(batch: WrittenBatch) -> None:
    """Adds the batch's events, counted in the events table, to a meta row."""
    conn = batch.connection
    n = conn.scalar(
        select(func.count()).where(events.c.seq.between(batch.first_seq, batch.last_seq))
    )
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES (:key, :n) "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value"
        ),
        {"key": COUNT_KEY, "n": n},
    )


def write_then_fail(batch: WrittenBatch) -> None:
    """Writes a row, then fails: its row must not be committed."""
    batch.connection.execute(
        text("INSERT INTO meta (key, value) VALUES (:key, 'x')"),
        {"key": f"half-done-{batch.first_seq}"},
    )
    raise ZeroDivisionError("a rollup bug")


def _meta(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def _append(log: EventLog, n: int) -> None:
    for i in range(n):
        log.append(Event.create("touch", session_id=f"s{i // 10}", payload={"sku": f"p{i % 5}"}))


def test_a_hook_sees_every_batch_in_its_transaction(tmp_path: Path) -> None:
    config = sqlite_only_config(tmp_path)
    config.storage.flush_max_events = 50  # several batches
    log = EventLog(config, batch_hooks=[count_into_meta])
    log.start()
    _append(log, 420)
    log.stop()
    assert log.health().events_written == 420
    assert _meta(log.database)[COUNT_KEY] == "420"


def test_a_failing_hook_costs_no_event_and_is_shown(tmp_path: Path) -> None:
    log = EventLog(sqlite_only_config(tmp_path), batch_hooks=[write_then_fail, count_into_meta])
    log.start()
    _append(log, 120)
    log.stop()
    health = log.health()
    assert health.sqlite_ok and health.events_written == 120
    assert health.batch_hook_failures >= 1
    assert "write_then_fail: ZeroDivisionError: a rollup bug" in (health.batch_hook_error or "")
    meta = _meta(log.database)
    assert not [key for key in meta if key.startswith("half-done")]  # rolled back
    assert meta[COUNT_KEY] == "120"  # the hooks after it still ran
    with sqlite3.connect(log.database) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 120
