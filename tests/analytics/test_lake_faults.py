"""The lake under real faults: ``kiosk-receive --lake`` killed with SIGKILL while it writes,
and a full disk. No torn file, no event lost, none written twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq

from analytics.lake import LakeBounds, LakeWriter
from analytics.lake_target import LocalLake
from localservers import Mosquitto
from tests.analytics.conftest import (
    batch_bytes,
    lake_files,
    land,
    landed_ids,
    read_lake,
    shop_events,
)
from tests.storage.test_spill import disk  # a small tmpfs of the test's own
from tests.support.waiting import wait_until
from tests.uplink.test_receiver import publish

REPO = Path(__file__).resolve().parents[2]
KILLS = 5
__all__ = ["disk"]  # the fixture, imported for the tests here


def journal(db: Path) -> tuple[int, int, int]:
    """(flushes done, flushes cut short, the last rowid written)."""
    with sqlite3.connect(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'lake_flushes'").fetchone():
            return 0, 0, 0
        done, open_, last = conn.execute(
            "SELECT count(done_at), count(*) - count(done_at), "
            "coalesce(max(last_rowid) FILTER (WHERE done_at IS NOT NULL), 0) FROM lake_flushes"
        ).fetchone()
    return int(done), int(open_), int(last)


def newest(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT max(rowid) FROM events").fetchone()[0])


def receive(mosquitto: Mosquitto, db: Path, root: Path, *options: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uplink.receiver_cli",
        "--broker", f"mqtt://127.0.0.1:{mosquitto.port}", "--db", str(db),
        "--lake", str(root), "--lake-file-rows", "500", "--progress-s", "0", *options,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE)


def test_kiosk_receive_puts_published_batches_in_the_lake_once(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    first, second = shop_events(stores=2, kiosks=1, per_kiosk=40)
    process = receive(mosquitto, db, root, "--lake-file-age-s", "0.5", "--progress-s", "0.1")
    lines: list[str] = []
    assert process.stderr is not None
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode().rstrip() for line in process.stderr or ()),
        daemon=True,
    )
    reader.start()
    try:
        wait_until(
            lambda: any("messages" in x and "not connected" not in x for x in lines),
            what="the receiver connected",
        )
        topic = "retail/{}/kiosk-00/events"
        publish(mosquitto.port, [
            (topic.format("store-001"), batch_bytes(second, "b-2")),  # the newer first
            (topic.format("store-000"), batch_bytes(first, "b-1")),
            (topic.format("store-000"), batch_bytes(first, "b-1")),  # delivered twice
            (topic.format("store-000"), batch_bytes(first[10:30], "b-3")),  # again, in another
        ])  # fmt: skip
        # the time bound closes the files while the receiver runs
        wait_until(lambda: any("lake: 80 events in 2 files" in x for x in lines), what="files")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        reader.join(10)
    assert process.returncode == 0, "\n".join(lines)
    assert "4 messages, 140 events (80 new, 60 duplicate)" in lines[-1]
    assert "; lake: 80 events in 2 files, 0 waiting" in lines[-1]
    assert sorted(read_lake(root).column("event_id").to_pylist()) == landed_ids(db)


def test_a_receiver_killed_mid_write_leaves_no_torn_file_and_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    # 20,000 events landed before the lake was asked for: the receiver writes them at start,
    # in 40 flushes of 500, and is killed in the middle of that again and again
    kiosks = shop_events(stores=10, kiosks=2, per_kiosk=1000)
    land(db, [batch_bytes(events, f"b-{n}") for n, events in enumerate(kiosks)])
    killed_mid_flush = 0
    last = newest(db)
    for _ in range(KILLS):
        wanted = journal(db)[0] + 2
        process = receive(mosquitto, db, root)
        try:
            wait_until(
                lambda n=wanted: journal(db)[0] >= n or journal(db)[2] == last,
                what="two more flushes",
            )
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        # every file a reader can see is whole (a torn one would not open)
        for path in root.glob("events/date=*/store=*/part-*.parquet"):
            pq.read_metadata(path)
        killed_mid_flush += journal(db)[1]
        if journal(db)[2] == last:
            break  # all written before this kill
    assert killed_mid_flush > 0, "none of the kills came while a flush was being written"

    process = receive(mosquitto, db, root)
    try:
        wait_until(lambda: journal(db)[2] == newest(db), what="the lake to catch up")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert "lake: " in stderr.decode() and " 0 waiting" in stderr.decode().splitlines()[-1]
    ids = read_lake(root).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == 20_000
    assert sorted(ids) == landed_ids(db)
    assert not [p for p in lake_files(root) if not p.name.startswith("part-")]
    assert journal(db)[1] == 0


def test_a_full_disk_leaves_no_partial_file_and_the_events_wait(tmp_path: Path, disk: Path) -> None:
    db, root = tmp_path / "received.sqlite", disk / "lake"
    kiosks = shop_events(stores=4, kiosks=1, per_kiosk=2500)
    land(db, [batch_bytes(events, f"b-{n}") for n, events in enumerate(kiosks)])
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler.write_bytes(b"\0" * (free - 200 * 1024))  # 200 KB left, 80 KB a file: room for two
    writer = LakeWriter(db, LocalLake(root), LakeBounds(file_rows=2500, poll_s=0.05))
    writer.start()
    try:
        wait_until(lambda: writer.status().problem is not None, what="the full disk")
        assert "No space left on device" in str(writer.status().problem)
        assert 0 < writer.status().waiting <= 10_000
        visible = list(root.glob("events/date=*/store=*/part-*.parquet"))
        for path in visible:
            pq.read_metadata(path)  # whole: a partial file would not open
        assert [p.name for p in lake_files(root) if not p.name.startswith("part-")] == []
        filler.unlink()
        wait_until(lambda: writer.status().events == 10_000, what="the retry")
    finally:
        writer.stop()
    ids = read_lake(root).column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) and sorted(ids) == landed_ids(db)
