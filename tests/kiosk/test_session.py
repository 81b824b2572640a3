"""The session machine on the real window: attract loop, session start by touch or
presence, idle and presence timeouts, and the events each step records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from kiosk.events import MemorySink
from kiosk.session import SessionMachine, SessionState
from kiosk.shopper import KioskWindow
from sensors import PresenceState, Zone
from settings import KioskConfig
from tests.kiosk.conftest import FakeClock


def tap_element(window: KioskWindow, element_id: str) -> None:
    point = window.view.touch_point(element_id)
    assert point is not None, element_id
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


def presence(zone: Zone, people: int = 1) -> PresenceState:
    return PresenceState(zone=zone, distance_m=1.0, people=people, looking=None, timestamp=0.0)


def test_attract_pages_take_turns(
    open_window: Callable[..., KioskWindow], shop_file: Path, clock: FakeClock, config: KioskConfig
) -> None:
    window = open_window(shop_file)
    assert window.state == SessionState.ATTRACT and window.page.id == "attract-1"
    clock.advance(config.kiosk.attract_rotate_s - 0.1)
    window.tick()
    assert window.page.id == "attract-1"
    clock.advance(0.2)
    window.tick()
    assert window.page.id == "attract-2"
    clock.advance(config.kiosk.attract_rotate_s)
    window.tick()
    assert window.page.id == "attract-1"


def test_touch_session_idle_timeout_and_events(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> None:
    window = open_window(shop_file)
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    # a tap on nothing in attract still starts a session on the welcome page
    assert window.state == SessionState.WELCOME and window.page.id == "welcome"
    session_id = window.session.session_id
    assert session_id
    clock.advance(3.0)
    tap_element(window, "to-cat")
    assert window.state == SessionState.BROWSING and window.page.id == "cat"
    clock.advance(config.kiosk.idle_timeout_s - 1)
    window.tick()
    assert window.state == SessionState.BROWSING
    clock.advance(1.5)
    window.tick()
    assert window.state == SessionState.ATTRACT and window.page.id == "attract-1"
    types = [e.type for e in sink.events]
    assert types[0] == "session.start" and types[-1] == "session.end"
    assert all(e.session_id == session_id for e in sink.events)
    views = {e.page: e.payload["dwell_ms"] for e in sink.of_type("page.view")}
    assert views["welcome"] == 3000
    assert views["cat"] == round((config.kiosk.idle_timeout_s + 0.5) * 1000)
    (end,) = sink.of_type("session.end")
    assert end.payload["reason"] == "idle" and end.payload["touches"] == 2
    # the next touch is a new session
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    assert window.session.session_id not in (None, session_id)


def test_presence_wakes_and_grace_ends(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> None:
    window = open_window(shop_file)
    window.on_presence(presence(Zone.PASSING))
    assert window.state == SessionState.ATTRACT
    window.on_presence(presence(Zone.APPROACHING))
    assert window.state == SessionState.WELCOME and window.page.id == "welcome"
    assert sink.of_type("session.start")[0].payload == {"trigger": "presence"}
    # standing there without touching keeps the session open past the idle timeout
    clock.advance(config.kiosk.idle_timeout_s * 2)
    window.tick()
    assert window.state == SessionState.WELCOME
    window.on_presence(presence(Zone.AWAY, people=0))
    clock.advance(config.kiosk.presence_grace_s - 0.5)
    window.tick()
    assert window.state == SessionState.WELCOME
    clock.advance(1.0)
    window.tick()
    assert window.state == SessionState.ATTRACT
    assert sink.of_type("session.end")[0].payload["reason"] == "shopper left"
    zones = [e.payload["zone"] for e in sink.of_type("presence.change")]
    assert zones == ["passing", "approaching", "away"]


def test_a_recent_touch_outlasts_the_grace(config: KioskConfig, clock: FakeClock) -> None:
    machine = SessionMachine(config.kiosk, clock=clock, new_id=lambda: "s-1")
    assert machine.presence("engaged")
    clock.advance(30)
    machine.touch()
    machine.presence("away")
    clock.advance(config.kiosk.presence_grace_s + 0.1)
    # gone long enough, and the last touch is as old: over
    ended = machine.tick()
    assert ended is not None and ended.session_id == "s-1" and ended.reason == "shopper left"
    assert machine.state == SessionState.ATTRACT


def test_touch_only_kiosk_times_out_without_presence(config: KioskConfig, clock: FakeClock) -> None:
    machine = SessionMachine(config.kiosk, clock=clock)
    assert machine.touch()
    assert machine.state == SessionState.WELCOME
    clock.advance(config.kiosk.idle_timeout_s - 0.01)
    assert machine.tick() is None
    clock.advance(0.02)
    ended = machine.tick()
    assert ended is not None and ended.reason == "idle"
    assert not machine.attract_due()


def test_an_error_in_a_slot_goes_back_to_attract(
    open_window: Callable[..., KioskWindow], shop_file: Path, sink: MemorySink
) -> None:
    window = open_window(shop_file)
    window.navigate("welcome")
    window.session.touch()
    window.recover()
    assert window.state == SessionState.ATTRACT and window.page.id == "attract-1"
    assert sink.of_type("session.end")[-1].payload["reason"] == "error"


def test_unseen_toucher_gets_the_idle_timeout(config: KioskConfig, clock: FakeClock) -> None:
    machine = SessionMachine(config.kiosk, clock=clock)
    machine.presence("away")
    clock.advance(100)
    assert machine.touch()
    clock.advance(config.kiosk.presence_grace_s + 1)
    # the camera never saw this shopper: the grace rule does not apply
    assert machine.tick() is None
    clock.advance(config.kiosk.idle_timeout_s)
    ended = machine.tick()
    assert ended is not None and ended.reason == "idle"


def test_goodbye_page_then_attract(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> None:
    text = shop_file.read_text(encoding="utf-8")
    goodbye = '<diagram id="bye" name="Goodbye"><mxGraphModel><root><mxCell id="0"/>'
    shop_file.write_text(
        text.replace("</mxfile>", goodbye + "</root></mxGraphModel></diagram></mxfile>"),
        encoding="utf-8",
    )
    window = open_window(shop_file)
    tap_element(window, "a1")
    assert window.page.id == "welcome"
    clock.advance(config.kiosk.idle_timeout_s + 1)
    window.tick()
    assert window.state == SessionState.ATTRACT and window.page.id == "bye"
    assert len(sink.of_type("session.end")) == 1
    clock.advance(config.kiosk.goodbye_s - 0.5)
    window.tick()
    assert window.page.id == "bye"
    clock.advance(1.0)
    window.tick()
    assert window.page.id == "attract-1"
    # the next shopper leaves too, and touches the goodbye page: a new session, welcome
    tap_element(window, "a1")
    clock.advance(config.kiosk.idle_timeout_s + 1)
    window.tick()
    assert window.page.id == "bye"
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert window.state == SessionState.WELCOME and window.page.id == "welcome"
    clock.advance(config.kiosk.goodbye_s + 1)
    window.tick()
    assert window.page.id == "welcome"
    assert len(sink.of_type("session.start")) == 3


def test_staff_corner_taps_never_reach_the_shopper_page(
    qtbot: object,
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    sink: MemorySink,
    tmp_path: Path,
) -> None:
    """The admin gesture's taps (mouse or touch) are the panel's alone: in attract they start
    no session and no touch is recorded; a chance tap in the corner shows nothing."""
    from kiosk.admin.controller import AdminController
    from kiosk.admin.library import ContentLibrary

    window = open_window(shop_file)
    admin = AdminController(
        window, window.services, clock=clock, library=ContentLibrary(tmp_path / "content")
    )
    try:
        corner = QPoint(window.width() - 10, 10)
        device = QTest.createTouchDevice()
        for i in range(5):
            clock.advance(0.3)
            if i % 2:
                QTest.touchEvent(window, device).press(0, corner, window)
                QTest.touchEvent(window, device).release(0, corner, window)
            else:
                QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=corner)
        assert admin.state == "pad"
        assert window.state == SessionState.ATTRACT and window.page.id == "attract-1"
        assert not sink.of_type("touch") and not sink.of_type("session.start")
        admin.close("cancel")
        clock.advance(5)
        # one chance tap in the corner: nothing happens; a tap anywhere else starts a session
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=corner)
        assert window.state == SessionState.ATTRACT and admin.state == "closed"
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        assert window.state == SessionState.WELCOME
        assert len(sink.of_type("session.start")) == 1
    finally:
        admin.shutdown()
