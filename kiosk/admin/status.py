"""The status page: camera, storage, Redis, uplink, experience and the PC at a glance.

Each tile is green (fine), amber (works, look at it), red (broken) or grey (off on purpose),
with one word big enough to read from a metre away and the figures underneath.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from PySide6.QtWidgets import QFrame, QGridLayout, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.data import StatusSnapshot
from kiosk.admin.theme import Level
from kiosk.services import KioskServices

log = logging.getLogger(__name__)

#: Free disk below these is amber / red.
DISK_WARN_BYTES = 2 * 1024**3
DISK_BAD_BYTES = 300 * 1024**2
#: Uplink backlog above this is amber (hours of traffic not yet in the cloud).
BACKLOG_WARN_EVENTS = 20_000
#: A camera frame older than this is amber.
FRAME_AGE_WARN_S = 2.0


@dataclass(frozen=True)
class TileView:
    """What one tile says: its level, headline and detail lines."""

    level: Level
    headline: str
    details: list[str]


def human_bytes(value: float | None) -> str:
    """``1536`` -> ``1.5 KB``; ``-`` for unknown."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def human_duration(seconds: float) -> str:
    """``3725`` -> ``1h 02m``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def _ago(value: Any) -> str:
    if value is None:
        return "never"
    if isinstance(value, (int, float)):
        return human_duration(time.time() - float(value)) + " ago"
    return str(value)


def camera_tile(services: KioskServices) -> TileView:
    """The camera's tile from the sensor's last health and presence state. Grey only when
    presence sensing is switched off; simulated shoppers are amber (no camera is watching);
    a camera that is missing, failed or ended is red or amber: the kiosk runs touch-only."""
    if services.presence is None and services.sensor_health() is None:
        if services.config.sensors.type == "none":
            return TileView("off", "No camera", ["touch only: presence sensing is off"])
        return TileView(
            "bad", "Not running", ["the presence service did not start: see the log", "touch only"]
        )
    health = services.sensor_health()
    if health is None:
        return TileView("warn", "Starting", ["no report from the camera yet"])
    state = services.presence_state()
    zone = state.zone.value if state is not None else "-"
    age = health.last_frame_age_s
    details = [
        f"model {health.model or '-'}",
        f"{health.fps:.0f} fps, last frame {'-' if age is None else f'{age:.1f}s'} ago",
        f"zone {zone}" + (f", {state.people} people" if state is not None else ""),
    ]
    if health.message:
        details.append(health.message)
    status = health.status
    if status != "ok":
        details.append("touch only: sessions end by the idle timeout")
    if health.simulated:
        details.insert(0, "no camera: shoppers are simulated, their events marked simulated")
        return TileView("warn", "Simulated", details)
    if status == "ok":
        level: Level = "warn" if age is not None and age > FRAME_AGE_WARN_S else "ok"
        return TileView(level, "Seeing" if level == "ok" else "Slow frames", details)
    if status == "off":
        return TileView("off", "Off", details)
    if status in ("reconnecting", "no_device"):
        return TileView(
            "warn" if status == "reconnecting" else "bad",
            "Reconnecting" if status == "reconnecting" else "Not found",
            details,
        )
    return TileView("bad", "Recording ended" if status == "file_ended" else "Error", details)


def storage_tile(services: KioskServices, snap: StatusSnapshot | None) -> TileView:
    """The interaction log's tile from ``EventLog.health()``."""
    if services.event_log is None:
        return TileView("bad", "Not running", ["events are not being saved: see the log"])
    if snap is None:
        return TileView("warn", "Reading", ["waiting for the first report"])
    if snap.storage_error or snap.storage is None:
        return TileView("bad", "No report", [snap.storage_error or "no health report"])
    h = snap.storage
    free = getattr(h, "free_disk_bytes", None)
    details = [
        f"events today {getattr(h, 'events_today', 0):,}",
        f"database {human_bytes(getattr(h, 'db_bytes', None))}, free disk {human_bytes(free)}",
        f"queue {getattr(h, 'queue_depth', 0):,}"
        + (", back-pressure ON" if getattr(h, "backpressure", False) else ""),
    ]
    restarts = int(getattr(h, "writer_restarts", 0) or 0)
    if restarts:
        details.append(
            f"writer restarted {restarts}x, last: {getattr(h, 'writer_error', None) or '?'}"
        )
    spilled = int(getattr(h, "spill_held_events", 0) or 0)
    if getattr(h, "spill_full", False):
        details.insert(
            0, f"spill file FULL: {spilled:,} held events kept; newer ones in memory only"
        )
    elif spilled:
        details.insert(0, f"{spilled:,} held events kept in the spill file (safe from a restart)")
    if not getattr(h, "writer_alive", True):
        details.insert(0, str(getattr(h, "sqlite_error", "") or "the writer stopped"))
        return TileView("bad", "Writer restarting", details)
    if not getattr(h, "sqlite_ok", True):
        details.insert(0, str(getattr(h, "sqlite_error", "") or "SQLite failed"))
        return TileView("bad", "Disk fault", details)
    if free is not None and free < DISK_BAD_BYTES:
        return TileView("bad", "Disk full", details)
    if getattr(h, "backpressure", False) or (free is not None and free < DISK_WARN_BYTES):
        return TileView("warn", "Under pressure", details)
    return TileView("ok", "Saving", details)


def redis_tile(services: KioskServices, snap: StatusSnapshot | None) -> TileView:
    """Redis, the hot path: connected and how far behind SQLite it is."""
    if not services.config.redis.enabled:
        return TileView("off", "Off", ["live counters come from SQLite"])
    h = snap.storage if snap is not None else None
    if h is None:
        return TileView("warn", "Unknown", ["no storage report"])
    lag = int(getattr(h, "redis_lag_events", 0) or 0)
    details = [f"lag {lag:,} events"]
    rebuilds = int(getattr(h, "redis_rebuilds", 0) or 0)
    if rebuilds:
        reason = getattr(h, "redis_rebuild_reason", None) or "out of step with SQLite"
        details.append(f"rebuilt from SQLite {rebuilds}x, last: {reason}")
    error = getattr(h, "redis_error", None)
    if getattr(h, "redis_connected", False) and not error:
        return TileView("warn" if lag > 1000 else "ok", "Connected", details)
    if error:
        details.insert(0, str(error))
        return TileView("warn", "Failing", ["SQLite carries on; Redis catches up later", *details])
    return TileView("warn", "Away", ["SQLite carries on; Redis catches up later", *details])


def uplink_tile(services: KioskServices, snap: StatusSnapshot | None) -> TileView:
    """The cloud uplink: connected, backlog, last acknowledgement, last error."""
    if services.uplink is None:
        return TileView("off", "Off", ["uplink disabled in the config"])
    if snap is None:
        return TileView("warn", "Reading", ["waiting for the first report"])
    if snap.uplink_error or snap.uplink is None:
        return TileView("bad", "No report", [snap.uplink_error or "no uplink status"])
    u = snap.uplink
    backlog = int(getattr(u, "backlog_events", 0) or 0)
    details = [
        f"backlog {backlog:,} events in {getattr(u, 'backlog_batches', 0):,} batches",
        f"last ack {_ago(getattr(u, 'last_ack_at', None))}",
        f"sent {getattr(u, 'sent_events', 0):,} events",
    ]
    error = getattr(u, "last_error", None)
    if error:
        details.append(f"last error: {error}")
    if not getattr(u, "connected", False):
        return TileView("bad" if backlog > BACKLOG_WARN_EVENTS else "warn", "Offline", details)
    if backlog > BACKLOG_WARN_EVENTS:
        return TileView("warn", "Catching up", details)
    return TileView("ok", "Connected", details)


def experience_tile(services: KioskServices) -> TileView:
    """The experience on screen and what the validator said about it."""
    experience = services.experience()
    error = services.experience_error()
    if experience is None or error:
        details = [f"configured: {services.config.kiosk.experience}"]
        if error:
            details.insert(0, error)
        shoppers = "shoppers see the back-soon page" if experience is None else "old one shown"
        return TileView("bad", "Cannot load", [*details, shoppers])
    findings = services.findings()
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    details = [
        f"{experience.source_path.name} ({len(experience.pages)} pages)",
        f"bundle {experience.source_hash[:12]}",
        f"{errors} errors, {warnings} warnings from the validator",
    ]
    return TileView("warn" if errors else "ok", "Showing", details)


def system_tile(services: KioskServices, snap: StatusSnapshot | None) -> TileView:
    """Version, uptime and memory of the kiosk process."""
    try:
        version = metadata.version("retail-edge-kiosk")
    except metadata.PackageNotFoundError:
        version = "dev"
    details = [f"version {version}", f"up {human_duration(time.time() - services.started_at)}"]
    level: Level = "ok"
    if snap is not None and snap.memory_rss:
        details.append(f"memory {human_bytes(snap.memory_rss)} of {human_bytes(snap.memory_total)}")
        if snap.memory_total and snap.memory_rss > 0.5 * snap.memory_total:
            level = "warn"
    return TileView(level, "Running", details)


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
    """The status page: six tiles, refreshed by the controller every second."""

    def __init__(self, *, services: KioskServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._snap: StatusSnapshot | None = None
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
        self.refresh()

    def show_snapshot(self, snap: StatusSnapshot) -> None:
        """Take a fresh storage/uplink/memory snapshot from the data thread."""
        self._snap = snap
        self.refresh()

    def refresh(self) -> None:
        """Repaint every tile from the services and the latest snapshot."""
        services, snap = self._services, self._snap
        views = {
            "camera": camera_tile(services),
            "storage": storage_tile(services, snap),
            "redis": redis_tile(services, snap),
            "uplink": uplink_tile(services, snap),
            "experience": experience_tile(services),
            "system": system_tile(services, snap),
        }
        for name, view in views.items():
            try:
                self.tiles[name].show_view(view)
            except Exception:
                log.exception("status tile %s failed", name)
