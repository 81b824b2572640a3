"""The control socket: real Unix socket, real Qt touch events on a real widget."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget

from designer_import import Finding
from designer_import.model import Experience
from kiosk.control import ControlError, ControlServer
from kiosk.models.interactions import EventRecorder, MemorySink
from kiosk.models.session import SessionState
from kiosk.models.shopper_screen import TouchTarget
from sensors import SimulatedSensor
from settings import KioskConfig
from simulation.shoppers import KioskClient, SimulateError


class TouchRecorder(QObject):
    """Notes every touch event that reaches the widget."""

    def __init__(self) -> None:
        super().__init__()
        self.touches: list[tuple[str, float, float]] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kinds = {
            QEvent.Type.TouchBegin: "begin",
            QEvent.Type.TouchUpdate: "update",
            QEvent.Type.TouchEnd: "end",
        }
        if event.type() in kinds:
            point = event.points()[0].position()  # type: ignore[attr-defined]
            self.touches.append((kinds[event.type()], point.x(), point.y()))
            event.accept()
            return True
        return False


class Screen:
    """A shopper screen on one page with one touch target (what the socket reads)."""

    def __init__(self, targets: list[TouchTarget]) -> None:
        self.targets = targets

    def shown_experience(self) -> Experience | None:
        return None

    def experience_findings(self) -> list[Finding]:
        return []

    def experience_error(self) -> str | None:
        return None

    def activate_experience(self, path: Path, experience: Experience) -> None:
        raise AssertionError("the control socket activates nothing")

    def restart_experience(self) -> None:
        raise AssertionError("the control socket restarts nothing")

    def current_page(self) -> str | None:
        return "p1"

    def session_state(self) -> SessionState:
        return SessionState.BROWSING

    def touch_targets(self) -> list[TouchTarget]:
        return self.targets


def server_on(
    window: QWidget, path: Path, sensor: SimulatedSensor | None = None, targets: Any = ()
) -> ControlServer:
    return ControlServer(
        path,
        window=window,
        screen=Screen(list(targets)),
        recorder=EventRecorder(KioskConfig(), MemorySink()),
        sensor=sensor,
    )


@pytest.fixture
def kiosk_window(qtbot: Any) -> QWidget:
    window = QWidget()
    window.resize(640, 360)
    window.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def ask(path: Path, qtbot: Any, *requests: dict[str, Any]) -> list[dict[str, Any] | str]:
    """Send requests from a client thread while the Qt loop serves them."""
    answers: list[dict[str, Any] | str] = []

    def client() -> None:
        conn = KioskClient(path, timeout_s=5)
        try:
            for req in requests:
                try:
                    answers.append(conn.request(**req))
                except SimulateError as exc:
                    answers.append(str(exc))
        finally:
            conn.close()

    thread = threading.Thread(target=client)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10_000)
    return answers


def test_taps_arrive_as_touch_events_and_simulated_flag_follows_the_connection(
    qtbot: Any, kiosk_window: QWidget, tmp_path: Path
) -> None:
    recorder = TouchRecorder()
    kiosk_window.installEventFilter(recorder)
    target = TouchTarget("p1", "buy", "action", 100, 50, "buy")
    server = server_on(kiosk_window, tmp_path / "control.sock", targets=[target])
    server.start()
    flags: list[bool] = []
    answers = ask(
        server.path,
        qtbot,
        {"cmd": "simulate", "on": True},
        {"cmd": "state"},
        {"cmd": "tap", "x": 100, "y": 50},
        {"cmd": "tap", "x": 9999, "y": 50},
        {"cmd": "nonsense"},
        {"cmd": "stats"},
    )
    flags.append(server.simulated)
    assert answers[0] == {"ok": True, "simulated": True}
    state = answers[1]
    assert isinstance(state, dict) and state["targets"] == [target.to_json_dict()]
    assert state["page"] == "p1" and state["session"] == "browsing"
    assert state["width"] == 640
    assert recorder.touches == [("begin", 100.0, 50.0), ("end", 100.0, 50.0)]
    assert "outside the window" in str(answers[3])
    assert "unknown command 'nonsense'" in str(answers[4])
    stats = answers[5]
    assert isinstance(stats, dict) and stats["storage"] is None and stats["uplink"] is None
    # The generator hung up: what follows is real traffic again.
    qtbot.waitUntil(lambda: not server.simulated, timeout=5000)
    server.close()
    assert not (tmp_path / "control.sock").exists()


def test_shoppers_go_to_a_driven_simulated_sensor_only(
    qtbot: Any, kiosk_window: QWidget, tmp_path: Path
) -> None:
    sensor = SimulatedSensor(arrivals_per_min=1, seed=1, realtime=False, autonomous=False)
    sensor.open()
    server = server_on(kiosk_window, tmp_path / "c.sock", sensor)
    server.start()
    answers = ask(server.path, qtbot, {"cmd": "shopper", "stop_m": 0.8, "dwell_s": 3})
    assert isinstance(answers[0], dict) and answers[0]["walk_s"] > 0
    frame = sensor.read(1.0)
    assert frame is not None and frame.observation is not None
    assert frame.observation.people == 1
    server.close()
    without = server_on(kiosk_window, tmp_path / "c.sock")
    without.start()
    answers = ask(without.path, qtbot, {"cmd": "shopper", "stop_m": 0.8})
    assert "sim_driven = true" in str(answers[0])
    without.close()


def test_a_stale_socket_is_replaced_and_a_regular_file_is_refused(
    qtbot: Any, kiosk_window: QWidget, tmp_path: Path
) -> None:
    first = server_on(kiosk_window, tmp_path / "c.sock")
    first.start()
    # A kiosk killed with -9 leaves its socket file behind; the next one takes over.
    second = server_on(kiosk_window, tmp_path / "c.sock")
    second.start()
    assert ask(second.path, qtbot, {"cmd": "ping"}) == [{"ok": True}]
    second.close()
    first.close()
    (tmp_path / "notasocket").write_text("mine")
    with pytest.raises(ControlError, match="not a socket"):
        server_on(kiosk_window, tmp_path / "notasocket").start()


def test_frame_probe_reports_frames_while_started(
    qtbot: Any, kiosk_window: QWidget, tmp_path: Path
) -> None:
    server = server_on(kiosk_window, tmp_path / "c.sock")
    server.start()
    ask(server.path, qtbot, {"cmd": "probe", "action": "start"})
    qtbot.waitUntil(lambda: server.probe.summary()["count"] >= 10, timeout=10_000)
    answers = ask(server.path, qtbot, {"cmd": "probe", "action": "stop"})
    frames = answers[0]["frames"]  # type: ignore[index]
    assert frames["count"] >= 10 and 0 < frames["p50_ms"] <= frames["p99_ms"]
    server.close()


def test_client_without_kiosk_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(SimulateError, match="kiosk --control"):
        KioskClient(tmp_path / "none.sock", wait_s=0)


def test_the_simulated_camera_can_be_unplugged_and_plugged_in_again(
    qtbot: Any, kiosk_window: QWidget, tmp_path: Path
) -> None:
    from sensors.protocol import SensorDisconnected

    sensor = SimulatedSensor(arrivals_per_min=1, seed=1, realtime=False, autonomous=False)
    sensor.open()
    server = server_on(kiosk_window, tmp_path / "c.sock", sensor)
    server.start()
    answers = ask(server.path, qtbot, {"cmd": "camera", "action": "unplug"})
    assert isinstance(answers[0], dict)
    with pytest.raises(SensorDisconnected, match="unplugged"):
        sensor.read(0.1)
    answers = ask(
        server.path,
        qtbot,
        {"cmd": "camera", "action": "plug"},
        {"cmd": "camera", "action": "wiggle"},
    )
    assert isinstance(answers[0], dict)
    assert "unplug, plug" in str(answers[1])
    sensor.open()
    assert sensor.read(0.1) is not None
    server.close()
    without = server_on(kiosk_window, tmp_path / "c.sock")
    without.start()
    answers = ask(without.path, qtbot, {"cmd": "camera", "action": "unplug"})
    assert "only the simulated sensor" in str(answers[0])
    without.close()
