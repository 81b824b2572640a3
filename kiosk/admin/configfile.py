"""Staff's changes (the calibration, the opening hours) kept in the data folder.

The config file is never written by the kiosk: on an installed kiosk it is read-only
(``/etc/retail-edge-kiosk``, systemd ``ProtectSystem=strict``), and in a developer's checkout
it stays as its author wrote it. What staff change goes to ``<data_dir>/staff-config.toml``
(:class:`settings.overlay.StaffOverlay`, replaced atomically), laid over the config file at
the next start; each key the fleet may also set is handed to the Device Shadow's agent (when
the kiosk runs one), so a reconnect knows which side changed it last.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings import KioskConfig
from settings.overlay import STAFF_OVERLAY_NAME, OverlaySaveError, StaffOverlay

log = logging.getLogger(__name__)

#: Tells the fleet's shadow of a staff change: ``ShadowAgent.note_local_change(key, value)``.
NoteChange = Callable[[str, Any], None]

#: Held while the overlay is read, changed and replaced: the pages write it from their own
#: lanes, and each write must start from what the others wrote.
_FILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Calibration:
    """The presence calibration staff tune on the admin page: region of interest
    ([left, top, right, bottom] fractions) and zone distances in metres."""

    roi: tuple[float, float, float, float]
    passing_m: float
    approaching_m: float
    engaged_m: float

    def zones_dict(self) -> dict[str, float]:
        """``[sensors.zones]`` as a dict."""
        return {
            "passing_m": self.passing_m,
            "approaching_m": self.approaching_m,
            "engaged_m": self.engaged_m,
        }

    def values(self) -> dict[str, Any]:
        """The calibration as the overlay's dotted keys (rounded to the millimetre)."""
        zones = {f"sensors.zones.{k}": round(v, 3) for k, v in self.zones_dict().items()}
        return {"sensors.roi": [round(v, 3) for v in self.roi], **zones}


class StaffChanges:
    """Saves staff's changes into the overlay, the newest one winning; used from the UI
    thread (:meth:`want`) and a worker (:meth:`write_wanted`).

    Staff drag and undo faster than a file is written: each change only updates the values
    wanted on disk, and whichever write runs next writes the newest ones, so writes that
    finish out of order, or one made at shutdown, never leave an older value. ``fleet_keys``
    are the keys the fleet may set too: after each save they go to ``note`` (the shadow).
    """

    def __init__(
        self,
        path: Path,
        *,
        note: NoteChange | None = None,
        fleet_keys: tuple[str, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._note = note
        self._fleet_keys = frozenset(fleet_keys)
        self._clock = clock
        self._wanted_lock = threading.Lock()  # held for a dict update only: UI-safe
        self._write_lock = threading.Lock()  # held while the file is written
        self._wanted: dict[str, Any] = {}

    @classmethod
    def for_config(cls, config: KioskConfig, note: NoteChange | None = None) -> StaffChanges:
        """The changes of the kiosk ``config`` describes, in its data folder."""
        from fleet.remote_config import ALLOWED_KEYS

        return cls(config.data_path(STAFF_OVERLAY_NAME), note=note, fleet_keys=ALLOWED_KEYS)

    def want(self, values: Mapping[str, Any]) -> None:
        """Make ``values`` (dotted keys) the ones to write next (returns at once)."""
        with self._wanted_lock:
            self._wanted.update(values)

    def write_wanted(self) -> dict[str, Any]:
        """Write the wanted values that are not on disk yet; returns what was written
        (empty: nothing was). Blocks on the disk: call it off the UI thread (except at
        shutdown). Raises :class:`settings.overlay.OverlaySaveError` naming the file."""
        with self._write_lock, _FILE_LOCK:
            with self._wanted_lock:
                wanted = dict(self._wanted)
            overlay = StaffOverlay.open(self.path)  # afresh: another page may have written it
            new = {k: v for k, v in wanted.items() if overlay.values.get(k, object()) != v}
            if not new:
                return {}
            overlay.changed(new, self._clock()).save()
            log.info("staff's changes kept in %s: %s", self.path, new)
        note = self._note
        for key, value in sorted(new.items()):
            if note is not None and key in self._fleet_keys:
                note(key, value)
        return new


__all__ = ["Calibration", "NoteChange", "OverlaySaveError", "StaffChanges"]
