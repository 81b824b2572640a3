"""The staff panel's pages, in side-bar order, each wired to exactly what it needs.

A page is built at the first log-in of a role that sees it (its entry's ``build``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from kiosk.admin.audit import AdminAudit
from kiosk.admin.calibration import CalibrationPage
from kiosk.admin.content import ContentPage
from kiosk.admin.kiosk_page import KioskPage
from kiosk.admin.library import ContentLibrary
from kiosk.admin.registry import EVERY_ROLE, MANAGER_ONLY, AdminPage, PageRegistry
from kiosk.admin.status import StatusPage
from kiosk.models.shopper_screen import ShopperScreen
from kiosk.tasks import TaskRunner
from settings import KioskConfig

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from kiosk.admin.dashboards import DashboardsPage
    from kiosk.admin.data import AdminData, DashboardSnapshot
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
) -> PageRegistry:
    """Status, Dashboards and Calibration for all staff; Content and Kiosk for the manager."""
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
    dashboards = partial(_dashboards, config, event_log, uplink)
    pages.register("dashboards", title="Dashboards", roles=EVERY_ROLE, build=dashboards)
    calibration = partial(
        CalibrationPage, config=config, presence=presence, tasks=tasks, audit=audit
    )
    pages.register("calibration", title="Calibration", roles=EVERY_ROLE, build=calibration)
    content = partial(ContentPage, screen=screen, library=library, tasks=tasks, audit=audit)
    pages.register("content", title="Content", roles=MANAGER_ONLY, build=content)
    kiosk = partial(KioskPage, config=config, screen=screen, exit_kiosk=exit_kiosk, audit=audit)
    pages.register("kiosk", title="Kiosk", roles=MANAGER_ONLY, build=kiosk)
    return pages


def _dashboards(
    config: KioskConfig, event_log: EventLog | None, uplink: UplinkService | None
) -> AdminPage:
    from kiosk.admin.dashboards import DashboardsPage
    from kiosk.admin.data import AdminData
    from kiosk.services import KioskServices

    # the dashboards' reader thread still reads through the old services object until its
    # own rework (engineer "dashboards") takes typed collaborators
    services = KioskServices(
        config=config, record=lambda *_a, **_k: None, event_log=event_log, uplink=uplink
    )
    page = DashboardsPage()
    return _DashboardsOnReader(page, AdminData(services, page))


class _DashboardsOnReader:
    """The dashboards page driven through its reader thread (until the page implements
    :class:`AdminPage` itself)."""

    def __init__(self, page: DashboardsPage, reader: AdminData) -> None:
        self._page = page
        self._reader = reader
        self._shown = False
        reader.dashboardsReady.connect(self._arrived)

    def widget(self) -> QWidget:
        """The dashboards page."""
        return self._page

    def on_show(self) -> None:
        """Let snapshots through (the controller refreshes the page as it shows it)."""
        self._shown = True

    def on_hide(self) -> None:
        """Snapshots that arrive now are not drawn; the database and Redis readers close
        (they reopen on the next refresh)."""
        self._shown = False
        self._reader.release()

    def refresh(self) -> None:
        """Ask the reader thread for a fresh snapshot (dropped while one is read)."""
        self._reader.request_dashboards()

    def shutdown(self) -> None:
        """Close the readers and end the reader thread."""
        self._reader.stop()

    def _arrived(self, snapshot: DashboardSnapshot) -> None:
        if self._shown:
            self._page.show_snapshot(snapshot)
