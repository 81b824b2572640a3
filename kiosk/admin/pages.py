"""The staff panel's pages, in side-bar order, each wired to exactly what it needs.

A page is built at the first log-in of a role that sees it (its entry's ``build``). The pages
that draw with pyqtgraph (Dashboards, Calibration) import it then, not at the kiosk's start.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from kiosk.admin.audit import AdminAudit
from kiosk.admin.configfile import NoteChange
from kiosk.admin.content import ContentPage
from kiosk.admin.kiosk_page import KioskPage
from kiosk.admin.library import ContentLibrary
from kiosk.admin.registry import EVERY_ROLE, MANAGER_ONLY, AdminPage, PageRegistry
from kiosk.admin.status import StatusPage
from kiosk.models.shopper_screen import ShopperScreen
from kiosk.tasks import TaskRunner
from settings import KioskConfig

if TYPE_CHECKING:
    from kiosk.schedule_runner import ScheduleRunner
    from sensors import PresenceService
    from storage import EventLog
    from uplink import UplinkService


def standard_pages(
    *,
    config: KioskConfig,
    screen: ShopperScreen,
    tasks: TaskRunner,
    audit: AdminAudit,
    library: ContentLibrary,
    event_log: EventLog | None,
    uplink: UplinkService | None,
    presence: PresenceService | None,
    exit_kiosk: Callable[[], None],
    started_at: float,
    note_change: NoteChange | None = None,
    schedule: Callable[[], ScheduleRunner | None] = lambda: None,
) -> PageRegistry:
    """Status, Dashboards and Calibration for all staff; Content, Opening hours and Kiosk
    for the manager."""
    pages = PageRegistry()
    status = partial(
        StatusPage,
        config=config,
        tasks=tasks,
        screen=screen,
        event_log=event_log,
        uplink=uplink,
        presence=presence,
        started_at=started_at,
    )
    pages.register("status", title="Status", roles=EVERY_ROLE, build=status)
    dashboards = partial(_dashboards, config, event_log, tasks)
    pages.register("dashboards", title="Dashboards", roles=EVERY_ROLE, build=dashboards)
    calibration = partial(_calibration, config, presence, tasks, audit, note_change)
    pages.register("calibration", title="Calibration", roles=EVERY_ROLE, build=calibration)
    content = partial(ContentPage, screen=screen, library=library, tasks=tasks, audit=audit)
    pages.register("content", title="Content", roles=MANAGER_ONLY, build=content)
    hours = partial(_hours, config, tasks, audit, schedule, note_change)
    pages.register("hours", title="Opening hours", roles=MANAGER_ONLY, build=hours)
    kiosk = partial(KioskPage, config=config, screen=screen, exit_kiosk=exit_kiosk, audit=audit)
    pages.register("kiosk", title="Kiosk", roles=MANAGER_ONLY, build=kiosk)
    return pages


def _dashboards(config: KioskConfig, event_log: EventLog | None, tasks: TaskRunner) -> AdminPage:
    """The dashboards page on a reader of the event log's database (the configured one
    when the event log did not start)."""
    from kiosk.admin.dashboards import DashboardsPage
    from kiosk.admin.dashboards_reader import DashboardsReader
    from storage.eventlog import database_path

    database = event_log.database if event_log is not None else database_path(config)
    return DashboardsPage(reader=DashboardsReader(database, config.redis), tasks=tasks)


def _calibration(
    config: KioskConfig,
    presence: PresenceService | None,
    tasks: TaskRunner,
    audit: AdminAudit,
    note: NoteChange | None,
) -> AdminPage:
    """The calibration page (the live depth image, the ROI and the zones)."""
    from kiosk.admin.calibration import CalibrationPage

    return CalibrationPage(config=config, presence=presence, tasks=tasks, audit=audit, note=note)


def _hours(
    config: KioskConfig,
    tasks: TaskRunner,
    audit: AdminAudit,
    schedule: Callable[[], ScheduleRunner | None],
    note: NoteChange | None,
) -> AdminPage:
    """The opening hours page (the manager's)."""
    from kiosk.admin.hours import HoursPage

    return HoursPage(config=config, tasks=tasks, audit=audit, schedule=schedule, note=note)
