"""The page titled "Opening hours" (manager): the kiosk's hours per weekday.

Each weekday is one row: its windows as text (``09:00-18:00``; several separated by commas,
``09:00-12:00, 14:00-18:00``; ``22:00-02:00`` runs past midnight; ``00:00-24:00`` is the whole
day) and a "Closed" switch. Save checks every row with the config's own model
(``settings.model.ScheduleSection``) and refuses a bad row with the reason, on the page;
accepted hours go into the running config, into the schedule runner at once (the screen goes
dark or wakes at the new times), into the admin record (``admin.hours``) and into staff's
overlay in the data folder (:mod:`kiosk.admin.configfile`), where they outlive a restart.
Holidays (``exceptions``) and dayparts stay in the config file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.audit import AdminAudit
from kiosk.admin.configfile import NoteChange, StaffChanges
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from settings.model import WEEKDAYS, ScheduleSection
from storage.event import JsonValue

if TYPE_CHECKING:
    from kiosk.schedule_runner import ScheduleRunner

log = logging.getLogger(__name__)

#: The task runner's lane the hours are written on (one write at a time, in order).
SAVE_LANE = "admin-hours"
#: What a window must look like, said when one does not.
WINDOW_FORMAT = "write HH:MM-HH:MM (00:00-24:00 for the whole day)"


def check_hours(
    section: ScheduleSection, rows: dict[str, str | None]
) -> tuple[ScheduleSection | None, list[str]]:
    """``section`` with each weekday's row (its windows as text, None: closed) checked by the
    config's model: the new section, or None and one reason per refused day."""
    changes: dict[str, list[str]] = {}
    reasons: list[str] = []
    for day, text in rows.items():
        windows = [] if text is None else [w.strip() for w in text.split(",") if w.strip()]
        if text is not None and not windows:
            reasons.append(f"{day.capitalize()}: no hours given ({WINDOW_FORMAT}, or Closed)")
            continue
        try:
            ScheduleSection.model_validate({**section.model_dump(), day: windows})
        except ValidationError as exc:
            reasons.append(f"{day.capitalize()}: {_reason(exc)}")
            continue
        changes[day] = windows
    if reasons:
        return None, reasons
    return ScheduleSection.model_validate({**section.model_dump(), **changes}), []


def _reason(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    value = error.get("input")
    if error["type"] == "string_pattern_mismatch":
        return f"{value!r} is not a time window: {WINDOW_FORMAT}"
    return f"{value!r}: {error['msg']}"


_EDIT_STYLE = (
    f"QLineEdit {{ background: {theme.PANEL}; border: 2px solid #33434b; border-radius: 10px;"
    f" padding: 4px 14px; font-size: {theme.FONT_VALUE}px; }}"
    f" QLineEdit:focus {{ border-color: {theme.ACCENT}; }}"
    " QLineEdit:disabled { color: #5c6b73; border-color: #2a353b; }"
)


class HoursRow(QWidget):
    """One weekday: its windows as text, and a Closed switch."""

    def __init__(self, day: str, windows: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day = day
        self.edit = QLineEdit(", ".join(windows))
        self.edit.setMinimumHeight(64)
        self.edit.setStyleSheet(_EDIT_STYLE)
        self.closed: QPushButton = theme.button("Closed", checkable=True)
        self.closed.setFixedWidth(200)
        # the overlay's own rule (by id) outranks the theme's :checked: say it on the button
        self.closed.setStyleSheet(f"QPushButton:checked {{ background: {theme.ACCENT}; }}")
        self.closed.toggled.connect(lambda on: self.edit.setEnabled(not on))
        self.closed.setChecked(not windows)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.closed)

    def value(self) -> str | None:
        """The windows as typed; None when the day is closed."""
        return None if self.closed.isChecked() else self.edit.text()

    def show_windows(self, windows: list[str]) -> None:
        """Show ``windows`` (closed when there are none)."""
        self.closed.setChecked(not windows)
        if windows:
            self.edit.setText(", ".join(windows))


class HoursPage(QWidget):
    """Opening hours per weekday, checked, applied live and kept in staff's overlay.

    ``schedule`` returns the running schedule runner (None while ``[schedule] enabled`` is
    off: the hours are kept and apply once it is on); ``note`` tells the fleet's shadow.
    """

    def __init__(
        self,
        *,
        config: KioskConfig,
        tasks: TaskRunner,
        audit: AdminAudit,
        schedule: Callable[[], ScheduleRunner | None],
        note: NoteChange | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._tasks = tasks
        self._audit = audit
        self._schedule = schedule
        self._writer = StaffChanges.for_config(config, note)
        self.rows = {
            day: HoursRow(day, config.schedule.hours_for(i)) for i, day in enumerate(WEEKDAYS)
        }
        self.save_button = theme.button("Save hours")
        self.save_button.clicked.connect(self.save)
        self.message = theme.label("", theme.FONT_BODY)
        self.message.setWordWrap(True)
        self.save_state = theme.label("", theme.FONT_BODY, colour=theme.MUTED)
        self._lay_out()

    def _lay_out(self) -> None:
        grid = QGridLayout()
        grid.setVerticalSpacing(10)
        for index, (day, row) in enumerate(self.rows.items()):
            grid.addWidget(theme.label(day.capitalize(), theme.FONT_VALUE), index, 0)
            grid.addWidget(row, index, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Opening hours"))
        layout.addWidget(
            theme.label(
                f"Open from–to, local time: {WINDOW_FORMAT}; several windows separated by "
                "commas; 22:00-02:00 runs past midnight. Outside the hours the screen is off.",
                theme.FONT_BODY,
                colour=theme.MUTED,
            )
        )
        layout.addLayout(grid)
        layout.addWidget(self.save_button)
        layout.addWidget(self.message)
        layout.addWidget(self.save_state)
        layout.addStretch(1)

    # -- AdminPage --------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Show the hours in effect (the fleet may have changed them)."""
        for index, row in enumerate(self.rows.values()):
            row.show_windows(self._config.schedule.hours_for(index))
        self.message.setText("")

    def on_hide(self) -> None:
        """Nothing to stop: unsaved rows are shown afresh next time."""

    def refresh(self) -> None:
        """Nothing changes by the second here."""

    def shutdown(self) -> None:
        """Write the hours saved last if they are not on disk yet (the task runner drops
        queued work when the kiosk stops; UI thread, at stop only)."""
        try:
            self._writer.write_wanted()
        except OSError as exc:
            log.error("opening hours not saved at shutdown: %s", exc)

    # -- saving -----------------------------------------------------------------------------

    def save(self) -> None:
        """Check every row; refuse with the reasons, or apply, record and keep the hours."""
        old = self._config.schedule
        new, reasons = check_hours(old, {day: row.value() for day, row in self.rows.items()})
        if new is None:
            self._say("⚠ Not saved: " + "; ".join(reasons), theme.COLOURS["bad"])
            return
        changed: dict[str, JsonValue] = {
            day: list(getattr(new, day))
            for day in WEEKDAYS
            if getattr(new, day) != getattr(old, day)
        }
        if not changed:
            self._say("No change.")
            return
        self._config.schedule = new
        previous: dict[str, JsonValue] = {day: list(getattr(old, day)) for day in changed}
        self._audit("hours", changed=changed, previous=previous)
        self._say(self._apply(new))
        self._keep({f"schedule.{day}": windows for day, windows in changed.items()})

    def _say(self, text: str, colour: str = theme.TEXT) -> None:
        self.message.setStyleSheet(
            f"font-size: {theme.FONT_BODY}px; color: {colour}; background: transparent;"
        )
        self.message.setText(text)

    def _apply(self, section: ScheduleSection) -> str:
        """Give the running schedule the new hours and let it look at once."""
        runner = self._schedule()
        if runner is None:
            return "Hours saved; the schedule is off ([schedule] enabled = false) on this kiosk."
        from kiosk.models.schedule import Schedule

        runner.watch.schedule = Schedule(section, runner.watch.schedule.zone)
        runner.check()
        return "Hours in effect now: the kiosk is " + ("closed." if runner.closed else "open.")

    def _keep(self, values: dict[str, Any]) -> None:
        self.save_state.setText("saving…")
        self._writer.want(values)
        self._tasks.run(self._writer.write_wanted, name="hours save", lane=SAVE_LANE).on_success(
            lambda _written: self.save_state.setText(f"saved (kept in {self._writer.path})")
        ).on_failure(self._not_saved)

    def _not_saved(self, error: Exception) -> None:
        log.error("opening hours not saved: %s", error)
        self.save_state.setText(f"⚠ NOT SAVED: {error}")
