"""The hidden admin panel for store staff: gesture + PIN, status, calibration, content and
dashboards, shown as an overlay over the shopper window.

:func:`install_admin` is the one entry point (called once by the composition root,
``kiosk.app``). The Qt modules are imported when it is called, so ``kiosk set-pin``
(``kiosk.admin.pins``) runs without loading Qt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from kiosk.admin.audit import RecordEvent
    from kiosk.admin.configfile import NoteChange
    from kiosk.admin.controller import AdminController
    from kiosk.admin.library import ContentLibrary
    from kiosk.models.shopper_screen import ShopperScreen
    from kiosk.schedule_runner import ScheduleRunner
    from kiosk.tasks import TaskRunner
    from sensors import PresenceService
    from settings import KioskConfig
    from storage import EventLog
    from uplink import UplinkService

__all__ = ["install_admin"]


def install_admin(
    window: QWidget,
    *,
    config: KioskConfig,
    screen: ShopperScreen,
    record: RecordEvent,
    tasks: TaskRunner,
    event_log: EventLog | None,
    uplink: UplinkService | None,
    presence: PresenceService | None,
    exit_kiosk: Callable[[], None],
    started_at: float,
    library: ContentLibrary | None = None,
    clock: Callable[[], float] = time.monotonic,
    note_change: NoteChange | None = None,
    schedule: Callable[[], ScheduleRunner | None] = lambda: None,
) -> AdminController:
    """Watch ``window`` (the shopper screen's widget) for the hidden gesture and show the
    panel over it when staff get in, with the standard pages.

    ``record`` takes the ``admin.*`` events; ``event_log``, ``uplink`` and ``presence`` are
    None when that part is not running; ``exit_kiosk`` stops every service and quits;
    ``started_at`` (epoch seconds) is when the kiosk started; ``library`` defaults to the
    content library of ``config``; ``note_change`` tells the fleet's shadow (when the kiosk
    runs one) of each staff change of a key the fleet may set; ``schedule`` returns the
    running schedule runner (for the opening hours page). Returns the controller (keep
    a reference; ``shutdown()`` when the kiosk stops).
    """
    from kiosk.admin.audit import AdminAudit
    from kiosk.admin.controller import AdminController
    from kiosk.admin.library import ContentLibrary
    from kiosk.admin.pages import standard_pages

    audit = AdminAudit(record)
    pages = standard_pages(
        config=config,
        screen=screen,
        tasks=tasks,
        audit=audit,
        library=library if library is not None else ContentLibrary.for_config(config),
        event_log=event_log,
        uplink=uplink,
        presence=presence,
        exit_kiosk=exit_kiosk,
        started_at=started_at,
        note_change=note_change,
        schedule=schedule,
    )
    return AdminController(
        window, config=config, pages=pages, audit=audit, tasks=tasks, clock=clock
    )
