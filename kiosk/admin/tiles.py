"""What the status page's tiles say, worked out from the parts' health snapshots (Qt-free).

Each tile is green (fine), amber (works, look at it), red (broken) or grey (off on purpose),
with one word big enough to read from a metre away and the figures underneath. The tile
functions are pure; :func:`read_status` gathers what needs I/O (on a worker thread) and
they turn its snapshots into views.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

import psutil

from kiosk.models.restarts import RestartHistory, restart_history

if TYPE_CHECKING:
    from designer_import import Finding
    from designer_import.model import Experience
    from sensors import PresenceService, PresenceState, SensorHealth
    from storage import EventLog, StorageHealth
    from uplink import UplinkService, UplinkStatus

log = logging.getLogger(__name__)

#: A part's health snapshot in a :class:`StatusReading` (storage health, uplink status).
_Report = TypeVar("_Report")

#: A tile's colour: green, amber, red, grey.
Level = Literal["ok", "warn", "bad", "off"]

#: Free disk below these is amber / red.
DISK_WARN_BYTES = 2 * 1024**3
DISK_BAD_BYTES = 300 * 1024**2
#: Uplink backlog above this is amber (hours of traffic not yet in the cloud).
BACKLOG_WARN_EVENTS = 20_000
#: A camera frame older than this is amber.
FRAME_AGE_WARN_S = 2.0
#: Redis this many events behind SQLite is amber.
REDIS_LAG_WARN_EVENTS = 1000


@dataclass(frozen=True)
class TileView:
    """What one tile says: its level, headline and detail lines."""

    level: Level
    headline: str
    details: list[str]


@dataclass(frozen=True, slots=True)
class StatusReading:
    """What the status page shows that needs I/O: storage health, uplink status, memory.

    A part that could not report has its ``*_error`` set instead of its snapshot.
    """

    storage: StorageHealth | None = None
    storage_error: str | None = None
    uplink: UplinkStatus | None = None
    uplink_error: str | None = None
    memory_rss: int = 0
    memory_total: int = 0
    #: The kiosk's restarts today (from systemd's stop records), None when unknown.
    restarts: RestartHistory | None = None
    taken_at: float = field(default_factory=time.time)


def read_status(
    event_log: EventLog | None, uplink: UplinkService | None, data_dir: Path | None = None
) -> StatusReading:
    """Ask the event log and the uplink for their health, read the process's memory and the
    restarts recorded in ``data_dir`` (worker thread: each may wait on a lock or the disk).
    Never raises: a part that fails is named in the reading."""
    storage = uplink_status = None
    storage_error = uplink_error = None
    if event_log is not None:
        try:
            storage = event_log.health()
        except Exception as exc:
            storage_error = f"storage health failed: {exc}"
    if uplink is not None:
        try:
            uplink_status = uplink.status()
        except Exception as exc:
            uplink_error = f"uplink status failed: {exc}"
    try:
        rss = psutil.Process().memory_info().rss
        total = psutil.virtual_memory().total
    except psutil.Error:
        rss = total = 0  # the system tile then leaves the memory line out
    restarts = None
    if data_dir is not None:
        try:
            restarts = restart_history(data_dir, dt.datetime.now(dt.UTC))
        except OSError as exc:
            log.warning("cannot read the restart log in %s: %s", data_dir, exc)
    return StatusReading(
        storage, storage_error, uplink_status, uplink_error, rss, total, restarts=restarts
    )


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


def _ago(epoch: float | None) -> str:
    if epoch is None:
        return "never"
    return human_duration(time.time() - epoch) + " ago"


def presence_starting(presence: PresenceService, health: SensorHealth) -> bool:
    """True while the presence service's thread runs but has not reported yet: its health
    is then still the initial "off" (which is final once reported: switched off)."""
    return health.status == "off" and presence.running


def camera_tile(
    sensors_type: str,
    health: SensorHealth | None,
    state: PresenceState | None,
    *,
    starting: bool = False,
) -> TileView:
    """The camera's tile from the presence service's health (None: no presence service)
    and the presence it last reported (``starting``: its thread runs but has not reported
    yet). Grey only when presence sensing is switched off; simulated shoppers are amber (no
    camera is watching); a camera that is missing, failed or ended is red or amber: the
    kiosk runs touch-only."""
    if starting:
        return TileView("warn", "Starting", ["no report from the camera yet"])
    if health is None:
        if sensors_type == "none":
            return TileView("off", "No camera", ["touch only: presence sensing is off"])
        return TileView(
            "bad", "Not running", ["the presence service did not start: see the log", "touch only"]
        )
    age = health.last_frame_age_s
    details = [
        f"model {health.model or '-'}",
        f"{health.fps:.0f} fps, last frame {'-' if age is None else f'{age:.1f}s'} ago",
        f"zone {state.zone.value if state is not None else '-'}"
        + (f", {state.people} people" if state is not None else ""),
    ]
    if health.message:
        details.append(health.message)
    if health.status != "ok":
        details.append("touch only: sessions end by the idle timeout")
    if health.simulated:
        details.insert(0, "no camera: shoppers are simulated, their events marked simulated")
        return TileView("warn", "Simulated", details)
    return TileView(*_camera_level(health), details)


def _camera_level(health: SensorHealth) -> tuple[Level, str]:
    status = health.status
    if status == "ok":
        age = health.last_frame_age_s
        slow = age is not None and age > FRAME_AGE_WARN_S
        return ("warn", "Slow frames") if slow else ("ok", "Seeing")
    if status == "off":
        return "off", "Off"
    if status == "reconnecting":
        return "warn", "Reconnecting"
    if status == "no_device":
        return "bad", "Not found"
    return "bad", "Recording ended" if status == "file_ended" else "Error"


def _waiting() -> TileView:
    """The tile of a part whose first reading has not come yet."""
    return TileView("warn", "Reading", ["waiting for the first report"])


def _report(
    reading: StatusReading | None,
    part: Callable[[StatusReading], tuple[_Report | None, str | None]],
    missing: str,
) -> _Report | TileView:
    """The part's snapshot from ``reading`` (``part`` picks it and its error), or the tile
    saying why there is none: no reading yet, or the part's error (``missing`` when the part
    gave neither)."""
    if reading is None:
        return _waiting()
    report, error = part(reading)
    if error or report is None:
        return TileView("bad", "No report", [error or missing])
    return report


def storage_tile(reading: StatusReading | None, *, running: bool) -> TileView:
    """The interaction log's tile from ``EventLog.health()`` (``running``: the event log
    started)."""
    if not running:
        return TileView("bad", "Not running", ["events are not being saved: see the log"])
    h = _report(reading, lambda r: (r.storage, r.storage_error), "no health report")
    if isinstance(h, TileView):
        return h
    free = h.free_disk_bytes
    details = [
        f"events today {h.events_today:,}",
        f"database {human_bytes(h.db_bytes)}, free disk {human_bytes(free)}",
        f"queue {h.queue_depth:,}" + (", back-pressure ON" if h.backpressure else ""),
    ]
    if h.writer_restarts:
        details.append(f"writer restarted {h.writer_restarts}x, last: {h.writer_error or '?'}")
    if h.spill_full:
        details.insert(
            0,
            f"spill file FULL: {h.spill_held_events:,} held events kept; newer ones in memory only",
        )
    elif h.spill_held_events:
        details.insert(
            0, f"{h.spill_held_events:,} held events kept in the spill file (safe from a restart)"
        )
    if not h.writer_alive:
        details.insert(0, h.sqlite_error or "the writer stopped")
        return TileView("bad", "Writer restarting", details)
    if not h.sqlite_ok:
        details.insert(0, h.sqlite_error or "SQLite failed")
        return TileView("bad", "Disk fault", details)
    if free is not None and free < DISK_BAD_BYTES:
        return TileView("bad", "Disk full", details)
    if h.backpressure or (free is not None and free < DISK_WARN_BYTES):
        return TileView("warn", "Under pressure", details)
    return TileView("ok", "Saving", details)


def redis_tile(reading: StatusReading | None, *, enabled: bool) -> TileView:
    """Redis, the hot path: connected and how far behind SQLite it is (``enabled``: the
    config's ``[redis] enabled``)."""
    if not enabled:
        return TileView("off", "Off", ["live counters come from SQLite"])
    h = reading.storage if reading is not None else None
    if h is None:
        return TileView("warn", "Unknown", ["no storage report"])
    details = [f"lag {h.redis_lag_events:,} events"]
    if h.redis_rebuilds:
        reason = h.redis_rebuild_reason or "out of step with SQLite"
        details.append(f"rebuilt from SQLite {h.redis_rebuilds}x, last: {reason}")
    error = h.redis_error
    if h.redis_connected and not error:
        lagging = h.redis_lag_events > REDIS_LAG_WARN_EVENTS
        return TileView("warn" if lagging else "ok", "Connected", details)
    if error:
        details.insert(0, error)
        return TileView("warn", "Failing", ["SQLite carries on; Redis catches up later", *details])
    return TileView("warn", "Away", ["SQLite carries on; Redis catches up later", *details])


def uplink_tile(reading: StatusReading | None, *, enabled: bool) -> TileView:
    """The cloud uplink: connected, backlog, last acknowledgement, last error
    (``enabled``: an uplink service runs)."""
    if not enabled:
        return TileView("off", "Off", ["uplink disabled in the config"])
    u = _report(reading, lambda r: (r.uplink, r.uplink_error), "no uplink status")
    if isinstance(u, TileView):
        return u
    details = [
        f"backlog {u.backlog_events:,} events in {u.backlog_batches:,} batches",
        f"last ack {_ago(u.last_ack_at)}",
        f"sent {u.sent_events:,} events",
    ]
    if u.last_error:
        details.append(f"last error: {u.last_error}")
    if not u.connected:
        level: Level = "bad" if u.backlog_events > BACKLOG_WARN_EVENTS else "warn"
        return TileView(level, "Offline", details)
    if u.backlog_events > BACKLOG_WARN_EVENTS:
        return TileView("warn", "Catching up", details)
    return TileView("ok", "Connected", details)


def experience_tile(
    configured: Path | str,
    experience: Experience | None,
    error: str | None,
    findings: list[Finding],
) -> TileView:
    """The experience on screen (None: the back-soon page), why the chosen one does not
    show (``error``), and what the validator said about it (``findings``)."""
    if experience is None or error:
        details = [f"configured: {configured}"]
        if error:
            details.insert(0, error)
        shoppers = "shoppers see the back-soon page" if experience is None else "old one shown"
        return TileView("bad", "Cannot load", [*details, shoppers])
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    details = [
        f"{experience.source_path.name} ({len(experience.pages)} pages)",
        f"bundle {experience.source_hash[:12]}",
        f"{errors} errors, {warnings} warnings from the validator",
    ]
    return TileView("warn" if errors else "ok", "Showing", details)


def system_tile(
    started_at: float, reading: StatusReading | None, background_failure: str | None = None
) -> TileView:
    """Version, uptime (since ``started_at``, epoch seconds) and memory of the kiosk, and the
    last background task failure no part of the kiosk handled (a bug: amber)."""
    try:
        version = metadata.version("retail-edge-kiosk")
    except metadata.PackageNotFoundError:
        version = "dev"
    details = [f"version {version}", f"up {human_duration(time.time() - started_at)}"]
    level: Level = "ok"
    if reading is not None and reading.memory_rss:
        rss, total = reading.memory_rss, reading.memory_total
        details.append(f"memory {human_bytes(rss)} of {human_bytes(total)}")
        if total and rss > 0.5 * total:
            level = "warn"
    if background_failure is not None:
        details.append(f"background task failed: {background_failure} (see the log)")
        level = "warn"
    restarts = reading.restarts if reading is not None else None
    summary = restarts.summary() if restarts is not None else None
    if restarts is not None and summary is not None:
        details.append(summary)
        level = "warn"
        if restarts.crash_loop:
            details.insert(0, "restarting in a loop: see the log (journalctl -u retail-edge-kiosk)")
            level = "bad"
    return TileView(level, "Running", details)
