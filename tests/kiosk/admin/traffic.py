"""Shopper traffic for the admin tests and screenshots, written through the real
interaction log (``storage.EventLog``)."""

from __future__ import annotations

import random
from typing import Any

from settings import KioskConfig
from storage import Event, EventLog
from storage.rollups import DayRollups

SKUS = [f"SKU-{n:03d}" for n in range(1, 41)]
PAGES = ["welcome", "dogs", "cats", "offers", "product"]


def start_log(config: KioskConfig) -> EventLog:
    """A started ``storage.EventLog`` for ``config``, keeping the dashboards' rollups as the
    kiosk's does (stop it when done)."""
    log = EventLog(config, batch_hooks=[DayRollups(config.storage.retention_days)])
    log.start()
    return log


def shopper_events(session: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """One shopper's visit: (type, fields) in order. Popular products are popular."""
    sid = f"s-{session:06d}"
    out: list[tuple[str, dict[str, Any]]] = [
        ("presence.change", {"payload": {"zone": "passing"}}),
    ]
    away = ("presence.change", {"payload": {"zone": "away"}})
    if rng.random() < 0.3:
        return [*out, away]  # walked past
    out.append(("presence.change", {"payload": {"zone": "approaching"}}))
    out.append(("session.start", {"session_id": sid}))
    out.append(("presence.change", {"session_id": sid, "payload": {"zone": "engaged"}}))
    if rng.random() < 0.2:
        out.append(("session.end", {"session_id": sid, "payload": {"reason": "left"}}))
        return [*out, away]
    for _ in range(rng.randint(1, 5)):
        sku = SKUS[min(len(SKUS) - 1, int(rng.expovariate(0.15)))]
        page = rng.choice(PAGES)
        out.append(
            ("touch", {"session_id": sid, "page": page, "element": "tile", "payload": {"sku": sku}})
        )
        out.append(
            (
                "page.view",
                {
                    "session_id": sid,
                    "page": "product",
                    # as the kiosk writes it: time spent on the page just left
                    "payload": {
                        "sku": sku,
                        "name": "product",
                        "dwell_ms": round(rng.uniform(1, 40) * 1000),
                    },
                },
            )
        )
        out.append(
            (
                "action",
                {
                    "session_id": sid,
                    "page": "product",
                    "element": "more",
                    "payload": {"sku": sku, "action": "show-product"},
                },
            )
        )
    out.append(("session.end", {"session_id": sid, "payload": {"reason": "left"}}))
    return [*out, away]


def fill_log(log: EventLog, *, sessions: int, seed: int = 7) -> int:
    """Append ``sessions`` shoppers' events to ``log``; how many events."""
    rng = random.Random(seed)
    count = 0
    for session in range(sessions):
        for type_, fields in shopper_events(session, rng):
            log.append(Event.create(type_, **fields))
            count += 1
    return count
