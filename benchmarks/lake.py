"""The Parquet lake: events landed per second, and the dashboard queries over one day.

1. **Landing**: generated schema-v1 events of ``--kiosks`` kiosks (five to a store) over one
   UTC day go through the receiver's landing path (``BatchChecker`` and
   ``EventStore.ingest``, one message per kiosk and 500 events) into a SQLite file, once;
   its rate is printed and carried in the JSON line (``sqlite_landing_events_per_s``).
2. **Lake** (the value): ``LakeWriter.drain()`` copies the landed rows into a fresh local
   lake, Hive-partitioned by day and store, with the journal, atomic files and fsyncs, in
   flushes of ``--file-rows``; events/s.
3. **Baseline (the limit)**: pyarrow writing the same rows in one call: the same rows read
   from the same SQLite file with the same query and typed into the same Arrow table, then
   one ``pq.write_table`` to one file. Lake and baseline alternate within each round
   (``--rounds``, at least five) on a fresh copy of the landed file. The JSON line also
   carries ``write_only_events_per_s``: ``pq.write_table`` of the ready table alone.
   Goal: ratio >= 0.5.
4. **Queries**: each of ``DashboardQueries``' figures for the day and one store, against
   DuckDB scanning the day's files of that store once (the columns the queries read,
   fetched as Arrow); medians over the rounds. Goal: each <= 2x.

``python -m benchmarks.lake [--kiosks 10] [--events 200000] [--rounds 5]``: by default 20,000
events a kiosk and 100,000 a store, as in a retailer's day of 10 million events from 500
kiosks (``--kiosks 500 --events 10000000``), for fewer stores.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import uuid_utils

from analytics.lake import READ_CHUNK, LakeBounds, LakeWriter
from analytics.lake_table import SELECT_LANDED, lake_table
from analytics.lake_target import LocalLake
from analytics.queries import DashboardQueries, LakeSource
from benchmarks.harness import Rounds, add_rounds_argument, begin, report_rounds
from uplink.landing import EventStore
from uplink.schema import BatchChecker

DAY = "2026-11-23"
OPEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BATCH = 500
SKUS = [f"SKU-{n:03d}" for n in range(200)]
#: Zipf-like popularity: the first products are looked at far more often than the last.
POPULARITY = [1 / (rank + 1) for rank in range(len(SKUS))]
#: The columns the dashboard queries read.
QUERY_COLUMNS = "ts, type, session_id, sku, zone, dwell_ms, store_id, kiosk_id, event_id, simulated"


def kiosk_events(
    rng: random.Random, store: str, kiosk: str, count: int
) -> Iterator[dict[str, Any]]:
    """``count`` events of one kiosk over twelve opening hours, oldest first. A shopper's
    session looks at a small basket (one to four products, the popular ones more often);
    its touches, views and actions are about those."""
    step = 12 * 3600 / count
    session = None
    basket = [SKUS[0]]
    for index in range(count):
        at = OPEN + timedelta(seconds=index * step + rng.random() * step)
        roll = rng.random()
        payload: dict[str, Any] = {}
        if roll < 0.15:
            zone = rng.choice(["away", "passing", "approaching", "engaged"])
            kind, payload = "presence.change", {"zone": zone, "people": 1}
        elif roll < 0.22:
            kind, session = "session.start", f"{kiosk}-{index}"
            basket = rng.choices(SKUS, weights=POPULARITY, k=rng.randint(1, 4))
        elif roll < 0.55:
            kind, payload = "touch", {"sku": rng.choice(basket)}
        elif roll < 0.85:
            dwell = rng.randrange(0, 300_000)
            kind, payload = "page.view", {"sku": rng.choice(basket), "dwell_ms": dwell}
        else:
            kind, payload = "action", {"sku": rng.choice(basket)}
        yield {
            "v": 1,
            "id": str(uuid_utils.uuid7()),
            "ts": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "mono_ns": index * 1_000_000,
            "clock_synced": True,
            "store_id": store,
            "kiosk_id": kiosk,
            "session_id": session,
            "type": kind,
            "page": "products",
            "element": None,
            "payload": payload,
            "simulated": False,
        }


def message(events: list[dict[str, Any]], number: int) -> bytes:
    """One schema-v1 batch message."""
    first = events[0]
    return orjson.dumps(
        {
            "schema": "retail-edge-kiosk/batch",
            "version": 1,
            "batch_id": f"bench-{number}",
            "part": 1,
            "parts": 1,
            "store_id": first["store_id"],
            "kiosk_id": first["kiosk_id"],
            "first_ts": first["ts"],
            "last_ts": events[-1]["ts"],
            "count": len(events),
            "events": events,
        }
    )


def land_fleet(db: Path, kiosks: int, events: int) -> float:
    """Land the generated fleet's events as the receiver does; seconds taken."""
    rng = random.Random(1)
    store = EventStore(db)
    checker = BatchChecker()
    per_kiosk = events // kiosks
    spent = 0.0
    number = 0
    try:
        for k in range(kiosks):
            store_id, kiosk_id = f"store-{k // 5:03d}", f"kiosk-{k % 5:02d}"
            generated = list(kiosk_events(rng, store_id, kiosk_id, per_kiosk))
            for start in range(0, len(generated), BATCH):
                payload = message(generated[start : start + BATCH], number)
                number += 1
                began = time.perf_counter()
                store.ingest(checker.check(payload), f"retail/{store_id}/{kiosk_id}/events")
                spent += time.perf_counter() - began
    finally:
        store.close()
    return spent


def lake_round(master: Path, folder: Path, file_rows: int) -> tuple[float, Path]:
    """Seconds the lake writer takes to copy a fresh copy of ``master``; the lake's root."""
    db = folder / "received.sqlite"
    shutil.copyfile(master, db)
    root = folder / "lake"
    writer = LakeWriter(db, LocalLake(root), LakeBounds(file_rows=file_rows))
    try:
        began = time.perf_counter()
        writer.drain()
        spent = time.perf_counter() - began
    finally:
        writer.stop()
    return spent, root


def pyarrow_round(master: Path, folder: Path) -> tuple[float, float]:
    """(seconds to read, type and write the same rows in one call; the write alone)."""
    db = folder / "baseline.sqlite"
    shutil.copyfile(master, db)
    began = time.perf_counter()
    conn = sqlite3.connect(db)
    try:
        cursor = conn.execute(SELECT_LANDED, (0, 2**62))
        tables = []
        while chunk := cursor.fetchmany(READ_CHUNK):
            tables.append(lake_table(chunk))
    finally:
        conn.close()
    table = pa.concat_tables(tables)
    written = time.perf_counter()
    pq.write_table(table, folder / "one.parquet", compression="snappy")
    done = time.perf_counter()
    return done - began, done - written


def query_rounds(root: Path, store: str, rounds: int) -> dict[str, tuple[Rounds, Rounds]]:
    """Each figure's seconds and the one scan's, alternating, ``rounds`` times."""
    lake = LocalLake(root)
    queries = DashboardQueries(LakeSource(lake))
    figures: dict[str, Callable[[], object]] = {
        "traffic_by_hour": lambda: queries.traffic_by_hour(DAY, store),
        "funnel": lambda: queries.funnel(DAY, store),
        "dwell": lambda: queries.dwell(DAY, store),
        "top_products": lambda: queries.top_products(DAY, store),
        "pairs": lambda: queries.pairs(DAY, store),
        "triples": lambda: queries.triples(DAY, store),
        "product_rates": lambda: queries.product_rates(DAY, store),
    }
    scan = duckdb.connect()
    files = lake.day_files(DAY, store)
    taken: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in figures}
    try:
        for _ in range(rounds):
            for name, figure in figures.items():
                began = time.perf_counter()
                figure()
                between = time.perf_counter()
                scan.sql(f"SELECT {QUERY_COLUMNS} FROM read_parquet({files!r})").to_arrow_table()
                taken[name][0].append(between - began)
                taken[name][1].append(time.perf_counter() - between)
    finally:
        queries.close()
        scan.close()
    return {name: (Rounds(tuple(a)), Rounds(tuple(b))) for name, (a, b) in taken.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lake")
    parser.add_argument("--kiosks", type=int, default=10, help="kiosks, five to a store")
    parser.add_argument("--events", type=int, default=200_000, help="events in all")
    parser.add_argument("--file-rows", type=int, default=LakeBounds().file_rows)
    add_rounds_argument(parser)
    args = parser.parse_args(argv)
    machine = begin("lake")
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        folder = Path(tmp)
        master = folder / "master.sqlite"
        landing_s = land_fleet(master, args.kiosks, args.events)
        with sqlite3.connect(master) as conn:
            events = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        print(
            f"landed {events:,} events of {args.kiosks} kiosks in {landing_s:.1f} s "
            f"({events / landing_s:,.0f}/s through the receiver's checks and SQLite)"
        )
        lake_s, limit_s, write_s = [], [], []
        root = folder / "round-0" / "lake"
        for number in range(args.rounds):
            here = folder / f"round-{number}"
            here.mkdir()
            if number % 2:
                limit, write = pyarrow_round(master, here)
                spent, _ = lake_round(master, here, args.file_rows)
            else:
                spent, _ = lake_round(master, here, args.file_rows)
                limit, write = pyarrow_round(master, here)
            lake_s.append(spent)
            limit_s.append(limit)
            write_s.append(write)
            if number:
                shutil.rmtree(here)
        lake = Rounds(tuple(events / s for s in lake_s))
        baseline = Rounds(tuple(events / s for s in limit_s))
        write_only = Rounds(tuple(events / s for s in write_s))
        print(f"lake:     {lake.describe('events/s')}")
        print(
            f"pyarrow:  {baseline.describe('events/s')}, "
            f"the write alone {write_only.describe('events/s')}"
        )
        store = "store-000"
        queried = query_rounds(root, store, args.rounds)
        files = len(list(root.rglob("part-*.parquet")))
    query_fields = {}
    for name, (own, scan) in queried.items():
        ratio = own.median / scan.median
        print(
            f"{name:16} {own.median * 1000:8.1f} ms, "
            f"scan {scan.median * 1000:6.1f} ms: {ratio:.2f}x"
        )
        query_fields[name] = {
            "ms": round(own.median * 1000, 2),
            "scan_ms": round(scan.median * 1000, 2),
            "ratio": round(ratio, 3),
            "spread": round(own.spread, 4),
        }
    report_rounds(
        "lake",
        machine,
        lake,
        "events/s",
        "pyarrow writing the same rows in one call (read from the same SQLite, typed alike, "
        "one pq.write_table)",
        baseline,
        events=events,
        kiosks=args.kiosks,
        stores=(args.kiosks + 4) // 5,
        file_rows=args.file_rows,
        files=files,
        sqlite_landing_events_per_s=round(events / landing_s),
        write_only_events_per_s=round(write_only.median),
        ratio_write_only=round(lake.median / write_only.median, 4),
        queries_store=store,
        queries=query_fields,
        queries_max_ratio=max(q["ratio"] for q in query_fields.values()),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
