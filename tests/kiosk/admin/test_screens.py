"""A screenshot of each admin page in a real window under Xvfb (look at them:
``tests/kiosk/admin/screens.py`` writes the same files for people)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from kiosk.admin import theme
from kiosk.admin.calibration import ZONE_COLOURS
from localservers import Xvfb

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
PAGES = ["pinpad", "status", "dashboards", "calibration", "content", "hours", "kiosk"]


def _colours_near(image: QImage, wanted: str, tolerance: int = 12) -> int:
    target = QColor(wanted)
    hits = 0
    for x in range(0, image.width(), 8):
        for y in range(0, image.height(), 8):
            c = image.pixelColor(x, y)
            if (
                abs(c.red() - target.red()) <= tolerance
                and abs(c.green() - target.green()) <= tolerance
                and abs(c.blue() - target.blue()) <= tolerance
            ):
                hits += 1
    return hits


def test_every_page_under_xvfb(tmp_path: Path) -> None:
    if not Xvfb.available():
        pytest.fail("Xvfb is not installed (Debian package xvfb); run scripts/setup-system")
    out = tmp_path / "shots"
    with Xvfb(1920, 1080) as xvfb:
        done = subprocess.run(
            [sys.executable, "-m", "tests.kiosk.admin.screens", str(out)],
            cwd=REPO,
            env=xvfb.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    images = {}
    for page in PAGES:
        image = QImage(str(out / f"{page}.png"))
        assert not image.isNull(), page
        assert (image.width(), image.height()) == (1920, 1080)
        images[page] = image
        # the overlay covers the shopper window completely: no shopper colour shows
        assert _colours_near(image, "#0f3b46", tolerance=2) == 0, page
    status = images["status"]
    # tiles in status colours, each big enough to read from a metre away (a tile is
    # about 500 x 300 px: sampled every 8 px that is over a thousand samples)
    assert _colours_near(status, theme.COLOURS["ok"]) > 1000
    assert (
        _colours_near(status, theme.COLOURS["bad"])
        + _colours_near(status, theme.COLOURS["warn"])
        + _colours_near(status, theme.COLOURS["off"])
        > 1000
    )
    # the calibration page shows the depth image coloured by zone
    calibration = images["calibration"]
    zone_colours = [QColor(*ZONE_COLOURS[z]).name() for z in ("away", "passing", "engaged")]
    assert sum(_colours_near(calibration, c) for c in zone_colours) > 2000
