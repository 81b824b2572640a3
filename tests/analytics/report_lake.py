"""A small generated lake over several days for the report and notebook tests: the events of
benchmarks.lake's shoppers (baskets of popular products), landed as the receiver lands them
and copied into a local Parquet lake by analytics.lake."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.lake import LakeBounds, LakeWriter
from analytics.lake_target import LocalLake
from benchmarks.lake import kiosk_events
from tests.analytics.conftest import batch_bytes, land

#: The report's day (a Monday) and how many events each kiosk sent on each day generated.
DAY = "2026-11-23"
STORE = "store-000"
OTHER_STORE = "store-001"
#: Per kiosk: the day, the four Mondays before it (one with none: the lake had no data that
#: day), and the Sunday before with far more traffic (a day the report must not compare with).
VOLUMES = {
    DAY: 600,
    "2026-11-16": 300,
    "2026-11-09": 200,
    "2026-11-02": 0,
    "2026-10-26": 400,
    "2026-11-22": 2000,
}
KIOSKS = ("kiosk-00", "kiosk-01", "kiosk-02")


@dataclass(frozen=True)
class GeneratedLake:
    """The lake's root and the receiver's SQLite file it was copied from."""

    root: Path
    sqlite: Path


def shifted(event: dict[str, Any], date: str) -> dict[str, Any]:
    """``event`` (generated on benchmarks.lake's day) on ``date``, same time of day."""
    return {**event, "ts": date + event["ts"][10:]}


def day_events(rng: random.Random, store: str, kiosk: str, date: str) -> list[dict[str, Any]]:
    """One kiosk's events of ``date`` (none when its volume is 0)."""
    volume = VOLUMES[date]
    if volume == 0:
        return []
    return [shifted(event, date) for event in kiosk_events(rng, store, kiosk, volume)]


def generate_lake(folder: Path, *, silent_kiosk_on_day: str | None = "kiosk-02") -> GeneratedLake:
    """Land every store's kiosks' days, then copy them into a local lake; ``silent_kiosk_on_day``
    sends nothing on :data:`DAY` (it did on the days before)."""
    rng = random.Random(7)
    messages = []
    for store in (STORE, OTHER_STORE):
        for kiosk in KIOSKS:
            for date in VOLUMES:
                if date == DAY and kiosk == silent_kiosk_on_day and store == STORE:
                    continue
                events = day_events(rng, store, kiosk, date)
                for start in range(0, len(events), 500):
                    chunk = events[start : start + 500]
                    messages.append(batch_bytes(chunk, f"{store}-{kiosk}-{date}-{start}"))
    sqlite = folder / "received.sqlite"
    land(sqlite, messages)
    root = folder / "lake"
    writer = LakeWriter(sqlite, LocalLake(root), LakeBounds(file_rows=5_000))
    try:
        writer.drain()
    finally:
        writer.stop()
    return GeneratedLake(root, sqlite)
