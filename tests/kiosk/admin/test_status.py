"""The status page: each part's tile is green, amber, red or grey with the figures staff need."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from designer_import import load_experience, validate
from kiosk.admin.tiles import (
    StatusReading,
    camera_tile,
    experience_tile,
    human_bytes,
    human_duration,
    redis_tile,
    storage_tile,
    system_tile,
    uplink_tile,
)
from sensors import (
    Frame,
    Observation,
    PresenceService,
    PresenceState,
    ScriptedSensor,
    SensorHealth,
    Zone,
)
from settings import KioskConfig
from storage import Event
from storage.eventlog import StorageHealth
from tests.kiosk.admin.traffic import start_log
from tests.support.admin import STAFF_PIN, Recorded, log_in
from tests.support.clock import FakeClock
from uplink.service import UplinkStatus

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "drawio" / "features.drawio"


def uplink_status(**changes: Any) -> UplinkStatus:
    fields: dict[str, Any] = dict(
        connected=True,
        backlog_events=120,
        backlog_batches=1,
        last_ack_at=time.time() - 30,
        last_error=None,
        sent_batches=40,
        sent_events=9000,
    )
    fields.update(changes)
    return UplinkStatus(**fields)


def test_camera_tile_levels() -> None:
    state = PresenceState(Zone.ENGAGED, 0.8, 1, None, 12.0)
    assert camera_tile("none", None, None).level == "off"  # no presence service: touch only
    view = camera_tile("auto", SensorHealth("ok", "", "Intel RealSense D435", 29.7, 0.03), state)
    assert view.level == "ok"
    assert "Intel RealSense D435" in view.details[0] and "30 fps" in view.details[1]
    assert "zone engaged" in view.details[2]
    late = camera_tile("auto", SensorHealth("ok", "", "D435", 2.0, 5.0), state)
    assert (late.level, late.headline) == ("warn", "Slow frames")
    assert camera_tile("auto", SensorHealth("reconnecting", "USB reset", "D435"), None).level == (
        "warn"
    )
    missing = camera_tile("auto", SensorHealth("no_device", "no RealSense plugged in"), None)
    assert (missing.level, missing.headline) == ("bad", "Not found")
    assert camera_tile("auto", SensorHealth("error", "librealsense failed"), None).level == "bad"
    ended = camera_tile("auto", SensorHealth("file_ended", "the recording ended"), None)
    assert (ended.level, ended.headline) == ("bad", "Recording ended")
    assert camera_tile("auto", SensorHealth("off", "switched off"), None).level == "off"


def test_uplink_and_redis_tiles() -> None:
    assert uplink_tile(None, enabled=False).level == "off"
    assert uplink_tile(StatusReading(uplink=uplink_status()), enabled=True).level == "ok"
    offline = uplink_tile(
        StatusReading(uplink=uplink_status(connected=False, last_error="connection refused")),
        enabled=True,
    )
    assert offline.level == "warn" and "last error: connection refused" in offline.details
    far_behind = StatusReading(uplink=uplink_status(connected=False, backlog_events=50_000))
    assert uplink_tile(far_behind, enabled=True).level == "bad"
    catching_up = StatusReading(uplink=uplink_status(backlog_events=50_000))
    assert uplink_tile(catching_up, enabled=True).headline == "Catching up"
    fresh = uplink_tile(StatusReading(uplink=uplink_status()), enabled=True)
    assert fresh.details[1].startswith("last ack 0m 3") and fresh.details[1].endswith(" ago")
    assert uplink_tile(StatusReading(uplink_error="boom"), enabled=True).level == "bad"
    assert redis_tile(None, enabled=False).level == "off"


def test_experience_and_system_tiles() -> None:
    experience = load_experience(FIXTURE)
    findings = validate(experience)
    assert experience_tile("spring.drawio", None, None, []).level == "bad"
    view = experience_tile("spring.drawio", experience, None, findings)
    assert view.level == ("warn" if any(f.severity == "error" for f in findings) else "ok")
    assert "features.drawio" in view.details[0]
    assert f"{len(findings)} warnings" in view.details[2] or "errors" in view.details[2]
    broken = experience_tile(
        "spring.drawio", experience, "spring.drawio: not a draw.io file (line 1)", findings
    )
    assert broken.level == "bad" and broken.details[0].startswith("spring.drawio: not a draw.io")
    assert broken.details[-1] == "old one shown"
    system = system_tile(
        time.time() - 3725, StatusReading(memory_rss=200 * 1024**2, memory_total=8 * 1024**3)
    )
    assert (
        system.level == "ok" and "up 1h 02m" in system.details and "200.0 MB" in system.details[2]
    )
    assert human_bytes(1536) == "1.5 KB" and human_bytes(None) == "-"
    assert human_duration(59) == "0m 59s" and human_duration(90000) == "1d 1h"


def test_the_system_tile_shows_todays_restarts_and_a_crash_loop(tmp_path: Path) -> None:
    import datetime as dt

    from kiosk.admin.tiles import read_status
    from kiosk.models.restarts import record_stop

    assert read_status(None, None, tmp_path).restarts is not None
    quiet = system_tile(time.time(), read_status(None, None, tmp_path))
    assert quiet.level == "ok" and not any("restarts" in line for line in quiet.details)
    now = dt.datetime.now(dt.UTC)
    # the stops are "today" (the local day) at any hour the test runs: a minute apart, or
    # closer just after midnight
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    unit = min(dt.timedelta(minutes=1), (now - midnight) / 60)
    record_stop(tmp_path, {"SERVICE_RESULT": "success"}, now=now - 50 * unit)
    record_stop(tmp_path, {"SERVICE_RESULT": "watchdog"}, now=now - 40 * unit)
    view = system_tile(time.time(), read_status(None, None, tmp_path))
    assert view.level == "warn"
    assert any(line.startswith("restarts today: 1 (hung (the watchdog restarted it) ")
               for line in view.details), view.details  # fmt: skip
    for minutes in (4, 3, 2, 1):
        record_stop(tmp_path, {"SERVICE_RESULT": "signal", "EXIT_STATUS": "SEGV"},
                    now=now - minutes * unit)  # fmt: skip
    loop = system_tile(time.time(), read_status(None, None, tmp_path))
    assert loop.level == "bad" and loop.details[0].startswith("restarting in a loop")
    assert any("restarts today: 5 (crashed (SEGV)" in line and "2 more" in line
               for line in loop.details), loop.details  # fmt: skip


def engaged(presence: PresenceService) -> bool:
    state = presence.state
    return state is not None and state.zone is Zone.ENGAGED


def scripted_presence(
    config: KioskConfig, *, simulated: bool = False, hold_last: bool = True
) -> PresenceService:
    """A real presence service on a scripted sensor that sees two people at 0.53 m for a
    second, then holds the last frame or ends (started; stop it when done)."""
    seen = Observation(share=0.4, nearest_m=0.53, people=2)
    frames = [Frame(timestamp=n / 15, observation=seen) for n in range(15)]
    sensor = ScriptedSensor(
        frames, realtime=True, hold_last=hold_last, model="scripted D435", simulated=simulated
    )
    service = PresenceService(
        sensor,
        on_state=lambda _state: None,
        on_health=lambda _health: None,
        settings=config.sensors,
    )
    service.start()
    return service


def test_status_page_reads_the_event_log_and_the_camera_off_the_ui_thread(
    qtbot: Any, window: Any, config: KioskConfig, clock: FakeClock, make_admin: Any
) -> None:
    """A real event log and a real presence service: the tiles follow what they report,
    read off the UI thread once a second."""
    event_log = start_log(config)
    presence = scripted_presence(config)
    try:
        admin = make_admin(event_log=event_log, presence=presence)
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        page = admin.pages["status"]
        qtbot.waitUntil(lambda: page.tiles["storage"].level == "ok", timeout=5000)
        assert "events today 0" in page.tiles["storage"].text
        assert page.tiles["system"].level == "ok"
        assert "memory" in page.tiles["system"].text
        assert page.tiles["uplink"].level == "off"
        for n in range(3):
            event_log.append(Event.create("page.view", payload={"n": n}))
        qtbot.waitUntil(lambda: event_log.health().events_today == 3, timeout=5000)
        qtbot.waitUntil(lambda: engaged(presence), timeout=5000)
        clock.advance(1)
        admin.tick()
        qtbot.waitUntil(lambda: "events today 3" in page.tiles["storage"].text, timeout=5000)
        camera = page.tiles["camera"]
        assert camera.level == "ok" and "model scripted D435" in camera.text
        assert "zone engaged, 2 people" in camera.text
    finally:
        presence.stop()
        event_log.stop()


def test_camera_tile_and_calibration_never_pass_off_a_missing_or_simulated_camera(
    qtbot: Any, config: KioskConfig, tasks: Any
) -> None:
    """Simulated shoppers are amber "Simulated", never green; a presence service that did
    not start is red; the calibration page says "no camera" instead of a zone it does not
    see."""
    from kiosk.admin.audit import AdminAudit
    from kiosk.admin.calibration import CalibrationPage

    audit = AdminAudit(Recorded())
    config.sensors.type = "auto"
    view = camera_tile("auto", None, None)
    assert view.level == "bad" and view.headline == "Not running"
    simulated = SensorHealth("ok", "", "simulated shoppers", 30.0, 0.01, simulated=True)
    view = camera_tile("auto", simulated, None)
    assert view.level == "warn" and view.headline == "Simulated"
    assert "simulated" in view.details[0]

    def shown(presence: Any) -> CalibrationPage:
        """A calibration page over ``presence`` (once it sees the zone), its reading shown."""
        page = CalibrationPage(config=config, presence=presence, tasks=tasks, audit=audit)
        qtbot.addWidget(page)
        if presence is not None:
            qtbot.waitUntil(lambda: engaged(presence), timeout=5000)
        page.show_presence()
        return page

    page = shown(None)
    assert page.live.text() == "no camera: presence sensing is not running"
    assert page.no_image.toPlainText() == "no camera"

    presence = scripted_presence(config, simulated=True)
    try:
        page = shown(presence)
        assert page.live.text() == "simulated shoppers: no camera to calibrate"
        assert "simulated" in page.no_image.toPlainText()
    finally:
        presence.stop()
    presence = scripted_presence(config, hold_last=False)
    try:
        page = shown(presence)
        assert page.live.text() == "now: ENGAGED · 0.53 m · 2 people"
        config.sensors.type = "webcam"
        page.show_presence()
        assert page.no_image.toPlainText() == "a webcam gives no depth image"
        # the recording ended: the zone it last saw is not passed off as now
        qtbot.waitUntil(lambda: not presence.health().online, timeout=5000)
        assert engaged(presence)
        page.show_presence()
        assert page.live.text() == f"no camera: {presence.health().message}"
        assert "ENGAGED" not in page.live.text()
    finally:
        presence.stop()


def storage_health(**changes: Any) -> StorageHealth:
    fields: dict[str, Any] = dict(
        sqlite_ok=True,
        sqlite_error=None,
        redis_connected=True,
        redis_lag_events=0,
        queue_depth=0,
        backpressure=False,
        events_today=10,
        db_bytes=1 << 20,
        free_disk_bytes=10 << 30,
        memory_held_events=0,
        last_flush_at=time.time(),
    )
    fields.update(changes)
    return StorageHealth(**fields)


def test_storage_and_redis_tiles_show_a_restarted_writer_and_a_rebuilt_redis() -> None:
    down = storage_tile(
        StatusReading(
            storage=storage_health(
                sqlite_ok=False,
                sqlite_error="the event log writer failed (ValueError: bad); restarting",
                writer_alive=False,
                writer_restarts=1,
                writer_error="ValueError: bad",
            )
        ),
        running=True,
    )
    assert (down.level, down.headline) == ("bad", "Writer restarting")
    assert "writer restarted 1x, last: ValueError: bad" in down.details
    full = storage_tile(
        StatusReading(
            storage=storage_health(
                sqlite_ok=False,
                sqlite_error="disk is full",
                spill_held_events=9000,
                spill_full=True,
            )
        ),
        running=True,
    )
    assert full.level == "bad"
    assert "spill file FULL: 9,000 held events kept; newer ones in memory only" in full.details
    back = storage_tile(
        StatusReading(storage=storage_health(writer_restarts=1, writer_error="x")), running=True
    )
    assert back.level == "ok" and "writer restarted 1x, last: x" in back.details

    rebuilt = redis_tile(
        StatusReading(
            storage=storage_health(
                redis_rebuilds=1, redis_rebuild_reason="Redis held seq 900 beyond SQLite's 12"
            )
        ),
        enabled=True,
    )
    assert rebuilt.level == "ok"
    assert "rebuilt from SQLite 1x, last: Redis held seq 900 beyond SQLite's 12" in rebuilt.details
    failing = redis_tile(
        StatusReading(storage=storage_health(redis_error="WRONGTYPE stream key")), enabled=True
    )
    assert (failing.level, failing.headline) == ("warn", "Failing")
    assert "WRONGTYPE stream key" in failing.details

    assert storage_tile(None, running=False).headline == "Not running"
    assert storage_tile(None, running=True).headline == "Reading"
    assert redis_tile(None, enabled=True).headline == "Unknown"


def test_a_part_that_did_not_report_is_red_and_says_why() -> None:
    """A reading whose storage or uplink part failed names the error; one with neither the
    snapshot nor an error says which report is missing; before the first reading, amber."""
    views = [
        storage_tile(StatusReading(storage_error="database is locked"), running=True),
        storage_tile(StatusReading(), running=True),
        uplink_tile(StatusReading(uplink_error="broker gone"), enabled=True),
        uplink_tile(StatusReading(), enabled=True),
        uplink_tile(None, enabled=True),
    ]
    assert [(v.level, v.headline, v.details) for v in views] == [
        ("bad", "No report", ["database is locked"]),
        ("bad", "No report", ["no health report"]),
        ("bad", "No report", ["broker gone"]),
        ("bad", "No report", ["no uplink status"]),
        ("warn", "Reading", ["waiting for the first report"]),
    ]


def test_the_camera_tile_drops_what_an_ended_recording_last_saw(
    qtbot: Any, window: Any, config: KioskConfig, clock: FakeClock, make_admin: Any
) -> None:
    presence = scripted_presence(config, hold_last=False)
    try:
        admin = make_admin(presence=presence)
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        camera = admin.pages["status"].tiles["camera"]
        qtbot.waitUntil(lambda: not presence.health().online, timeout=5000)
        assert engaged(presence)  # the service still holds the last state it saw
        clock.advance(1)
        admin.tick()
        assert camera.level == "bad" and "zone -" in camera.text
        assert "engaged" not in camera.text
    finally:
        presence.stop()


class SlowToOpen(ScriptedSensor):
    """A camera that takes until ``ready`` is set to open (a RealSense's first open takes
    seconds)."""

    def __init__(self, ready: threading.Event) -> None:
        seen = Observation(share=0.4, nearest_m=0.53, people=2)
        super().__init__([Frame(timestamp=0.0, observation=seen)], hold_last=True)
        self.ready = ready

    def open(self) -> None:
        self.ready.wait(10)
        super().open()


def test_a_camera_slow_to_open_is_starting_not_off(
    qtbot: Any, window: Any, config: KioskConfig, clock: FakeClock, make_admin: Any
) -> None:
    ready = threading.Event()
    presence = PresenceService(
        SlowToOpen(ready),
        on_state=lambda _state: None,
        on_health=lambda _health: None,
        settings=config.sensors,
    )
    presence.start()
    try:
        admin = make_admin(presence=presence)
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        camera = admin.pages["status"].tiles["camera"]
        assert (camera.level, camera.text.splitlines()[0]) == ("warn", "CHECK · Starting")
        assert admin.show_page("calibration")
        calibration = admin.pages["calibration"]
        assert calibration.live.text() == "no presence report yet"
        assert calibration.no_image.toPlainText() == "waiting for the camera…"
        ready.set()
        qtbot.waitUntil(lambda: presence.health().online, timeout=5000)

        def camera_ok() -> bool:
            # the first presence report follows the first frames (later on a busy machine)
            clock.advance(1)
            # staff still at the panel: without this, a first report slower than the
            # panel's idle close (in these fake seconds) closed it and the tile never updated
            admin._last_activity = clock()
            admin.tick()
            return bool(camera.level == "ok")

        qtbot.waitUntil(camera_ok, timeout=10_000)
    finally:
        ready.set()
        presence.stop()
