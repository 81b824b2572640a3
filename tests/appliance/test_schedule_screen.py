"""The screen at closing and at opening, in a real full-screen X window under Xvfb: the kiosk
built by its composition root shows black while the shop is closed and its attract page after
opening, captured from the X server's root window (what a shopper would see).

The child process runs the kiosk with a schedule runner on a wall clock it sets (closing
time, then opening time) so that no test waits for real hours; set KIOSK_SCREENSHOT_DIR to keep
closed.png and reopened.png (docs/screenshots/ holds the last ones)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from localservers import Xvfb
from tests.support.drawings import DEMO, FEATURES

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
#: A Monday 21:00 (closed), then the next morning 08:00:05 (open).
CLOSED_AT = dt.datetime(2026, 11, 23, 21, 0, tzinfo=PARIS)
OPEN_AT = dt.datetime(2026, 11, 24, 8, 0, 5, tzinfo=PARIS)
#: How long the child lets the X server show each state before grabbing it.
SETTLE_MS = 1500


def child(experience: str, data_dir: str, out_dir: str) -> None:
    """Run in the child under Xvfb: the kiosk closed, a screenshot, opened, a screenshot."""
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.app import Kiosk, save_screenshot
    from kiosk.models.schedule import Schedule, ScheduleWatch
    from kiosk.schedule_runner import ScheduleRunner
    from settings.loader import load_config
    from settings.model import ScheduleSection

    app = QApplication([])
    config = load_config(None)
    config.paths.data_dir = Path(data_dir)
    config.paths.log_dir = Path(data_dir) / "logs"
    config.storage.database = Path(data_dir) / "events.sqlite"
    config.kiosk.experience = Path(experience)
    config.kiosk.fullscreen = True
    config.redis.enabled = False
    config.uplink.enabled = False
    config.sensors.type = "none"
    hours = {day: ["08:00-20:00"] for day in ("monday", "tuesday", "wednesday", "thursday")}
    section = ScheduleSection.model_validate({"enabled": True, "timezone": "Europe/Paris", **hours})
    kiosk = Kiosk(config)
    window = kiosk.start()
    wall = [CLOSED_AT]
    watch = ScheduleWatch(Schedule(section), lambda: wall[0], time.monotonic)
    runner = ScheduleRunner(
        watch=watch, window=window, tasks=kiosk.tasks, check_s=section.check_s, parent=window
    )
    runner.start()
    out = Path(out_dir)

    def reopen() -> None:
        save_screenshot(out / "closed.png")
        wall[0] = OPEN_AT
        runner.check()
        QTimer.singleShot(SETTLE_MS, finish)

    def finish() -> None:
        save_screenshot(out / "reopened.png")
        print("closed" if runner.closed else "open", window.current_page(), flush=True)
        app.exit(0)

    QTimer.singleShot(SETTLE_MS, reopen)
    try:
        app.exec()
    finally:
        kiosk.stop()


def black_share(image: QImage) -> float:
    """The share of sampled pixels that are black."""
    black = total = 0
    for y in range(0, image.height(), 9):
        for x in range(0, image.width(), 9):
            total += 1
            black += image.pixelColor(x, y).name() == "#000000"
    return black / total


def test_the_screen_goes_dark_when_closed_and_shows_attract_at_opening(
    qapp: object, tmp_path: Path
) -> None:
    if not Xvfb.available():
        pytest.fail("Xvfb is not installed (Debian package xvfb); run scripts/setup-system")
    experience = DEMO if DEMO.exists() else FEATURES
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    code = (
        "import sys, tests.appliance.test_schedule_screen as t; "
        "t.child(sys.argv[1], sys.argv[2], sys.argv[3])"
    )
    root = Path(__file__).resolve().parents[2]
    args = [str(experience), str(tmp_path / "data"), str(tmp_path)]
    with Xvfb(1920, 1080) as xvfb:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=xvfb.env(env),
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    from designer_import import load_experience
    from tests.kiosk.test_screenshots import differing_share, rendered

    attract = load_experience(experience).attract_pages[0].id
    assert done.stdout.split() == ["open", attract]
    closed = QImage(str(tmp_path / "closed.png"))
    reopened = QImage(str(tmp_path / "reopened.png"))
    for image in (closed, reopened):
        assert (image.width(), image.height()) == (1920, 1080)
    assert black_share(closed) == 1.0  # the whole screen, no page, no cursor
    differing = differing_share(reopened, rendered(load_experience(experience), attract))
    assert differing < 0.02, f"{differing:.1%} of the reopened screen differs from {attract}"
    for name in ("closed.png", "reopened.png"):
        target = Path(os.environ.get("KIOSK_SCREENSHOT_DIR", tmp_path)) / name
        if target != tmp_path / name:
            target.parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).replace(target)
