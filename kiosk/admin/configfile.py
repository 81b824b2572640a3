"""Write the calibration (``[sensors] roi`` and ``[sensors.zones]``) back into the config file.

Staff's comments in the file are kept: only the lines of those keys are replaced (or added
under their table). The result is checked by parsing it, and the file is replaced
atomically, so a power cut leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

log = logging.getLogger(__name__)

_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\s]+?)\s*\]\s*(#.*)?$")


class CalibrationSaveError(OSError):
    """The calibration could not be written to the config file (message names the file)."""


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


def _fmt(value: float) -> str:
    return repr(round(float(value), 3))


def _replace_key(line: str, table: str, values: dict[str, str]) -> tuple[str, str] | None:
    """``(key, new line)`` when ``line`` sets one of ``values``' keys, else None; the
    staff's comment after the value is kept. Raises ValueError for a multi-line value."""
    key_match = re.match(r"^(\s*)([A-Za-z0-9_-]+)\s*=\s*(.*)$", line)
    if not key_match or key_match.group(2) not in values:
        return None
    key = key_match.group(2)
    rest = key_match.group(3)
    if rest.lstrip().startswith("[") and "]" not in rest:
        raise ValueError(f"[{table}] {key} spans several lines")
    # keep the staff's comment after the value (these values hold no '#')
    hash_at = rest.find("#")
    comment = "  " + rest[hash_at:].rstrip() if hash_at >= 0 else ""
    return key, f"{key_match.group(1)}{key} = {values[key]}{comment}"


def _set_keys(lines: list[str], table: str, values: dict[str, str]) -> list[str]:
    """Replace ``key = ...`` lines inside ``[table]`` (keeping trailing comments) and add
    the missing keys at the end of the table; add the table when the file has none."""
    out: list[str] = []
    current: str | None = None
    pending = dict(values)
    found_table = False

    def flush() -> None:
        # insert the keys still missing before the blank lines that end the table
        trailing: list[str] = []
        while out and not out[-1].strip():
            trailing.append(out.pop())
        for key, text in pending.items():
            out.append(f"{key} = {text}")
        pending.clear()
        out.extend(reversed(trailing))

    for line in lines:
        match = _TABLE.match(line)
        if match:
            if current == table:
                flush()
            current = match.group(1).replace(" ", "")
            found_table = found_table or current == table
            out.append(line)
            continue
        replaced = _replace_key(line, table, values) if current == table else None
        if replaced is not None:
            key, new_line = replaced
            out.append(new_line)
            pending.pop(key, None)
            continue
        out.append(line)
    if current == table:
        flush()
    if not found_table:
        if out and out[-1].strip():
            out.append("")
        out.append(f"[{table}]")
        out.extend(f"{key} = {text}" for key, text in pending.items())
    return out


def _rewrite(text: str, calibration: Calibration) -> str:
    lines = text.splitlines()
    lines = _set_keys(
        lines, "sensors", {"roi": "[" + ", ".join(_fmt(v) for v in calibration.roi) + "]"}
    )
    zones = {key: _fmt(value) for key, value in calibration.zones_dict().items()}
    lines = _set_keys(lines, "sensors.zones", zones)
    return "\n".join(lines) + "\n"


def _matches(doc: dict[str, Any], calibration: Calibration) -> bool:
    sensors = doc.get("sensors", {})
    zones = sensors.get("zones", {}) if isinstance(sensors, dict) else {}
    roi = sensors.get("roi") if isinstance(sensors, dict) else None
    wanted = calibration.zones_dict()
    return (
        isinstance(roi, list)
        and [round(float(v), 3) for v in roi] == [round(v, 3) for v in calibration.roi]
        and all(round(float(zones.get(k, -1)), 3) == round(v, 3) for k, v in wanted.items())
    )


def save_calibration(path: Path, calibration: Calibration) -> None:
    """Write ``calibration`` into the config file at ``path`` (atomic; comments kept).

    Raises :class:`CalibrationSaveError` with one line naming the file.
    """
    try:
        text = path.read_text(encoding="utf-8")
        original = tomllib.loads(text)
    except FileNotFoundError:
        text, original = "", {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CalibrationSaveError(f"{path}: cannot read the config to update it ({exc})") from None
    try:
        new_text = _rewrite(text, calibration)
        parsed = tomllib.loads(new_text)
        ok = _matches(parsed, calibration)
    except (ValueError, tomllib.TOMLDecodeError):
        ok = False
    if not ok:
        # an unusual layout (inline tables, dotted keys): write the whole document instead,
        # losing its comments but never its values
        log.warning("%s: rewriting the whole file to save the calibration", path)
        doc = dict(original)
        sensors = dict(doc.get("sensors", {}))
        sensors["roi"] = [round(v, 3) for v in calibration.roi]
        zones = dict(sensors.get("zones", {}))
        zones.update({k: round(v, 3) for k, v in calibration.zones_dict().items()})
        sensors["zones"] = zones
        doc["sensors"] = sensors
        new_text = tomli_w.dumps(doc)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(new_text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, mode)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CalibrationSaveError(
            f"{path}: cannot save the calibration ({exc.strerror or exc})"
        ) from None
    log.info(
        "calibration saved to %s: roi %s zones %s",
        path,
        list(calibration.roi),
        calibration.zones_dict(),
    )


class CalibrationWriter:
    """Saves calibrations into one config file, the newest one winning; used from the UI
    thread (:meth:`want`) and a worker (:meth:`write_wanted`).

    Staff drag and undo faster than a file is written: each change only replaces the
    calibration wanted on disk, and whichever write runs next writes the newest one, so
    writes that finish out of order, or one made at shutdown, never leave an older one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wanted_lock = threading.Lock()  # held for an assignment only: UI-safe
        self._write_lock = threading.Lock()  # held while the file is written
        self._wanted: Calibration | None = None
        self._written: Calibration | None = None

    def want(self, calibration: Calibration) -> None:
        """Make ``calibration`` the one to write next (returns at once)."""
        with self._wanted_lock:
            self._wanted = calibration

    def write_wanted(self) -> Calibration | None:
        """Write the newest wanted calibration unless it is on disk already; returns what
        was written (None: nothing was). Blocks on the disk: call it off the UI thread
        (except at shutdown). Raises :class:`CalibrationSaveError`."""
        with self._write_lock:
            with self._wanted_lock:
                wanted = self._wanted
            if wanted is None or wanted == self._written:
                return None
            save_calibration(self.path, wanted)
            self._written = wanted
            return wanted
