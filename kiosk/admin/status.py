"""The status page: camera, storage, Redis, uplink, experience and the PC at a glance.

The tiles' words come from :mod:`kiosk.admin.tiles`; this page reads the health snapshots
off the UI thread (through the kiosk's ``TaskRunner``) once a second while it is on screen.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.tiles import (
    Level,
    StatusReading,
    TileView,
    camera_tile,
    experience_tile,
    presence_starting,
    read_status,
    redis_tile,
    storage_tile,
    system_tile,
    uplink_tile,
)
from kiosk.models.shopper_screen import ShopperScreen
from kiosk.tasks import TaskRunner
from settings import KioskConfig

if TYPE_CHECKING:
    from sensors import PresenceService
    from storage import EventLog
    from uplink import UplinkService

log = logging.getLogger(__name__)


class StatusTile(QFrame):
    """One coloured tile: name, a one-word level, a headline and detail lines."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.level: Level = "off"
        self._name = theme.label(name.upper(), theme.FONT_BODY, bold=True, colour=theme.TEXT)
        self._headline = theme.label("", theme.FONT_TITLE, bold=True)
        self._details = theme.label("", theme.FONT_VALUE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.addWidget(self._name)
        layout.addWidget(self._headline)
        layout.addWidget(self._details)
        layout.addStretch(1)
        self.show_view(TileView("off", "", []))

    def show_view(self, view: TileView) -> None:
        """Paint the tile for ``view``."""
        self.level = view.level
        colour = theme.COLOURS[view.level]
        self.setStyleSheet(
            f"StatusTile {{ background: {colour}; border-radius: 18px; }}"
            " QLabel { background: transparent; color: white; }"
        )
        self._headline.setText(f"{theme.WORDS[view.level]} · {view.headline}")
        self._details.setText("\n".join(view.details))

    @property
    def text(self) -> str:
        """Everything the tile says (for tests and the log)."""
        return f"{self._headline.text()}\n{self._details.text()}"


class StatusPage(QWidget):
    """The status page: six tiles, refreshed once a second while on screen."""

    def __init__(
        self,
        *,
        config: KioskConfig,
        tasks: TaskRunner,
        screen: ShopperScreen,
        event_log: EventLog | None,
        uplink: UplinkService | None,
        presence: PresenceService | None,
        started_at: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._tasks = tasks
        self._screen = screen
        self._event_log = event_log
        self._uplink = uplink
        self._presence = presence
        self._started_at = started_at
        #: The latest reading of the parts' health (None before the first one came).
        self.reading: StatusReading | None = None
        self._reading_now = False
        self.tiles = {
            name: StatusTile(name)
            for name in ("camera", "storage", "redis", "uplink", "experience", "system")
        }
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(theme.title("Status"))
        grid = QGridLayout()
        grid.setSpacing(20)
        for index, tile in enumerate(self.tiles.values()):
            grid.addWidget(tile, index // 3, index % 3)
        layout.addLayout(grid, 1)
        self.repaint_tiles()

    # -- AdminPage --------------------------------------------------------------------------

    def widget(self) -> QWidget:
        """The page itself."""
        return self

    def on_show(self) -> None:
        """Nothing to start: the controller refreshes the page as it shows it."""

    def on_hide(self) -> None:
        """Nothing runs while the page is hidden (a reading under way still lands)."""

    def refresh(self) -> None:
        """Ask for a fresh reading (unless one is under way) and repaint from the latest."""
        self.request_reading()
        self.repaint_tiles()

    def shutdown(self) -> None:
        """Nothing of its own to stop (its readings run on the kiosk's task runner)."""

    # -- readings ---------------------------------------------------------------------------

    def request_reading(self) -> bool:
        """Read storage health, uplink status and memory off the UI thread; False (dropped)
        while the previous reading is still under way, so slow parts never pile up work."""
        if self._reading_now:
            return False
        self._reading_now = True
        event_log, uplink = self._event_log, self._uplink
        data_dir = self._config.paths.data_dir
        self._tasks.run(
            lambda: read_status(event_log, uplink, data_dir), name="admin status read"
        ).on_success(self.show_reading).on_failure(self._unreadable)
        return True

    def show_reading(self, reading: StatusReading) -> None:
        """Take a fresh reading and repaint."""
        self._reading_now = False
        self.reading = reading
        self.repaint_tiles()

    def _unreadable(self, error: Exception) -> None:
        message = f"status read failed: {error}"
        self.show_reading(StatusReading(storage_error=message, uplink_error=message))

    def views(self) -> dict[str, TileView]:
        """What each tile says now, from the services and the latest reading."""
        config, screen, reading = self._config, self._screen, self.reading
        presence = self._presence
        health = state = None
        starting = False
        if presence is not None:
            health = presence.health()
            # what the camera last saw is no longer true once it went offline
            state = presence.state if health.online else None
            starting = presence_starting(presence, health)
        return {
            "camera": camera_tile(config.sensors.type, health, state, starting=starting),
            "storage": storage_tile(reading, running=self._event_log is not None),
            "redis": redis_tile(reading, enabled=config.redis.enabled),
            "uplink": uplink_tile(reading, enabled=self._uplink is not None),
            "experience": experience_tile(
                config.kiosk.experience,
                screen.shown_experience(),
                screen.experience_error(),
                screen.experience_findings(),
            ),
            "system": system_tile(self._started_at, reading, self._tasks.unhandled_failure),
        }

    def repaint_tiles(self) -> None:
        """Repaint every tile from the services and the latest reading."""
        for name, view in self.views().items():
            self.tiles[name].show_view(view)
