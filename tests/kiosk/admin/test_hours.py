"""The opening hours page (manager only) on the real panel over a real shopper window: a
weekday's new hours, checked by the config's model, close or open the kiosk at once through
the running schedule runner, are recorded as admin.hours, kept in staff's overlay and there
after a restart; a bad time is refused on the page with the reason, nothing changed."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.admin.controller import AdminController
from kiosk.models.schedule import Schedule, ScheduleWatch
from kiosk.schedule_runner import ScheduleRunner
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from settings import KioskConfig, load_config
from settings.model import ScheduleSection
from settings.overlay import STAFF_OVERLAY_NAME
from tests.kiosk.test_schedule_runner import SHOP_HOURS, WallClock
from tests.support.admin import MANAGER_PIN, STAFF_PIN, Recorded, log_in
from tests.support.clock import FakeClock


@pytest.fixture
def window(open_window: Callable[..., KioskWindow], shop_file: Path) -> KioskWindow:
    """The shopper window the panel covers (and the schedule blacks out)."""
    return open_window(shop_file, size=(1280, 720))


@pytest.fixture
def runner(
    window: KioskWindow, config: KioskConfig, clock: FakeClock, tasks: TaskRunner
) -> Iterator[ScheduleRunner]:
    """The shop's schedule, open on Monday 17:30 (Paris) until 20:00."""
    config.schedule = ScheduleSection.model_validate(SHOP_HOURS)
    watch = ScheduleWatch(Schedule(config.schedule), WallClock("2026-11-23 17:30"), clock)
    schedule = ScheduleRunner(
        watch=watch, window=window, tasks=tasks, check_s=15, switch_display=False
    )
    schedule.start()
    yield schedule
    schedule.stop()


@pytest.fixture
def noted() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def manager_on_hours(
    qtbot: Any,
    window: KioskWindow,
    clock: FakeClock,
    make_admin: Any,
    runner: ScheduleRunner,
    noted: list[tuple[str, Any]],
) -> tuple[AdminController, Any]:
    admin = make_admin(
        schedule=lambda: runner, note_change=lambda key, value: noted.append((key, value))
    )
    log_in(qtbot, admin, window, clock, MANAGER_PIN)
    assert admin.show_page("hours")
    return admin, admin.pages["hours"]


def test_new_hours_close_the_kiosk_at_once_are_recorded_and_kept(
    qtbot: Any,
    config: KioskConfig,
    recorded: Recorded,
    tasks: TaskRunner,
    runner: ScheduleRunner,
    noted: list[tuple[str, Any]],
    manager_on_hours: tuple[AdminController, Any],
) -> None:
    _admin, page = manager_on_hours
    assert not runner.closed
    assert page.rows["monday"].edit.text() == "08:00-20:00"
    assert page.rows["saturday"].closed.isChecked()

    page.rows["monday"].edit.setText("08:00-12:00, 13:00-17:00")
    page.save_button.click()
    assert runner.closed and runner.screen_off.isVisible()  # 17:30 is now after closing
    assert page.message.text() == "Hours in effect now: the kiosk is closed."
    assert config.schedule.monday == ["08:00-12:00", "13:00-17:00"]
    hours = [payload for kind, payload in recorded.events if kind == "admin.hours"]
    assert hours == [
        {
            "role": "manager",
            "changed": {"monday": ["08:00-12:00", "13:00-17:00"]},
            "previous": {"monday": ["08:00-20:00"]},
        }
    ]
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    overlay = config.data_path(STAFF_OVERLAY_NAME)
    assert page.save_state.text() == f"saved (kept in {overlay})"
    kept = tomllib.loads(overlay.read_text(encoding="utf-8"))
    assert kept["config"]["schedule"]["monday"] == ["08:00-12:00", "13:00-17:00"]
    assert noted == [("schedule.monday", ["08:00-12:00", "13:00-17:00"])]
    assert config.source is not None
    assert load_config(config.source, env={}).schedule.monday == ["08:00-12:00", "13:00-17:00"]

    # Saturday opened all day is kept too; Monday back to the evening: open again at once
    page.rows["monday"].edit.setText("08:00-20:00")
    page.rows["saturday"].closed.setChecked(False)
    page.rows["saturday"].edit.setText("00:00-24:00")
    page.save_button.click()
    assert not runner.closed and not runner.screen_off.isVisible()
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=5000)
    reloaded = load_config(config.source, env={})
    assert reloaded.schedule.monday == ["08:00-20:00"]
    assert reloaded.schedule.saturday == ["00:00-24:00"]


def test_a_bad_time_is_refused_with_the_reason(
    config: KioskConfig,
    recorded: Recorded,
    runner: ScheduleRunner,
    manager_on_hours: tuple[AdminController, Any],
) -> None:
    _admin, page = manager_on_hours
    page.rows["monday"].edit.setText("08:00-17:00, 25:00-26:00")
    page.rows["tuesday"].closed.setChecked(False)
    page.rows["tuesday"].edit.setText("08:00-17:00")
    page.rows["wednesday"].edit.setText("")
    page.save_button.click()
    assert page.message.text() == (
        "⚠ Not saved: Monday: '25:00-26:00' is not a time window: write HH:MM-HH:MM "
        "(00:00-24:00 for the whole day); Wednesday: no hours given (write HH:MM-HH:MM "
        "(00:00-24:00 for the whole day), or Closed)"
    )
    assert config.schedule.monday == ["08:00-20:00"]  # nothing changed, Tuesday neither
    assert config.schedule.tuesday == ["08:00-20:00"]
    assert not runner.closed
    assert "admin.hours" not in recorded.types()
    assert not config.data_path(STAFF_OVERLAY_NAME).exists()


def test_staff_do_not_get_the_hours_page(
    qtbot: Any, window: KioskWindow, clock: FakeClock, make_admin: Any
) -> None:
    admin = make_admin()
    log_in(qtbot, admin, window, clock, STAFF_PIN)
    assert not admin.show_page("hours")
