"""The calibration page: the live depth image, the region of interest and the zone distances.

The image comes from ``PresenceService.set_preview_sink`` (about 5 fps, float metres) only
while this page is on screen; the page keeps the latest one to draw and nothing else (shown,
never stored). Each pixel is coloured by the zone its distance falls in, so staff see at once
where ENGAGED ends. Dragging the rectangle or a slider applies at once
(``update_calibration``); when the hand lifts, the change is kept with staff's other changes
in the data folder (:mod:`kiosk.admin.configfile`; the config file is never written) on a
single writer lane, and can be undone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QSlider, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.audit import AdminAudit
from kiosk.admin.configfile import Calibration, NoteChange, OverlaySaveError, StaffChanges
from kiosk.admin.tiles import presence_starting
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from settings.model import ZonesSection

if TYPE_CHECKING:
    from sensors import PresenceService

log = logging.getLogger(__name__)

#: Slider range and step of the zone distances.
ZONE_MIN_M = 0.3
ZONE_MAX_M = 8.0
ZONE_STEP_M = 0.05
#: Neighbouring zones stay at least this far apart.
ZONE_GAP_M = 0.1
#: After the last change, wait this long before writing the file (a drag is many changes).
COMMIT_DELAY_MS = 600
#: The task runner's lane staff's changes are written on (one write at a time, in order).
SAVE_LANE = "admin-calibration"
#: Over the image while no depth frame has come yet.
WAITING = "waiting for the camera…"

ZONE_COLOURS = {
    "engaged": (212, 58, 47),
    "approaching": (217, 154, 0),
    "passing": (31, 157, 85),
    "away": (40, 70, 110),
}


def calibration_of(config: KioskConfig) -> Calibration:
    """The calibration the config holds now."""
    sensors = config.sensors
    left, top, right, bottom = sensors.roi
    zones = sensors.zones
    return Calibration(
        (left, top, right, bottom), zones.passing_m, zones.approaching_m, zones.engaged_m
    )


def zone_colour_map(calibration: Calibration, top_m: float) -> pg.ColorMap:
    """A stepped colour map over 0..``top_m`` metres: black for no depth, then one colour
    per zone (engaged, approaching, passing, away)."""
    black = (0, 0, 0)

    def at(metres: float) -> float:
        return min(1.0, max(0.0, metres / top_m))

    eps = 1e-4
    bands = [
        (0.0, black),
        (0.001, black),
        (0.001 + eps, ZONE_COLOURS["engaged"]),
        (at(calibration.engaged_m), ZONE_COLOURS["engaged"]),
        (at(calibration.engaged_m) + eps, ZONE_COLOURS["approaching"]),
        (at(calibration.approaching_m), ZONE_COLOURS["approaching"]),
        (at(calibration.approaching_m) + eps, ZONE_COLOURS["passing"]),
        (at(calibration.passing_m), ZONE_COLOURS["passing"]),
        (at(calibration.passing_m) + eps, ZONE_COLOURS["away"]),
        (1.0, ZONE_COLOURS["away"]),
    ]
    positions = np.array([p for p, _ in bands])
    positions = np.maximum.accumulate(positions)  # the map needs non-decreasing stops
    return pg.ColorMap(positions, [c for _, c in bands])


class _PreviewBridge:
    """Carries depth images from the sensor thread to the UI thread, latest only: ``wake``
    (from the sensor thread) has the UI thread take the image, once per waiting image."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._latest: npt.NDArray[np.float32] | None = None
        self.open = False

    def push(self, image: npt.NDArray[np.float32]) -> None:
        """Sensor thread: keep ``image`` as the latest; wake the UI if it was not waiting."""
        with self._lock:
            if not self.open:
                return  # a frame the sensor thread had in hand as the page closed
            waiting = self._latest is not None
            self._latest = image
        if not waiting:
            self._wake()

    def set_open(self, open_: bool) -> None:
        """Accept images (True) or drop them (False, and forget the latest)."""
        with self._lock:
            self.open = open_
            if not open_:
                self._latest = None

    def take(self) -> npt.NDArray[np.float32] | None:
        """UI thread: the latest image, once."""
        with self._lock:
            image, self._latest = self._latest, None
        return image


class ZoneSlider(QWidget):
    """A labelled slider in metres."""

    changed = Signal(float)
    released = Signal()

    def __init__(self, name: str, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(ZONE_MIN_M / ZONE_STEP_M), round(ZONE_MAX_M / ZONE_STEP_M))
        self.slider.setMinimumHeight(70)
        self.slider.setPageStep(2)
        self._name = theme.label(name, theme.FONT_BODY, bold=True, wrap=False)
        self._value = theme.label("", theme.FONT_VALUE, bold=True, wrap=False)
        self._value.setMinimumWidth(130)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._name, 0, 0)
        layout.addWidget(self._value, 0, 1, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.slider, 1, 0, 1, 2)
        self.set_value(value)
        self.slider.valueChanged.connect(self._moved)
        self.slider.sliderReleased.connect(self.released)

    def value(self) -> float:
        """The distance in metres."""
        return round(self.slider.value() * ZONE_STEP_M, 3)

    def set_value(self, metres: float) -> None:
        """Show ``metres`` without emitting ``changed``."""
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(metres / ZONE_STEP_M))
        self._value.setText(f"{self.value():.2f} m")

    def _moved(self, _steps: int) -> None:
        self._value.setText(f"{self.value():.2f} m")
        self.changed.emit(self.value())


class CalibrationPage(QWidget):
    """Live depth view, draggable ROI, zone sliders, undo; kept in staff's overlay.

    Every committed change is recorded through ``audit`` ("calibration" or
    "calibration_undo", with the ROI and the zones). Writes to the overlay
    (``<data_dir>/staff-config.toml``) run on the ``tasks`` lane :data:`SAVE_LANE`, one after
    the other; the zones are also handed to ``note`` (the fleet's shadow, when it runs).
    """

    def __init__(
        self,
        *,
        config: KioskConfig,
        presence: PresenceService | None,
        tasks: TaskRunner,
        audit: AdminAudit,
        note: NoteChange | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._presence = presence
        self._tasks = tasks
        self._audit = audit
        self._writer = StaffChanges.for_config(config, note)
        self.current = calibration_of(config)
        self.committed = self.current
        self.undo_stack: list[Calibration] = []
        self.frames_shown = 0
        self._shape: tuple[int, ...] = ()
        self._bridge = _PreviewBridge(lambda: tasks.post(self._show_frame))
        self.view, self.image, self.roi, self.no_image = self._depth_view()
        self.engaged = ZoneSlider("Engaged closer than", self.current.engaged_m)
        self.approaching = ZoneSlider("Approaching closer than", self.current.approaching_m)
        self.passing = ZoneSlider("Passing closer than", self.current.passing_m)
        for slider in (self.engaged, self.approaching, self.passing):
            slider.changed.connect(self._zones_moved)
            slider.released.connect(self._schedule_commit)
        self.undo_button = theme.button("Undo")
        self.undo_button.clicked.connect(self.undo)
        self.live = theme.label("", theme.FONT_VALUE, bold=True)
        self.save_state = theme.label("", theme.FONT_BODY, colour=theme.MUTED)
        self._lay_out()
        self._commit_timer = QTimer(self)
        self._commit_timer.setSingleShot(True)
        self._commit_timer.setInterval(COMMIT_DELAY_MS)
        self._commit_timer.timeout.connect(self.commit)
        self._apply_colours()
        self._update_buttons()
        self._say_where_changes_go()

    def _depth_view(self) -> tuple[pg.PlotWidget, pg.ImageItem, pg.RectROI, pg.TextItem]:
        """The depth image over the unit square, the draggable ROI and the waiting text."""
        view = pg.PlotWidget(background="#000000")
        view.setMenuEnabled(False)
        view.hideButtons()
        view.hideAxis("left")
        view.hideAxis("bottom")
        view.setAspectLocked(False)
        view.invertY(True)
        view.setMouseEnabled(x=False, y=False)
        image = pg.ImageItem(axisOrder="row-major")
        image.setRect(QRectF(0, 0, 1, 1))
        view.addItem(image)
        view.setRange(QRectF(0, 0, 1, 1), padding=0.02)
        left, top, right, bottom = self.current.roi
        roi = pg.RectROI(
            [left, top],
            [right - left, bottom - top],
            pen=pg.mkPen("#ffffff", width=4),
            maxBounds=QRectF(0, 0, 1, 1),
            movable=True,
            rotatable=False,
            resizable=True,
        )
        roi.handleSize = 28  # finger-sized
        for handle in roi.getHandles():
            roi.removeHandle(handle)
        roi.addScaleHandle([1, 1], [0, 0])
        roi.addScaleHandle([0, 0], [1, 1])
        view.addItem(roi)
        roi.sigRegionChanged.connect(self._roi_moved)
        roi.sigRegionChangeFinished.connect(self._schedule_commit)
        no_image = pg.TextItem(WAITING, color=theme.TEXT, anchor=(0.5, 0.5))
        no_image.setPos(0.5, 0.5)
        view.addItem(no_image)
        return view, image, roi, no_image

    def _lay_out(self) -> None:
        """The depth view on the left; the live reading, the legend, the sliders and undo
        on the right."""
        legend = theme.label(
            " ".join(
                f'<span style="color: rgb{ZONE_COLOURS[z]}">■</span> {z}'
                for z in ("engaged", "approaching", "passing", "away")
            ),
            theme.FONT_BODY,
        )
        side = QVBoxLayout()
        side.setSpacing(18)
        side.addWidget(self.live)
        side.addWidget(legend)
        side.addWidget(self.engaged)
        side.addWidget(self.approaching)
        side.addWidget(self.passing)
        side.addWidget(
            theme.label(
                "Drag the white rectangle to where shoppers stand; drag its corners to resize.",
                theme.FONT_BODY,
                colour=theme.MUTED,
            )
        )
        side.addWidget(self.undo_button)
        side.addWidget(self.save_state)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.view, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Calibration"))
        layout.addLayout(body, 1)

    def _say_where_changes_go(self) -> None:
        """Changes apply at once; say when they lose to the environment at the next start."""
        overridden = sorted(
            name
            for name in os.environ
            if name.startswith(("KIOSK_SENSORS__ROI", "KIOSK_SENSORS__ZONES__"))
        )
        if overridden:
            # the loader applies these over the file at the next start
            self.save_state.setText(
                f"⚠ {', '.join(overridden)} set: it wins over staff's changes at restart"
            )

    # -- AdminPage --------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Start the live depth image."""
        self.start_preview()

    def on_hide(self) -> None:
        """Save what staff changed and stop the depth image."""
        self.commit()
        self.stop_preview()

    def refresh(self) -> None:
        """Show the current zone and distance."""
        self.show_presence()

    def shutdown(self) -> None:
        """Write the newest calibration now if it is not on disk yet: the task runner
        drops queued work when the kiosk stops (called on the UI thread, at stop only)."""
        self.commit()
        try:
            self._writer.write_wanted()
        except OverlaySaveError as exc:
            log.error("calibration not saved at shutdown: %s", exc)

    # -- preview ----------------------------------------------------------------------------

    def start_preview(self) -> None:
        """Begin receiving depth images (the page is on screen)."""
        self._bridge.set_open(True)
        if self._presence is not None:
            self._presence.set_preview_sink(self._bridge.push)

    def stop_preview(self) -> None:
        """Stop receiving depth images and forget the last one."""
        if self._presence is not None:
            self._presence.set_preview_sink(None)
        self._bridge.set_open(False)
        self.image.clear()
        self.no_image.setVisible(True)

    def push_frame(self, image: npt.NDArray[np.float32]) -> None:
        """Hand a depth image in as the sensor thread does (any thread)."""
        self._bridge.push(image)

    def _show_frame(self) -> None:
        image = self._bridge.take()
        if image is None:
            return
        if image.shape != self._shape:
            # the frame spans 0..1 both ways (as the ROI does): show it in its true shape
            self._shape = image.shape
            height, width = image.shape[:2]
            self.view.setAspectLocked(True, ratio=width / height)
            self.view.setRange(QRectF(0, 0, 1, 1), padding=0.02)
        self.image.setImage(image, autoLevels=False, levels=(0.0, self._top_m()))
        self.image.setRect(QRectF(0, 0, 1, 1))
        self.no_image.setVisible(False)
        self.frames_shown += 1

    def show_presence(self) -> None:
        """Show the current zone and distance (the controller calls this every second); what
        the camera cannot see is said instead: no camera, its fault, or simulated shoppers."""
        presence = self._presence
        if presence is None:
            self.live.setText("no camera: presence sensing is not running")
            self.no_image.setText("no camera")
            return
        health = presence.health()
        if health.simulated:
            self.live.setText("simulated shoppers: no camera to calibrate")
            self.no_image.setText("no camera: shoppers are simulated")
            return
        if not health.online and not presence_starting(presence, health):
            self.live.setText(f"no camera: {health.message or health.status}")
            self.no_image.setText(f"camera {health.status.replace('_', ' ')}")
            return
        webcam = self._config.sensors.type == "webcam"
        # a webcam sees no depth: there is no image to colour by zone, only the readings
        self.no_image.setText("a webcam gives no depth image" if webcam else WAITING)
        state = presence.state
        if state is None:
            self.live.setText("no presence report yet")
            return
        distance = "-" if state.distance_m is None else f"{state.distance_m:.2f} m"
        self.live.setText(f"now: {state.zone.value.upper()} · {distance} · {state.people} people")

    def _top_m(self) -> float:
        return self.current.passing_m + 1.5

    def _apply_colours(self) -> None:
        self.image.setColorMap(zone_colour_map(self.current, self._top_m()))
        self.image.setLevels((0.0, self._top_m()))

    # -- changes ----------------------------------------------------------------------------

    def _roi_moved(self) -> None:
        pos, size = self.roi.pos(), self.roi.size()
        left, top = (round(min(1.0, max(0.0, v)), 3) for v in (pos.x(), pos.y()))
        right = round(min(1.0, max(0.0, pos.x() + size.x())), 3)
        bottom = round(min(1.0, max(0.0, pos.y() + size.y())), 3)
        roi = (left, top, right, bottom)
        if not (roi[0] < roi[2] and roi[1] < roi[3]):
            return
        self._apply(Calibration(roi, *self._zone_values()))

    def _zone_values(self) -> tuple[float, float, float]:
        return (self.passing.value(), self.approaching.value(), self.engaged.value())

    def _zones_moved(self, _value: float) -> None:
        sender = self.sender()
        passing, approaching, engaged = self._zone_values()
        # keep engaged < approaching < passing by stopping the moved slider at its neighbours
        if sender is self.engaged:
            engaged = min(engaged, approaching - ZONE_GAP_M)
            self.engaged.set_value(engaged)
        elif sender is self.approaching:
            approaching = min(max(approaching, engaged + ZONE_GAP_M), passing - ZONE_GAP_M)
            self.approaching.set_value(approaching)
        elif sender is self.passing:
            passing = max(passing, approaching + ZONE_GAP_M)
            self.passing.set_value(passing)
        self._apply(Calibration(self.current.roi, *self._zone_values()))
        self._schedule_commit()

    def _apply(self, calibration: Calibration) -> None:
        """Apply at once to the presence service (its next frame uses it)."""
        if calibration == self.current:
            return
        self.current = calibration
        self._apply_colours()
        presence = self._presence
        if presence is not None:
            try:
                presence.update_calibration(
                    roi=list(calibration.roi),
                    zones=ZonesSection(**calibration.zones_dict()),
                )
            except ValueError as exc:
                self.save_state.setText(f"not applied: {exc}")

    def _schedule_commit(self) -> None:
        self._commit_timer.start()

    def commit(self) -> None:
        """Make the current calibration the saved one: push undo, write the file, tell the
        controller."""
        self._commit_timer.stop()
        if self.current == self.committed:
            return
        self.undo_stack.append(self.committed)
        self._commit(self.current, "calibration")

    def undo(self) -> None:
        """Go back to the calibration before the last committed change."""
        self._commit_timer.stop()
        if not self.undo_stack:
            return
        previous = self.undo_stack.pop()
        self._apply(previous)
        self._show(previous)
        self._commit(previous, "calibration_undo")

    def _commit(self, calibration: Calibration, kind: str) -> None:
        self.committed = calibration
        self._update_config(calibration)
        self._update_buttons()
        self._audit(kind, roi=list(calibration.roi), zones=dict(calibration.zones_dict()))
        writer = self._writer
        self.save_state.setText("saving…")
        writer.want(calibration.values())
        self._tasks.run(writer.write_wanted, name="calibration save", lane=SAVE_LANE).on_success(
            lambda _written: self._save_finished("")
        ).on_failure(lambda error: self._save_finished(str(error)))

    def _save_finished(self, error: str) -> None:
        if error:
            log.error("calibration not saved: %s", error)
            self.save_state.setText(f"⚠ NOT SAVED: {error}")
        else:
            self.save_state.setText(f"saved (kept in {self._writer.path})")

    def _update_config(self, calibration: Calibration) -> None:
        """Keep the in-memory config in step, so the status page and a later reopen agree."""
        sensors = self._config.sensors
        try:
            sensors.zones = ZonesSection(**calibration.zones_dict())
            sensors.roi = list(calibration.roi)
        except ValueError as exc:
            log.warning("calibration not valid for the config: %s", exc)

    def _show(self, calibration: Calibration) -> None:
        left, top, right, bottom = calibration.roi
        with QSignalBlocker(self.roi):
            self.roi.setPos([left, top], update=False, finish=False)
            self.roi.setSize([right - left, bottom - top], update=True, finish=False)
        self.engaged.set_value(calibration.engaged_m)
        self.approaching.set_value(calibration.approaching_m)
        self.passing.set_value(calibration.passing_m)

    def _update_buttons(self) -> None:
        self.undo_button.setEnabled(bool(self.undo_stack))
        self.undo_button.setText(f"Undo ({len(self.undo_stack)})" if self.undo_stack else "Undo")
