"""The composition root: builds every service from the config, starts them in order and
stops them with one call."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel

from settings import KioskConfig

log = logging.getLogger(__name__)


def run(
    config: KioskConfig,
    *,
    log_file: Path | None = None,
    screenshot: Path | None = None,
    screenshot_delay_s: float = 3.0,
) -> int:
    """Run the kiosk until it is told to stop (SIGTERM/SIGINT); returns the exit code."""
    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Retail Edge Kiosk")
    window = QLabel("Retail Edge Kiosk")
    window.setStyleSheet("background: #0f3b46; color: white;")
    window.setFont(QFont("DejaVu Sans", 48))
    window.resize(1280, 720)
    if config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.show()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        app.quit()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # Python runs signal handlers only when it holds the interpreter; this timer gives it
    # that chance while Qt's event loop runs in C++.
    wake = QTimer()
    wake.start(200)
    wake.timeout.connect(lambda: None)
    if screenshot is not None:
        QTimer.singleShot(int(screenshot_delay_s * 1000), lambda: save_screenshot(screenshot))
    log.info("kiosk started (log file %s)", log_file)
    code = app.exec()
    log.info("kiosk stopped")
    return int(code)


def save_screenshot(path: Path) -> None:
    """Grab the whole primary screen (what a shopper sees) into a PNG file."""
    screen = QApplication.primaryScreen()
    pixmap = screen.grabWindow(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    if pixmap.save(str(partial), "PNG"):
        partial.replace(path)  # whoever waits for the file never sees half a PNG
        log.info("screenshot saved to %s", path)
    else:
        log.error("could not save the screenshot to %s", path)
