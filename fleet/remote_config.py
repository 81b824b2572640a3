"""The config the fleet may set through the Device Shadow: the allow-list, the checks, the
overlay file.

The fleet's desired ``config`` is shaped like the TOML file (``{"kiosk": {"idle_timeout_s":
60}}``); :func:`flatten_desired` turns it into dotted keys and refuses every key that is not on
:data:`ALLOWED_KEYS` (PIN hashes, certificate paths and the uplink endpoint never are).
:func:`check_changes` validates the values with the same strict model as the config file
(``settings.model.KioskConfig``) and says, in one line per refused key, why.

What the fleet set is kept in :class:`RemoteConfig`, a TOML overlay in the data directory
(``remote-config.toml``, replaced atomically): the config in ``/etc`` stays read-only, and
:meth:`RemoteConfig.applied_to` lays the overlay over it at start.
"""

from __future__ import annotations

import logging
import os
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import ValidationError

from settings.model import WEEKDAYS, KioskConfig
from settings.overlay import StaffOverlay, write_atomically
from settings.overlay import nest_keys as nest_keys  # re-exported for fleet.shadow
from settings.resources import ResourceError, builtin_name, resource_path

log = logging.getLogger(__name__)

#: The overlay's file name in the data directory.
OVERLAY_NAME = "remote-config.toml"

#: The config keys the fleet may set: idle timeouts, attract rotation, the active experience,
#: the presence zones, the opening hours and dayparts, the uplink's rates, the log level.
ALLOWED_KEYS: tuple[str, ...] = (
    "kiosk.idle_timeout_s",
    "kiosk.presence_grace_s",
    "kiosk.goodbye_s",
    "kiosk.attract_rotate_s",
    "kiosk.experience",
    "sensors.zones.passing_m",
    "sensors.zones.approaching_m",
    "sensors.zones.engaged_m",
    "schedule.enabled",
    "schedule.timezone",
    *(f"schedule.{day}" for day in WEEKDAYS),
    "schedule.exceptions",
    "schedule.dayparts",
    "schedule.check_s",
    "uplink.max_publishes_per_s",
    "uplink.max_bytes_per_s",
    "uplink.status_interval_s",
    "logging.level",
)
_ALLOWED = frozenset(ALLOWED_KEYS)
#: The config tables that hold allowed keys (where the fleet's document may go deeper).
_TABLES = frozenset(key.rsplit(".", i)[0] for key in ALLOWED_KEYS for i in (1, 2) if "." in key)
#: Keys that are set on the kiosk only, named in the refusal so nobody tries again.
_KIOSK_ONLY = ("admin", "uplink", "paths", "redis", "storage", "fleet")

Origin = Literal["fleet", "kiosk"]


@dataclass(frozen=True)
class Refusal:
    """A desired value that was not applied: its dotted key, the value, the one-line reason."""

    key: str
    value: Any
    reason: str


@dataclass(frozen=True)
class Applied:
    """A desired value now in effect, with the value it replaced."""

    key: str
    value: Any
    previous: Any


@dataclass(frozen=True)
class ChangeOutcome:
    """The config with the accepted changes in effect, and what was applied or refused."""

    config: KioskConfig
    applied: list[Applied]
    refused: list[Refusal]


def flatten_desired(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[Refusal]]:
    """The desired ``config`` document as ``{dotted key: value}``, and the keys refused
    because the fleet may not set them."""
    flat: dict[str, Any] = {}
    refused: list[Refusal] = []
    _flatten(document, "", flat, refused)
    return flat, refused


def _flatten(
    node: Mapping[str, Any], prefix: str, flat: dict[str, Any], refused: list[Refusal]
) -> None:
    for name, value in node.items():
        key = f"{prefix}{name}"
        if key in _ALLOWED:
            flat[key] = value
        elif key in _TABLES and isinstance(value, dict):
            _flatten(value, f"{key}.", flat, refused)
        else:
            refused.append(Refusal(key, value, _not_allowed(key)))


def _not_allowed(key: str) -> str:
    if key.split(".", 1)[0] in _KIOSK_ONLY:
        return (
            f"{key} is set on the kiosk only (PIN hashes, certificates, the uplink endpoint, "
            "the keys bundles are checked with, paths and storage are never set by the fleet)"
        )
    return f"{key} is not a key the fleet may set (allowed: {', '.join(ALLOWED_KEYS)})"


def desired_times(metadata: Any, prefix: str = "") -> dict[str, float]:
    """The shadow's metadata timestamps of the desired config, by dotted key."""
    found: dict[str, float] = {}
    if not isinstance(metadata, dict):
        return found
    for name, node in metadata.items():
        if isinstance(node, dict) and isinstance(node.get("timestamp"), int | float):
            found[f"{prefix}{name}"] = float(node["timestamp"])
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            times = [n.get("timestamp", 0) for n in node if isinstance(n, dict)]
            found[f"{prefix}{name}"] = float(max(times, default=0))
        else:
            found.update(desired_times(node, f"{prefix}{name}."))
    return found


def split_desired(desired: Any) -> tuple[dict[str, Any], list[Refusal]]:
    """The desired document's ``config`` flattened, and refusals for everything else."""
    if not isinstance(desired, dict):
        return {}, []
    refused = [
        Refusal(key, value, f"{key} is not a part of the shadow the kiosk takes (only 'config')")
        for key, value in desired.items()
        if key != "config"
    ]
    config = desired.get("config")
    if config is None:
        return {}, refused
    if not isinstance(config, dict):
        return {}, [*refused, Refusal("config", config, "config must be an object of tables")]
    flat, not_allowed = flatten_desired(config)
    return flat, refused + not_allowed


def config_value(config: KioskConfig, key: str) -> Any:
    """The value of a dotted key in ``config``, as JSON holds it (paths as strings)."""
    node: Any = config.model_dump(mode="json")
    for part in key.split("."):
        node = node[part]
    return node


def check_changes(
    config: KioskConfig, changes: Mapping[str, Any], *, data_dir: Path | None = None
) -> ChangeOutcome:
    """Validate ``changes`` (allowed dotted keys) on top of ``config`` with the config model.

    The keys of one table are tried together first (zone distances that are only valid
    together), then one by one, so one bad value does not hold back the others. ``data_dir``
    is where a relative experience path is looked for (the staged bundles).
    """
    current = config
    applied: list[Applied] = []
    refused: list[Refusal] = []
    for _table, keys in _by_table(changes):
        group = {key: changes[key] for key in keys}
        try:
            current = _with(current, group, data_dir)
        except _Invalid:
            for key in keys:
                try:
                    current = _with(current, {key: changes[key]}, data_dir)
                except _Invalid as invalid:
                    refused.append(Refusal(key, changes[key], invalid.reason))
                    continue
                applied.append(Applied(key, changes[key], config_value(config, key)))
            continue
        applied += [Applied(k, changes[k], config_value(config, k)) for k in keys]
    return ChangeOutcome(current, applied, refused)


def _by_table(changes: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    tables: dict[str, list[str]] = {}
    for key in sorted(changes):
        tables.setdefault(key.rsplit(".", 1)[0], []).append(key)
    return sorted(tables.items())


class _Invalid(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _with(config: KioskConfig, changes: Mapping[str, Any], data_dir: Path | None) -> KioskConfig:
    """``config`` with ``changes`` set and the whole config validated; :class:`_Invalid`
    naming the key, the value and the rule."""
    raw = config.model_dump()
    for key, value in changes.items():
        *tables, name = key.split(".")
        node = raw
        for table in tables:
            node = node[table]
        node[name] = _experience(value, data_dir) if key == "kiosk.experience" else value
    try:
        checked = KioskConfig.model_validate(raw)
    except ValidationError as exc:
        raise _Invalid(_reason(exc, changes)) from None
    result = config.model_copy(deep=True)
    for section in {key.split(".", 1)[0] for key in changes}:
        setattr(result, section, getattr(checked, section))
    return result


def _experience(value: Any, data_dir: Path | None) -> Path:
    """The experience the fleet names: ``builtin:NAME`` or a path (relative: in the data
    directory, where bundles are staged) that exists on this kiosk."""
    if not isinstance(value, str) or not value:
        raise _Invalid(f"kiosk.experience = {value!r}: must be a non-empty string")
    name = builtin_name(Path(value))
    if name is not None:
        try:
            return resource_path(name)
        except ResourceError as exc:
            raise _Invalid(f"kiosk.experience = {value!r}: {exc}") from None
    path = Path(value)
    if ".." in path.parts:
        raise _Invalid(f"kiosk.experience = {value!r}: '..' is not allowed in the path")
    if not path.is_absolute():
        if data_dir is None:
            raise _Invalid(
                f"kiosk.experience = {value!r}: a relative path needs the data directory"
            )
        path = data_dir / path
    if not path.exists():
        raise _Invalid(
            f"kiosk.experience = {value!r}: no such file or folder on this kiosk ({path})"
        )
    return path


def _reason(exc: ValidationError, changes: Mapping[str, Any]) -> str:
    """One line: the first error's key (dotted), the value asked for, the rule."""
    error = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if loc in changes:
        return f"{loc} = {changes[loc]!r}: {message}"
    asked = ", ".join(f"{k} = {v!r}" for k, v in changes.items() if k.startswith(loc))
    return f"{loc}: {message}" + (f" (asked: {asked})" if asked else "")


@dataclass(frozen=True)
class Change:
    """Who last set a key of the overlay (the fleet or staff on the kiosk), when (epoch s),
    and the shadow version it came with (fleet changes)."""

    at: float
    by: Origin
    version: int | None = None


class RemoteConfig:
    """The overlay file: the values the fleet set (and staff changed since), one atomic file.

    Not thread-safe: one owner (the shadow agent's thread) reads and writes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        #: dotted key -> the value as the fleet (or staff) wrote it
        self.values: dict[str, Any] = {}
        self.changes: dict[str, Change] = {}

    @classmethod
    def open(cls, path: Path) -> RemoteConfig:
        """Read the overlay (none yet: empty). A file that cannot be read is moved aside to
        ``<name>.corrupt-<time>`` and logged; the fleet's desired state comes again at the
        next connection."""
        remote = cls(path)
        try:
            data = tomllib.loads(remote.path.read_text(encoding="utf-8"))
            remote._take(data)
        except FileNotFoundError:
            return remote
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError,
                ValueError) as exc:  # fmt: skip
            aside = remote.path.with_name(f"{remote.path.name}.corrupt-{int(time.time())}")
            log.error("fleet config overlay %s cannot be read (%s): moved to %s; starting "
                      "without it", remote.path, exc, aside)  # fmt: skip
            os.replace(remote.path, aside)
            return cls(path)
        return remote

    def _take(self, data: Mapping[str, Any]) -> None:
        flat, refused = flatten_desired(data.get("config", {}))
        if refused:
            raise ValueError(f"keys that are not allowed: {', '.join(r.key for r in refused)}")
        self.values = flat
        for key, change in data.get("changes", {}).items():
            if change["by"] not in ("fleet", "kiosk"):
                raise ValueError(f"changes.{key}.by = {change['by']!r}")
            self.changes[key] = Change(float(change["at"]), change["by"], change.get("version"))

    def effective_value(self, config: KioskConfig, key: str) -> Any:
        """The value in effect as the shadow reports it: as written in the overlay when it
        holds the key (an experience as the fleet named it), else from ``config``."""
        if key in self.values:
            return self.values[key]
        return config_value(config, key)

    def applied_to(self, config: KioskConfig) -> ChangeOutcome:
        """``config`` (read from ``/etc``) with the overlay laid over it; a value the model
        no longer accepts is refused and logged (the file's value stays in effect)."""
        outcome = check_changes(config, self.values, data_dir=config.paths.data_dir)
        for refusal in outcome.refused:
            log.error("fleet config overlay %s: not applied: %s", self.path, refusal.reason)
        return outcome

    def take_staff_changes(self, staff: StaffOverlay) -> list[str]:
        """Fold in staff's changes (``staff-config.toml``) of allowed keys that are newer than
        what this overlay holds for them, as the kiosk's with staff's time (a change made
        while the shadow was off, or one it was never told of), and save; returns their keys.
        The newer change wins at start as it does at each reconnect."""
        taken = []
        for key, value in sorted(staff.values.items()):
            at = staff.changed_at.get(key)
            held = self.changes.get(key)
            if key not in _ALLOWED or at is None or (held is not None and held.at >= at):
                continue
            self.set([(key, value)], Change(at, "kiosk"))
            taken.append(key)
            log.info("fleet config overlay %s: %s = %r from %s (staff changed it at %s, after "
                     "the fleet)", self.path, key, value, staff.path, staff.when(key))  # fmt: skip
        if taken:
            try:
                self.save()
            except OSError as exc:
                log.error("fleet config overlay %s cannot keep staff's newer %s (%s)",
                          self.path, ", ".join(taken), exc.strerror or exc)  # fmt: skip
        return taken

    def set(self, items: Iterable[tuple[str, Any]], change: Change) -> None:
        """Keep these values, set by ``change.by`` (saved by :meth:`save`)."""
        for key, value in items:
            self.values[key] = value
            self.changes[key] = change

    def save(self) -> None:
        """Replace the file atomically (a temporary file, fsync, rename, fsync the folder)."""
        document = {"config": nest_keys(self.values), "changes": {
            key: {k: v for k, v in vars(change).items() if v is not None}
            for key, change in sorted(self.changes.items())
        }}  # fmt: skip
        text = (
            "# Written by the kiosk (fleet.remote_config): the config the fleet set through the\n"
            "# Device Shadow, laid over the config file at start. Do not edit by hand.\n"
            + tomli_w.dumps(document)
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, text.encode(), mode=0o644)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
