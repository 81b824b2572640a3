"""Opening hours and dayparting, evaluated against the wall clock.

``Schedule`` answers "is the kiosk open now, until when, and which daypart applies" from the
``[schedule]`` config: windows per weekday in local time (several per day, windows that cross
midnight belong to the day they start), dates with their own hours (holidays), and dayparts
with priorities. Times are compared as aware datetimes in the configured zone, so a window
opens at 08:00 local time on the days daylight saving time starts and ends too.

``ScheduleWatch`` is what the kiosk runs every ``check_s`` seconds: it reports each change
(opened, closed, daypart) since the last look, and a wall-clock jump (NTP correcting a clock
that had no RTC battery, or a hand change) by comparing the wall clock's progress with the
monotonic clock's; the schedule then follows the corrected time at once. Dwell times and
session timeouts never use the wall clock (kiosk.models.session uses the monotonic clock).

Plain Python with injectable clocks: tests drive weekdays, holidays, midnight, DST and jumps.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from settings.model import DaypartSection, ScheduleSection

#: A wall clock moving this much more or less than the monotonic clock between two looks is
#: a jump (NTP slews small errors; it steps big ones).
JUMP_S = 60.0
#: How far ahead the next change is looked for.
HORIZON_DAYS = 8


@dataclass(frozen=True)
class Window:
    """One opening window: from ``start`` on its day to ``end`` (the next day when it crosses
    midnight)."""

    start: dt.time
    end: dt.time | None  # None: midnight at the end of the day ("24:00")

    @classmethod
    def parse(cls, text: str) -> Window:
        """``"08:00-20:00"``, ``"22:00-02:00"`` or ``"00:00-24:00"``."""
        start, end = text.split("-")
        return cls(
            dt.time.fromisoformat(start), None if end == "24:00" else dt.time.fromisoformat(end)
        )

    def span(self, day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """When the window opens and closes on ``day``, as aware datetimes in ``zone``."""
        opens = dt.datetime.combine(day, self.start, zone)
        if self.end is None or self.end <= self.start:
            closes_day = day + dt.timedelta(days=1)
            end = self.end or dt.time(0, 0)
        else:
            closes_day, end = day, self.end
        return opens, dt.datetime.combine(closes_day, end, zone)


@dataclass(frozen=True)
class Opening:
    """Whether the kiosk is open at a moment, and why."""

    open: bool
    #: "hours", "exception 2026-12-25" or "no schedule".
    reason: str
    #: The next moment the answer changes (None: not within the horizon).
    until: dt.datetime | None


@dataclass(frozen=True)
class Change:
    """Something ``ScheduleWatch`` saw change since its last look."""

    #: "open", "close", "daypart" or "clock_jump" (the event ``system.schedule.<kind>``).
    kind: str
    payload: dict[str, str | float | bool | None]


class Schedule:
    """The ``[schedule]`` section, evaluated."""

    def __init__(self, section: ScheduleSection, zone: dt.tzinfo | None = None) -> None:
        self.section = section
        self.zone = zone or local_zone(section.timezone)

    def windows_on(self, day: dt.date) -> tuple[list[Window], str]:
        """The windows that start on ``day`` and where they come from."""
        exception = self.section.exceptions.get(day.isoformat())
        if exception is not None:
            return [Window.parse(w) for w in exception], f"exception {day.isoformat()}"
        return [Window.parse(w) for w in self.section.hours_for(day.weekday())], "hours"

    def opening_at(self, now: dt.datetime) -> Opening:
        """Open or closed at ``now`` (an aware datetime), and until when."""
        if not self.section.enabled:
            return Opening(True, "no schedule", None)
        is_open, reason = self._state(now)
        return Opening(is_open, reason, self._next_change(now, is_open))

    def daypart_at(self, now: dt.datetime) -> DaypartSection | None:
        """The daypart whose window holds ``now``: the highest priority, then the first listed;
        None outside every daypart (or without a schedule)."""
        if not self.section.enabled:
            return None
        best: DaypartSection | None = None
        for part in self.section.dayparts:
            window = Window.parse(part.window)
            if self._inside(now, window, {d for d in part.days}) and (
                best is None or part.priority > best.priority
            ):
                best = part
        return best

    def _state(self, now: dt.datetime) -> tuple[bool, str]:
        local = now.astimezone(self.zone)
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            windows, reason = self.windows_on(day)
            for window in windows:
                opens, closes = window.span(day, self.zone)
                if opens <= now < closes:
                    return True, reason
        return False, self.windows_on(local.date())[1]

    def _inside(self, now: dt.datetime, window: Window, days: set[str]) -> bool:
        local = now.astimezone(self.zone)
        for day in (local.date() - dt.timedelta(days=1), local.date()):
            if day.strftime("%A").lower() not in days:
                continue
            opens, closes = window.span(day, self.zone)
            if opens <= now < closes:
                return True
        return False

    def _boundaries(self, now: dt.datetime) -> Iterator[dt.datetime]:
        local = now.astimezone(self.zone)
        moments: set[dt.datetime] = set()
        for offset in range(-1, HORIZON_DAYS + 1):
            day = local.date() + dt.timedelta(days=offset)
            for window in self.windows_on(day)[0]:
                moments.update(window.span(day, self.zone))
            moments.add(dt.datetime.combine(day, dt.time(0, 0), self.zone))
        return iter(sorted(m for m in moments if m > now))

    def _next_change(self, now: dt.datetime, is_open: bool) -> dt.datetime | None:
        for moment in self._boundaries(now):
            if self._state(moment)[0] != is_open:
                return moment
        return None


def local_zone(name: str) -> dt.tzinfo:
    """The zone named in the config, or the system's local zone."""
    if name:
        return zoneinfo.ZoneInfo(name)
    zone = dt.datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


class ScheduleWatch:
    """Looks at the clocks and reports what changed since the last look (Qt-free; the kiosk
    calls ``check`` from a timer)."""

    def __init__(
        self,
        schedule: Schedule,
        wall: Callable[[], dt.datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self.schedule = schedule
        self.wall = wall
        self.monotonic = monotonic
        now = wall()
        self.opening = schedule.opening_at(now)
        self.daypart = schedule.daypart_at(now)
        self._last_wall = now
        self._last_mono = monotonic()

    def check(self) -> list[Change]:
        """The changes since the last look, in the order they matter: a clock jump first, then
        closing or opening, then the daypart."""
        now, mono = self.wall(), self.monotonic()
        changes: list[Change] = []
        drift = (now - self._last_wall).total_seconds() - (mono - self._last_mono)
        if abs(drift) >= JUMP_S:
            changes.append(
                Change(
                    "clock_jump",
                    {
                        "jump_s": round(drift, 1),
                        "from": self._last_wall.isoformat(),
                        "to": now.isoformat(),
                    },
                )
            )
        self._last_wall, self._last_mono = now, mono
        opening = self.schedule.opening_at(now)
        if opening.open != self.opening.open:
            until = opening.until.isoformat() if opening.until else None
            changes.append(
                Change(
                    "open" if opening.open else "close", {"reason": opening.reason, "until": until}
                )
            )
        self.opening = opening
        daypart = self.schedule.daypart_at(now)
        if (daypart and daypart.name) != (self.daypart and self.daypart.name):
            changes.append(
                Change(
                    "daypart",
                    {
                        "daypart": daypart.name if daypart else None,
                        "previous": self.daypart.name if self.daypart else None,
                    },
                )
            )
        self.daypart = daypart
        return changes
