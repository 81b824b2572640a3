"""Telling systemd how the service is doing: ready, alive (the watchdog), stopping, status.

A unit with ``Type=notify`` and ``WatchdogSec=`` (deploy/systemd/) hands the process a
``NOTIFY_SOCKET`` and a ``WATCHDOG_USEC``; :class:`ServiceManager` sends the sd_notify
messages through the maintained ``sdnotify`` package. Outside systemd (a developer's shell, the
tests) it does nothing and says so once in the log. A send that fails is logged once, never
raised: systemd then restarts a silent service, which is the point of the watchdog.
"""

from __future__ import annotations

import logging
import os

import sdnotify

log = logging.getLogger(__name__)


class ServiceManager:
    """The service's side of sd_notify, set up from the environment systemd gave the process
    (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``, ``WATCHDOG_PID``)."""

    def __init__(self) -> None:
        env = os.environ
        self.socket_path = env.get("NOTIFY_SOCKET") or None
        #: How often systemd expects WATCHDOG=1, in seconds; None without a watchdog (or when
        #: WATCHDOG_PID names another process, e.g. cage started us and is watched itself).
        self.watchdog_s: float | None = None
        usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        if usec and usec.isdigit() and int(usec) > 0 and (not pid or int(pid) == os.getpid()):
            self.watchdog_s = int(usec) / 1_000_000
        self._notifier: sdnotify.SystemdNotifier | None = None
        self._failed = False
        if self.socket_path is None:
            log.debug("not started by systemd (no NOTIFY_SOCKET): no sd_notify messages")
            return
        try:
            self._notifier = sdnotify.SystemdNotifier(debug=True)
        except (OSError, ValueError) as exc:
            log.error("cannot reach systemd's notify socket %s: %s", self.socket_path, exc)

    @property
    def enabled(self) -> bool:
        """True when messages go to systemd."""
        return self._notifier is not None

    @property
    def ping_interval_s(self) -> float | None:
        """How often to send WATCHDOG=1: half the watchdog timeout, as sd_watchdog_enabled(3)
        advises; None without a watchdog."""
        return None if self.watchdog_s is None else self.watchdog_s / 2

    def ready(self, status: str | None = None) -> None:
        """The service is up (for the app: its first page is on the screen)."""
        self._send("READY=1", status)

    def watchdog(self) -> None:
        """Still alive: only call this from the loop whose stall should restart the service."""
        self._send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> None:
        """The service is shutting down on purpose."""
        self._send("STOPPING=1", status)

    def status(self, text: str) -> None:
        """A one-line status ``systemctl status`` shows."""
        self._send(f"STATUS={text}")

    def _send(self, message: str, status: str | None = None) -> None:
        if self._notifier is None:
            return
        if status:
            message += f"\nSTATUS={status}"
        try:
            self._notifier.notify(message)
        except OSError as exc:
            if not self._failed:
                log.error("sd_notify to %s failed: %s (logged once)", self.socket_path, exc)
            self._failed = True
