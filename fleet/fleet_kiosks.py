"""What kiosk-fleet says about kiosks (their shadows' reported health) and the desired config
it sets, checked before anything is sent. Qt-free, no AWS calls (see :mod:`fleet.fleet_aws`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fleet.fleet_aws import FleetError, Thing
from fleet.remote_config import check_changes, flatten_desired, nest_keys
from settings.model import KioskConfig

#: A kiosk reports every ``[uplink] status_interval_s`` (60 s by default): a report older than
#: this many seconds says the kiosk is away.
STALE_AFTER_S = 600.0


@dataclass(frozen=True)
class KioskRow:
    """One kiosk as ``kiosk-fleet list`` shows it. ``state`` is ``ok``, ``stale`` (no report
    for longer than the limit), ``no shadow`` or ``no health`` (a shadow without a report)."""

    thing: str
    store_id: str
    kiosk_id: str
    state: str
    report_age_s: int | None = None
    version: str | None = None
    bundle: str | None = None
    backlog_events: int | None = None
    camera: str | None = None


def kiosk_row(
    thing: Thing, shadow: Mapping[str, Any] | None, *, now: float, stale_after_s: float
) -> KioskRow:
    """The row of ``thing`` from its ``kiosk`` shadow document (None: it has none)."""
    ids = (thing.name, thing.store_id, thing.kiosk_id)
    if shadow is None:
        return KioskRow(*ids, state="no shadow")
    health = shadow.get("state", {}).get("reported", {}).get("health")
    if not isinstance(health, dict):
        return KioskRow(*ids, state="no health")
    stamps = _timestamps(shadow.get("metadata", {}).get("reported", {}).get("health"))
    age = round(now - max(stamps)) if stamps else None
    bundle = health.get("bundle")
    backlog = health.get("backlog")
    return KioskRow(
        *ids,
        state="stale" if age is None or age > stale_after_s else "ok",
        report_age_s=age,
        version=_text(health.get("version")),
        bundle=_text(bundle.get("id")) if isinstance(bundle, dict) else None,
        backlog_events=_count(backlog.get("events")) if isinstance(backlog, dict) else None,
        camera=_camera(health.get("camera")),
    )


def _timestamps(node: Any) -> list[float]:
    """Every ``timestamp`` in a shadow's metadata subtree."""
    if isinstance(node, dict):
        stamp = node.get("timestamp")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            return [float(stamp)]
        return [t for child in node.values() for t in _timestamps(child)]
    if isinstance(node, list):
        return [t for child in node for t in _timestamps(child)]
    return []


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _camera(value: Any) -> str | None:
    """The camera part of the health: its ``state`` (or error) when it is an object."""
    if isinstance(value, dict):
        return _text(value.get("state", value.get("error")))
    return _text(value)


_COLUMNS = ("thing", "store", "kiosk", "state", "report age", "version", "bundle", "backlog",
            "camera")  # fmt: skip


def kiosk_table(rows: Sequence[KioskRow]) -> str:
    """The rows as a plain text table ('-' where a kiosk reported nothing)."""
    cells = [
        [
            row.thing,
            row.store_id,
            row.kiosk_id,
            row.state,
            "-" if row.report_age_s is None else f"{row.report_age_s} s",
            *("-" if v is None else str(v) for v in (row.version, row.bundle)),
            "-" if row.backlog_events is None else str(row.backlog_events),
            row.camera or "-",
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [list(_COLUMNS), *cells]) for i in range(len(_COLUMNS))]
    lines = [list(_COLUMNS), *cells]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def kiosk_json(rows: Sequence[KioskRow]) -> str:
    """The rows as a JSON array of objects (for scripts)."""
    return json.dumps([asdict(row) for row in rows], indent=2)


def parse_assignments(assignments: Sequence[str]) -> dict[str, Any]:
    """``key=value`` arguments as ``{key: value}``: the value as JSON when it reads as JSON
    (``30``, ``true``, ``["08:00-20:00"]``), else as text (``DEBUG``)."""
    changes: dict[str, Any] = {}
    for text in assignments:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FleetError(f"{text!r}: write each change as key=value (e.g. logging.level=INFO)")
        if key in changes:
            raise FleetError(f"{key} is given twice")
        try:
            changes[key] = json.loads(raw)
        except ValueError:
            changes[key] = raw
    return changes


def checked_changes(
    changes: Mapping[str, Any], base: KioskConfig
) -> tuple[dict[str, Any], list[str]]:
    """``changes`` as the nested desired ``config`` document, and one line per refusal: a key
    outside the allow-list, or a value the config model refuses (checked over ``base``)."""
    flat: dict[str, Any] = {}
    refusals: list[str] = []
    for key, value in changes.items():
        allowed, not_allowed = flatten_desired(nest_keys({key: value}))
        flat.update(allowed)
        # a key under a kiosk-only table is refused by its table's name: say the key too
        refusals += [r.reason if r.key == key else f"{key}: {r.reason}" for r in not_allowed]
    outcome = check_changes(base, flat)
    refusals += [refusal.reason for refusal in outcome.refused]
    return nest_keys(flat), refusals
