"""Opening hours and dayparting on the shopper's screen.

:class:`ScheduleRunner` asks ``kiosk.models.schedule.ScheduleWatch`` every ``[schedule]
check_s`` seconds (a UI-thread timer; the watch is pure Python and does no I/O) what changed
and applies each change, recording it as ``system.schedule.<kind>`` through the window's
recorder so that analysts can tell "closed" from "broken":

- **close**: the shopper's session ends, the window shows black with no page, takes no
  touches and hides the cursor (:class:`ScreenOff`); the display outputs are switched off
  through ``wlr-randr`` when the kiosk runs under Wayland and it is installed (on the task
  runner; a failure is logged); whatever else idles (the camera, the Redis mirror) is
  paused. The uplink goes on draining the outbox.
- **open**: outputs on, what idled resumes, the window goes to attract with a fresh session.
- **daypart**: the attract loop shows the daypart's ``attract_pages`` (``Navigation``).
- **clock_jump**: recorded; the schedule already follows the corrected time.

A daypart's ``experience`` (another drawing inside the window) is not switched to: the
attract pages are. docs/install.md says so.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QCursor, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from kiosk.models.schedule import Change, ScheduleWatch
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from settings.model import DaypartSection

log = logging.getLogger(__name__)

#: The lane the display outputs are switched on (one switch at a time, in order).
DISPLAY_LANE = "display-power"
#: How long ``wlr-randr`` may take.
WLR_RANDR_TIMEOUT_S = 10.0
#: Input the black screen swallows while the shop is closed.
_SWALLOWED = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
        QEvent.Type.TouchCancel,
        QEvent.Type.Wheel,
    }
)


class ScreenOff(QWidget):
    """What the shopper window shows while the shop is closed: black, no cursor, and every
    touch or click taken here (none reaches the page, none is recorded)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(QCursor(Qt.CursorShape.BlankCursor))
        #: Touches and clicks taken while closed (for the log and tests).
        self.swallowed = 0

    def paintEvent(self, event: QPaintEvent) -> None:
        """All black."""
        QPainter(self).fillRect(event.rect(), QColor(0, 0, 0))

    def event(self, event: QEvent) -> bool:
        """Take every touch, click and wheel turn."""
        if event.type() in _SWALLOWED:
            if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
                self.swallowed += 1
            event.accept()
            return True
        return super().event(event)


@dataclass(frozen=True)
class Idler:
    """A part that idles while the shop is closed (the camera, the Redis mirror)."""

    name: str
    pause: Callable[[], None]
    resume: Callable[[], None]


def wlr_outputs(listing: str) -> list[str]:
    """The output names in ``wlr-randr``'s listing (each output's first line starts with its
    name, its details are indented)."""
    return [line.split()[0] for line in listing.splitlines() if line and not line[0].isspace()]


def switch_outputs(on: bool) -> list[str]:
    """Switch every Wayland output on or off with ``wlr-randr`` (runs on a worker); the
    outputs switched. Raises OSError when it cannot run, RuntimeError with its own words when
    it fails (no compositor, or one without wlr-output-management, as Debian 12's cage 0.1.4)."""
    outputs = wlr_outputs(_wlr_randr())
    for output in outputs:
        _wlr_randr("--output", output, "--on" if on else "--off")
    return outputs


def _wlr_randr(*args: str) -> str:
    done = subprocess.run(
        ["wlr-randr", *args], capture_output=True, text=True, timeout=WLR_RANDR_TIMEOUT_S
    )
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split()) or "no message"
        command = " ".join(["wlr-randr", *args])
        raise RuntimeError(f"{command} exited with {done.returncode}: {said}")
    return done.stdout


def outputs_switchable() -> bool:
    """Whether the kiosk runs under Wayland with ``wlr-randr`` installed."""
    return bool(os.environ.get("WAYLAND_DISPLAY")) and shutil.which("wlr-randr") is not None


class ScheduleRunner(QObject):
    """Applies the schedule's changes to the shopper window and the parts that idle."""

    def __init__(
        self,
        *,
        watch: ScheduleWatch,
        window: KioskWindow,
        tasks: TaskRunner,
        check_s: float,
        idlers: Sequence[Idler] = (),
        switch_display: bool | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.watch = watch
        self.window = window
        self.tasks = tasks
        self.idlers = list(idlers)
        self.switch_display = outputs_switchable() if switch_display is None else switch_display
        self.closed = False
        self.screen_off = ScreenOff(window)
        self.screen_off.hide()
        layout = window.layout()
        assert layout is not None
        layout.addWidget(self.screen_off)
        self.timer = QTimer(self)
        self.timer.setInterval(int(check_s * 1000))
        self.timer.timeout.connect(self.check)
        window.navigation.time_of_day = lambda: watch.wall().astimezone(watch.schedule.zone).time()

    def start(self) -> None:
        """Apply the state at start (closed, a daypart) and look again every ``check_s``."""
        opening = self.watch.opening
        if not opening.open:
            until = opening.until.isoformat() if opening.until else None
            self.apply(Change("close", {"reason": opening.reason, "until": until, "start": True}))
        if self.watch.daypart is not None:
            self.apply(Change("daypart", {"daypart": self.watch.daypart.name, "previous": None}))
        self.timer.start()

    def stop(self) -> None:
        """Stop looking at the clock (the kiosk is stopping)."""
        self.timer.stop()

    def check(self) -> None:
        """Look at the clocks once and apply what changed (the timer calls it; tests too)."""
        for change in self.watch.check():
            self.apply(change)

    def apply(self, change: Change) -> None:
        """Record ``change`` as ``system.schedule.<kind>`` and carry it out."""
        log.info("schedule: %s %s", change.kind, change.payload)
        if change.kind == "close":
            self._close()
        self.window.recorder.record(f"system.schedule.{change.kind}", payload=dict(change.payload))
        if change.kind == "open":
            self._open()
        elif change.kind == "daypart":
            self._daypart(self.watch.daypart)

    def _close(self) -> None:
        if self.closed:
            return
        self.window.go_attract("closed")  # the shopper's session ends before the screen does
        self.closed = True
        self.window.view.hide()
        self.screen_off.show()
        self.screen_off.raise_()
        for idler in self.idlers:
            self._idle(idler, pause=True)
        self._power(on=False)

    def _open(self) -> None:
        if not self.closed:
            return
        self._power(on=True)
        for idler in self.idlers:
            self._idle(idler, pause=False)
        self.closed = False
        self.screen_off.hide()
        self.window.view.show()
        self.window.go_attract("opening")

    def _idle(self, idler: Idler, *, pause: bool) -> None:
        try:
            (idler.pause if pause else idler.resume)()
        except Exception:
            log.exception("could not %s the %s", "pause" if pause else "resume", idler.name)

    def _daypart(self, daypart: DaypartSection | None) -> None:
        navigation = self.window.navigation
        if daypart is not None and daypart.experience is not None:
            log.warning(
                "daypart %s: switching to another experience (%s) is not built; the attract "
                "pages listed for it show, in the experience on screen",
                daypart.name,
                daypart.experience,
            )
        navigation.daypart_pages = tuple(daypart.attract_pages) if daypart else ()
        if not self.closed and self.window.session.session_id is None:
            self.window.go_attract("daypart")

    def _power(self, *, on: bool) -> None:
        if not self.switch_display:
            return
        state = "on" if on else "off"

        def switched(outputs: list[str]) -> None:
            log.info("display outputs %s: %s", state, ", ".join(outputs) or "none listed")

        def failed(error: Exception) -> None:
            log.error("could not switch the display outputs %s with wlr-randr: %s", state, error)

        self.tasks.run(
            lambda: switch_outputs(on), name=f"display outputs {state}", lane=DISPLAY_LANE
        ).on_success(switched).on_failure(failed)
