"""The dashboards' figures over the lake: known answers on a small day, and the same answers
from the receiver's SQLite, a local lake and an S3 lake on a random fleet."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uuid_utils

from analytics.lake import LakeBounds, LakeWriter
from analytics.lake_target import LakeTarget, LocalLake, open_lake
from analytics.queries import (
    DashboardQueries,
    Funnel,
    HourTraffic,
    LakeSource,
    Pair,
    ProductCount,
    ProductRate,
    SQLiteSource,
    Triple,
)
from tests.analytics.conftest import BUCKET, batch_bytes, land

DAY = "2026-11-23"
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def event(
    at_s: float,
    type_: str,
    session: str | None = None,
    payload: dict[str, Any] | None = None,
    *,
    store: str = "store-a",
    kiosk: str = "kiosk-01",
    simulated: bool = False,
    start: datetime = NINE,
) -> dict[str, Any]:
    ts = (start + timedelta(seconds=at_s)).isoformat(timespec="microseconds")
    return {
        "v": 1,
        "id": str(uuid_utils.uuid7()),
        "ts": ts.replace("+00:00", "Z"),
        "mono_ns": int(at_s * 1e9),
        "clock_synced": True,
        "store_id": store,
        "kiosk_id": kiosk,
        "session_id": session,
        "type": type_,
        "page": "home",
        "element": None,
        "payload": payload or {},
        "simulated": simulated,
    }


def small_day() -> list[dict[str, Any]]:
    zones = ["passing", "approaching", "away", "passing", "engaged", "engaged", "away"]
    zones += ["approaching"]
    presence = [event(i, "presence.change", None, {"zone": z}) for i, z in enumerate(zones)]
    a, b, c = ({"sku": sku} for sku in ("SKU-A", "SKU-B", "SKU-C"))
    return [
        *presence,
        *(event(9, "session.start", s) for s in ("s1", "s2", "s3", "s4")),
        event(10.1, "touch", "s1", a),
        event(11.2, "page.view", "s1", {**b, "dwell_ms": 12_000}),
        event(11.5, "action", "s2", a),
        event(12.3, "action", "s2", a),
        event(12.6, "action", "s2", a),
        event(13.0, "touch", "s2"),
        event(14.0, "action", "s2", a),
        event(20.0, "page.view", "s3", {**c, "dwell_ms": 3_000}),
        # simulated traffic is not counted
        event(21.0, "touch", "sim", a, simulated=True),
        event(22.0, "presence.change", None, {"zone": "engaged"}, simulated=True),
    ]


def lake_of(db: Path, lake: LakeTarget, file_rows: int = 40) -> LakeSource:
    writer = LakeWriter(db, lake, LakeBounds(file_rows=file_rows))
    try:
        writer.drain()
    finally:
        writer.stop()
    return LakeSource(lake)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[DashboardQueries]:
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(small_day(), "b-1")])
    queries = DashboardQueries(lake_of(db, LocalLake(tmp_path / "lake")))
    yield queries
    queries.close()


def test_a_small_day_gives_the_figures_worked_out_by_hand(small: DashboardQueries) -> None:
    traffic = small.traffic_by_hour(DAY)
    assert traffic[9] == HourTraffic(9, events=20, sessions=4, touches=2)
    assert [t for t in traffic if t.hour != 9] == [
        HourTraffic(h, 0, 0, 0) for h in range(24) if h != 9
    ]
    # episodes: passing-approaching | passing-engaged-engaged | approaching
    assert small.funnel(DAY) == Funnel(3, 3, 1, shoppers=4, touched=2, viewed_product=3)
    dwell = small.dwell(DAY)
    assert dwell.counts[:3] == (1, 0, 1) and sum(dwell.counts) == 2
    assert (dwell.median_s, dwell.p90_s) == (7.5, pytest.approx(11.1))
    assert small.top_products(DAY) == [ProductCount("SKU-A", 5)]
    assert small.top_products(DAY, share=0.5) == [
        ProductCount("SKU-A", 5), ProductCount("SKU-B", 1), ProductCount("SKU-C", 1),
    ]  # fmt: skip
    # baskets: s1 {A, B}, s2 {A}, s3 {C}; four shoppers
    assert small.pairs(DAY) == [
        Pair("SKU-B", "SKU-A", 1, support=0.25, confidence=1.0, lift=2.0),
        Pair("SKU-A", "SKU-B", 1, support=0.25, confidence=0.5, lift=2.0),
    ]
    assert small.pairs(DAY, min_support=0.3) == []
    second = int(NINE.timestamp())
    assert small.product_rates(DAY, skus=["SKU-A"]) == [
        ProductRate(second + 10, "SKU-A", 1, 1),
        ProductRate(second + 11, "SKU-A", 1, 0),
        ProductRate(second + 12, "SKU-A", 2, 1),
        ProductRate(second + 14, "SKU-A", 1, 1),  # second 13 had none
    ]
    assert small.product_rates(DAY, busiest=1) == small.product_rates(DAY, skus=["SKU-A"])
    assert small.product_rates(DAY, skus=["SKU-B"]) == [ProductRate(second + 11, "SKU-B", 1, 1)]
    assert len(small.product_rates(DAY)) == 6  # the five busiest: all three products
    assert small.traffic_by_hour("2026-11-22") == [HourTraffic(h, 0, 0, 0) for h in range(24)]
    assert small.funnel(DAY, "store-b") == Funnel(0, 0, 0, 0, 0, 0)


def test_triples_of_a_small_day_are_worked_out_by_hand(tmp_path: Path) -> None:
    baskets = {"s1": "ABC", "s2": "ABC", "s3": "AB", "s4": "AD", "s5": "D"}
    day = [
        event(n, "page.view", session, {"sku": f"SKU-{letter}"})
        for n, (session, letters) in enumerate(baskets.items())
        for letter in letters
    ]
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(day, "b-1")])
    queries = DashboardQueries(lake_of(db, LocalLake(tmp_path / "lake")))
    try:
        # five shoppers; A in 4, B in 3, C in 2, D in 2; AB in 3, AC in 2, BC in 2, AD in 1;
        # ABC in 2 (at a support of 0.4, C and the pairs AC and BC just reach it)
        assert queries.triples(DAY) == [
            Triple("SKU-A", "SKU-C", "SKU-B", 2, support=0.4, confidence=1.0, lift=5 / 3),
            Triple("SKU-B", "SKU-C", "SKU-A", 2, support=0.4, confidence=1.0, lift=1.25),
            Triple("SKU-A", "SKU-B", "SKU-C", 2, support=0.4, confidence=2 / 3, lift=(2 / 3) / 0.4),
        ]
        assert queries.triples(DAY, min_support=0.4) == queries.triples(DAY)
        assert queries.triples(DAY, min_support=0.41) == []
        assert queries.triples(DAY, limit=1) == queries.triples(DAY)[:1]
        assert queries.triples(DAY, "store-b") == []
    finally:
        queries.close()


def test_a_file_added_to_the_day_is_read_by_the_next_query(tmp_path: Path) -> None:
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(small_day(), "b-1")])
    lake = LocalLake(tmp_path / "lake")
    queries = DashboardQueries(lake_of(db, lake))
    try:
        assert queries.funnel(DAY, "store-a").shoppers == 4
        assert queries.top_products(DAY, "store-a") == [ProductCount("SKU-A", 5)]
        files = lake.day_files(DAY, "store-a")
        later = [event(30, "session.start", "s5"), event(31, "touch", "s5", {"sku": "SKU-B"})]
        land(db, [batch_bytes(later, "b-2")])
        lake_of(db, lake)
        assert len(lake.day_files(DAY, "store-a")) == len(files) + 1
        assert queries.funnel(DAY, "store-a").shoppers == 5
        assert queries.top_products(DAY, "store-a", share=0.5)[1] == ProductCount("SKU-B", 2)
        assert queries.funnel(DAY).shoppers == 5 and queries.funnel(DAY, "store-b").shoppers == 0
    finally:
        queries.close()


def random_fleet(seed: int) -> list[list[dict[str, Any]]]:
    """Two days of three stores with two kiosks each, one batch per kiosk and hour."""
    rng = random.Random(seed)
    skus = [f"SKU-{n:02d}" for n in range(15)]
    batches = []
    for day in range(2):
        for store in ("store-000", "store-001", "store-002"):
            for kiosk in ("kiosk-01", "kiosk-02"):
                for hour in rng.sample(range(24), 6):
                    start = NINE.replace(hour=0) + timedelta(days=day, hours=hour)
                    batches.append(
                        [random_event(rng, skus, start, store, kiosk) for _ in range(60)]
                    )
    return batches


def random_event(
    rng: random.Random, skus: list[str], start: datetime, store: str, kiosk: str
) -> dict[str, Any]:
    kind = rng.choice(["presence.change", "session.start", "touch", "page.view", "action"])
    session = f"{store}-{kiosk}-s{rng.randrange(8)}" if rng.random() < 0.9 else None
    payload: dict[str, Any] = {}
    if kind == "presence.change":
        payload = {"zone": rng.choice(["away", "passing", "approaching", "engaged"])}
    elif kind != "session.start" and rng.random() < 0.8:
        payload = {"sku": rng.choice(skus)}
    if kind == "page.view" and rng.random() < 0.8:
        payload["dwell_ms"] = rng.choice([0, 900, 5_000, 14_999, 61_000, 250_000])
    return event(
        rng.uniform(0, 3599), kind, session, payload, store=store, kiosk=kiosk,
        simulated=rng.random() < 0.05, start=start,
    )  # fmt: skip


def figures(queries: DashboardQueries, day: str, store: str | None) -> dict[str, object]:
    return {
        "traffic": queries.traffic_by_hour(day, store),
        "funnel": queries.funnel(day, store),
        "dwell": queries.dwell(day, store),
        "top": queries.top_products(day, store, share=0.3),
        "pairs": queries.pairs(day, store, min_support=0.0, limit=1000),
        "triples": queries.triples(day, store, min_support=0.0, limit=100_000),
        "rates": queries.product_rates(day, store, busiest=None),
    }


def test_a_day_answers_the_same_from_sqlite_and_from_the_lake(tmp_path: Path) -> None:
    db = tmp_path / "received.sqlite"
    batches = random_fleet(seed=7)
    messages = [batch_bytes(events, f"b-{n}") for n, events in enumerate(batches)]
    land(db, messages[::-1] + messages[:40])  # out of order, and some twice
    from_sqlite = DashboardQueries(SQLiteSource(db))
    from_lake = DashboardQueries(lake_of(db, LocalLake(tmp_path / "lake")))
    try:
        for day in ("2026-11-23", "2026-11-24"):
            for store in (None, "store-000", "store-002"):
                expected = figures(from_sqlite, day, store)
                assert figures(from_lake, day, store) == expected, (day, store)
                assert expected["traffic"] != figures(from_sqlite, "2026-11-25", store)["traffic"]
                assert len(expected["pairs"]) > 20 and len(expected["rates"]) > 100
                # pruning products below the support keeps every pair that reaches it
                everything = expected["pairs"]
                assert isinstance(everything, list)
                floor = sorted(p.support for p in everything)[len(everything) // 2]
                strong = [p for p in everything if p.support >= floor]
                assert 0 < len(strong) < len(everything)
                assert from_lake.pairs(day, store, min_support=floor, limit=1000) == strong
                # and pruning products, then pairs, keeps every triple that reaches it
                triples = expected["triples"]
                assert isinstance(triples, list) and len(triples) > 20
                floor = sorted(t.support for t in triples)[len(triples) // 2]
                strong_triples = [t for t in triples if t.support >= floor]
                assert 0 < len(strong_triples) < len(triples)
                found = from_lake.triples(day, store, min_support=floor, limit=100_000)
                assert found == strong_triples
    finally:
        from_sqlite.close()
        from_lake.close()


def test_an_s3_lake_answers_as_the_receivers_sqlite(tmp_path: Path, moto_s3: str) -> None:
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(events, f"b-{n}") for n, events in enumerate(random_fleet(seed=3))])
    lake = open_lake(f"s3://{BUCKET}/lake", endpoint=moto_s3)
    from_sqlite = DashboardQueries(SQLiteSource(db))
    from_s3 = DashboardQueries(lake_of(db, lake, file_rows=5000))
    try:
        for store in (None, "store-001"):
            assert figures(from_s3, DAY, store) == figures(from_sqlite, DAY, store)
    finally:
        from_sqlite.close()
        from_s3.close()


def test_a_date_that_is_not_a_date_is_refused(small: DashboardQueries) -> None:
    with pytest.raises(ValueError, match="Invalid isoformat string: '23/11/2026'"):
        small.funnel("23/11/2026")
    with pytest.raises(ValueError, match=r"share must be in \(0, 1\], not 0"):
        small.top_products(DAY, share=0)
