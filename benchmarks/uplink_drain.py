"""Uplink drain: a 200,000-event backlog through the real uplink, against raw paho publishing.

1. A backlog of N events (default 200,000) is recorded through ``storage.EventLog`` into a
   SQLite outbox, as the kiosk would have while offline.
2. **Uplink**: ``UplinkService`` drains it to a local mosquitto at QoS1 with the default batch
   and message sizes and in-flight window (claim, serialise, publish, PUBACK, mark sent). A
   subscriber (its own process) parses every message and counts distinct event ids; the
   time runs from ``start()`` until the subscriber holds all N.
3. **Baseline (the limit)**: a bare paho client publishes the very payload bytes the uplink
   sent, at QoS1 with the same in-flight window, to the same broker and subscriber; no
   outbox, no serialisation. Same run, same machine.

AWS IoT Core's per-connection rate limits are lifted in the uplink run (they would make
both sides wait on the clock, not work); everything else is the default config.

The backlog is recorded once; each round drains a fresh copy of it (``--rounds``, at least
five), the uplink and bare paho taking turns to go first, and the JSON line carries the
medians, the rounds' spread and the machine's cores and load (benchmarks.harness). Each run
also notes what else went on while it was timed (:class:`RunProbe`: garbage collections,
preemptions, the broker's and the subscriber's CPU, the WAL bytes of the outbox's commits),
and the output names the cause the uplink's round times follow most closely.
Goal: ratio (uplink events/s over baseline events/s) >= 0.9, spread under 10%.

``python -m benchmarks.uplink_drain [--events N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psutil
from paho.mqtt.enums import CallbackAPIVersion

import storage
from benchmarks.harness import Machine, Rounds, add_rounds_argument, begin, report_rounds
from localservers import Mosquitto
from settings import KioskConfig
from storage import EventType
from uplink import UplinkService, UplinkTransport, build_transport
from uplink.transport import LastWill, TransportSession

TOPIC = "retail/bench-store/kiosk-01/events"


def _count_events(port: int, conn: Connection) -> None:
    """Child process: subscribe, parse every batch, count distinct ids; report when complete."""
    state: dict[str, Any] = {"ids": set(), "target": 0, "reported": True}
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        ids = [event["id"] for event in json.loads(message.payload)["events"]]
        with lock:
            state["ids"].update(ids)
            if not state["reported"] and len(state["ids"]) >= state["target"]:
                state["reported"] = True
                conn.send(("done", len(state["ids"])))

    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe("retail/+/+/events", qos=1) and None
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    subscribed.wait(10)
    conn.send(("ready", 0))
    while True:
        command, value = conn.recv()
        if command == "quit":
            break
        with lock:
            state["ids"] = set()
            state["target"] = value
            state["reported"] = False
        conn.send(("ready", 0))
    client.disconnect()
    client.loop_stop()


class Counter:
    """A subscriber in its own process (the analysts are on another machine)."""

    def __init__(self, port: int) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("fork").Process(
            target=_count_events, args=(port, child), daemon=True
        )
        self._proc.start()
        self._expect("ready", 15)

    def _expect(self, what: str, timeout: float) -> int:
        if not self._conn.poll(timeout):
            raise RuntimeError(f"benchmark subscriber: no {what!r} within {timeout:.0f} s")
        answer, value = self._conn.recv()
        if answer != what:
            raise RuntimeError(f"benchmark subscriber said {answer!r}, expected {what!r}")
        return int(value)

    def reset(self, target: int) -> None:
        """Count afresh towards ``target`` distinct events."""
        self._conn.send(("reset", target))
        self._expect("ready", 15)

    def wait(self, timeout: float = 1800) -> None:
        """Until the subscriber holds every event of the target."""
        self._expect("done", timeout)

    @property
    def pid(self) -> int:
        """The subscriber process's id."""
        assert self._proc.pid is not None
        return self._proc.pid

    def close(self) -> None:
        """Stop the child."""
        self._conn.send(("quit", 0))
        self._proc.join(10)


class RecordingTransport:
    """The configured transport, keeping a copy of every events payload it publishes."""

    def __init__(self, inner: UplinkTransport) -> None:
        self.inner = inner
        self.payloads: list[bytes] = []

    def describe(self) -> str:
        """As the inner transport."""
        return self.inner.describe()

    def open(self, client_id: str, will: LastWill | None, timeout: float) -> TransportSession:
        """Open the inner session and wrap its publish."""
        session = self.inner.open(client_id, will, timeout)
        publish = session.publish
        payloads = self.payloads

        def recording(topic: str, payload: bytes, **kwargs: Any) -> None:
            if topic.endswith("/events"):
                payloads.append(payload)
            publish(topic, payload, **kwargs)

        session.publish = recording  # type: ignore[method-assign]
        return session


def make_config(folder: Path, port: int) -> KioskConfig:
    """Default config on ``folder``, uplink to the local broker, AWS rate limits lifted."""
    config = KioskConfig()
    config.kiosk.store_id = "bench-store"
    config.paths.data_dir = folder
    config.paths.log_dir = folder / "logs"
    config.storage.database = folder / "events.sqlite"
    config.redis.enabled = False
    config.uplink.enabled = True
    config.uplink.port = port
    # model_copy skips validation on purpose: the limits exist for AWS, not for this run.
    config.uplink = config.uplink.model_copy(
        update={"max_publishes_per_s": 1e9, "max_bytes_per_s": 1e12}
    )
    return config


def _interaction(i: int) -> tuple[str, dict[str, Any]]:
    kind = (EventType.PAGE_VIEW, EventType.TOUCH, EventType.ACTION)[i % 3]
    return kind, {
        "session_id": f"session-{i // 40}",
        "page": f"product-{i % 12}",
        "element": f"button-{i % 9}",
        "payload": {"sku": f"SKU-{i % 250:04d}", "x": i % 1920, "y": i % 1080},
    }


def build_backlog(config: KioskConfig, n: int) -> float:
    """Record ``n`` interactions through the real event log; returns seconds taken."""
    started = time.perf_counter()
    log = storage.EventLog(config)
    log.start()
    for i in range(n):
        kind, fields = _interaction(i)
        log.append(storage.Event.create(kind, **fields))
    log.stop(timeout=600)
    return time.perf_counter() - started


class TimedOutbox:
    """Passes calls to the outbox and adds up the seconds they take (the storage share)."""

    def __init__(self, inner: storage.Outbox) -> None:
        self.inner = inner
        self.seconds = 0.0

    def _timed(self, name: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self.inner, name)(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def claim_batch(self, max_events: int, max_bytes: int) -> storage.OutboxBatch | None:
        """Timed ``claim_batch``."""
        return self._timed("claim_batch", max_events, max_bytes)

    def mark_sent(self, *batch_ids: str) -> None:
        """Timed ``mark_sent``."""
        self._timed("mark_sent", *batch_ids)

    def release(self, batch_id: str) -> None:
        """Timed ``release``."""
        self._timed("release", batch_id)

    def backlog(self) -> storage.Backlog:
        """Timed ``backlog``."""
        return self._timed("backlog")

    @property
    def owner(self) -> str:
        """The inner outbox's lease owner."""
        return self.inner.owner

    def release_owner(self, owner: str) -> int:
        """Timed ``release_owner``."""
        return int(self._timed("release_owner", owner))


class RunProbe:
    """What else happened while one run was timed, to say why rounds differ.

    - ``gc_*``: collections of this process and their total pause (the uplink's threads run
      here; a collection stops them all);
    - ``nivcsw``: involuntary context switches of this process (other processes, the
      broker, the subscriber and the machine's other load taking the cores);
    - ``cpu_s``: this process's CPU time (its share of the two cores);
    - ``broker_cpu_s``, ``subscriber_cpu_s``: CPU time of mosquitto's and the
      subscriber's processes (their own threads compete for the same cores);
    - ``wal_bytes``: what SQLite appended to the outbox's WAL (the claims' and marks'
      commits; with synchronous=NORMAL only a checkpoint fsyncs);
    - ``others_cpu_s``: CPU time the machine spent on everything else (the busy time of
      all cores less this process's, the broker's and the subscriber's): other programs'
      load, which no round can control.
    """

    def __init__(self, broker_pid: int, subscriber_pid: int, wal: Path | None) -> None:
        self._broker = psutil.Process(broker_pid)
        self._subscriber = psutil.Process(subscriber_pid)
        self._wal = wal
        self._gc_started = 0.0
        self.figures: dict[str, float] = {}

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        self.figures["gc_collections"] += 1
        self.figures["gc_pause_ms"] += (time.perf_counter() - self._gc_started) * 1000

    def _cpu(self, process: psutil.Process) -> float:
        times = process.cpu_times()
        return float(times.user + times.system)

    def _wal_size(self) -> int:
        return self._wal.stat().st_size if self._wal is not None and self._wal.exists() else 0

    def __enter__(self) -> RunProbe:
        own = resource.getrusage(resource.RUSAGE_SELF)
        self._start = (
            own.ru_nivcsw,
            own.ru_utime + own.ru_stime,
            self._cpu(self._broker),
            self._cpu(self._subscriber),
            self._wal_size(),
        )
        self._machine_busy = _busy_cpu_s()
        self.figures = {"gc_collections": 0, "gc_pause_ms": 0.0}
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)
        own = resource.getrusage(resource.RUSAGE_SELF)
        nivcsw, cpu, broker, subscriber, wal = self._start
        self.figures.update(
            nivcsw=own.ru_nivcsw - nivcsw,
            cpu_s=own.ru_utime + own.ru_stime - cpu,
            broker_cpu_s=self._cpu(self._broker) - broker,
            subscriber_cpu_s=self._cpu(self._subscriber) - subscriber,
            wal_bytes=max(0, self._wal_size() - wal),
        )
        ours = sum(self.figures[key] for key in ("cpu_s", "broker_cpu_s", "subscriber_cpu_s"))
        self.figures["others_cpu_s"] = max(0.0, _busy_cpu_s() - self._machine_busy - ours)


def _busy_cpu_s() -> float:
    """CPU seconds all cores of the machine have been busy since boot."""
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system + times.irq + times.softirq)


def run_uplink(
    config: KioskConfig, transport: UplinkTransport, counter: Counter, n: int
) -> tuple[float, float]:
    """Seconds for the uplink to drain ``n`` events to the subscriber, and the seconds of
    that spent inside the outbox (claims, marks, backlog counts)."""
    assert config.storage.database is not None
    outbox = TimedOutbox(storage.Outbox(config.storage.database))
    counter.reset(n)
    service = UplinkService(config, outbox, transport=transport)
    started = time.perf_counter()
    service.start()
    counter.wait()
    elapsed = time.perf_counter() - started
    service.stop(timeout=10)
    return elapsed, outbox.seconds


def run_raw(port: int, payloads: list[bytes], inflight: int, counter: Counter, n: int) -> float:
    """Seconds for bare paho to publish ``payloads`` (QoS1, ``inflight``) to the subscriber."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="raw")
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    counter.reset(n)
    started = time.perf_counter()
    for payload in payloads:
        client.publish(TOPIC, payload, qos=1)
    counter.wait()
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def fresh_copy(master: Path, folder: Path, port: int) -> KioskConfig:
    """A config on ``folder`` whose database is a copy of ``master`` (the same backlog, not
    yet sent, for every round)."""
    folder.mkdir(parents=True)
    config = make_config(folder, port)
    assert config.storage.database is not None
    shutil.copyfile(master, config.storage.database)
    # on disk before the clock starts: the copy's write-back would compete with the round
    with config.storage.database.open("rb+") as copied:
        os.fsync(copied.fileno())
    return config


def checkpoint(database: Path) -> None:
    """Move the WAL into the file and empty it, so that a copy of the file is the database."""
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@dataclass
class Drain:
    """The rounds of one benchmark run: each side's seconds and what happened meanwhile."""

    n: int
    uplink_s: list[float] = field(default_factory=list)
    raw_s: list[float] = field(default_factory=list)
    outbox_s: list[float] = field(default_factory=list)
    uplink_probes: list[dict[str, float]] = field(default_factory=list)
    raw_probes: list[dict[str, float]] = field(default_factory=list)
    messages: int = 0
    sent_bytes: int = 0


def drain_round(
    drain: Drain,
    number: int,
    folder: Path,
    master: Path,
    broker: Mosquitto,
    counter: Counter,
    payloads: list[bytes],
) -> None:
    """One round: the uplink on a fresh copy of the backlog and bare paho on the payloads,
    the order alternating between rounds (the first round sends the uplink first, for its
    payloads). A collection before each run starts both from the same heap."""
    config = fresh_copy(master, folder / f"round-{number}", broker.port)
    assert config.storage.database is not None and broker.proc is not None
    broker_pid = broker.proc.pid
    wal = config.storage.database.with_name(config.storage.database.name + "-wal")
    n = drain.n

    def uplink() -> None:
        transport = RecordingTransport(build_transport(config.uplink))
        gc.collect()
        with RunProbe(broker_pid, counter.pid, wal) as probe:
            seconds, outbox_s = run_uplink(config, transport, counter, n)
        drain.uplink_s.append(seconds)
        drain.outbox_s.append(outbox_s)
        drain.uplink_probes.append(probe.figures)
        if not payloads:
            payloads.extend(transport.payloads)

    def raw() -> None:
        gc.collect()
        with RunProbe(broker_pid, counter.pid, None) as probe:
            drain.raw_s.append(run_raw(broker.port, payloads, config.uplink.inflight, counter, n))
        drain.raw_probes.append(probe.figures)

    for run in (uplink, raw) if number % 2 == 0 else (raw, uplink):
        run()
    figures = drain.uplink_probes[-1]
    print(
        f"round {number + 1}: uplink {drain.uplink_s[-1]:.2f} s ({drain.outbox_s[-1]:.2f} s "
        f"in the outbox, {figures['gc_collections']:.0f} collections "
        f"{figures['gc_pause_ms']:.0f} ms, {figures['nivcsw']:.0f} preemptions, broker "
        f"{figures['broker_cpu_s']:.2f} s CPU, other programs {figures['others_cpu_s']:.2f} s "
        f"CPU), raw paho {drain.raw_s[-1]:.2f} s "
        f"(other programs {drain.raw_probes[-1]['others_cpu_s']:.2f} s CPU)",
        flush=True,
    )


def correlation(xs: list[float], ys: list[float]) -> float:
    """Pearson's r of two equally long series (0 when either does not vary)."""
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return 0.0
    return statistics.correlation(xs, ys)


def _our_cpu(figures: dict[str, float]) -> float:
    return figures["cpu_s"] + figures["broker_cpu_s"] + figures["subscriber_cpu_s"]


def variation_sources(drain: Drain) -> dict[str, float]:
    """How closely each candidate cause follows the uplink's round times (Pearson's r)."""
    causes: dict[str, list[float]] = {
        "outbox (SQLite) seconds": drain.outbox_s,
        "wal bytes (SQLite commits)": [p["wal_bytes"] for p in drain.uplink_probes],
        "gc pause": [p["gc_pause_ms"] for p in drain.uplink_probes],
        "preemptions (thread scheduling)": [p["nivcsw"] for p in drain.uplink_probes],
        "broker CPU (its own threads)": [p["broker_cpu_s"] for p in drain.uplink_probes],
        "subscriber CPU": [p["subscriber_cpu_s"] for p in drain.uplink_probes],
        "other programs' CPU (machine load)": [p["others_cpu_s"] for p in drain.uplink_probes],
    }
    return {name: round(correlation(values, drain.uplink_s), 2) for name, values in causes.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.uplink_drain")
    parser.add_argument("--events", type=int, default=200_000)
    add_rounds_argument(parser)
    args = parser.parse_args(argv)
    machine = begin("uplink_drain")
    drain = Drain(args.events)
    with tempfile.TemporaryDirectory(prefix="uplink-drain-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder / "mosquitto")
        broker.start()
        counter = Counter(broker.port)
        try:
            master = make_config(folder / "master", broker.port)
            built = build_backlog(master, drain.n)
            assert master.storage.database is not None
            checkpoint(master.storage.database)
            print(f"backlog: {drain.n} events recorded in {built:.1f} s")
            payloads: list[bytes] = []
            for number in range(args.rounds):
                drain_round(
                    drain, number, folder, master.storage.database, broker, counter, payloads
                )
            drain.messages = len(payloads)
            drain.sent_bytes = sum(len(p) for p in payloads)
        finally:
            counter.close()
            broker.stop()
    return report_drain(drain, machine)


def report_drain(drain: Drain, machine: Machine) -> int:
    """Print what the rounds varied with, then the JSON line of the medians."""
    n = drain.n
    uplink = Rounds(tuple(n / s for s in drain.uplink_s))
    raw = Rounds(tuple(n / s for s in drain.raw_s))
    print(f"uplink:   {uplink.describe('events/s')}")
    print(f"raw paho: {raw.describe('events/s')}")
    # CPU seconds of this process, the broker and the subscriber per run: what each side
    # costs the machine, which other programs' load changes far less than the wall time
    cpu = Rounds(
        tuple(
            _our_cpu(raw_probe) / _our_cpu(uplink_probe)
            for uplink_probe, raw_probe in zip(drain.uplink_probes, drain.raw_probes, strict=True)
        )
    )
    print(f"CPU ratio (raw paho's CPU seconds over the uplink's): {cpu.describe('')}")
    sources = variation_sources(drain)
    leading = max(sources, key=lambda name: abs(sources[name]))
    print(
        "the uplink's round times follow: "
        + ", ".join(f"{name} r={r:+.2f}" for name, r in sources.items())
        + f"; most closely: {leading}"
    )

    def median_of(key: str, probes: list[dict[str, float]]) -> float:
        return round(statistics.median(p[key] for p in probes), 3)

    report_rounds(
        "uplink_drain",
        machine,
        uplink,
        "events/s",
        "raw paho QoS1 publish of the same payloads, same in-flight window",
        raw,
        events=n,
        messages=drain.messages,
        megabytes=round(drain.sent_bytes / 1e6, 2),
        uplink_s=round(statistics.median(drain.uplink_s), 3),
        raw_s=round(statistics.median(drain.raw_s), 3),
        outbox_s=round(statistics.median(drain.outbox_s), 3),
        gc_pause_ms=median_of("gc_pause_ms", drain.uplink_probes),
        nivcsw=median_of("nivcsw", drain.uplink_probes),
        broker_cpu_s=median_of("broker_cpu_s", drain.uplink_probes),
        raw_nivcsw=median_of("nivcsw", drain.raw_probes),
        others_cpu_s=median_of("others_cpu_s", drain.uplink_probes),
        cpu_ratio=round(cpu.median, 4),
        cpu_ratio_spread=round(cpu.spread, 4),
        raw_others_cpu_s=median_of("others_cpu_s", drain.raw_probes),
        varies_with=sources,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
