"""The admin controller: gesture -> PIN pad -> panel for one role, idle close, the record.

It watches every press in the shopper window (an application event filter, because the
press goes to whichever child is under the finger), covers the window with an opaque overlay
when staff get in, and writes every admin action as an ``admin.*`` event with the role.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

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
from kiosk.admin.audit import AdminAudit
from kiosk.admin.gesture import CornerTaps
from kiosk.admin.pinpad import PinPad
from kiosk.admin.pins import LOCKOUT_FILE, PinGate, PinStatus, Role, check_pin, pin_status
from kiosk.admin.registry import AdminPage, PageRegistry
from kiosk.tasks import TaskRunner
from settings import KioskConfig

log = logging.getLogger(__name__)

#: The PIN pad closes itself after this long without a touch (the panel after idle_close_s).
PAD_IDLE_S = 30.0
# Quick taps come as press, double-click, press, double-click...: both count.
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


class PanelState(enum.StrEnum):
    """Where the admin panel is: watching for the gesture, asking for the PIN, or open."""

    CLOSED = "closed"
    PAD = "pad"
    OPEN = "open"


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

    def set_nav(self, pages: dict[str, str], on_click: Callable[[str], object]) -> None:
        """Side-bar buttons for exactly these pages (name -> button text, in order)."""
        for button in self.nav_buttons.values():
            self.nav.removeWidget(button)
            button.deleteLater()
        self.nav_buttons = {}
        for name, title in pages.items():
            button = theme.button(title, checkable=True)
            button.clicked.connect(lambda _checked=False, n=name: on_click(n))
            self.nav.addWidget(button)
            self.nav_buttons[name] = button


class AdminController(QObject):
    """Owns the admin panel of one shopper window.

    :attr:`state` is a :class:`PanelState`: closed (watching for the gesture), pad (PIN pad
    shown) or open (the panel shown for :attr:`role`). The side bar offers the pages of
    ``pages`` the role may see; the controller drives them through the
    :class:`~kiosk.admin.registry.AdminPage` lifecycle. ``clock`` (monotonic seconds) drives
    the gesture window, the lockout and idle close, and is injectable for tests.
    """

    stateChanged = Signal(object)  # PanelState

    def __init__(
        self,
        window: QWidget,
        *,
        config: KioskConfig,
        pages: PageRegistry,
        audit: AdminAudit,
        tasks: TaskRunner,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.config = config
        self.settings = config.admin
        self.registry = pages
        self.audit = audit
        self.tasks = tasks
        self._clock = clock
        self.gesture = CornerTaps(self.settings, clock=clock)
        #: A press in the corner square was swallowed: so is the rest of that touch.
        self._swallowing = False
        data_dir = config.paths.data_dir
        self.gate = PinGate(
            self.settings,
            store=data_dir / LOCKOUT_FILE if data_dir is not None else None,
            clock=clock,
        )
        #: What the pad last learnt of the PIN files (read off the UI thread when it opens).
        self.pins: PinStatus | None = None
        self.state = PanelState.CLOSED
        self.page: str | None = None
        self.checking_pin = False
        #: The last PIN entered on this pad was wrong: the pad says so (and how many tries
        #: are left) until the next one, whatever else updates it meanwhile.
        self._wrong_pin = False
        self._last_activity = clock()
        self.overlay: AdminOverlay | None = None
        #: The pages built so far, by name (built at the first log-in of a role that sees them).
        self.pages: dict[str, AdminPage] = {}
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.tick)
        app = QApplication.instance()
        if app is None:
            raise RuntimeError("the admin panel needs a QApplication")
        # a lockout survives a restart: take it over (file I/O, so off the UI thread)
        self.tasks.run(self.gate.load, name="admin lockout load").on_success(
            lambda _none: self._update_pad()
        ).on_failure(self._gate_unreadable)
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

    @property
    def role(self) -> Role | None:
        """Who is logged in (None unless the panel is open)."""
        return self.audit.role

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
        if kind in _ACTIVITY and self.state is not PanelState.CLOSED:
            self._last_activity = self._clock()
            return False
        if kind in _PRESS and self.state is PanelState.CLOSED and self._on_window(watched):
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

    def _cover_window(self, overlay: AdminOverlay, shown: QWidget, state: PanelState) -> None:
        overlay.stack.setCurrentWidget(shown)
        overlay.setGeometry(self.window.rect())
        overlay.show()
        overlay.raise_()
        self._ticker.start()
        self._set_state(state)
        self._last_activity = self._clock()

    def open_pad(self) -> None:
        """Cover the window with the PIN pad."""
        overlay = self._ensure_overlay()
        overlay.pad.clear()
        self._wrong_pin = False
        self._cover_window(overlay, overlay.pad, PanelState.PAD)
        self._update_pad()
        config = self.config
        self.tasks.run(lambda: pin_status(config), name="admin PIN files read").on_success(
            self._pins_read
        ).on_failure(self._pins_unreadable)

    def _gate_unreadable(self, error: Exception) -> None:
        log.error("admin lockout could not be read: %s", error)
        self._update_pad()

    def _pins_unreadable(self, error: Exception) -> None:
        log.error("admin PIN files could not be read: %s", error)

    def _pins_read(self, status: PinStatus) -> None:
        self.pins = status
        for problem in status.problems:
            log.error("admin PIN: %s", problem)
        self._update_pad()

    def _save_gate(self) -> None:
        def unsaved(error: Exception) -> None:
            log.error("admin lockout could not be saved: %s", error)

        self.tasks.run(self.gate.save, name="admin lockout save").on_failure(unsaved)

    def submit_pin(self, pin: str) -> None:
        """Check ``pin`` off the UI thread (scrypt is slow on purpose)."""
        if self.state is not PanelState.PAD or self.checking_pin:
            return
        if self.gate.state().locked:
            self._update_pad()
            return
        overlay = self._ensure_overlay()
        overlay.pad.set_keys_enabled(False)
        overlay.pad.show_message("Checking…")
        self.checking_pin = True
        config = self.config
        self.tasks.run(lambda: check_pin(config, pin), name="admin PIN check").on_success(
            self._pin_checked
        ).on_failure(self._pin_check_failed)

    def _pin_check_failed(self, error: Exception) -> None:
        log.error("PIN check failed: %s", error)
        self._pin_checked(None)

    def _pin_checked(self, role: Role | None) -> None:
        self.checking_pin = False
        if self.state is not PanelState.PAD:
            return
        if role is None:
            state = self.gate.failed()
            self._save_gate()
            self.audit("pin_failed", attempts_left=state.attempts_left)
            if state.locked:
                self.audit("locked", lockout_s=round(state.locked_for_s, 3))
            self._wrong_pin = True
            self._update_pad()
            return
        self.gate.succeeded()
        self._save_gate()
        self.login(role)

    def _update_pad(self) -> None:
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
        elif self._wrong_pin:
            pad.show_message(f"Wrong PIN. {state.attempts_left} tries left", "warn")
        else:
            pad.show_message("Enter your PIN")

    # -- panel ------------------------------------------------------------------------------

    def pages_for(self, role: Role) -> list[str]:
        """The pages ``role`` may open, in side-bar order."""
        return self.registry.names_for(role)

    def login(self, role: Role) -> None:
        """Open the panel for ``role`` on its first page (Status)."""
        self.audit.role = role
        overlay = self._ensure_overlay()
        names = self.pages_for(role)
        for name in names:
            if name not in self.pages:
                page = self.registry.entry(name).build()
                self.pages[name] = page
                overlay.pages.addWidget(page.widget())
        overlay.set_nav({name: self.registry.entry(name).title for name in names}, self.show_page)
        kiosk = self.config.kiosk
        overlay.role_label.setText(
            f"Admin · {role}<br><small>{kiosk.store_id} / {kiosk.kiosk_id}</small>"
        )
        self._cover_window(overlay, overlay.panel, PanelState.OPEN)
        log.info("admin panel opened by %s", role)
        self.audit("login")
        if names:
            self.show_page(names[0])

    def visible_pages(self) -> list[str]:
        """The pages the side bar offers now."""
        if self.overlay is None or self.state is not PanelState.OPEN:
            return []
        return list(self.overlay.nav_buttons)

    def show_page(self, name: str) -> bool:
        """Show page ``name``; False (and nothing changes) if the role may not see it."""
        role = self.role
        if self.state is not PanelState.OPEN or role is None or name not in self.pages_for(role):
            log.warning("admin page %r refused for role %s", name, role)
            return False
        overlay = self._ensure_overlay()
        previous = self.page
        if previous is not None and previous != name:
            self.pages[previous].on_hide()
        self.page = name
        page = self.pages[name]
        overlay.pages.setCurrentWidget(page.widget())
        for page_name, button in overlay.nav_buttons.items():
            button.setChecked(page_name == name)
        page.on_show()
        if previous != name:
            self.audit("page", page=name)
        self.tick()
        return True

    # -- timers -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Once a second while the pad or panel is up: idle close, lockout countdown, and a
        refresh of the page on screen."""
        if self.state is PanelState.CLOSED:
            self._ticker.stop()
            return
        idle = self._clock() - self._last_activity
        # a PIN pad left open hands shoppers a guessing game: it goes sooner than the panel
        limit = self.settings.idle_close_s if self.state is PanelState.OPEN else PAD_IDLE_S
        if idle >= min(limit, self.settings.idle_close_s):
            self.close("idle")
            return
        if self.overlay is None:
            return
        if self.state is PanelState.PAD:
            if not self.checking_pin:
                self._update_pad()
            return
        left = self.settings.idle_close_s - idle
        self.overlay.idle_label.setText(
            f"closes in {int(left)} s without a touch" if left < 30 else ""
        )
        if self.page is not None:
            self.pages[self.page].refresh()

    # -- closing ----------------------------------------------------------------------------

    def close(self, reason: str = "closed") -> None:
        """Hide the pad or panel and forget the role (``reason``: closed, cancel, idle)."""
        if self.state is PanelState.CLOSED:
            return
        if self.page is not None:
            self.pages[self.page].on_hide()
        if self.state is PanelState.OPEN:
            self.audit("logout", reason=reason)
            log.info("admin panel closed (%s)", reason)
        self.audit.role = None
        self.page = None
        if self.overlay is not None:
            self.overlay.pad.clear()
            self.overlay.hide()
        self.gesture.reset()
        self._set_state(PanelState.CLOSED)
        self._ticker.stop()

    def _set_state(self, state: PanelState) -> None:
        if state is not self.state:
            self.state = state
            self.stateChanged.emit(state)

    def shutdown(self) -> None:
        """Close the panel and end every page's own work (the kiosk is stopping)."""
        self.close("shutdown")
        pages, self.pages = self.pages, {}
        for name, page in pages.items():
            try:
                page.shutdown()
            except Exception:
                log.exception("admin page %s did not shut down cleanly", name)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
