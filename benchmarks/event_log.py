"""Sustained events/s through EventLog (SQLite + Redis) vs raw sqlite3 executemany, same run.

Each round writes the same N events three ways, each into a fresh file: raw ``sqlite3``
``executemany`` of their rows into the events table (the limit: one transaction, rows
built before the clock starts), ``EventLog`` with Redis, and ``EventLog`` with SQLite
alone. The figures are the medians of ``--rounds`` rounds (at least five), with the spread.

What makes a round slower than the next is measured in each EventLog + Redis round and
printed after the figures (issue 22): the CPU time of each of the log's threads (the
caller's appends, the writer, the Redis catch-up, the WAL checkpoints) and of redis-server,
the garbage collector's pauses, the process's involuntary context switches (the threads
and redis-server waiting for one of the two cores), the WAL checkpoints (each ends in an
fsync) and the load average when the round began; each with its range over the rounds and
how closely it follows the round's time (Pearson r). The one that follows it most is named
in the output and in the JSON line (``varies_with``).

The events the benchmark makes before the clock starts are frozen out of the garbage
collector's reach (``gc.freeze``): they are the benchmark's input, not the log's work, and
a kiosk holds no such heap of events; without it every full collection during a round
walks them all (``--no-freeze`` shows that cost).

Also the cost of ``append`` as seen by the caller (p99 over all rounds, microseconds).

``python -m benchmarks.event_log [--events N] [--rounds R] [--no-freeze]``
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from benchmarks.harness import Rounds, add_rounds_argument, begin, report_rounds
from localservers import RedisServer
from settings import KioskConfig
from storage import Event, EventLog, EventType
from storage.db import make_engine, migrate
from storage.records import INSERT_SQL, to_row

N = 50_000
#: How often the thread sampler reads each thread's CPU time from /proc.
SAMPLE_EVERY_S = 0.01
_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _events(n: int) -> list[Event]:
    return [
        Event.create(
            EventType.TOUCH,
            session_id=f"s{i // 20}",
            page="p",
            element="e",
            payload={"sku": f"sku-{i % 40}"},
            store_id="bench",
            kiosk_id="k1",
        )
        for i in range(n)
    ]


def _cpu_s(stat_path: str) -> float | None:
    """User + system CPU seconds of the task or process whose ``stat`` file this is."""
    try:
        with open(stat_path, encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def _schedstat(path: str) -> tuple[float, float] | None:
    """(seconds run on a core, seconds waited for one) of a task, from its ``schedstat``."""
    try:
        with open(path, encoding="ascii") as f:
            ran, waited, _slices = f.read().split()
    except (OSError, ValueError):
        return None
    return int(ran) / 1e9, int(waited) / 1e9


class ThreadCpu:
    """Samples, per thread name, the time this process's threads ran on a core and waited
    for one (``/proc/self/task/*/schedstat``) while a round runs: the threads end with the
    round, so the last sample of each is kept. The rest of a thread's time it was blocked:
    on the GIL, a lock, I/O (an fsync) or its queue."""

    def __init__(self) -> None:
        self.ran: dict[str, float] = {}
        self.waited: dict[str, float] = {}
        self._before: dict[str, tuple[float, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> ThreadCpu:
        self._sample()
        # the threads already running: their times so far
        self._before = {name: (self.ran[name], self.waited[name]) for name in self.ran}
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        for name, (ran, waited) in self._before.items():
            self.ran[name] -= ran
            self.waited[name] -= waited

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self._sample()

    def _sample(self) -> None:
        for thread in threading.enumerate():
            if thread.native_id is None or thread.name == "cpu-sampler":
                continue
            times = _schedstat(f"/proc/self/task/{thread.native_id}/schedstat")
            if times is not None:
                name = "append" if thread is threading.main_thread() else thread.name
                self.ran[name] = max(self.ran.get(name, 0.0), times[0])
                self.waited[name] = max(self.waited.get(name, 0.0), times[1])


@dataclass
class GcPauses:
    """The garbage collector's pauses while installed: count and seconds per generation."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = info["generation"]
            self.collections[generation] += 1
            self.seconds[generation] += time.perf_counter() - self._started

    @contextmanager
    def installed(self) -> Iterator[GcPauses]:
        """Count the collections made inside the ``with`` block."""
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


@dataclass
class RoundCosts:
    """What one EventLog round took besides its time: the candidates for its variance."""

    seconds: float
    factors: dict[str, float]


def _through_log(
    root: Path, events: list[Event], server: RedisServer | None
) -> tuple[float, list[int], RoundCosts, int]:
    """Events/s through a fresh EventLog in ``root`` (mirrored to ``server`` when given),
    append costs in ns, what the round cost, and the events the log wrote."""
    config = KioskConfig()
    config.paths.data_dir = root
    config.redis.enabled = server is not None
    if server is not None:
        config.redis.url = server.url
    config.storage.queue_max = len(events) * 2
    log = EventLog(config)
    redis_pid = server.proc.pid if server is not None and server.proc is not None else None
    redis_before = _cpu_s(f"/proc/{redis_pid}/stat") if redis_pid else None
    load = os.getloadavg()[0]
    switches = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
    append = log.append
    costs = []
    with ThreadCpu() as cpu, GcPauses().installed() as pauses:
        log.start()
        started = time.perf_counter()
        for e in events:
            t0 = time.perf_counter_ns()
            append(e)
            costs.append(time.perf_counter_ns() - t0)
        appended = time.perf_counter() - started
        log.stop(timeout=120)
        seconds = time.perf_counter() - started
    factors = {f"cpu {name} s": ran for name, ran in cpu.ran.items()}
    factors.update({f"core wait {name} s": waited for name, waited in cpu.waited.items()})
    writer = "event-log-writer"
    factors[f"blocked {writer} s"] = (
        seconds - cpu.ran.get(writer, 0.0) - cpu.waited.get(writer, 0.0)
    )
    redis_after = _cpu_s(f"/proc/{redis_pid}/stat") if redis_pid else None
    if redis_before is not None and redis_after is not None:
        factors["cpu redis-server s"] = redis_after - redis_before
    factors["gc pauses s"] = sum(pauses.seconds)
    factors["gc full collections"] = pauses.collections[2]
    factors["involuntary switches"] = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - switches
    factors["wal checkpoints"] = log.writer.checkpointer.checkpoints
    factors["load 1 min"] = load
    factors["appending s"] = appended
    health = log.health()
    return len(events) / seconds, costs, RoundCosts(seconds, factors), health.events_written


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


def _pearson(xs: list[float], ys: list[float]) -> float:
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return 0.0
    return statistics.correlation(xs, ys)


def variance_drivers(rounds: list[RoundCosts]) -> list[tuple[str, float, float, float]]:
    """(factor, lowest, highest, Pearson r with the round's seconds), the closest first."""
    seconds = [r.seconds for r in rounds]
    names = sorted({name for r in rounds for name in r.factors})
    drivers = []
    for name in names:
        values = [r.factors.get(name, 0.0) for r in rounds]
        drivers.append((name, min(values), max(values), _pearson(values, seconds)))
    drivers.sort(key=lambda d: -abs(d[3]))
    return drivers


def _print_drivers(rounds: list[RoundCosts]) -> dict[str, float]:
    """Print what the EventLog rounds' time went with; the correlations by factor."""
    times = [r.seconds for r in rounds]
    print(f"what the EventLog + Redis rounds ({min(times):.2f}..{max(times):.2f} s) went with:")
    drivers = variance_drivers(rounds)
    for name, low, high, r in drivers:
        print(f"  {name:<28} {low:>10.3f} .. {high:<10.3f} r = {r:+.2f}")
    if drivers:
        name, _low, _high, r = drivers[0]
        print(f"the rounds' time follows {name} most closely (r = {r:+.2f})")
    writer = "event-log-writer"
    parts = {
        part: statistics.median(r.factors.get(f"{part} {writer} s", 0.0) for r in rounds)
        for part in ("cpu", "core wait", "blocked")
    }
    print(
        f"the writer's round (median {statistics.median(times):.2f} s): ran "
        f"{parts['cpu']:.2f} s, waited for a core {parts['core wait']:.2f} s (other threads "
        f"and processes on the {os.cpu_count()} cores), blocked {parts['blocked']:.2f} s "
        "(the GIL, fsync, its queue)"
    )
    return {name: round(r, 2) for name, _low, _high, r in drivers}


def _one_round(
    root: Path, events: list[Event], server: RedisServer | None
) -> tuple[float, float, float, list[int], RoundCosts, int]:
    """Raw, EventLog (+ Redis when ``server``), EventLog alone: rates, costs, written."""
    root.mkdir()
    raw = _raw_rate(root, events)
    if server is not None:
        # each round's log starts again at seq 1
        with redis.Redis.from_url(server.url) as client:
            client.flushall()
    rate, costs, spent, written = _through_log(root / "with-redis", events, server)
    alone = _through_log(root / "sqlite-only", events, None)[0]
    shutil.rmtree(root)
    return raw, rate, alone, costs, spent, written


def _measure(
    events: list[Event], rounds: int, take: Callable[[Path, RedisServer | None], None]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = RedisServer(root / "redis")
        redis_on = RedisServer.available()
        if redis_on:
            server.start()
        try:
            for n in range(rounds):
                take(root / f"round-{n}", server if redis_on else None)
        finally:
            if redis_on:
                server.stop()


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the figures, what they varied with, and the JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.event_log")
    parser.add_argument("--events", type=int, default=N)
    parser.add_argument("--no-freeze", action="store_true", help="leave the events to the GC")
    add_rounds_argument(parser)
    args = parser.parse_args(argv)
    machine = begin("event_log")
    events = _events(args.events)
    if not args.no_freeze:
        gc.collect()
        gc.freeze()
    raw: list[float] = []
    mirrored: list[float] = []
    alone: list[float] = []
    costs: list[int] = []
    spent: list[RoundCosts] = []
    written = 0
    redis_seen: list[bool] = []

    def take(folder: Path, server: RedisServer | None) -> None:
        nonlocal written
        r, m, a, c, s, w = _one_round(folder, events, server)
        raw.append(r)
        mirrored.append(m)
        alone.append(a)
        costs.extend(c)
        spent.append(s)
        written += w
        redis_seen.append(server is not None)

    _measure(events, args.rounds, take)
    redis_on = all(redis_seen)
    costs.sort()
    p99_us = costs[int(len(costs) * 0.99)] / 1000
    raw_r, mirrored_r, alone_r = Rounds(tuple(raw)), Rounds(tuple(mirrored)), Rounds(tuple(alone))
    print(f"{args.rounds} rounds of {args.events} events, events/s:")
    print(f"raw sqlite3 executemany: {raw_r.describe('events/s')}")
    print(f"EventLog (SQLite{' + Redis' if redis_on else ''}): {mirrored_r.describe('events/s')}")
    print(f"EventLog (SQLite alone): {alone_r.describe('events/s')}")
    print(f"append p99: {p99_us:.1f} us; written {written}")
    correlations = _print_drivers(spent)
    report_rounds(
        "event_log",
        machine,
        mirrored_r,
        "events/s",
        "raw sqlite3 executemany, same rows, same table",
        raw_r,
        append_p99_us=round(p99_us, 2),
        sqlite_only_ratio=round(alone_r.median / raw_r.median, 4),
        redis=redis_on,
        events=args.events,
        gc_frozen=not args.no_freeze,
        varies_with=correlations,
    )


if __name__ == "__main__":
    main()
