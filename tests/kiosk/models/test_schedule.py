"""Opening hours and dayparting on a hand-driven clock: weekdays, holidays, windows across
midnight, daylight saving time, and the wall clock jumping under a running kiosk."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from kiosk.models.schedule import Schedule, ScheduleWatch
from settings.model import ScheduleSection
from tests.support.clock import FakeClock

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(text: str) -> dt.datetime:
    """A local Paris time, e.g. "2026-11-23 08:00" (a Monday)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=PARIS)


def shop(**hours: object) -> Schedule:
    week = {day: ["08:00-20:00"] for day in
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")}  # fmt: skip
    section = ScheduleSection.model_validate(
        {"enabled": True, "timezone": "Europe/Paris", **week, "sunday": [], **hours}
    )
    return Schedule(section)


def test_weekday_hours_open_and_close_with_the_next_change() -> None:
    schedule = shop()
    before = schedule.opening_at(at("2026-11-23 07:59"))
    assert not before.open and before.until == at("2026-11-23 08:00")
    noon = schedule.opening_at(at("2026-11-23 12:00"))
    assert noon.open and noon.reason == "hours" and noon.until == at("2026-11-23 20:00")
    assert not schedule.opening_at(at("2026-11-23 20:00")).open  # the end is exclusive
    sunday = schedule.opening_at(at("2026-11-29 12:00"))
    assert not sunday.open and sunday.until == at("2026-11-30 08:00")


def test_exceptions_replace_the_weekday_hours() -> None:
    schedule = shop(exceptions={"2026-12-25": [], "2026-12-24": ["08:00-14:00"]})
    christmas = schedule.opening_at(at("2026-12-25 12:00"))
    assert not christmas.open and christmas.reason == "exception 2026-12-25"
    assert christmas.until == at("2026-12-26 08:00")
    eve = schedule.opening_at(at("2026-12-24 13:00"))
    assert eve.open and eve.until == at("2026-12-24 14:00")
    assert not schedule.opening_at(at("2026-12-24 15:00")).open


def test_a_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    schedule = shop(friday=["18:00-02:00"], saturday=[])
    late = schedule.opening_at(at("2026-11-28 01:00"))  # Saturday night, from Friday's window
    assert late.open and late.until == at("2026-11-28 02:00")
    assert not schedule.opening_at(at("2026-11-28 02:30")).open
    assert not schedule.opening_at(at("2026-11-27 17:59")).open


@pytest.mark.parametrize(
    ("day", "utc_opening"),
    [
        ("2026-03-28", "2026-03-28 07:00"),  # winter time: UTC+1
        ("2026-03-29", "2026-03-29 06:00"),  # summer time starts that night: UTC+2
        ("2026-10-24", "2026-10-24 06:00"),
        ("2026-10-25", "2026-10-25 07:00"),  # back to winter time that night
    ],
)
def test_opening_is_at_local_time_on_both_sides_of_daylight_saving(
    day: str, utc_opening: str
) -> None:
    schedule = shop(saturday=["08:00-20:00"], sunday=["08:00-20:00"])
    opens = dt.datetime.fromisoformat(utc_opening).replace(tzinfo=dt.UTC)
    assert not schedule.opening_at(opens - dt.timedelta(minutes=1)).open
    assert schedule.opening_at(opens).open
    closed = schedule.opening_at(at(f"{day} 07:00"))
    assert closed.until == opens


def test_a_night_window_across_the_daylight_saving_change_closes_at_local_time() -> None:
    schedule = shop(saturday=["22:00-06:00"])
    # 2026-03-29: 02:00 does not exist in Paris; the window still ends at 06:00 local
    opening = schedule.opening_at(at("2026-03-29 04:00"))
    assert opening.open and opening.until == at("2026-03-29 06:00")
    assert opening.until.astimezone(dt.UTC).hour == 4


def test_dayparts_pick_the_highest_priority_window() -> None:
    schedule = shop(dayparts=[
        {"name": "breakfast", "window": "06:00-11:00", "priority": 10,
         "days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
         "attract_pages": ["breakfast-offer"]},
        {"name": "lunch", "window": "10:00-14:00", "priority": 5},
    ])  # fmt: skip
    assert schedule.daypart_at(at("2026-11-23 10:30")).name == "breakfast"  # type: ignore[union-attr]
    assert schedule.daypart_at(at("2026-11-23 11:30")).name == "lunch"  # type: ignore[union-attr]
    assert schedule.daypart_at(at("2026-11-28 07:00")) is None  # Saturday: no breakfast
    assert schedule.daypart_at(at("2026-11-28 10:30")).name == "lunch"  # type: ignore[union-attr]
    assert schedule.daypart_at(at("2026-11-23 15:00")) is None


def test_no_schedule_is_open_around_the_clock() -> None:
    schedule = Schedule(ScheduleSection(), zone=PARIS)
    opening = schedule.opening_at(at("2026-11-29 03:00"))
    assert opening.open and opening.until is None and opening.reason == "no schedule"


def test_bad_hours_zone_and_dates_are_named() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="monday"):
        ScheduleSection.model_validate({"monday": ["8:00-20:00"]})
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        ScheduleSection.model_validate({"timezone": "Mars/Olympus"})
    with pytest.raises(ValidationError, match="'25/12/2026' is not a date"):
        ScheduleSection.model_validate({"exceptions": {"25/12/2026": []}})


class WallClock:
    """A wall clock the test sets, beside a monotonic FakeClock."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_watch_reports_opening_closing_and_dayparts_as_time_passes() -> None:
    schedule = shop(dayparts=[{"name": "breakfast", "window": "06:00-11:00"}])
    wall, mono = WallClock(at("2026-11-23 07:59:50")), FakeClock()
    watch = ScheduleWatch(schedule, wall, mono)
    assert not watch.opening.open and watch.daypart is not None
    wall.now += dt.timedelta(seconds=15)
    mono.advance(15)
    changes = watch.check()
    assert [c.kind for c in changes] == ["open"]
    assert changes[0].payload == {"reason": "hours", "until": at("2026-11-23 20:00").isoformat()}
    wall.now, _ = at("2026-11-23 11:00:05"), mono.advance(3 * 3600 + 15)
    assert [(c.kind, c.payload["daypart"]) for c in watch.check()] == [("daypart", None)]


def test_a_clock_jump_is_reported_and_the_schedule_follows_it_at_once() -> None:
    schedule = shop()
    # No RTC battery: the kiosk booted believing it was 1 Jan, 00:00 (closed)
    wall, mono = WallClock(at("2026-01-01 00:00")), FakeClock()
    watch = ScheduleWatch(schedule, wall, mono)
    assert not watch.opening.open
    # 15 s later NTP sets the real time: Monday 23 November, 10:00
    wall.now, _ = at("2026-11-23 10:00:15"), mono.advance(15)
    changes = watch.check()
    assert [c.kind for c in changes] == ["clock_jump", "open"]
    assert changes[0].payload["jump_s"] == pytest.approx(
        (at("2026-11-23 10:00:15") - at("2026-01-01 00:00")).total_seconds() - 15, abs=0.1
    )
    # a wrong manual correction at 19:00, two hours back: still open, only the jump is news
    wall.now, _ = at("2026-11-23 19:00:00"), mono.advance(8 * 3600 + 59 * 60 + 45)
    assert watch.check() == []
    wall.now, _ = at("2026-11-23 17:00:15"), mono.advance(15)
    jump = watch.check()
    assert [c.kind for c in jump] == ["clock_jump"]
    assert jump[0].payload["jump_s"] == pytest.approx(-2 * 3600, abs=0.1)
    # a small drift is not a jump
    wall.now, _ = wall.now + dt.timedelta(seconds=20), mono.advance(15)
    assert watch.check() == []
