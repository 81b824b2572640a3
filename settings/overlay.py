"""Staff's changes made on the kiosk, kept in the data folder and laid over the config file.

On an installed kiosk the config file (``/etc/retail-edge-kiosk/kiosk.toml``) is read-only
for the kiosk (systemd ``ProtectSystem=strict``): what staff change on the admin panel (the
calibration, the opening hours) is kept in ``<data_dir>/staff-config.toml`` instead, written
atomically, with the time of each change. :func:`settings.loader.load_config` lays it over
the file (environment variables still win over both); the fleet's overlay
(``remote-config.toml``, :mod:`fleet.remote_config`) is laid over the result when the
Device Shadow starts, and every staff change of a key the fleet may set is also handed to
the shadow (``ShadowAgent.note_local_change``), so whichever change is newer is the one
both files hold.

Only the keys of :data:`STAFF_KEYS` are taken from the file: it is not a second config.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settings.model import WEEKDAYS

log = logging.getLogger(__name__)

#: The overlay's file name in the data folder.
STAFF_OVERLAY_NAME = "staff-config.toml"

#: The keys staff set on the admin panel (dotted, as in the TOML file).
STAFF_KEYS: tuple[str, ...] = (
    "sensors.roi",
    *(f"sensors.zones.{zone}_m" for zone in ("passing", "approaching", "engaged")),
    *(f"schedule.{day}" for day in WEEKDAYS),
)

_HEADER = (
    "# Written by the kiosk: the changes staff made on the admin panel, laid over the\n"
    "# config file at start (docs/kiosk.md, where changes are kept). Do not edit by hand.\n"
)


class OverlaySaveError(OSError):
    """The overlay could not be written; ``str()`` is one line naming the file."""


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it (never half-written)."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def nest_keys(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` as ``{"a": {"b": 1}}`` (the shape of the TOML file and the shadow)."""
    nested: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        *tables, name = key.split(".")
        node = nested
        for table in tables:
            node = node.setdefault(table, {})
        node[name] = value
    return nested


def _flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` as ``{"a.b": 1}`` (tables only; lists are values)."""
    flat: dict[str, Any] = {}
    for name, value in node.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


@dataclass(frozen=True)
class StaffOverlay:
    """The overlay file: dotted key -> value, and when (epoch seconds) each was changed."""

    path: Path
    values: dict[str, Any] = field(default_factory=dict)
    changed_at: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> StaffOverlay:
        """Read the overlay (none yet: empty). A file that cannot be read, or that holds a
        key staff do not set, is moved aside to ``<name>.corrupt-<time>`` and logged: the
        kiosk starts with the config file's values."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
            values = _flatten(document.get("config", {}))
            stray = sorted(set(values) - set(STAFF_KEYS))
            if stray:
                raise ValueError(f"keys staff do not set: {', '.join(stray)}")
            changed = {str(k): float(v) for k, v in document.get("changed_at", {}).items()}
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError,
                ValueError, AttributeError) as exc:  # fmt: skip
            cls._move_aside(path, exc)
            return cls(path)
        return cls(path, values, changed)

    @staticmethod
    def _move_aside(path: Path, exc: Exception) -> None:
        aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
        try:
            os.replace(path, aside)
        except OSError as move_error:
            log.error("staff's changes %s cannot be read (%s) nor moved aside (%s): starting "
                      "with the config file's values", path, exc, move_error)  # fmt: skip
            return
        log.error("staff's changes %s cannot be read (%s): moved to %s; starting with the "
                  "config file's values", path, exc, aside)  # fmt: skip

    def changed(self, values: Mapping[str, Any], at: float) -> StaffOverlay:
        """A copy with ``values`` (keys of :data:`STAFF_KEYS`) set at ``at``."""
        stray = sorted(set(values) - set(STAFF_KEYS))
        if stray:
            raise ValueError(f"not keys staff set: {', '.join(stray)}")
        return StaffOverlay(
            self.path,
            {**self.values, **values},
            {**self.changed_at, **dict.fromkeys(values, at)},
        )

    def save(self) -> None:
        """Replace the file atomically (the folder made if missing, fsynced after the rename).
        Raises :class:`OverlaySaveError` naming the file."""
        import tomli_w  # only when staff save a change, not at every start

        document = {"config": nest_keys(self.values), "changed_at": dict(self.changed_at)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, (_HEADER + tomli_w.dumps(document)).encode(), mode=0o644)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OverlaySaveError(f"{self.path}: cannot be written ({reason})") from None

    def when(self, key: str) -> str:
        """When ``key`` was changed, as UTC text for the log ("an unknown time" if not noted)."""
        at = self.changed_at.get(key)
        if at is None:
            return "an unknown time"
        return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
