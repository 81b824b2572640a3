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
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
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
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
