"""sd_notify against a real NOTIFY_SOCKET datagram socket the test reads: READY, WATCHDOG,
STATUS and STOPPING, and a UI thread that blocks stops the watchdog's pings."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kiosk  # noqa: F401  (its PySide6 work-around must run before Qt code)
from kiosk.service_watchdog import UiWatchdog
from settings.service_manager import ServiceManager
from tests.support.waiting import wait_until


class NotifySocket:
    """systemd's end: a datagram socket collecting (time received, message)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def texts(self) -> list[str]:
        return [text for _, text in self.messages]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    receiver = NotifySocket(tmp_path / "notify.sock")
    yield receiver
    receiver.close()


def manager_for(
    monkeypatch: pytest.MonkeyPatch, receiver: NotifySocket, watchdog_usec: int, pid: int = 0
) -> ServiceManager:
    """A manager set up from the environment systemd would give the service."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(receiver.path))
    monkeypatch.setenv("WATCHDOG_USEC", str(watchdog_usec))
    monkeypatch.setenv("WATCHDOG_PID", str(pid or os.getpid()))
    return ServiceManager()


def test_ready_status_and_stopping_reach_systemd(
    monkeypatch: pytest.MonkeyPatch, notify_socket: NotifySocket
) -> None:
    manager = manager_for(monkeypatch, notify_socket, 10_000_000)
    assert manager.enabled and manager.ping_interval_s == 5.0
    manager.ready("first page painted: attract")
    manager.status("uplink: 0 events waiting")
    manager.stopping("closing")
    wait_until(lambda: len(notify_socket.messages) == 3, "three messages")
    assert notify_socket.texts() == [
        "READY=1\nSTATUS=first page painted: attract",
        "STATUS=uplink: 0 events waiting",
        "STOPPING=1\nSTATUS=closing",
    ]


def test_outside_systemd_nothing_is_sent_and_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    manager = ServiceManager()
    assert not manager.enabled and manager.ping_interval_s is None
    manager.ready("x")
    manager.watchdog()


def test_a_watchdog_meant_for_another_process_is_not_petted(
    monkeypatch: pytest.MonkeyPatch, notify_socket: NotifySocket
) -> None:
    manager = manager_for(monkeypatch, notify_socket, 1_000_000, pid=os.getpid() + 1)
    assert manager.enabled and manager.ping_interval_s is None


def test_the_ui_thread_pets_the_watchdog_only_while_its_loop_runs(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, notify_socket: NotifySocket
) -> None:
    from PySide6.QtCore import QTimer

    def pings() -> int:
        return notify_socket.texts().count("WATCHDOG=1")

    # WatchdogSec=0.2: a ping every 0.1 s. The test waits with qtbot so the event loop runs.
    manager = manager_for(monkeypatch, notify_socket, 200_000)
    watchdog = UiWatchdog(manager)
    assert watchdog.active
    watchdog.ready("first page painted")
    qtbot.waitUntil(lambda: pings() >= 5, timeout=10_000)

    # The UI thread blocks for 1.5 s (as a frozen UI would): no ping may arrive meanwhile.
    blocked: list[float] = []

    def freeze() -> None:
        blocked.append(time.monotonic())
        time.sleep(1.5)
        blocked.append(time.monotonic())

    QTimer.singleShot(0, freeze)
    qtbot.waitUntil(lambda: len(blocked) == 2, timeout=10_000)
    start, end = blocked
    during = [t for t, text in notify_socket.messages if text == "WATCHDOG=1" and
              start + 0.05 < t < end]  # fmt: skip
    assert during == []
    before = pings()
    qtbot.waitUntil(lambda: pings() >= before + 3, timeout=10_000)

    watchdog.stopping("window closed")
    assert not watchdog.active
    wait_until(lambda: "STOPPING=1\nSTATUS=window closed" in notify_socket.texts(), "STOPPING")
    assert notify_socket.texts()[0] == "READY=1\nSTATUS=first page painted"


def test_the_kiosk_says_ready_after_its_first_page_then_pets_and_says_stopping(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    import signal
    import subprocess
    import sys

    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n\n[sensors]\ntype = "none"\n\n'
        "[redis]\nenabled = false\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(QT_QPA_PLATFORM="offscreen", NOTIFY_SOCKET=str(notify_socket.path),
               WATCHDOG_USEC="2000000")  # fmt: skip
    app = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "--config", str(config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: notify_socket.texts().count("WATCHDOG=1") >= 3, "pings", timeout=60)
    finally:
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=60)
    assert app.returncode == 0, err
    texts = notify_socket.texts()
    assert texts[0] == "READY=1\nSTATUS=showing attract-friends", texts[:3]
    assert texts[-1] == "STOPPING=1\nSTATUS=stopping"
    assert "Traceback" not in err


def test_ready_waits_for_the_first_paint(qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    from kiosk.service_watchdog import FirstPaint

    painted: list[bool] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    FirstPaint(widget, lambda: painted.append(widget.isVisible()))
    for _ in range(5):
        QApplication.processEvents()
    assert painted == []  # built but never shown: nothing painted, not ready
    widget.show()
    qtbot.waitUntil(lambda: painted == [True], timeout=10_000)
    widget.update()
    qtbot.wait(100)
    assert painted == [True]  # once only


def test_kiosk_uplink_waits_for_the_database_then_pets_while_its_loop_runs(
    tmp_path: Path, notify_socket: NotifySocket, mosquitto: Any
) -> None:
    import signal
    import subprocess
    import sys

    from settings import KioskConfig
    from storage import Event, EventLog
    from tests.uplink.test_service import write_config

    config = KioskConfig()
    config.paths.data_dir = tmp_path
    config.storage.database = tmp_path / "events.sqlite"
    config.redis.enabled = False
    config.uplink.port = mosquitto.port
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="1000000")
    # a first boot: the uplink service starts before the kiosk has made its database
    uplink = subprocess.Popen(
        [sys.executable, "-m", "uplink.cli", "--config", str(write_config(tmp_path, config))],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        waiting = f"READY=1\nSTATUS=waiting for {config.storage.database}"
        wait_until(lambda: waiting in notify_socket.texts(), "the wait", timeout=60)
        log = EventLog(config)
        log.start()
        log.append(Event.create("touch"))
        log.stop()
        ready = f"READY=1\nSTATUS=uplink to mqtt://127.0.0.1:{mosquitto.port}"
        wait_until(lambda: ready in notify_socket.texts(), "the uplink", timeout=60)
        seen = len(notify_socket.texts())
        wait_until(lambda: notify_socket.texts()[seen:].count("WATCHDOG=1") >= 3, "pings", 60)
    finally:
        uplink.send_signal(signal.SIGTERM)
        _, err = uplink.communicate(timeout=60)
    assert uplink.returncode == 0, err
    assert notify_socket.texts()[0] == waiting
    assert notify_socket.texts()[-1] == "STOPPING=1"
    assert "no event database yet: waiting for the kiosk to make it" in err
