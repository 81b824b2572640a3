"""Sustained events/s through EventLog (SQLite + Redis) vs raw sqlite3 executemany, same run.

Each round writes the same N events three ways, each into a fresh file: raw ``sqlite3``
``executemany`` of their rows into the events table (the limit: one transaction, rows
built before the clock starts), ``EventLog`` with Redis, and ``EventLog`` with SQLite
alone. On a shared two-core machine one half-second run can be a quarter off, so the
figures are the medians of ``--rounds`` rounds (default 5), with the spread printed.

Also the cost of ``append`` as seen by the caller (p99 over all rounds, microseconds).

``python -m benchmarks.event_log [--events N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import redis

from benchmarks.report import report
from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog, StorageHealth
from storage.db import make_engine, migrate
from storage.records import INSERT_SQL, to_row

N = 50_000


def _events(n: int) -> list[Event]:
    return [
        Event.create(
            "touch",
            session_id=f"s{i // 20}",
            page="p",
            element="e",
            payload={"sku": f"sku-{i % 40}"},
            store_id="bench",
            kiosk_id="k1",
        )
        for i in range(n)
    ]


def _through_log(
    root: Path, events: list[Event], server: RedisServer | None
) -> tuple[float, list[int], StorageHealth]:
    """Events/s through a fresh EventLog in ``root`` (mirrored to ``server`` when given),
    append costs in ns, and the log's health after its stop."""
    config = KioskConfig()
    config.paths.data_dir = root
    config.redis.enabled = server is not None
    if server is not None:
        config.redis.url = server.url
    config.storage.queue_max = len(events) * 2
    log = EventLog(config)
    log.start()
    costs = []
    started = time.perf_counter()
    for e in events:
        t0 = time.perf_counter_ns()
        log.append(e)
        costs.append(time.perf_counter_ns() - t0)
    log.stop(timeout=120)
    return len(events) / (time.perf_counter() - started), costs, log.health()


def _raw_rate(root: Path, events: list[Event]) -> float:
    """Events/s of one raw ``executemany`` of the events' rows into a fresh events table."""
    raw_db = root / "raw.sqlite"
    engine = make_engine(raw_db)
    migrate(engine, raw_db)
    engine.dispose()
    rows = [to_row(e, "", "", 4096).values for e in events]
    conn = sqlite3.connect(raw_db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    started = time.perf_counter()
    with conn:
        conn.executemany(INSERT_SQL, rows)
    rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return rate


def _spread(rates: list[float]) -> str:
    return f"median {statistics.median(rates):,.0f} (min {min(rates):,.0f}, max {max(rates):,.0f})"


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the figures and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.event_log")
    parser.add_argument("--events", type=int, default=N)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    events = _events(args.events)
    raw: list[float] = []
    mirrored: list[float] = []
    alone: list[float] = []
    costs: list[int] = []
    written = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = RedisServer(root / "redis")
        redis_on = RedisServer.available()
        if redis_on:
            server.start()
        try:
            for round_ in range(args.rounds):
                folder = root / f"round-{round_}"
                folder.mkdir()
                raw.append(_raw_rate(folder, events))
                if redis_on:
                    # each round's log starts again at seq 1
                    with redis.Redis.from_url(server.url) as client:
                        client.flushall()
                rate, round_costs, health = _through_log(
                    folder / "with-redis", events, server if redis_on else None
                )
                mirrored.append(rate)
                costs += round_costs
                written += health.events_written
                alone.append(_through_log(folder / "sqlite-only", events, None)[0])
                shutil.rmtree(folder)
        finally:
            if redis_on:
                server.stop()
    costs.sort()
    p99_us = costs[int(len(costs) * 0.99)] / 1000
    raw_rate, rate, sqlite_rate = (statistics.median(r) for r in (raw, mirrored, alone))
    print(f"{args.rounds} rounds of {args.events} events, events/s:")
    print(f"raw sqlite3 executemany: {_spread(raw)}")
    print(f"EventLog (SQLite{' + Redis' if redis_on else ''}): {_spread(mirrored)}")
    print(f"EventLog (SQLite alone): {_spread(alone)}")
    print(f"append p99: {p99_us:.1f} us; written {written}")
    report(
        "event_log",
        rate,
        "events/s",
        "raw sqlite3 executemany, same rows, same table",
        raw_rate,
        append_p99_us=round(p99_us, 2),
        sqlite_only_ratio=round(sqlite_rate / raw_rate, 4),
        redis=redis_on,
        events=args.events,
        rounds=args.rounds,
    )


if __name__ == "__main__":
    main()
