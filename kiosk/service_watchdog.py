"""The systemd watchdog, petted by the UI thread's event loop.

``UiWatchdog`` sends WATCHDOG=1 from a QTimer on the UI thread. A QTimer fires only while the
event loop runs, so when the UI freezes (a deadlock, an endless paint, I/O on the UI thread)
the pings stop and systemd kills and restarts the kiosk after ``WatchdogSec=``; the shopper sees
attract again within seconds instead of a frozen screen. READY=1 is sent once the first page
is on the screen (``Kiosk`` calls ``ready``), STOPPING=1 when the kiosk stops on purpose.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

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
