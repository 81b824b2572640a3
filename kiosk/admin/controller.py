"""The admin controller: gesture -> PIN pad -> panel for one role, idle close, the record.

It watches every press in the shopper window (an application event filter, because the
press goes to whichever child is under the finger), covers the window with an opaque overlay
when staff get in, and writes every admin action as an ``admin.*`` event with the role.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QTouchEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QPushButton,
    QStackedLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.admin import theme
from kiosk.admin.configfile import Calibration
from kiosk.admin.data import AdminData, DashboardSnapshot, StatusSnapshot
from kiosk.admin.gesture import CornerTaps
from kiosk.admin.library import ContentLibrary
from kiosk.admin.pinpad import PinPad
from kiosk.admin.pins import LOCKOUT_FILE, PinGate, PinStatus, Role, check_pin, pin_status
from kiosk.admin.tasks import run_off_ui
from kiosk.services import KioskServices

log = logging.getLogger(__name__)

#: Page name -> (button text, roles that see it), in the order of the side bar.
PAGES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "status": ("Status", ("staff", "manager")),
    "dashboards": ("Dashboards", ("staff", "manager")),
    "calibration": ("Calibration", ("staff", "manager")),
    "content": ("Content", ("manager",)),
    "kiosk": ("Kiosk", ("manager",)),
}
# Quick taps come as press, double-click, press, double-click...: both count.
#: The PIN pad closes itself after this long without a touch (the panel after idle_close_s).
PAD_IDLE_S = 30.0
_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.TouchBegin}
#: What follows a press in the corner, swallowed with it until the touch or button ends.
_FOLLOW_UP = {
    QEvent.Type.MouseMove,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.TouchUpdate,
    QEvent.Type.TouchEnd,
    QEvent.Type.TouchCancel,
}
_ENDS = {QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel}
_ACTIVITY = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseButtonRelease,
    QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
}


def pages_for(role: Role) -> list[str]:
    """The pages ``role`` may open, in side-bar order."""
    return [name for name, (_, roles) in PAGES.items() if role in roles]


class AdminOverlay(QWidget):
    """The opaque overlay over the shopper window: the PIN pad, or the panel."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("adminOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAutoFillBackground(True)
        self.setStyleSheet(theme.STYLE_SHEET)
        self.pad = PinPad()
        self.panel = QWidget()
        self.nav = QVBoxLayout()
        self.nav.setSpacing(14)
        self.role_label = theme.label("", theme.FONT_VALUE, bold=True)
        self.idle_label = theme.label("", 20, colour=theme.MUTED)
        self.close_button = theme.button("Close")
        self.pages = QStackedWidget()
        side = QWidget()
        side.setFixedWidth(300)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.role_label)
        side_layout.addLayout(self.nav)
        side_layout.addStretch(1)
        side_layout.addWidget(self.idle_label)
        side_layout.addWidget(self.close_button)
        body = QHBoxLayout(self.panel)
        body.setContentsMargins(28, 24, 28, 24)
        body.setSpacing(28)
        body.addWidget(side)
        body.addWidget(self.pages, 1)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.pad)
        self.stack.addWidget(self.panel)
        self.nav_buttons: dict[str, QPushButton] = {}

    def set_nav(self, names: list[str], on_click: Callable[[str], object]) -> None:
        """Side-bar buttons for exactly these pages."""
        for button in self.nav_buttons.values():
            self.nav.removeWidget(button)
            button.deleteLater()
        self.nav_buttons = {}
        for name in names:
            button = theme.button(PAGES[name][0], checkable=True)
            button.clicked.connect(lambda _checked=False, n=name: on_click(n))
            self.nav.addWidget(button)
            self.nav_buttons[name] = button


class AdminController(QObject):
    """Owns the admin panel of one shopper window.

    States: ``closed`` (watching for the gesture), ``pad`` (PIN pad shown), ``open`` (panel
    shown for :attr:`role`). ``clock`` (monotonic seconds) drives the gesture window, the
    lockout and idle close, and is injectable for tests.
    """

    stateChanged = Signal(str)

    def __init__(
        self,
        window: QWidget,
        services: KioskServices,
        *,
        clock: Callable[[], float] = time.monotonic,
        library: ContentLibrary | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.services = services
        self.settings = services.config.admin
        self._clock = clock
        self.gesture = CornerTaps(self.settings, clock=clock)
        #: A press in the corner square was swallowed: so is the rest of that touch.
        self._swallowing = False
        data_dir = services.config.paths.data_dir
        self.gate = PinGate(
            self.settings,
            store=data_dir / LOCKOUT_FILE if data_dir is not None else None,
            clock=clock,
        )
        #: What the pad last learnt of the PIN files (read off the UI thread when it opens).
        self.pins: PinStatus | None = None
        self.state = "closed"
        self.role: Role | None = None
        self.page: str | None = None
        self.checking_pin = False
        self._last_activity = clock()
        self.overlay: AdminOverlay | None = None
        self.page_widgets: dict[str, QWidget] = {}
        self.data: AdminData | None = None
        self._library = library
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.tick)
        app = QApplication.instance()
        if app is None:
            raise RuntimeError("install_admin needs a QApplication")
        # a lockout survives a restart: take it over (file I/O, so off the UI thread)
        run_off_ui(self.gate.load, self._gate_loaded)
        app.installEventFilter(self)
        app.aboutToQuit.connect(self.shutdown)
        window.installEventFilter(self)
        log.info(
            "admin panel installed: %d taps in %.1fs in the %s corner (%d px)",
            self.settings.gesture_taps,
            self.settings.gesture_window_s,
            self.settings.gesture_corner,
            self.settings.gesture_area_px,
        )

    # -- the record -------------------------------------------------------------------------

    def record(self, what: str, **payload: Any) -> None:
        """Record ``admin.<what>`` with the role (never lets a recording failure through)."""
        try:
            self.services.record(f"admin.{what}", payload={"role": self.role, **payload})
        except Exception:
            log.exception("recording admin.%s failed", what)

    # -- events -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Count corner taps while closed, keeping them from the shopper's page; note
        activity while open; follow the window size."""
        kind = event.type()
        if watched is self.window and kind == QEvent.Type.Resize and self.overlay is not None:
            self.overlay.setGeometry(self.window.rect())
            return False
        if self._swallowing and kind in _FOLLOW_UP and self._on_window(watched):
            # the rest of a corner tap: its move and release never reach the page either
            if kind in _ENDS:
                self._swallowing = False
            return True
        if kind in _ACTIVITY and self.state != "closed":
            self._last_activity = self._clock()
            return False
        if kind in _PRESS and self.state == "closed" and self._on_window(watched):
            return self._press(event)
        return False

    def _on_window(self, watched: QObject) -> bool:
        return isinstance(watched, QWidget) and (
            watched is self.window or self.window.isAncestorOf(watched)
        )

    def _press(self, event: QEvent) -> bool:
        """Count a press; True when it was in the corner square, so that it is swallowed:
        staff's taps neither start a session nor count as a shopper's touches, and a
        shopper's chance tap in the corner shows nothing."""
        # One tap can arrive several times (a touch, the mouse press Qt makes from it, the
        # press propagating to parent widgets); CornerTaps counts presses closer together
        # than its debounce time once. Event timestamps cannot tell: synthetic ones repeat.
        if isinstance(event, QTouchEvent):
            points = event.points()
            if not points:
                return False
            global_pos = points[0].globalPosition().toPoint()
        elif isinstance(event, QMouseEvent):
            global_pos = event.globalPosition().toPoint()
        else:
            return False
        local: QPoint = self.window.mapFromGlobal(global_pos)
        width, height = self.window.width(), self.window.height()
        self._swallowing = self.gesture.covers(local.x(), local.y(), width, height)
        if self.gesture.tap(local.x(), local.y(), width, height):
            log.info("admin gesture recognised")
            self.open_pad()
        return self._swallowing

    # -- pad --------------------------------------------------------------------------------

    def _ensure_overlay(self) -> AdminOverlay:
        if self.overlay is None:
            overlay = AdminOverlay(self.window)
            overlay.pad.submitted.connect(self.submit_pin)
            overlay.pad.cancelled.connect(lambda: self.close("cancel"))
            overlay.close_button.clicked.connect(lambda: self.close("closed"))
            overlay.hide()
            self.overlay = overlay
        return self.overlay

    def open_pad(self) -> None:
        """Cover the window with the PIN pad."""
        overlay = self._ensure_overlay()
        overlay.pad.clear()
        overlay.stack.setCurrentWidget(overlay.pad)
        overlay.setGeometry(self.window.rect())
        overlay.show()
        overlay.raise_()
        self._set_state("pad")
        self._last_activity = self._clock()
        self._update_pad()
        self._ticker.start()
        config = self.services.config
        run_off_ui(lambda: pin_status(config), self._pins_read)

    def _gate_loaded(self, _result: None, error: Exception | None) -> None:
        if error is not None:
            log.error("admin lockout could not be read: %s", error)
        self._update_pad()

    def _pins_read(self, status: PinStatus | None, error: Exception | None) -> None:
        if error is not None:
            log.error("admin PIN files could not be read: %s", error)
            return
        self.pins = status
        if status is not None:
            for problem in status.problems:
                log.error("admin PIN: %s", problem)
        self._update_pad()

    def _save_gate(self) -> None:
        def saved(_result: None, error: Exception | None) -> None:
            if error is not None:
                log.error("admin lockout could not be saved: %s", error)

        run_off_ui(self.gate.save, saved)

    def submit_pin(self, pin: str) -> None:
        """Check ``pin`` off the UI thread (scrypt is slow on purpose)."""
        if self.state != "pad" or self.checking_pin:
            return
        if self.gate.state().locked:
            self._update_pad()
            return
        overlay = self._ensure_overlay()
        overlay.pad.set_keys_enabled(False)
        overlay.pad.show_message("Checking…")
        self.checking_pin = True
        config = self.services.config
        run_off_ui(lambda: check_pin(config, pin), self._pin_checked)

    def _pin_checked(self, role: Role | None, error: Exception | None) -> None:
        self.checking_pin = False
        if self.state != "pad":
            return
        if error is not None:
            log.error("PIN check failed: %s", error)
        if role is None:
            state = self.gate.failed()
            self._save_gate()
            self.record("pin_failed", attempts_left=state.attempts_left)
            if state.locked:
                self.record("locked", lockout_s=round(state.locked_for_s, 3))
            self._update_pad(wrong=True)
            return
        self.gate.succeeded()
        self._save_gate()
        self.login(role)

    def _update_pad(self, wrong: bool = False) -> None:
        if self.overlay is None:
            return
        pad = self.overlay.pad
        state = self.gate.state()
        if state.locked:
            left = int(state.locked_for_s + 0.999)
            pad.set_keys_enabled(False)
            pad.show_message(f"Too many wrong PINs. Locked for {left // 60}:{left % 60:02d}", "bad")
            return
        pad.set_keys_enabled(True)
        if self.pins is not None and not self.pins.roles:
            problem = self.pins.problems[0] if self.pins.problems else None
            pad.show_message(
                f"No PIN can be used: {problem}"
                if problem
                else "No PIN is set: run `kiosk set-pin --role manager`",
                "warn",
            )
        elif wrong:
            pad.show_message(f"Wrong PIN. {state.attempts_left} tries left", "warn")
        else:
            pad.show_message("Enter your PIN")

    # -- panel ------------------------------------------------------------------------------

    def login(self, role: Role) -> None:
        """Open the panel for ``role`` on its status page."""
        self.role = role
        overlay = self._ensure_overlay()
        self._build_pages(role)
        overlay.set_nav(pages_for(role), self.show_page)
        kiosk = self.services.config.kiosk
        overlay.role_label.setText(
            f"Admin · {role}<br><small>{kiosk.store_id} / {kiosk.kiosk_id}</small>"
        )
        overlay.stack.setCurrentWidget(overlay.panel)
        overlay.setGeometry(self.window.rect())
        overlay.show()
        overlay.raise_()
        self._ticker.start()
        self._set_state("open")
        self._last_activity = self._clock()
        log.info("admin panel opened by %s", role)
        self.record("login")
        self.show_page("status")

    def _build_pages(self, role: Role) -> None:
        overlay = self._ensure_overlay()
        for name in pages_for(role):
            if name in self.page_widgets:
                continue
            widget = self._make_page(name)
            self.page_widgets[name] = widget
            overlay.pages.addWidget(widget)
        if self.data is None:
            self.data = AdminData(self.services, self)
            self.data.statusReady.connect(self._status_arrived)
            self.data.dashboardsReady.connect(self._dashboards_arrived)

    def _make_page(self, name: str) -> QWidget:
        services = self.services
        if name == "status":
            from kiosk.admin.status import StatusPage

            return StatusPage(services=services)
        if name == "dashboards":
            from kiosk.admin.dashboards import DashboardsPage

            return DashboardsPage()
        if name == "calibration":
            from kiosk.admin.calibration import CalibrationPage

            return CalibrationPage(services=services, on_change=self._calibrated)
        if name == "content":
            from kiosk.admin.content import ContentPage

            return ContentPage(
                services=services,
                library=self.library(),
                on_action=lambda what, payload: self.record(what, **payload),
            )
        if name == "kiosk":
            from kiosk.admin.system import SystemPage

            return SystemPage(services=services, on_action=lambda what: self.record(what))
        raise ValueError(f"no admin page {name!r}")

    def library(self) -> ContentLibrary:
        """The content library under the data directory."""
        if self._library is None:
            data_dir = self.services.config.paths.data_dir or Path.home() / ".retail-edge-kiosk"
            self._library = ContentLibrary(Path(data_dir) / "content")
        return self._library

    def visible_pages(self) -> list[str]:
        """The pages the side bar offers now."""
        return list(self.overlay.nav_buttons) if self.overlay and self.state == "open" else []

    def show_page(self, name: str) -> bool:
        """Show page ``name``; False (and nothing changes) if the role may not see it."""
        if self.state != "open" or self.role is None or name not in pages_for(self.role):
            log.warning("admin page %r refused for role %s", name, self.role)
            return False
        overlay = self._ensure_overlay()
        previous = self.page
        if previous == "calibration" and name != "calibration":
            self._calibration_page().stop_preview()
        self.page = name
        widget = self.page_widgets[name]
        overlay.pages.setCurrentWidget(widget)
        for page_name, button in overlay.nav_buttons.items():
            button.setChecked(page_name == name)
        if name == "calibration":
            self._calibration_page().start_preview()
        if name in ("content", "kiosk"):
            widget.refresh()  # type: ignore[attr-defined]
        if previous != name:
            self.record("page", page=name)
        self.tick()
        return True

    def _calibration_page(self) -> Any:
        return self.page_widgets["calibration"]

    def _calibrated(self, kind: str, calibration: Calibration) -> None:
        self.record(kind, roi=list(calibration.roi), zones=calibration.zones_dict())

    # -- timers -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Once a second while the pad or panel is up: idle close, lockout countdown,
        data refresh for the page on screen."""
        if self.state == "closed":
            self._ticker.stop()
            return
        idle = self._clock() - self._last_activity
        # a PIN pad left open hands shoppers a guessing game: it goes sooner than the panel
        limit = self.settings.idle_close_s if self.state == "open" else PAD_IDLE_S
        if idle >= min(limit, self.settings.idle_close_s):
            self.close("idle")
            return
        if self.overlay is None:
            return
        if self.state == "pad":
            if not self.checking_pin:
                self._update_pad()
            return
        left = self.settings.idle_close_s - idle
        self.overlay.idle_label.setText(
            f"closes in {int(left)} s without a touch" if left < 30 else ""
        )
        if self.data is None:
            return
        if self.page == "status":
            self.data.request_status()
            self.page_widgets["status"].refresh()  # type: ignore[attr-defined]
        elif self.page == "dashboards":
            self.data.request_dashboards()
        elif self.page == "calibration":
            self._calibration_page().show_presence()

    def _status_arrived(self, snap: StatusSnapshot) -> None:
        page = self.page_widgets.get("status")
        if page is not None:
            page.show_snapshot(snap)  # type: ignore[attr-defined]

    def _dashboards_arrived(self, snap: DashboardSnapshot) -> None:
        page = self.page_widgets.get("dashboards")
        if page is not None and self.state == "open":
            page.show_snapshot(snap)  # type: ignore[attr-defined]

    # -- closing ----------------------------------------------------------------------------

    def close(self, reason: str = "closed") -> None:
        """Hide the pad or panel and forget the role (``reason``: closed, cancel, idle)."""
        if self.state == "closed":
            return
        if self.page == "calibration":
            page = self._calibration_page()
            page.commit()
            page.stop_preview()
        was_open = self.state == "open"
        if was_open:
            self.record("logout", reason=reason)
            log.info("admin panel closed (%s)", reason)
        self.role = None
        self.page = None
        if self.overlay is not None:
            self.overlay.pad.clear()
            self.overlay.hide()
        if self.data is not None:
            self.data.release()
        self.gesture.reset()
        self._set_state("closed")
        self._ticker.stop()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def shutdown(self) -> None:
        """Close the panel and stop its threads (the kiosk is stopping)."""
        self.close("shutdown")
        if self.data is not None:
            self.data.stop()
            self.data = None
        calibration = self.page_widgets.get("calibration")
        if calibration is not None:
            calibration.close_writer()  # type: ignore[attr-defined]
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
