"""UplinkService end to end: real SQLite outbox -> real mosquitto -> the analysts' receiver."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import storage
from localservers import Mosquitto, TestPki
from settings import KioskConfig
from tests.support.uplink import Subscriber, plain_endpoint, tls_endpoint
from tests.support.waiting import wait_until
from uplink import UplinkService
from uplink.claim_journal import ClaimJournal
from uplink.receiver import Receiver

# The receiver reconnects well before the uplink's first retry (2-4 s), so after a broker
# restart it is subscribed again before batches flow (a non-persistent broker drops
# messages nobody is subscribed to).
FAST_RECONNECT = (0.1, 0.3)


def kiosk_config(tmp_path: Path, broker: Mosquitto) -> KioskConfig:
    """A kiosk config on tmp_path, uplink pointed at ``broker``, Redis off."""
    config = KioskConfig()
    config.paths.data_dir = tmp_path / "data"
    config.paths.log_dir = tmp_path / "data" / "logs"
    config.storage.database = tmp_path / "data" / "events.sqlite"
    config.redis.enabled = False
    config.storage.batch_max_events = 50
    config.storage.batch_max_bytes = 16_384
    uplink = config.uplink
    uplink.enabled = True
    uplink.port = broker.port
    uplink.max_message_bytes = 8192
    uplink.max_publishes_per_s = 100
    uplink.max_bytes_per_s = 524_288
    uplink.backoff_min_s = 4.0
    uplink.backoff_max_s = 8.0
    return config


def record_events(config: KioskConfig, n: int) -> list[str]:
    """Record ``n`` interactions through the real event log; returns their ids."""
    log = storage.EventLog(config)
    log.start()
    ids = []
    for i in range(n):
        event = storage.Event.create(
            (storage.EventType.PAGE_VIEW, storage.EventType.TOUCH, storage.EventType.ACTION)[i % 3],
            session_id=f"s-{i // 25}",
            page=f"page-{i % 4}",
            element=f"el-{i % 7}",
            payload={"sku": f"SKU-{i % 5}"},
        )
        log.append(event)
        ids.append(event.id)
    log.stop(timeout=30)
    return ids


def received_ids(db: Path) -> list[str]:
    """Every event id in the receiver's table (one row per id by construction)."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return [r[0] for r in conn.execute("SELECT event_id FROM events")]
        except sqlite3.OperationalError:
            return []


@pytest.fixture
def running() -> Iterator[list[UplinkService]]:
    """Services started by a test, stopped after it."""
    services: list[UplinkService] = []
    yield services
    for service in services:
        service.stop(timeout=5)


def start_service(
    config: KioskConfig, running: list[UplinkService], **kwargs: object
) -> tuple[UplinkService, storage.Outbox]:
    assert config.storage.database is not None
    outbox = storage.Outbox(config.storage.database)
    service = UplinkService(config, outbox, **kwargs)  # type: ignore[arg-type]
    service.start()
    running.append(service)
    return service, outbox


def test_plain_mqtt_drains_the_outbox_exactly_once_with_status(
    tmp_path: Path,
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    ids = record_events(config, 600)
    start_receiver(plain_endpoint(mosquitto))
    status_watch = Subscriber(plain_endpoint(mosquitto), "retail/+/+/status")
    service, outbox = start_service(config, running, sensor_health=lambda: {"status": "ok"})
    db = tmp_path / "received.sqlite"
    wait_until(lambda: len(received_ids(db)) == len(ids), what="every event at the receiver")
    assert sorted(received_ids(db)) == sorted(ids)
    wait_until(lambda: service.status().sent_events == len(ids), what="every batch acknowledged")
    assert outbox.backlog().events == 0
    status = service.status()
    assert status.connected and status.last_error is None and status.last_ack_at is not None
    online = status_watch.json_on("demo-store/kiosk-01/status")
    assert online[0]["state"] == "online" and online[0]["sensor"] == {"status": "ok"}
    service.stop(timeout=5)
    assert service.status().connected is False
    wait_until(lambda: status_watch.json_on("/status")[-1]["state"] == "offline", what="offline")
    status_watch.close()
    # Retained: a newcomer learns the kiosk's last word at once.
    late = Subscriber(plain_endpoint(mosquitto), "retail/demo-store/kiosk-01/status")
    wait_until(lambda: late.messages, what="the retained status")
    assert late.messages[-1][2] is True
    late.close()


class ThreadNotingOutbox:
    """A real outbox that notes which thread made each write (claims and marks)."""

    def __init__(self, inner: storage.Outbox) -> None:
        self.inner = inner
        self.writers: list[tuple[str, str]] = []

    def claim_batch(self, max_events: int, max_bytes: int) -> storage.OutboxBatch | None:
        self.writers.append(("claim", threading.current_thread().name))
        return self.inner.claim_batch(max_events, max_bytes)

    def mark_sent(self, *batch_ids: str) -> None:
        self.writers.append(("mark", threading.current_thread().name))
        self.inner.mark_sent(*batch_ids)

    def release(self, batch_id: str) -> None:
        self.inner.release(batch_id)

    def backlog(self) -> storage.Backlog:
        self.writers.append(("backlog", threading.current_thread().name))
        return self.inner.backlog()

    @property
    def owner(self) -> str:
        return self.inner.owner

    def release_owner(self, owner: str) -> int:
        return self.inner.release_owner(owner)


def test_one_thread_writes_the_outbox_while_it_drains(
    tmp_path: Path,
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    """Claims and marks both take SQLite's write lock: made on two threads, each waited on
    the other (the busy handler sleeps 1, 2, 5, 10 ms...), stalling the network thread. The
    backlog count, 15-30 ms, is made there too while the session runs."""
    config = kiosk_config(tmp_path, mosquitto)
    ids = record_events(config, 600)
    start_receiver(plain_endpoint(mosquitto))
    assert config.storage.database is not None
    outbox = ThreadNotingOutbox(storage.Outbox(config.storage.database))
    service = UplinkService(config, outbox)
    service.start()
    running.append(service)
    wait_until(lambda: service.status().sent_events == len(ids), what="every batch marked sent")
    wait_until(
        lambda: ("backlog", "uplink-claims") in outbox.writers, what="a backlog count in session"
    )
    calls = list(outbox.writers)
    assert sorted(received_ids(tmp_path / "received.sqlite")) == sorted(ids)
    # before the session: the backlog shown while connecting, counted on the uplink thread
    in_session = calls[calls.index(("claim", "uplink-claims")) :]
    assert {kind for kind, _ in in_session} == {"claim", "mark", "backlog"}
    assert {thread for _, thread in in_session} == {"uplink-claims"}


def test_tls_with_client_certificates(
    tmp_path: Path,
    mosquitto_tls: Mosquitto,
    test_pki: TestPki,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    config = kiosk_config(tmp_path, mosquitto_tls)
    config.uplink.tls = True
    config.uplink.ca_file = test_pki.ca_cert
    config.uplink.cert_file = test_pki.client_cert
    config.uplink.key_file = test_pki.client_key
    ids = record_events(config, 200)
    start_receiver(tls_endpoint(mosquitto_tls, test_pki))
    start_service(config, running)
    db = tmp_path / "received.sqlite"
    wait_until(lambda: len(received_ids(db)) == len(ids), what="every event over TLS")


def test_aws_iot_transport_through_awsiotsdk(
    tmp_path: Path,
    mosquitto_tls: Mosquitto,
    test_pki: TestPki,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    config = kiosk_config(tmp_path, mosquitto_tls)
    config.uplink.transport = "aws-iot"
    config.uplink.ca_file = test_pki.ca_cert
    config.uplink.cert_file = test_pki.client_cert
    config.uplink.key_file = test_pki.client_key
    ids = record_events(config, 200)
    start_receiver(tls_endpoint(mosquitto_tls, test_pki))
    service, _outbox = start_service(config, running)
    db = tmp_path / "received.sqlite"
    wait_until(lambda: len(received_ids(db)) == len(ids), what="every event via awsiotsdk")
    assert service.status().broker.startswith("aws-iot://")


@pytest.mark.slow
def test_broker_killed_mid_stream_and_restarted(
    tmp_path: Path, start_receiver: Callable[..., Receiver], running: list[UplinkService]
) -> None:
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    try:
        config = kiosk_config(tmp_path, broker)
        config.uplink.max_publishes_per_s = 40  # slow enough to kill it mid-stream
        # The uplink comes back no sooner than 1.5 s after losing the broker, the receiver
        # within 0.3 s: a non-persistent mosquitto drops what arrives before the receiver
        # has subscribed again (a cloud broker keeps the analysts' persistent session).
        config.uplink.backoff_min_s = 3.0
        ids = record_events(config, 3000)
        receiver = start_receiver(plain_endpoint(broker), reconnect_s=FAST_RECONNECT)
        service, outbox = start_service(config, running)
        db = tmp_path / "received.sqlite"

        def caught_up() -> bool:
            # The receiver holds everything the broker acknowledged: a killed non-persistent
            # mosquitto loses what it acknowledged but had not yet delivered (AWS IoT Core's
            # durability, not the kiosk's); in-flight publishes are ours.
            got = len(received_ids(db))
            return got >= 300 and got >= service.status().sent_events

        # Freeze the broker, let what it already sent arrive, and kill it only when nothing
        # it acknowledged is undelivered (else let it run a little and try again).
        deadline = time.monotonic() + 60
        while True:
            wait_until(caught_up, what="the stream to start")
            broker.pause()
            time.sleep(0.3)
            if caught_up():
                break
            assert time.monotonic() < deadline, "the receiver never caught up with the broker"
            broker.resume()
            time.sleep(0.05)
        broker.kill()
        wait_until(lambda: not service.status().connected, what="the uplink to notice")
        wait_until(lambda: not receiver.stats().connected, what="the receiver to notice")
        assert len(received_ids(db)) < len(ids)
        broker.start()
        wait_until(lambda: receiver.stats().connected, what="the receiver to come back")
        wait_until(
            lambda: len(received_ids(db)) == len(ids), timeout=90, what="every event after restart"
        )
        assert sorted(received_ids(db)) == sorted(ids)
        wait_until(lambda: outbox.backlog().events == 0, what="an empty outbox")
    finally:
        broker.stop()


def test_broker_down_at_start(
    tmp_path: Path, start_receiver: Callable[..., Receiver], running: list[UplinkService]
) -> None:
    broker = Mosquitto(tmp_path / "broker")
    config = kiosk_config(tmp_path, broker)
    # retries 1.5 s apart at least: the receiver subscribes first (see the test above)
    config.uplink.backoff_min_s = 3.0
    ids = record_events(config, 300)
    service, _outbox = start_service(config, running)
    wait_until(lambda: service.status().last_error is not None, what="a connect error")
    status = service.status()
    assert not status.connected and "cannot connect" in (status.last_error or "")
    broker.start()
    try:
        start_receiver(plain_endpoint(broker), reconnect_s=FAST_RECONNECT)
        db = tmp_path / "received.sqlite"
        wait_until(lambda: len(received_ids(db)) == len(ids), timeout=60, what="every event")
        # a session clears the connect error; the snapshot is read directly and is fixed
        wait_until(lambda: service.status().sent_events == len(ids), what="every ack counted")
        status = service.status()
        assert status.connected and status.last_error is None
        field = "connected"
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(status, field, False)
    finally:
        broker.stop()


def write_config(tmp_path: Path, config: KioskConfig) -> Path:
    """The test's config as a TOML file kiosk-uplink can read."""
    path = tmp_path / "kiosk.toml"
    u = config.uplink
    path.write_text(
        f"""
[kiosk]
store_id = "{config.kiosk.store_id}"
kiosk_id = "{config.kiosk.kiosk_id}"
[paths]
data_dir = "{config.paths.data_dir}"
[logging]
file = false
[storage]
database = "{config.storage.database}"
batch_max_events = {config.storage.batch_max_events}
batch_max_bytes = {config.storage.batch_max_bytes}
[redis]
enabled = false
[uplink]
port = {u.port}
max_message_bytes = {u.max_message_bytes}
max_publishes_per_s = {u.max_publishes_per_s}
backoff_min_s = 1.0
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_kiosk_uplink_killed_mid_publish_resumes_with_nothing_lost(
    tmp_path: Path,
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    config.uplink.max_publishes_per_s = 40
    ids = record_events(config, 3000)
    start_receiver(plain_endpoint(mosquitto))
    status_watch = Subscriber(plain_endpoint(mosquitto), "retail/+/+/status")
    path = write_config(tmp_path, config)
    command = [sys.executable, "-m", "uplink.cli", "--config", str(path)]
    db = tmp_path / "received.sqlite"
    first = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: len(received_ids(db)) >= 300, what="the first run to send")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert len(received_ids(db)) < len(ids)
        # The broker speaks the last will for the killed process.
        wait_until(
            lambda: any(
                s.get("reason") == "connection lost" for s in status_watch.json_on("/status")
            ),
            what="the last will",
        )
    finally:
        if first.poll() is None:
            first.kill()
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(
            lambda: len(received_ids(db)) == len(ids), timeout=120, what="every event after restart"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        _out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert sorted(received_ids(db)) == sorted(ids)
    status_watch.close()
    assert storage.Outbox(config.storage.database or Path()).backlog().events == 0


def test_claims_of_a_killed_run_go_out_first_in_the_next_one(
    tmp_path: Path,
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    ids = record_events(config, 200)
    assert config.storage.database is not None
    # What a run killed right after claiming leaves behind: a leased batch (storage keeps
    # it leased for minutes) and the uplink's note of its lease owner token.
    killed = storage.Outbox(config.storage.database)
    ClaimJournal(config.data_path("uplink-claims-demo-store-kiosk-01.json")).record([killed.owner])
    orphan = killed.claim_batch(config.storage.batch_max_events, config.storage.batch_max_bytes)
    assert orphan is not None
    start_receiver(plain_endpoint(mosquitto))
    _service, outbox = start_service(config, running)
    db = tmp_path / "received.sqlite"
    wait_until(lambda: len(received_ids(db)) == len(ids), what="every event, the orphan too")
    # the last PUBACK may still be on its way when the receiver has written the events
    wait_until(lambda: outbox.backlog().events == 0, what="every batch acknowledged")
    with sqlite3.connect(db) as conn:
        first = conn.execute("SELECT batch_id FROM batches ORDER BY rowid LIMIT 1").fetchone()
    assert first == (orphan.batch_id,)


def test_kiosk_uplink_with_a_key_others_can_read_says_so(
    tmp_path: Path, mosquitto: Mosquitto, test_pki: TestPki
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    record_events(config, 1)
    key = tmp_path / "device.key"
    key.write_bytes(test_pki.client_key.read_bytes())
    key.chmod(0o640)
    path = write_config(tmp_path, config)
    path.write_text(
        path.read_text()
        + f'tls = true\nca_file = "{test_pki.ca_cert}"\ncert_file = "{test_pki.client_cert}"\n'
        + f'key_file = "{key}"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "uplink.cli", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"run: chmod 600 {key}")
    assert result.stderr.count("\n") == 1
