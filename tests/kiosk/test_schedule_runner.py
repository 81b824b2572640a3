"""Opening hours and dayparting on the shopper window, driven by injected clocks (the wall
clock and the monotonic one): the screen goes black at closing and takes no touches, the
events say why, a clock jump over closing time closes at once, the daypart's attract pages
rotate, and the composition root wires it with the camera and the Redis mirror idling."""

from __future__ import annotations

import datetime as dt
import json
import logging
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from PySide6.QtCore import QPoint, Qt

from kiosk.models.interactions import MemorySink
from kiosk.models.schedule import Change, Schedule, ScheduleWatch
from kiosk.schedule_runner import Idler, ScheduleRunner, wlr_outputs
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from sensors import PresenceState, Zone
from settings import KioskConfig
from settings.model import ScheduleSection
from tests.support.clock import FakeClock
from tests.support.drawings import button, page_xml, write_drawio

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SHOP_HOURS = {
    "enabled": True,
    "timezone": "Europe/Paris",
    **{d: ["08:00-20:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "saturday": [],
    "sunday": [],
    "check_s": 15,
}


class WallClock:
    """An aware wall clock the test sets or moves (NTP correcting it, say)."""

    def __init__(self, text: str) -> None:
        self.now = dt.datetime.fromisoformat(text).replace(tzinfo=PARIS)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Calls:
    """Records pause/resume calls of a part that idles (dispatch only)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def idler(self, name: str) -> Idler:
        return Idler(
            name,
            lambda: self.calls.append(f"pause {name}"),
            lambda: self.calls.append(f"resume {name}"),
        )


@pytest.fixture
def run_schedule(
    clock: FakeClock, tasks: TaskRunner
) -> Callable[..., tuple[ScheduleRunner, WallClock]]:
    def make(
        window: KioskWindow, start: str, idlers: tuple[Idler, ...] = (), **section: Any
    ) -> tuple[ScheduleRunner, WallClock]:
        wall = WallClock(start)
        settings = ScheduleSection.model_validate({**SHOP_HOURS, **section})
        watch = ScheduleWatch(Schedule(settings), wall, clock)
        runner = ScheduleRunner(
            watch=watch, window=window, tasks=tasks, check_s=settings.check_s, idlers=idlers,
            switch_display=False,
        )  # fmt: skip
        runner.start()
        return runner, wall

    return make


@pytest.fixture
def window(open_window: Callable[..., KioskWindow], shop_file: Path) -> KioskWindow:
    """The shop's window, 640 x 360."""
    return open_window(shop_file, size=(640, 360))


def pass_time(runner: ScheduleRunner, wall: WallClock, clock: FakeClock, seconds: float) -> None:
    """``seconds`` pass on the wall clock and the monotonic one; then the runner looks."""
    wall.advance(seconds)
    clock.advance(seconds)
    runner.check()


def schedule_events(sink: MemorySink) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, dict(e.payload)) for e in sink.events if e.type.startswith("system.schedule")]


def is_black(window: KioskWindow) -> bool:
    image = window.grab().toImage()
    return all(
        image.pixelColor(x, y).name() == "#000000"
        for y in range(0, image.height(), 37)
        for x in range(0, image.width(), 37)
    )


def test_open_close_open_blacks_the_screen_and_records_why(
    qtbot: Any,
    window: KioskWindow,
    sink: MemorySink,
    clock: FakeClock,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
) -> None:
    parts = Calls()
    runner, wall = run_schedule(
        window, "2026-11-23 19:59", (parts.idler("camera"), parts.idler("Redis mirror"))
    )
    assert window.open_page("welcome")  # a shopper is browsing a minute before closing
    session = window.session.session_id
    assert session is not None and not is_black(window)

    pass_time(runner, wall, clock, 65)
    assert runner.closed and window.session.session_id is None
    ended = sink.of_type("session.end")
    assert [(e.session_id, e.payload["reason"]) for e in ended] == [(session, "closed")]
    assert schedule_events(sink) == [
        ("system.schedule.close", {"reason": "hours", "until": "2026-11-24T08:00:00+01:00"})
    ]
    assert parts.calls == ["pause camera", "pause Redis mirror"]
    assert not window.view.isVisible() and runner.screen_off.isVisible()
    assert is_black(window)
    assert runner.screen_off.cursor().shape() == Qt.CursorShape.BlankCursor

    before = len(sink.events)
    qtbot.mouseClick(runner.screen_off, Qt.MouseButton.LeftButton, pos=QPoint(320, 180))
    window.tick()
    assert len(sink.events) == before  # a touch while closed is nobody's interaction
    assert window.session.session_id is None and runner.screen_off.swallowed == 1

    wall.now = dt.datetime(2026, 11, 24, 8, 0, 5, tzinfo=PARIS)
    clock.advance(12 * 3600 + 5)
    runner.check()
    assert not runner.closed and not is_black(window)
    assert schedule_events(sink)[-1] == (
        "system.schedule.open",
        {"reason": "hours", "until": "2026-11-24T20:00:00+01:00"},
    )
    assert parts.calls[2:] == ["resume camera", "resume Redis mirror"]
    assert window.view.isVisible() and not runner.screen_off.isVisible()
    assert window.current_page() == "attract-1" and window.session.session_id is None


def test_started_while_closed_is_dark_from_the_first_look(
    window: KioskWindow,
    sink: MemorySink,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
) -> None:
    runner, _wall = run_schedule(window, "2026-11-28 23:00")  # a Saturday night
    assert runner.closed and is_black(window)
    assert schedule_events(sink) == [
        (
            "system.schedule.close",
            {"reason": "hours", "until": "2026-11-30T08:00:00+01:00", "start": True},
        )
    ]


def test_a_clock_jump_over_closing_time_closes_at_once(
    window: KioskWindow,
    sink: MemorySink,
    clock: FakeClock,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
) -> None:
    runner, wall = run_schedule(window, "2026-11-23 17:00")
    # NTP corrects a clock that ran three hours slow: 15 s pass, the wall clock moves 3 h
    wall.advance(3 * 3600 + 15)
    clock.advance(15)
    runner.check()
    kinds = [kind for kind, _ in schedule_events(sink)]
    assert kinds == ["system.schedule.clock_jump", "system.schedule.close"]
    assert schedule_events(sink)[0][1]["jump_s"] == 10800.0
    assert runner.closed and is_black(window)


def dayparted_shop(tmp_path: Path) -> Path:
    """Three attract pages: the usual one, a breakfast offer, and a lunch offer carrying its
    own window in Edit Data; a welcome page."""

    def attract(page_id: str, name: str, data: str) -> str:
        return page_xml(page_id, name, "", "#203040").replace(
            '<mxCell id="0"/>', f'<object label="" tags="attract" {data} id="0"><mxCell/></object>'
        )

    pages = [
        attract("usual", "usual", ""),
        attract("breakfast", "breakfast offer", ""),
        attract("lunch", "lunch offer", 'kiosk-schedule="12:00-14:00"'),
        page_xml("welcome", "Welcome", button("go", "Go", "data:page/id,welcome", 10, 10)),
    ]
    return write_drawio(tmp_path / "dayparts.drawio", pages)


def rotation(window: KioskWindow) -> list[str]:
    return [page.id for page in window.navigation.attract_pages()]


def test_dayparts_and_page_windows_choose_the_attract_rotation(
    tmp_path: Path,
    open_window: Callable[..., KioskWindow],
    sink: MemorySink,
    clock: FakeClock,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    window = open_window(dayparted_shop(tmp_path), size=(640, 360))
    dayparts = [
        {
            "name": "breakfast",
            "window": "08:00-11:00",
            "attract_pages": ["breakfast offer", "no such page"],
        }
    ]
    with caplog.at_level(logging.WARNING, logger="kiosk.models.navigation"):
        runner, wall = run_schedule(window, "2026-11-23 10:59", dayparts=dayparts)
        assert rotation(window) == ["breakfast"] and window.current_page() == "breakfast"
        assert rotation(window) == ["breakfast"]
    said = [r.getMessage() for r in caplog.records if "no such page" in r.getMessage()]
    assert len(said) == 1  # an unknown name is said once, not at every turn of the loop
    assert schedule_events(sink) == [
        ("system.schedule.daypart", {"daypart": "breakfast", "previous": None})
    ]

    pass_time(runner, wall, clock, 60)
    assert schedule_events(sink)[-1] == (
        "system.schedule.daypart",
        {"daypart": None, "previous": "breakfast"},
    )
    assert rotation(window) == ["usual", "breakfast"]  # the lunch offer waits for noon
    wall.now = dt.datetime(2026, 11, 23, 12, 30, tzinfo=PARIS)
    assert rotation(window) == ["usual", "breakfast", "lunch"]
    wall.now = dt.datetime(2026, 11, 23, 14, 0, tzinfo=PARIS)
    assert rotation(window) == ["usual", "breakfast"]


def test_a_daypart_waits_for_the_shopper_to_finish(
    tmp_path: Path,
    open_window: Callable[..., KioskWindow],
    clock: FakeClock,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
) -> None:
    window = open_window(dayparted_shop(tmp_path), size=(640, 360))
    dayparts = [{"name": "breakfast", "window": "09:00-11:00", "attract_pages": ["breakfast"]}]
    runner, wall = run_schedule(window, "2026-11-23 08:59", dayparts=dayparts)
    assert window.open_page("welcome")
    pass_time(runner, wall, clock, 60)
    assert window.current_page() == "welcome" and window.session.session_id is not None
    assert rotation(window) == ["breakfast"]


def test_wlr_randr_outputs_are_read_from_its_listing() -> None:
    listing = (
        'HDMI-A-1 "Dell Inc. DELL P2419H (HDMI-A-1)"\n  Enabled: yes\n  Modes:\n'
        "    1920x1080 px, 60.000000 Hz (preferred, current)\n"
        'DP-2 "Unknown"\n  Enabled: no\n'
    )
    assert wlr_outputs(listing) == ["HDMI-A-1", "DP-2"]


def test_the_kiosk_starts_dark_when_closed_and_idles_camera_and_mirror(
    qtbot: Any, config: KioskConfig, shop_file: Path, redis_server: Any
) -> None:
    from kiosk.app import Kiosk

    config.kiosk.experience = shop_file
    config.sensors.type = "simulated"
    config.uplink.enabled = False
    config.redis.enabled = True
    config.redis.url = redis_server.url
    config.schedule = ScheduleSection.model_validate(
        {"enabled": True, **{day: [] for day in SHOP_HOURS if day.endswith("day")}}
    )
    kiosk = Kiosk(config)
    try:
        window = kiosk.start()
        qtbot.addWidget(window)
        assert kiosk.schedule is not None and kiosk.schedule.closed
        assert kiosk.presence is not None and kiosk.presence.paused
        assert kiosk.event_log is not None and kiosk.event_log.mirror_paused
        qtbot.waitUntil(lambda: kiosk.presence is not None and kiosk.presence.health().message
                        == "paused: the shop is closed", timeout=10_000)  # fmt: skip
        # a report already on its way when the camera paused starts nothing
        someone = PresenceState(Zone.ENGAGED, distance_m=0.6, people=1, looking=True, timestamp=0)
        kiosk.report_state(someone)
        qtbot.waitUntil(lambda: kiosk.presence_state is someone, timeout=10_000)
        assert window.session.session_id is None
        assert kiosk.recorder.recorded == 1  # the close; no presence.change, no session
        event_log = kiosk.event_log
        qtbot.waitUntil(lambda: event_log.health().events_written >= 1, timeout=10_000)
        client = redis.Redis.from_url(redis_server.url)
        # in SQLite, not in Redis: the mirror idles (the uplink would still send it)
        assert event_log.health().redis_lag_events >= 1 and client.xlen("kiosk:stream") == 0
        # opening: the camera reads again and Redis catches up with what it missed
        kiosk.schedule.apply(Change("open", {"reason": "hours", "until": None}))
        assert not kiosk.presence.paused and not event_log.mirror_paused
        try:
            qtbot.waitUntil(lambda: client.xlen("kiosk:stream") >= 2, timeout=10_000)
            mirrored = [json.loads(fields[b"e"])["type"] for _id, fields in
                        client.xrange("kiosk:stream")]  # fmt: skip
        finally:
            client.close()
        assert mirrored == ["system.schedule.close", "system.schedule.open"]
        assert window.current_page() == "attract-1" and not is_black(window)
    finally:
        kiosk.stop()


def test_a_display_switch_that_fails_is_logged_with_its_reason(
    qtbot: Any,
    window: KioskWindow,
    clock: FakeClock,
    tasks: TaskRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # a real wlr-randr (or none installed) with no compositor to talk to: a real failure
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    wall = WallClock("2026-11-23 19:59")
    watch = ScheduleWatch(Schedule(ScheduleSection.model_validate(SHOP_HOURS)), wall, clock)
    runner = ScheduleRunner(
        watch=watch, window=window, tasks=tasks, check_s=15, switch_display=True
    )
    runner.start()
    with caplog.at_level(logging.ERROR, logger="kiosk.schedule_runner"):
        pass_time(runner, wall, clock, 120)
        qtbot.waitUntil(lambda: any("could not switch" in r.getMessage() for r in caplog.records),
                        timeout=10_000)  # fmt: skip
    said = next(r.getMessage() for r in caplog.records if "could not switch" in r.getMessage())
    assert said.startswith("could not switch the display outputs off with wlr-randr: ")
    reason = said.split("with wlr-randr: ", 1)[1]
    assert "failed to connect to display" in reason or "No such file" in reason, reason
    assert runner.closed and is_black(window)  # the screen is black all the same


def test_staff_can_open_the_admin_pad_while_closed(
    qtbot: Any,
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    clock: FakeClock,
    tasks: TaskRunner,
    config: KioskConfig,
    tmp_path: Path,
    run_schedule: Callable[..., tuple[ScheduleRunner, WallClock]],
) -> None:
    import time

    from kiosk.admin import install_admin
    from kiosk.admin.library import ContentLibrary
    from tests.support.admin import tap_corner

    window = open_window(shop_file, size=(1280, 720))
    admin = install_admin(
        window, config=config, screen=window, record=window.recorder.record, tasks=tasks,
        event_log=None, uplink=None, presence=None, exit_kiosk=lambda: None,
        started_at=time.time(), library=ContentLibrary(tmp_path / "content"), clock=clock,
    )  # fmt: skip
    try:
        runner, _wall = run_schedule(window, "2026-11-28 23:00")
        assert runner.closed
        tap_corner(qtbot, runner.screen_off, clock)  # the taps land on the black screen
        assert admin.state == "pad" and admin.overlay is not None
        qtbot.waitUntil(lambda: admin.overlay is not None and admin.overlay.isVisible())
        middle = window.childAt(window.width() // 2, window.height() // 2)
        assert middle is not None and (
            middle is admin.overlay or admin.overlay.isAncestorOf(middle)
        )
    finally:
        admin.shutdown()
