"""What the uplink tells about the kiosk in its status message beyond its own counters.

The uplink may run as its own process (``kiosk-uplink``) and may not import the kiosk, so it
reads what the kiosk leaves in its data folder: the restart record
(:mod:`storage.restarts`, written by ``kiosk record-stop`` after each stop) and the fleet's
pointer to the active bundle (``bundles/active.json``, written by ``fleet.bundles``; read
here as a file because the uplink may not import the fleet package). What it cannot know
from there is said where it is used: the camera's state comes only from a ``sensor_health``
callable, which a kiosk-uplink process has not.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from storage.restarts import failed_since, restart_history

log = logging.getLogger(__name__)

#: The fleet's pointer to the active bundle, relative to the data folder (fleet.bundles).
ACTIVE_BUNDLE_POINTER = Path("bundles") / "active.json"


@dataclass(frozen=True)
class KioskFacts:
    """The status message's facts from the data folder; None: not known."""

    restarts_24h: int | None
    crash_loop: bool | None
    bundle_id: str | None


def active_bundle_id(data_dir: Path) -> str | None:
    """The id in ``bundles/active.json``; None when no bundle was ever activated (the kiosk
    shows its configured experience) or the pointer cannot be read (logged)."""
    pointer = data_dir / ACTIVE_BUNDLE_POINTER
    try:
        active = json.loads(pointer.read_text(encoding="utf-8")).get("active")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("uplink: %s cannot be read for the status message: %s", pointer, exc)
        return None
    return active if isinstance(active, str) else None


def kiosk_facts(data_dir: Path | None, now: dt.datetime) -> KioskFacts:
    """Failed stops in the 24 hours before ``now``, whether in a crash loop, and the active
    bundle, from ``data_dir`` (all None without one)."""
    if data_dir is None:
        return KioskFacts(None, None, None)
    return KioskFacts(
        restarts_24h=failed_since(data_dir, now - dt.timedelta(hours=24)),
        crash_loop=restart_history(data_dir, now).crash_loop,
        bundle_id=active_bundle_id(data_dir),
    )
