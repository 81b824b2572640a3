"""The demo command's kiosk opens a real window under Xvfb and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from localservers import Xvfb, screenshot_kiosk

pytestmark = pytest.mark.xvfb


@pytest.fixture
def kiosk_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["KIOSK_PATHS__DATA_DIR"] = str(tmp_path / "data")
    env["KIOSK_REDIS__ENABLED"] = "false"
    return env


def test_kiosk_window_screenshot_and_clean_sigterm(
    tmp_path: Path, kiosk_env: dict[str, str]
) -> None:
    if not Xvfb.available():
        pytest.fail("Xvfb is not installed (Debian package xvfb); run scripts/setup-system")
    out = tmp_path / "kiosk.png"
    done = screenshot_kiosk(out, ["--windowed"], delay_s=3.0, env=kiosk_env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == (1920, 1080)
    # not a blank screen: the kiosk drew more than one colour
    colours = {image.pixel(x, y) for x in range(0, 1920, 97) for y in range(0, 1080, 61)}
    assert len(colours) > 3
