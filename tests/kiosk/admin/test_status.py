"""The status page: each part's tile is green, amber, red or grey with the figures staff need."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from designer_import import load_experience, validate
from kiosk.admin.controller import AdminController
from kiosk.admin.data import StatusSnapshot
from kiosk.admin.status import (
    camera_tile,
    experience_tile,
    human_bytes,
    human_duration,
    redis_tile,
    storage_tile,
    system_tile,
    uplink_tile,
)
from kiosk.services import KioskServices
from sensors import PresenceState, SensorHealth, Zone
from settings import KioskConfig
from storage.eventlog import StorageHealth
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


def test_camera_tile_levels(config: KioskConfig, recorded: Recorded) -> None:
    health: list[SensorHealth | None] = [None]
    state = PresenceState(Zone.ENGAGED, 0.8, 1, None, 12.0)
    services = KioskServices(
        config=config,
        record=recorded,
        sensor_health=lambda: health[0],
        presence_state=lambda: state,
    )
    assert camera_tile(services).level == "off"  # no presence service and no report
    services.presence = object()  # type: ignore[assignment]
    assert camera_tile(services).level == "warn"
    health[0] = SensorHealth("ok", "", "Intel RealSense D435", 29.7, 0.03)
    view = camera_tile(services)
    assert view.level == "ok"
    assert "Intel RealSense D435" in view.details[0] and "30 fps" in view.details[1]
    assert "zone engaged" in view.details[2]
    health[0] = SensorHealth("ok", "", "D435", 2.0, 5.0)
    assert camera_tile(services).level == "warn"  # frames are late
    health[0] = SensorHealth("reconnecting", "USB reset", "D435")
    assert camera_tile(services).level == "warn"
    health[0] = SensorHealth("no_device", "no RealSense plugged in", "")
    assert camera_tile(services).level == "bad"
    health[0] = SensorHealth("error", "librealsense failed", "D435")
    assert camera_tile(services).level == "bad"


def test_uplink_and_redis_tiles(config: KioskConfig, recorded: Recorded) -> None:
    services = KioskServices(config=config, record=recorded)
    assert uplink_tile(services, None).level == "off"
    services.uplink = object()
    assert uplink_tile(services, StatusSnapshot(uplink=uplink_status())).level == "ok"
    offline = uplink_tile(
        services,
        StatusSnapshot(uplink=uplink_status(connected=False, last_error="connection refused")),
    )
    assert offline.level == "warn" and "last error: connection refused" in offline.details
    assert (
        uplink_tile(
            services, StatusSnapshot(uplink=uplink_status(connected=False, backlog_events=50_000))
        ).level
        == "bad"
    )
    assert "ago" in uplink_tile(services, StatusSnapshot(uplink=uplink_status())).details[1]
    assert uplink_tile(services, StatusSnapshot(uplink_error="boom")).level == "bad"
    assert redis_tile(services, None).level == "off"  # [redis] enabled = false in the fixture


def test_experience_and_system_tiles(config: KioskConfig, recorded: Recorded) -> None:
    experience = load_experience(FIXTURE)
    findings = validate(experience)
    services = KioskServices(config=config, record=recorded)
    assert experience_tile(services).level == "bad"
    services.experience = lambda: experience
    services.findings = lambda: findings
    view = experience_tile(services)
    assert view.level == ("warn" if any(f.severity == "error" for f in findings) else "ok")
    assert "features.drawio" in view.details[0]
    assert f"{len(findings)} warnings" in view.details[2] or "errors" in view.details[2]
    services.experience_error = lambda: "spring.drawio: not a draw.io file (line 1)"
    broken = experience_tile(services)
    assert broken.level == "bad" and broken.details[0].startswith("spring.drawio: not a draw.io")
    services.started_at = time.time() - 3725
    system = system_tile(
        services, StatusSnapshot(memory_rss=200 * 1024**2, memory_total=8 * 1024**3)
    )
    assert (
        system.level == "ok" and "up 1h 02m" in system.details and "200.0 MB" in system.details[2]
    )
    assert human_bytes(1536) == "1.5 KB" and human_bytes(None) == "-"
    assert human_duration(59) == "0m 59s" and human_duration(90000) == "1d 1h"


def test_status_page_refreshes_from_the_data_thread(
    qtbot: Any, window: Any, config: KioskConfig, recorded: Recorded, clock: FakeClock
) -> None:
    statuses = [uplink_status()]

    class Uplink:
        def status(self) -> UplinkStatus:
            return statuses[-1]

    services = KioskServices(config=config, record=recorded, uplink=Uplink())
    admin = AdminController(window, services, clock=clock)
    try:
        log_in(qtbot, admin, window, clock, STAFF_PIN)
        page = admin.page_widgets["status"]
        qtbot.waitUntil(lambda: page.tiles["uplink"].level == "ok", timeout=5000)
        assert page.tiles["system"].level == "ok"
        assert "memory" in page.tiles["system"].text
        statuses.append(uplink_status(connected=False, last_error="TLS handshake failed"))
        clock.advance(1)
        admin.tick()
        qtbot.waitUntil(lambda: page.tiles["uplink"].level == "warn", timeout=5000)
        assert "TLS handshake failed" in page.tiles["uplink"].text
    finally:
        admin.shutdown()


def test_camera_tile_and_calibration_never_pass_off_a_missing_or_simulated_camera(
    qtbot: Any, config: KioskConfig, recorded: Recorded
) -> None:
    """Simulated shoppers are amber "Simulated", never green; a camera that is not there, or
    a presence service that did not start, is red; the calibration page says "no camera"
    instead of a zone the camera no longer sees."""
    from kiosk.admin.calibration import CalibrationPage

    health: list[SensorHealth | None] = [None]
    state = PresenceState(Zone.ENGAGED, 0.53, 2, None, 12.0, simulated=True)
    services = KioskServices(
        config=config,
        record=recorded,
        sensor_health=lambda: health[0],
        presence_state=lambda: state,
    )
    config.sensors.type = "auto"
    view = camera_tile(services)
    assert view.level == "bad" and view.headline == "Not running"
    services.presence = object()  # type: ignore[assignment]
    health[0] = SensorHealth("ok", "", "simulated shoppers", 30.0, 0.01, simulated=True)
    view = camera_tile(services)
    assert view.level == "warn" and view.headline == "Simulated"
    assert "simulated" in view.details[0]
    page = CalibrationPage(services=services)
    qtbot.addWidget(page)
    try:
        page.show_presence()
        assert "ENGAGED" not in page.live.text() and "simulated" in page.live.text()
        assert "simulated" in page.no_image.toPlainText()
        health[0] = SensorHealth("file_ended", "the recording ended", "RealSense recording")
        page.show_presence()
        assert page.live.text() == "no camera: the recording ended"
        assert "ENGAGED" not in page.live.text()
        health[0] = SensorHealth("ok", "", "D435", 30.0, 0.01)
        page.show_presence()
        assert page.live.text().startswith("now: ENGAGED · 0.53 m")
        config.sensors.type = "webcam"
        page.show_presence()
        assert page.no_image.toPlainText() == "a webcam gives no depth image"
    finally:
        page.close_writer()


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


def test_storage_and_redis_tiles_show_a_restarted_writer_and_a_rebuilt_redis(
    config: KioskConfig, recorded: Recorded
) -> None:
    services = KioskServices(config=config, record=recorded)
    services.event_log = object()
    down = storage_tile(
        services,
        StatusSnapshot(
            storage=storage_health(
                sqlite_ok=False,
                sqlite_error="the event log writer failed (ValueError: bad); restarting",
                writer_alive=False,
                writer_restarts=1,
                writer_error="ValueError: bad",
            )
        ),
    )
    assert (down.level, down.headline) == ("bad", "Writer restarting")
    assert "writer restarted 1x, last: ValueError: bad" in down.details
    full = storage_tile(
        services,
        StatusSnapshot(
            storage=storage_health(
                sqlite_ok=False,
                sqlite_error="disk is full",
                spill_held_events=9000,
                spill_full=True,
            )
        ),
    )
    assert full.level == "bad"
    assert "spill file FULL: 9,000 held events kept; newer ones in memory only" in full.details
    back = storage_tile(
        services, StatusSnapshot(storage=storage_health(writer_restarts=1, writer_error="x"))
    )
    assert back.level == "ok" and "writer restarted 1x, last: x" in back.details

    config.redis.enabled = True
    rebuilt = redis_tile(
        services,
        StatusSnapshot(
            storage=storage_health(
                redis_rebuilds=1, redis_rebuild_reason="Redis held seq 900 beyond SQLite's 12"
            )
        ),
    )
    assert rebuilt.level == "ok"
    assert "rebuilt from SQLite 1x, last: Redis held seq 900 beyond SQLite's 12" in rebuilt.details
    failing = redis_tile(
        services, StatusSnapshot(storage=storage_health(redis_error="WRONGTYPE stream key"))
    )
    assert (failing.level, failing.headline) == ("warn", "Failing")
    assert "WRONGTYPE stream key" in failing.details
