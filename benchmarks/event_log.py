"""Sustained events/s through EventLog (SQLite + Redis) vs raw sqlite3 executemany, same run.

Also the cost of ``append`` as seen by the caller (p99, microseconds).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    """Run both paths and print the figures and the JSON line."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        events = _events(N)
        # the limit: the same rows, the same table, one executemany
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
        raw_rate = N / (time.perf_counter() - started)
        conn.close()

        server = RedisServer(root / "redis")
        redis_on = RedisServer.available()
        if redis_on:
            server.start()
        try:
            rate, costs, health = _through_log(
                root / "with-redis", events, server if redis_on else None
            )
        finally:
            if redis_on:
                server.stop()
        sqlite_rate, _costs, _health = _through_log(root / "sqlite-only", events, None)
        costs.sort()
        p99_us = costs[int(len(costs) * 0.99)] / 1000
        print(f"raw sqlite3 executemany: {raw_rate:,.0f} events/s")
        print(f"EventLog (SQLite{' + Redis' if redis_on else ''}): {rate:,.0f} events/s")
        print(f"EventLog (SQLite alone): {sqlite_rate:,.0f} events/s")
        print(f"append p99: {p99_us:.1f} us; written {health.events_written}")
        report(
            "event_log",
            rate,
            "events/s",
            "raw sqlite3 executemany, same rows, same table",
            raw_rate,
            append_p99_us=round(p99_us, 2),
            sqlite_only_ratio=round(sqlite_rate / raw_rate, 4),
            redis=redis_on,
            events=N,
        )


if __name__ == "__main__":
    main()
