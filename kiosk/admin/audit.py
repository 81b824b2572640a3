"""The admin record: every staff action becomes an ``admin.<what>`` event with the role of
whoever is logged in (Qt-free)."""

from __future__ import annotations

import logging
from typing import Protocol

from kiosk.admin.pins import Role
from storage.event import JsonObject, JsonValue

log = logging.getLogger(__name__)


class RecordEvent(Protocol):
    """Where interactions go (``kiosk.models.interactions.EventRecorder.record``): takes one
    event type and its payload, returns at once, on the UI thread."""

    def __call__(self, type: str, *, payload: JsonObject | None = None) -> None:
        """Record one event of ``type`` with ``payload``."""
        ...


class AdminAudit:
    """Writes the admin panel's actions to the interaction log, stamped with the role.

    The controller sets :attr:`role` when staff log in and clears it when the panel closes;
    the pages call the audit for what they change (an activation, a calibration).
    """

    def __init__(self, record: RecordEvent) -> None:
        self._record = record
        #: Who is logged in (None while the panel is closed or the PIN pad is up).
        self.role: Role | None = None

    def __call__(self, what: str, **payload: JsonValue) -> None:
        """Record ``admin.<what>`` with the role; a recording failure is logged, never
        raised into the panel (the action itself has happened)."""
        try:
            self._record(f"admin.{what}", payload={"role": self.role, **payload})
        except Exception:
            log.exception("recording admin.%s failed", what)
