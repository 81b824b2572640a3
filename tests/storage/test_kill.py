"""A child process appending ~1,000 events/s is killed with SIGKILL: the file stays sound."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import sys, time
from settings import KioskConfig
from storage import Event, EventLog
config = KioskConfig()
config.paths.data_dir = __import__("pathlib").Path(sys.argv[1])
config.redis.enabled = False
log = EventLog(config)
log.start()
i = 0
while True:
    log.append(Event.create("touch", payload={"i": i}))
    i += 1
    if i % 100 == 0:
        print(i, flush=True)
    time.sleep(0.001)
"""


def test_kill_9_keeps_a_gap_free_prefix(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    appended = 0
    deadline = time.monotonic() + 30
    while appended < 500 and time.monotonic() < deadline:
        appended = int(child.stdout.readline() or 0)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        seen = [
            r[0]
            for r in conn.execute("SELECT json_extract(payload, '$.i') FROM events ORDER BY seq")
        ]
    assert appended >= 500
    assert seen == list(range(len(seen)))
    assert len(seen) >= appended - 500
