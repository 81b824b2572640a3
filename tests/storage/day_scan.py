"""The rollup tests' reference: random shop traffic over several days, and the day views
worked out by scanning every event (what the dashboards did before the rollups)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from storage import Event
from storage.event import utc_iso
from storage.rollups import dwell_bin

SKUS = [f"SKU-{n:02d}" for n in range(12)]
ZONES = ["passing", "approaching", "engaged", "away", None]
DWELLS: list[int | None] = [0, 1, 4999, 5000, 12_345, 61_000, 179_999, 250_000, 3_600_000, None]


def random_events(rng: random.Random, count: int, start: float, span_s: float) -> list[Event]:
    """``count`` events between ``start`` and ``start + span_s`` (epoch s), mostly in order,
    some late (a clock corrected); sessions, presence episodes, products seen twice, odd
    dwell values, pages missing."""
    events = []
    sessions = [f"s{n}" for n in range(max(3, count // 15))]
    for index in range(count):
        at = start + span_s * index / count
        if rng.random() < 0.05:
            at -= rng.uniform(0, span_s / 3)  # recorded late
        events.append(_random_event(rng, rng.choice(sessions), at))
    return events


def _random_event(rng: random.Random, session: str, at: float) -> Event:
    kind = rng.choice(["presence", "presence", "start", "touch", "view", "action", "end"])
    sid = session if rng.random() < 0.9 else None
    sku = rng.choice(SKUS)
    page = rng.choice(["dogs", "cats", None])
    if kind == "presence":
        payload: dict[str, Any] = {"zone": rng.choice(ZONES)}
        if payload["zone"] is None:
            payload = {}
        event = Event.create("presence.change", session_id=sid, payload=payload)
    elif kind == "start":
        event = Event.create("session.start", session_id=sid, page=page)
    elif kind == "end":
        event = Event.create("session.end", session_id=sid, payload={"reason": "left"})
    elif kind == "touch":
        payload = {"sku": sku} if rng.random() < 0.7 else {}
        event = Event.create("touch", session_id=sid, page=page, payload=payload)
    elif kind == "view":
        payload = {"sku": sku, "dwell_ms": rng.choice(DWELLS)}
        if payload["dwell_ms"] is None:
            del payload["dwell_ms"]
        if rng.random() < 0.2:
            del payload["sku"]
        event = Event.create("page.view", session_id=sid, page=page, payload=payload)
    else:
        event = Event.create("action", session_id=sid, payload={"sku": sku})
    stamp = dt.datetime.fromtimestamp(at, dt.UTC).replace(microsecond=int(at % 1 * 1000) * 1000)
    return dataclasses.replace(event, ts=utc_iso(stamp))


@dataclass
class DayScan:
    """One day's views, worked out from the events."""

    events: int = 0
    traffic: Counter[tuple[int, str]] = field(default_factory=Counter)
    products: Counter[str] = field(default_factory=Counter)
    dwell: Counter[tuple[str, int]] = field(default_factory=Counter)
    sessions: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)
    baskets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    funnel: list[int] = field(default_factory=lambda: [0, 0, 0])
    deepest: int = 0

    def presence(self, zone: object) -> None:
        """The funnel as the dashboards' old scan counted it."""
        level = {"passing": 1, "approaching": 2, "engaged": 3}.get(str(zone), 0)
        if level == 0:
            self.deepest = 0
            return
        if self.deepest == 0:
            self.funnel[0] += 1
        if level >= 2 and self.deepest < 2:
            self.funnel[1] += 1
        if level >= 3 and self.deepest < 3:
            self.funnel[2] += 1
        self.deepest = max(self.deepest, level)

    def pairs(self) -> Counter[tuple[str, str]]:
        """Sessions that saw both a and b."""
        both: Counter[tuple[str, str]] = Counter()
        for items in self.baskets.values():
            for a, b in itertools.permutations(sorted(items), 2):
                both[(a, b)] += 1
        return both

    def basket_counts(self) -> Counter[str]:
        """Sessions that saw each product."""
        return Counter(sku for items in self.baskets.values() for sku in items)


def scan(db: sqlite3.Connection) -> dict[str, DayScan]:
    """Every day's views from a scan of the events table, in ``seq`` order; days and hours
    from Python's :func:`time.localtime`."""
    days: dict[str, DayScan] = defaultdict(DayScan)
    rows = db.execute(
        "SELECT ts_epoch, type, session_id, sku, page, payload FROM events ORDER BY seq"
    )
    for epoch, type_, session, sku, page, payload_json in rows:
        local = time.localtime(epoch)
        day = days[time.strftime("%Y-%m-%d", local)]
        payload = orjson.loads(payload_json)
        day.events += 1
        day.traffic[(local.tm_hour, type_)] += 1
        if sku is not None:
            day.products[sku] += 1
        if session is not None:
            day.sessions.add(session)
            if type_ == "touch":
                day.touched.add(session)
            if sku is not None:
                day.baskets[session].add(sku)
        dwell = payload.get("dwell_ms")
        if type_ == "page.view" and type(dwell) in (int, float) and dwell >= 0:
            day.dwell[(page or "", dwell_bin(dwell))] += 1
        if type_ == "presence.change":
            day.presence(payload.get("zone"))
    return dict(days)


def rollup_tables(db: sqlite3.Connection, day: str) -> dict[str, Any]:
    """One day of the rollup tables, in the reference's shapes."""

    def rows(sql: str) -> list[Any]:
        return db.execute(sql, (day,)).fetchall()

    (sessions, touched, viewed, passed, approached, engaged, deepest) = rows(
        "SELECT sessions, touched, viewed, passed, approached, engaged, deepest "
        "FROM rollup_days WHERE day = ?"
    )[0]
    traffic = rows("SELECT hour, events, sessions, touches FROM rollup_traffic WHERE day = ?")
    return {
        "events": sum(r[1] for r in traffic),
        "traffic": {h: (s, t) for h, _, s, t in traffic if s or t},
        "products": dict(rows("SELECT sku, events FROM rollup_products WHERE day = ? AND events")),
        "basket_counts": dict(rows("SELECT sku, sessions FROM rollup_products WHERE day = ?")),
        "dwell": {
            (p, b): n for p, b, n in rows("SELECT page, bin, views FROM rollup_dwell WHERE day = ?")
        },
        "sessions": (sessions, touched, viewed),
        "funnel": [passed, approached, engaged],
        "deepest": deepest,
        "pairs": _both_orders(rows("SELECT a, b, sessions FROM rollup_pairs WHERE day = ?")),
    }


def reference(day: DayScan) -> dict[str, Any]:
    """One day of the scan, in :func:`rollup_tables`' shapes."""
    traffic: dict[int, tuple[int, int]] = {}
    for (hour, type_), n in day.traffic.items():
        sessions, touches = traffic.get(hour, (0, 0))
        if type_ == "session.start":
            sessions += n
        elif type_ == "touch":
            touches += n
        traffic[hour] = (sessions, touches)
    return {
        "events": day.events,
        "traffic": {h: st for h, st in traffic.items() if any(st)},
        "products": dict(day.products),
        "basket_counts": {sku: day.basket_counts().get(sku, 0) for sku in _all_skus(day)},
        "dwell": dict(day.dwell),
        "sessions": (len(day.sessions), len(day.touched), len(day.baskets)),
        "funnel": day.funnel,
        "deepest": day.deepest,
        "pairs": dict(day.pairs()),
    }


def _all_skus(day: DayScan) -> set[str]:
    return set(day.products) | {sku for items in day.baskets.values() for sku in items}


def _both_orders(rows: list[Any]) -> dict[tuple[str, str], int]:
    """The rollup keeps a pair once (a < b): both orders, as the scan counts them."""
    assert all(a < b for a, b, _ in rows)
    return {pair: n for a, b, n in rows for pair in ((a, b), (b, a))}
