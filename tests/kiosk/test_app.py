"""The composition root: everything starts in order, the control socket's touches reach
the shopper window, an error in a slot goes back to attract, and one call stops it all."""

from __future__ import annotations

import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from kiosk.app import Kiosk, install_excepthook
from kiosk.models.session import SessionState
from settings import KioskConfig
from simulation.shoppers import KioskClient
from tests.support.drawings import FEATURES


@pytest.fixture
def kiosk_config(config: KioskConfig) -> KioskConfig:
    config.kiosk.experience = FEATURES
    config.sensors.type = "simulated"
    config.uplink.enabled = False
    return config


@pytest.fixture
def socket_path() -> Iterator[Path]:
    # a Unix socket path must stay short (108 bytes): not under pytest's deep tmp_path
    with tempfile.TemporaryDirectory(prefix="kiosk-") as folder:
        yield Path(folder) / "control.sock"


def in_thread(qtbot: Any, call: Any) -> Any:
    """Run a blocking client call while the Qt loop serves it."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except Exception as exc:
            result["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=10_000)
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_start_tap_through_the_control_socket_and_stop(
    qtbot: Any, kiosk_config: KioskConfig, socket_path: Path
) -> None:
    kiosk = Kiosk(kiosk_config)
    # what reaches the one recording call (storage.EventLog or memory behind it)
    recorded: list[tuple[str, dict[str, Any]]] = []
    record = kiosk.recorder.record

    def spy(type: str, **fields: Any) -> None:
        recorded.append((type, fields))
        record(type, **fields)

    kiosk.recorder.record = spy
    window = kiosk.start(control=socket_path)
    qtbot.addWidget(window)
    try:
        assert kiosk.presence is not None and kiosk.control is not None
        assert window.shown_experience() is window.experience
        client = in_thread(qtbot, lambda: KioskClient(socket_path, wait_s=5))
        state = in_thread(qtbot, lambda: client.request("state"))
        assert state["page"] == "attract" and state["session"] == "attract"
        (target,) = state["targets"]
        assert target["element"] == "start" and target["target"] == "home"
        tapped = in_thread(qtbot, lambda: client.request("tap", x=target["x"], y=target["y"]))
        assert tapped["page"] == "home"
        assert window.state == SessionState.WELCOME
        in_thread(qtbot, client.close)
        types = [t for t, _ in recorded if t != "presence.change"]
        assert types[:2] == ["session.start", "touch"]
        assert kiosk.recorder.recorded == len(recorded)
    finally:
        kiosk.stop()
    assert not socket_path.exists()
    assert kiosk.presence._thread is None or not kiosk.presence._thread.is_alive()
    # the session was closed on the way out
    last_type, last = recorded[-1]
    assert last_type == "session.end" and last["payload"]["reason"] == "exit"
    kiosk.stop()  # twice is harmless


def test_an_exception_in_a_slot_is_logged_and_goes_back_to_attract(
    qtbot: Any, kiosk_config: KioskConfig, caplog: pytest.LogCaptureFixture
) -> None:
    kiosk_config.sensors.type = "none"
    kiosk = Kiosk(kiosk_config)
    previous = sys.excepthook
    try:
        window = kiosk.start()
        qtbot.addWidget(window)
        install_excepthook(kiosk)
        window.navigate("home")
        window.session.touch()

        def broken_slot() -> None:
            raise RuntimeError("a bug in a slot")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: window.state == SessionState.ATTRACT, timeout=3000)
        assert window.page is not None and window.page.role == "attract"
        assert "a bug in a slot" in caplog.text
    finally:
        sys.excepthook = previous
        kiosk.stop()


def test_full_screen_frameless_without_a_cursor(qtbot: Any, kiosk_config: KioskConfig) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    kiosk_config.sensors.type = "none"
    kiosk_config.kiosk.fullscreen = True
    kiosk = Kiosk(kiosk_config)
    try:
        window = kiosk.start()
        qtbot.addWidget(window)
        assert window.isFullScreen()
        assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert window.cursor().shape() == Qt.CursorShape.BlankCursor
        screen = QGuiApplication.screens()[0]
        assert window.screen() == screen
    finally:
        kiosk.stop()
