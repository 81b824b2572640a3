"""The session generator drives the real kiosk (control socket, Qt touch events, simulated
sensor, real event log), and ``python -m simulation.pipeline`` runs the whole system end to end."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.app import Kiosk
from settings import KioskConfig
from settings.loader import RESOURCES
from simulation.pipeline import RECEIVED_DB, count_rows
from simulation.shoppers import Generator, KioskClient, SimulateError, parse_mix

DEMO = RESOURCES / "demo" / "pet-store.drawio"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # a Unix socket path must stay short (108 bytes): not under pytest's deep tmp_path
    with tempfile.TemporaryDirectory(prefix="kiosk-") as folder:
        yield Path(folder)


@pytest.fixture
def driven_kiosk(qtbot: Any, config: KioskConfig, short_dir: Path) -> Iterator[Kiosk]:
    """The demo experience with a real event log and a simulated sensor that only sees the
    shoppers the generator sends."""
    config.kiosk.experience = DEMO
    config.kiosk.attract_rotate_s = 3600  # the attract page stays put between runs
    config.sensors.type = "simulated"
    config.sensors.sim_driven = True
    config.uplink.enabled = False
    kiosk = Kiosk(config)
    window = kiosk.start(control=short_dir / "control.sock")
    qtbot.addWidget(window)
    try:
        yield kiosk
    finally:
        kiosk.stop()


REPO = Path(__file__).resolve().parents[2]


def run_generator(qtbot: Any, kiosk: Kiosk, seed: int, shoppers: int) -> Generator:
    """Send ``shoppers`` buyers from a client thread while the Qt loop serves them."""
    assert kiosk.control is not None
    path = kiosk.control.path
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            client = KioskClient(path, wait_s=5, timeout_s=10)
            try:
                generator = Generator(
                    client, seed=seed, speedup=40.0, pace_per_s=20.0, mix={"buyer": 1.0}
                )
                generator.run(shoppers=shoppers)
                box["generator"] = generator
            finally:
                client.close()
        except Exception as exc:
            box["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=60_000)
    if "error" in box:
        raise box["error"]
    return box["generator"]


def settled(qtbot: Any, kiosk: Kiosk) -> None:
    """Wait until the event log has written every interaction the kiosk recorded."""
    log = kiosk.event_log
    assert log is not None
    qtbot.waitUntil(lambda: log.health().events_written == kiosk.recorder.recorded, timeout=10_000)


def stored_events(kiosk: Kiosk) -> list[tuple[str, str | None, str | None, int]]:
    """(type, page, element, simulated) of every event in the kiosk's SQLite file."""
    assert kiosk.event_log is not None
    with sqlite3.connect(kiosk.event_log.database) as db:
        return db.execute(
            "SELECT type, page, element, simulated FROM events ORDER BY seq"
        ).fetchall()


def test_buyers_walk_up_touch_products_and_are_recorded_as_simulated(
    qtbot: Any, driven_kiosk: Kiosk
) -> None:
    generator = run_generator(qtbot, driven_kiosk, seed=3, shoppers=2)
    report = generator.report
    assert report.shoppers["buyer"] == 2
    assert report.touches >= 8 and report.refused == 0
    assert report.actions >= 1  # buyers press product actions
    window = driven_kiosk.window
    assert window is not None
    window.go_attract("test")  # ends the session: its end is recorded too
    settled(qtbot, driven_kiosk)
    events = stored_events(driven_kiosk)
    types = {t for t, *_ in events}
    assert {"presence.change", "session.start", "touch", "page.view", "session.end"} <= types
    touches = [e for e in events if e[0] == "touch"]
    assert len(touches) == report.touches
    # every touch the generator made is marked simulated, and landed on a shape of the page
    assert all(simulated == 1 for *_, simulated in touches)
    assert all(element for _, _, element, _ in touches)


def test_the_same_seed_sends_the_same_shoppers_doing_the_same_things(
    qtbot: Any, driven_kiosk: Kiosk
) -> None:
    window = driven_kiosk.window
    assert window is not None
    runs: list[list[tuple[str | None, str | None]]] = []
    for _ in range(2):
        window.go_attract("test")
        settled(qtbot, driven_kiosk)
        before = len(stored_events(driven_kiosk))
        generator = run_generator(qtbot, driven_kiosk, seed=11, shoppers=1)
        assert generator.report.touches > 0
        settled(qtbot, driven_kiosk)
        events = stored_events(driven_kiosk)[before:]
        runs.append([(page, element) for t, page, element, _ in events if t == "touch"])
    assert runs[0] and runs[0] == runs[1]


def test_mix_and_client_errors_are_one_clear_line(short_dir: Path) -> None:
    assert parse_mix("buyer=2,group") == {"buyer": 2.0, "group": 1.0}
    with pytest.raises(SimulateError, match="unknown profile 'shopper'"):
        parse_mix("shopper=1")
    with pytest.raises(SimulateError, match="must not be negative"):
        parse_mix("buyer=-1")
    with pytest.raises(SimulateError, match="rate, speed-up and pace must be positive"):
        Generator(KioskClient.__new__(KioskClient), rate_per_min=0)


def test_demo_pipeline_runs_everything_and_the_two_ends_agree(short_dir: Path) -> None:
    run = short_dir / "run"
    config = short_dir / "kiosk.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{short_dir / "data"}"\n\n[kiosk]\ntransition = "off"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "simulation.pipeline", "--config", str(config)),
            *("--pipeline-dir", str(run), "--windowed"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # the simulated shoppers' events travel kiosk -> SQLite -> uplink -> broker -> receiver
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if (count_rows(run / RECEIVED_DB, "events") or 0) >= 20:
                break
            time.sleep(0.5)
        assert proc.poll() is None, "the demo pipeline stopped on its own"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    last = [line for line in output.splitlines() if "events stored" in line][-1]
    stored, received = (int(word.strip(",")) for word in last.split() if word.strip(",").isdigit())
    assert stored >= 20 and received == stored, last
    with sqlite3.connect(run / RECEIVED_DB) as db:
        touches = db.execute("SELECT count(*), sum(simulated) FROM events WHERE type = 'touch'")
        count, simulated = touches.fetchone()
    assert count > 0 and simulated == count
