"""The spill file: events held while the database cannot be written survive a kill -9 (a real
full tmpfs, a real SIGKILL) and a damaged spill loses only its damaged records."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Event, EventLog
from storage.records import to_row
from storage.spill import Spill, spill_path
from tests.storage.test_eventlog import _set_read_only
from tests.storage.test_kill import LOST_MAX
from tests.support.storage import sqlite_only_config, stop_when_written
from tests.support.waiting import wait_until

CHILD = """
import os, sys, time
from pathlib import Path
import orjson
from settings import KioskConfig
from storage import Event, EventLog
config = KioskConfig()
config.paths.data_dir = Path(sys.argv[1])
config.redis.enabled = False
log = EventLog(config)
log.start()
appended = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
i = 0
due = time.perf_counter()
while True:
    event = Event.create(
        "touch", session_id="spill", payload={"i": i, "note": "x" * 500},
        store_id="s1", kiosk_id="k1",
    )
    # noted before it is appended: a kill between the two makes one event more look lost
    os.write(appended, orjson.dumps(event.to_json_dict()) + b"\\n")
    log.append(event)
    i += 1
    if i % 10 == 0:
        health = log.health()
        print(i, health.memory_held_events, int(health.sqlite_ok), flush=True)
    due = max(due + 0.001, time.perf_counter())
    while (left := due - time.perf_counter()) > 0:
        if left > 0.0005:
            time.sleep(left - 0.0004)
"""


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs of its own (needs root, as CI has; skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    """Fill the file system of ``path`` to the last block."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)


def test_kill_9_on_a_full_disk_loses_at_most_one_flush_window(tmp_path: Path, disk: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    appended = tmp_path / "appended.jsonl"  # off the full disk
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(disk), str(appended)],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ballast = disk / "ballast"
    filled = False
    held = 0
    try:
        while held < 500:
            line = child.stdout.readline()
            assert line, f"the child ended by itself (exit {child.poll()})"
            count, held, ok = map(int, line.split())
            if count >= 200 and not filled:
                _fill(ballast)
                filled = True
            if not filled:
                held = 0
            elif ok:
                held = 0  # SQLite still found room; wait until it is held
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert spill_path(disk / "events.sqlite").exists()
    ballast.unlink()

    lines = appended.read_bytes().splitlines()
    log = EventLog(sqlite_only_config(disk))
    log.start()
    log.stop()
    with sqlite3.connect(disk / "events.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = [
            body for (body,) in conn.execute("SELECT CAST(json AS BLOB) FROM events ORDER BY seq")
        ]
    assert log.health().events_rejected == 0  # each stored once
    assert stored == lines[: len(stored)], "not a byte-identical prefix"
    lost = len(lines) - len(stored)
    assert lost <= LOST_MAX, f"{lost} of {len(lines)} events lost ({held} were held)"


def _rows(first: int, n: int) -> list:
    return [
        to_row(Event.create("touch", payload={"i": i}, store_id="s", kiosk_id="k"), "s", "k", 4096)
        for i in range(first, first + n)
    ]


def test_damaged_spill_is_named_and_its_good_records_land(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = sqlite_only_config(tmp_path)
    path = spill_path(tmp_path / "events.sqlite")
    spill = Spill(path, 1024 * 1024)
    assert spill.open() == []
    good, bad, good2, cut = _rows(0, 5), _rows(5, 5), _rows(10, 5), _rows(15, 5)
    offsets = []
    for rows in (good, bad, good2, cut):
        offsets.append(spill._offset)
        assert spill.add(rows) == 5
    spill.close()
    with path.open("r+b") as f:
        f.seek(offsets[1] + 40)  # a flipped byte inside the second record's body
        byte = f.read(1)
        f.seek(offsets[1] + 40)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.truncate(path, offsets[3] + 16 + 30)  # the last record cut short

    caplog.set_level(logging.ERROR, logger="storage.spill")
    log = EventLog(config)
    log.start()
    count, check = stop_when_written(log, 10)
    assert (count, check) == (10, "ok")
    with sqlite3.connect(log.database) as conn:
        stored = [r for (r,) in conn.execute("SELECT json FROM events ORDER BY seq")]
    assert stored == [r.json for r in good + good2]
    messages = [r.getMessage() for r in caplog.records]
    assert any(str(path) in m and f"byte {offsets[1]}" in m and "CRC" in m for m in messages), (
        messages
    )
    assert any(
        str(path) in m and f"byte {offsets[3]}" in m and "truncated" in m for m in messages
    ), messages
    # written now: the spill was cleared, a next start replays nothing
    log = EventLog(config)
    log.start()
    log.stop()
    assert log.health().events_written == 0


def test_full_spill_is_logged_once_and_shown_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = EventLog(sqlite_only_config(tmp_path))
    first.start()
    first.append(Event.create("touch"))
    first.stop()

    config = sqlite_only_config(tmp_path)
    config.storage.spill_mb = 1
    caplog.set_level(logging.ERROR, logger="storage.spill")
    _set_read_only(first.database, True)
    try:
        log = EventLog(config)
        log.start()
        for i in range(1500):
            log.append(Event.create("touch", payload={"i": i, "note": "x" * 600}))
        wait_until(lambda: log.health().memory_held_events == 1500, "the events held")
        wait_until(lambda: log.health().spill_full, "the spill to be full")
        health = log.health()
        assert 0 < health.spill_held_events < health.memory_held_events
    finally:
        _set_read_only(first.database, False)
    assert stop_when_written(log, 1500) == (1501, "ok")
    assert log.health().spill_held_events == 0
    full = [r.getMessage() for r in caplog.records if "is full" in r.getMessage()]
    assert len(full) == 1 and str(spill_path(log.database)) in full[0], full
