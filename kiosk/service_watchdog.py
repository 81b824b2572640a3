"""The systemd watchdog, petted by the UI thread's event loop.

``UiWatchdog`` sends WATCHDOG=1 from a QTimer on the UI thread. A QTimer fires only while the
event loop runs, so when the UI freezes (a deadlock, an endless paint, I/O on the UI thread)
the pings stop and systemd kills and restarts the kiosk after ``WatchdogSec=``; the shopper sees
attract again within seconds instead of a frozen screen. READY=1 is sent once the first page
is on the screen (``Kiosk`` calls ``ready``), STOPPING=1 when the kiosk stops on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from settings.service_manager import ServiceManager

log = logging.getLogger(__name__)


class UiWatchdog(QObject):
    """Pets systemd's watchdog from the UI thread while its event loop runs."""

    def __init__(self, manager: ServiceManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self.pings = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._ping)
        interval = manager.ping_interval_s
        if manager.enabled and interval is not None:
            self._timer.start(max(1, int(interval * 1000)))
            log.info("systemd watchdog: a ping from the UI thread every %.1f s", interval)

    @property
    def active(self) -> bool:
        """True while the pings run."""
        return self._timer.isActive()

    def ready(self, status: str) -> None:
        """The first page is painted: the service is up."""
        self.manager.ready(status)
        self._ping()

    def stopping(self, status: str = "stopping") -> None:
        """Stopping on purpose: no more pings, systemd is told."""
        self._timer.stop()
        self.manager.stopping(status)

    def _ping(self) -> None:
        self.pings += 1
        self.manager.watchdog()


class FirstPaint(QObject):
    """Calls ``then`` once, right after ``widget`` has painted for the first time (the event
    filter sees the paint event before the widget paints; the zero timer fires after it)."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Waits for the widget's first paint event."""
        if watched is self._widget and event.type() == QEvent.Type.Paint:
            self._widget.removeEventFilter(self)
            QTimer.singleShot(0, self._then)
        return False


def start_service_watchdog(
    page_view: QWidget, status: Callable[[], str], *, then: Callable[[], None] | None = None
) -> UiWatchdog:
    """The watchdog for a kiosk run by systemd: READY=1 with ``status()`` once ``page_view``
    has painted its first page, then WATCHDOG=1 from the UI thread (nothing outside systemd).
    ``then`` runs right after READY=1 is sent (the kiosk starts its other parts there, so
    that nothing they do can delay the READY)."""
    watchdog = UiWatchdog(ServiceManager(), parent=page_view)

    def painted() -> None:
        watchdog.ready(status())
        if then is not None:
            then()

    FirstPaint(page_view, painted)
    return watchdog
