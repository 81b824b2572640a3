"""The session machine on the real window: attract loop, session start by touch or
presence, idle and presence timeouts, and the events each step records."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from kiosk.app import Kiosk
from kiosk.models.interactions import MemorySink
from kiosk.models.session import SessionMachine, SessionState
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from sensors import PresenceState, Zone
from sensors.backends import realsense_connected
from sensors.recording import record_scene
from settings import KioskConfig
from tests.support.clock import FakeClock
from tests.support.drawings import FEATURES, button, page_xml, write_drawio


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
    config: KioskConfig,
    tasks: TaskRunner,
) -> None:
    """The admin gesture's taps (mouse or touch) are the panel's alone: in attract they start
    no session and no touch is recorded; a chance tap in the corner shows nothing."""
    from kiosk.admin import install_admin
    from kiosk.admin.library import ContentLibrary

    def no_exit() -> None:
        raise AssertionError("the kiosk was told to exit")

    window = open_window(shop_file)
    admin = install_admin(
        window,
        config=config,
        screen=window,
        record=window.recorder.record,
        tasks=tasks,
        event_log=None,
        uplink=None,
        presence=None,
        exit_kiosk=no_exit,
        started_at=0.0,
        library=ContentLibrary(tmp_path / "content"),
        clock=clock,
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


# --- a camera that stops, staff at the kiosk, simulated presence (issue 15: 5, 6, 10) ----


def test_camera_lost_while_someone_stands_there_falls_back_to_touch_timing(
    config: KioskConfig, clock: FakeClock
) -> None:
    machine = SessionMachine(config.kiosk, clock=clock, new_id=lambda: "s-1")
    assert machine.presence("engaged")
    clock.advance(100)  # standing there holds the session open
    assert machine.tick() is None
    machine.sensor_online(False)  # unplugged, failed or its recording ended
    assert machine.zone is None and not machine.present
    clock.advance(config.kiosk.idle_timeout_s - 0.1)
    assert machine.tick() is None  # the shopper was there a moment ago
    clock.advance(0.2)
    ended = machine.tick()
    assert ended is not None and ended.session_id == "s-1" and ended.reason == "camera lost"
    assert machine.state == SessionState.ATTRACT


def test_a_touch_after_the_camera_went_is_timed_as_touch_only(
    config: KioskConfig, clock: FakeClock
) -> None:
    machine = SessionMachine(config.kiosk, clock=clock)
    assert machine.presence("approaching")
    machine.sensor_online(False)
    clock.advance(10)
    machine.touch()
    clock.advance(config.kiosk.idle_timeout_s - 0.1)
    assert machine.tick() is None
    clock.advance(0.2)
    ended = machine.tick()
    assert ended is not None and ended.reason == "idle"


def test_staff_presence_starts_no_session_until_they_have_gone(
    config: KioskConfig, clock: FakeClock
) -> None:
    ids = iter(["shopper", "next"])
    machine = SessionMachine(config.kiosk, clock=clock, new_id=lambda: next(ids))
    machine.touch()
    ended = machine.staff_arrived()  # the admin pad opened over the shopper's session
    assert ended is not None and ended.session_id == "shopper" and ended.reason == "staff"
    assert machine.session_id is None and machine.staff_at_kiosk
    assert not machine.presence("engaged")  # staff standing at the camera to calibrate
    clock.advance(config.kiosk.idle_timeout_s * 3)
    assert machine.tick() is None and machine.session_id is None
    machine.staff_left()  # the panel closed; the same person still stands there
    assert not machine.presence("engaged")  # a heartbeat: still staff
    assert machine.session_id is None and machine.staff_at_kiosk
    machine.presence("passing")  # they walk off
    assert not machine.staff_at_kiosk
    assert machine.presence("approaching")  # the next one is a shopper
    assert machine.session_id == "next"


def test_simulated_presence_marks_its_session_and_touches_do_not(
    config: KioskConfig, clock: FakeClock
) -> None:
    machine = SessionMachine(config.kiosk, clock=clock)
    assert machine.presence("engaged", simulated=True)
    assert machine.simulated
    machine.presence("away", simulated=True)
    clock.advance(config.kiosk.presence_grace_s + 1)
    ended = machine.tick()
    assert ended is not None and ended.simulated and not machine.simulated
    assert machine.touch()  # a real finger, nobody seen: a real session
    assert not machine.simulated
    machine.presence("engaged", simulated=True)  # simulated presence joins it from here on
    assert machine.simulated
    ended = machine.end("test")
    assert ended is not None and ended.simulated


# --- the same through the running kiosk: real sensors, real event log --------------------


def stored(database: Path) -> list[tuple[str, str | None, int, dict[str, Any]]]:
    """(type, session_id, simulated, payload) of every event in the kiosk's SQLite file."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT type, session_id, simulated, payload FROM events ORDER BY seq")
        return [(t, s, sim, json.loads(p or "{}")) for t, s, sim, p in rows.fetchall()]


def run_kiosk(qtbot: Any, config: KioskConfig) -> Kiosk:
    config.kiosk.experience = FEATURES
    config.uplink.enabled = False
    kiosk = Kiosk(config)
    window = kiosk.start()
    qtbot.addWidget(window)
    assert kiosk.event_log is not None
    return kiosk


def test_a_recording_ending_while_the_shopper_stands_there_ends_the_session(
    qtbot: Any, config: KioskConfig, tmp_path: Path
) -> None:
    """A pyrealsense2 recording played through the real pipeline: the shopper walks up to
    0.7 m and the file ends while they stand there. Touch-only timing takes over at once, and
    the session ends by the idle timeout with reason "camera lost" while the kiosk runs."""
    recording = tmp_path / "stays.db3"
    record_scene(recording, "stays-at-end", width=212, height=120)
    config.sensors.type = "realsense"
    config.sensors.source = f"file:{recording}"
    config.kiosk.idle_timeout_s = 5.0
    kiosk = run_kiosk(qtbot, config)
    try:
        window = kiosk.window
        assert window is not None
        qtbot.waitUntil(lambda: window.state != SessionState.ATTRACT, timeout=30_000)
        qtbot.waitUntil(
            lambda: kiosk._health is not None and kiosk._health.status == "file_ended",
            timeout=30_000,
        )
        qtbot.waitUntil(lambda: window.state == SessionState.ATTRACT, timeout=30_000)
    finally:
        kiosk.stop()
    assert kiosk.event_log is not None
    events = stored(kiosk.event_log.database)
    zones = [p["zone"] for t, _, _, p in events if t == "presence.change"]
    assert zones[-1] == "engaged"  # what the camera last saw
    (start,) = [p for t, _, _, p in events if t == "session.start"]
    assert start == {"trigger": "presence"}
    (end,) = [p for t, _, _, p in events if t == "session.end"]
    assert end["reason"] == "camera lost"
    assert not any(sim for _, _, sim, _ in events)


def test_simulated_presence_marks_every_event_it_causes(qtbot: Any, config: KioskConfig) -> None:
    config.sensors.type = "simulated"
    config.sensors.sim_driven = True
    config.kiosk.presence_grace_s = 0.0
    kiosk = run_kiosk(qtbot, config)
    try:
        window = kiosk.window
        assert window is not None and kiosk.sensor is not None
        kiosk.sensor.add_shopper(stop_m=0.7, dwell_s=1.0, speed_m_s=5.0)
        qtbot.waitUntil(lambda: window.state != SessionState.ATTRACT, timeout=30_000)
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        qtbot.waitUntil(lambda: window.session.session_id is None, timeout=30_000)
        simulated_session = window.session
        # then a real shopper touches the screen with nobody (simulated) in front of it
        assert simulated_session.zone not in ("approaching", "engaged")
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        real = window.session.session_id
        assert real is not None
        window.go_attract("test")
    finally:
        kiosk.stop()
    assert kiosk.event_log is not None
    events = stored(kiosk.event_log.database)
    caused = [(t, sim) for t, s, sim, _ in events if s != real]
    kinds = {t for t, _ in caused}
    assert {"presence.change", "session.start", "touch", "session.end"} <= kinds
    assert all(sim == 1 for _, sim in caused), caused
    mine = [(t, sim) for t, s, sim, _ in events if s == real]
    assert {t for t, _ in mine} >= {"session.start", "touch", "session.end"}
    assert all(sim == 0 for _, sim in mine), mine


@pytest.mark.skipif(realsense_connected(), reason="a RealSense camera is plugged in")
def test_no_camera_at_boot_is_a_touch_only_kiosk_with_a_red_camera_tile(
    qtbot: Any, config: KioskConfig
) -> None:
    from kiosk.admin.audit import AdminAudit
    from kiosk.admin.calibration import CalibrationPage
    from kiosk.admin.tiles import camera_tile

    config.sensors.type = "auto"
    kiosk = run_kiosk(qtbot, config)
    try:
        qtbot.waitUntil(lambda: kiosk._health is not None, timeout=10_000)
        assert kiosk._health is not None and kiosk._health.status == "no_device"
        assert kiosk.presence is not None
        tile = camera_tile(config.sensors.type, kiosk.presence.health(), kiosk.presence.state)
        assert tile.level == "bad" and tile.headline == "Not found"
        assert "touch only" in " ".join(tile.details)
        page = CalibrationPage(
            config=config,
            presence=kiosk.presence,
            tasks=kiosk.tasks,
            audit=AdminAudit(kiosk.recorder.record),
        )
        qtbot.addWidget(page)
        page.show_presence()
        assert page.live.text().startswith("no camera")
        assert "no RealSense camera" in page.live.text()
        assert "ENGAGED" not in page.live.text() and "waiting" not in page.no_image.toPlainText()
        qtbot.wait(1500)  # anything invented would have walked up by now
        assert kiosk.window is not None and kiosk.window.state == SessionState.ATTRACT
        page.shutdown()
    finally:
        kiosk.stop()
    assert kiosk.event_log is not None
    types = [t for t, _, _, _ in stored(kiosk.event_log.database)]
    assert "presence.change" not in types and "session.start" not in types


def test_while_the_admin_panel_is_up_presence_and_sessions_are_staffs(
    qtbot: Any, config: KioskConfig
) -> None:
    config.sensors.type = "none"
    kiosk = run_kiosk(qtbot, config)
    window = kiosk.window
    admin = kiosk.admin
    assert window is not None and admin is not None

    def seen(zone: Zone) -> None:
        # the sensor thread's path: a report from another thread, posted to the UI thread
        sensor_thread = threading.Thread(target=kiosk.report_state, args=(presence(zone),))
        sensor_thread.start()
        sensor_thread.join()
        qtbot.waitUntil(lambda: window.session.zone == zone.value, timeout=5000)

    try:
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        shopper = window.session.session_id
        assert shopper is not None
        admin.open_pad()  # staff came to calibrate: the shopper's session is over
        assert window.session.session_id is None
        admin.login("staff")
        seen(Zone.ENGAGED)  # staff standing at the camera
        admin.close("closed")
        seen(Zone.ENGAGED)  # a heartbeat: the same person, still staff
        assert window.state == SessionState.ATTRACT
        seen(Zone.AWAY)  # they leave
        seen(Zone.APPROACHING)  # a shopper
        assert window.state == SessionState.WELCOME
        window.go_attract("test")
    finally:
        kiosk.stop()
    assert kiosk.event_log is not None
    events = stored(kiosk.event_log.database)
    ends = [(s, p["reason"]) for t, s, _, p in events if t == "session.end"]
    assert ends[0] == (shopper, "staff")
    admin_events = [(t, s) for t, s, _, _ in events if t.startswith("admin.")]
    assert {t for t, _ in admin_events} >= {"admin.login", "admin.logout"}
    assert all(s is None for _, s in admin_events), admin_events
    changes = [p["zone"] for t, _, _, p in events if t == "presence.change"]
    assert changes == ["approaching"]  # staff's comings and goings are not recorded
    starts = [p["trigger"] for t, _, _, p in events if t == "session.start"]
    assert starts == ["touch", "presence"]


def test_a_sensor_report_made_before_the_window_exists_is_not_lost(
    qtbot: Any, config: KioskConfig
) -> None:
    """The sensor thread may report (no camera, switched off) before the shopper window is
    built: the report still reaches the kiosk, so the camera tile never says "Starting" for
    ever and the session machine knows there is no presence."""
    from kiosk.admin.tiles import camera_tile

    config.sensors.type = "none"
    config.kiosk.experience = FEATURES
    config.uplink.enabled = False
    kiosk = Kiosk(config)
    try:
        kiosk.start_parts()  # as on the boot lane, then taken in: no window yet
        kiosk.adopt()
        assert kiosk.presence is not None
        kiosk.presence.join(10)  # it said "off" and ended, before any window
        assert not kiosk.presence.running
        window = kiosk.start_window()
        qtbot.addWidget(window)
        qtbot.waitUntil(lambda: kiosk._health is not None, timeout=5000)
        assert kiosk._health is not None and kiosk._health.status == "off"
        tile = camera_tile(config.sensors.type, kiosk.sensor_health, kiosk.presence_state)
        assert tile.level == "off"
    finally:
        kiosk.stop()


def test_a_page_view_reads_the_same_however_the_page_was_left(
    open_window: Callable[..., KioskWindow],
    tmp_path: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> None:
    """A product page's view names its sku whether the shopper moved on or the session
    timed out on it (the timed-out one was built apart and left the sku out)."""
    product = page_xml("dog", "Dog", "").replace(
        '<mxCell id="0"/>', '<object label="" sku="DOG-214" id="0"><mxCell/></object>'
    )
    pages = [
        page_xml("attract", "attract", ""),
        page_xml("welcome", "Welcome", button("to-dog", "Dog", "data:page/id,dog", 100, 100)),
        product,
    ]
    window = open_window(write_drawio(tmp_path / "sku.drawio", pages))
    window.open_page("dog")
    clock.advance(2.0)
    window.navigate("welcome")  # moved on
    window.navigate("dog")
    clock.advance(config.kiosk.idle_timeout_s + 1)
    window.tick()  # timed out on it
    assert window.state == SessionState.ATTRACT
    views = [e for e in sink.of_type("page.view") if e.page == "dog"]
    assert len(views) == 2
    assert [sorted(e.payload) for e in views] == [["dwell_ms", "name", "sku"]] * 2
    assert {e.payload["sku"] for e in views} == {"DOG-214"}
    ends = sink.of_type("session.end")
    assert len(ends) == 1 and ends[0].payload["reason"] == "idle"
    assert views[1].session_id == ends[0].session_id
