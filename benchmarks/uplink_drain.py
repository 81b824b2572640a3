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
Goal: ratio (uplink events/s over baseline events/s) >= 0.7.

``python -m benchmarks.uplink_drain [--events N]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import uuid_utils
from paho.mqtt.enums import CallbackAPIVersion

import storage
from benchmarks.report import report
from localservers import Mosquitto
from settings import KioskConfig
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
    client.on_connect = lambda c, *_: (c.subscribe("retail/+/+/events", qos=1), None)
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
    kind = ("page.view", "touch", "action")[i % 3]
    return kind, {
        "session_id": f"session-{i // 40}",
        "page": f"product-{i % 12}",
        "element": f"button-{i % 9}",
        "payload": {"sku": f"SKU-{i % 250:04d}", "x": i % 1920, "y": i % 1080},
    }


def real_storage() -> bool:
    """True when the storage package has its event log and outbox."""
    return all(hasattr(storage, name) for name in ("Event", "EventLog", "Outbox"))


def build_backlog(config: KioskConfig, n: int) -> float:
    """Record ``n`` interactions through the real event log; returns seconds taken."""
    started = time.perf_counter()
    if not real_storage():
        assert config.storage.database is not None
        StandInOutbox.fill(config, n)
        return time.perf_counter() - started
    log = storage.EventLog(config)
    log.start()
    for i in range(n):
        kind, fields = _interaction(i)
        log.append(storage.Event.create(kind, **fields))
    log.stop(timeout=600)
    return time.perf_counter() - started


@dataclass
class _Batch:
    batch_id: str
    events: list[dict[str, Any]]
    first_ts: str
    last_ts: str
    count: int


@dataclass
class _Backlog:
    events: int
    batches: int
    oldest_ts: str | None


class StandInOutbox:
    """Used only while ``storage.Outbox`` is not built: SQLite rows of event JSON, claimed in
    order and parsed back into dicts, as an outbox has to. Marked in the JSON line."""

    def __init__(self, database: Path) -> None:
        self.conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    @staticmethod
    def fill(config: KioskConfig, n: int) -> None:
        """Write ``n`` schema-v1 events."""
        assert config.storage.database is not None
        conn = sqlite3.connect(config.storage.database)
        conn.execute(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, ts TEXT, body TEXT, "
            "batch TEXT, sent INTEGER DEFAULT 0)"
        )
        start = time.time()
        rows = []
        for i in range(n):
            kind, fields = _interaction(i)
            ts = datetime.fromtimestamp(start + i / 1000, UTC).isoformat(timespec="microseconds")
            event = {
                "id": str(uuid_utils.uuid7()),
                "ts": ts.replace("+00:00", "Z"),
                "mono_ns": time.monotonic_ns(),
                "clock_synced": True,
                "store_id": config.kiosk.store_id,
                "kiosk_id": config.kiosk.kiosk_id,
                "type": kind,
                **fields,
                "simulated": False,
            }
            rows.append((event["ts"], json.dumps(event)))
        conn.executemany("INSERT INTO outbox (ts, body) VALUES (?, ?)", rows)
        conn.execute("CREATE INDEX pending ON outbox (seq) WHERE batch IS NULL AND sent = 0")
        conn.execute("CREATE INDEX by_batch ON outbox (batch)")
        conn.commit()
        conn.close()

    def claim_batch(self, max_events: int, max_bytes: int) -> _Batch | None:
        """The oldest unclaimed events, up to the limits."""
        rows = self.conn.execute(
            "SELECT seq, body FROM outbox WHERE batch IS NULL AND sent = 0 ORDER BY seq LIMIT ?",
            (max_events,),
        ).fetchall()
        taken, size = [], 0
        for seq, body in rows:
            if taken and size + len(body) > max_bytes:
                break
            taken.append((seq, body))
            size += len(body)
        if not taken:
            return None
        batch_id = str(uuid_utils.uuid7())
        self.conn.execute(
            "UPDATE outbox SET batch = ? WHERE seq BETWEEN ? AND ?",
            (batch_id, taken[0][0], taken[-1][0]),
        )
        events = [json.loads(body) for _seq, body in taken]
        return _Batch(batch_id, events, events[0]["ts"], events[-1]["ts"], len(events))

    def mark_sent(self, batch_id: str) -> None:
        """Acknowledged."""
        self.conn.execute("UPDATE outbox SET sent = 1 WHERE batch = ?", (batch_id,))

    def release(self, batch_id: str) -> None:
        """Back to unclaimed."""
        self.conn.execute("UPDATE outbox SET batch = NULL WHERE batch = ?", (batch_id,))

    def backlog(self) -> _Backlog:
        """Unsent events."""
        (count,) = self.conn.execute("SELECT count(*) FROM outbox WHERE sent = 0").fetchone()
        return _Backlog(count, 0, None)


class TimedOutbox:
    """Passes calls to the outbox and adds up the seconds they take (the storage share)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def _timed(self, name: str, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return getattr(self.inner, name)(*args)
        finally:
            self.seconds += time.perf_counter() - started

    def claim_batch(self, max_events: int, max_bytes: int) -> Any:
        """Timed ``claim_batch``."""
        return self._timed("claim_batch", max_events, max_bytes)

    def mark_sent(self, batch_id: str) -> None:
        """Timed ``mark_sent``."""
        self._timed("mark_sent", batch_id)

    def release(self, batch_id: str) -> None:
        """Timed ``release``."""
        self._timed("release", batch_id)

    def backlog(self) -> Any:
        """Timed ``backlog``."""
        return self._timed("backlog")


def run_uplink(
    config: KioskConfig, transport: UplinkTransport, counter: Counter, n: int
) -> tuple[float, float]:
    """Seconds for the uplink to drain ``n`` events to the subscriber, and the seconds of
    that spent inside the outbox (claims, marks, backlog counts)."""
    assert config.storage.database is not None
    outbox: Any = (
        storage.Outbox(config.storage.database)
        if real_storage()
        else StandInOutbox(config.storage.database)
    )
    outbox = TimedOutbox(outbox)
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.uplink_drain")
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args(argv)
    n = args.events
    with tempfile.TemporaryDirectory(prefix="uplink-drain-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder / "mosquitto")
        broker.start()
        counter = Counter(broker.port)
        try:
            config = make_config(folder, broker.port)
            built = build_backlog(config, n)
            print(f"backlog: {n} events recorded in {built:.1f} s")
            transport = RecordingTransport(build_transport(config.uplink))
            uplink_s, outbox_s = run_uplink(config, transport, counter, n)
            payloads = transport.payloads
            sent_bytes = sum(len(p) for p in payloads)
            print(
                f"uplink:   {n} events in {uplink_s:.2f} s = {n / uplink_s:,.0f} events/s "
                f"({len(payloads)} messages, {sent_bytes / 1e6:.1f} MB, "
                f"in flight {config.uplink.inflight}); {outbox_s:.2f} s of it in the outbox"
            )
            raw_s = run_raw(broker.port, payloads, config.uplink.inflight, counter, n)
            print(f"raw paho: {n} events in {raw_s:.2f} s = {n / raw_s:,.0f} events/s")
        finally:
            counter.close()
            broker.stop()
    report(
        "uplink_drain",
        n / uplink_s,
        "events/s",
        "raw paho QoS1 publish of the same payloads, same in-flight window",
        n / raw_s,
        events=n,
        messages=len(payloads),
        megabytes=round(sent_bytes / 1e6, 2),
        uplink_s=round(uplink_s, 3),
        raw_s=round(raw_s, 3),
        outbox_s=round(outbox_s, 3),
        outbox="storage.Outbox" if real_storage() else "stand-in (storage.Outbox not built yet)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
