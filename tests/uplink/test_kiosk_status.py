"""The receiver keeps the kiosks' status messages (real mosquitto, real SQLite)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet.bundles import BUNDLES, POINTER
from localservers import Mosquitto
from storage.restarts import record_stop
from tests.support.uplink import make_events, plain_endpoint
from tests.support.waiting import wait_until
from tests.uplink.test_service import (
    kiosk_config,
    record_events,
    running,
    start_service,
    write_config,
)
from uplink import UplinkService
from uplink.batch import serialise_batch
from uplink.receiver import Receiver

__all__ = ["running"]  # the fixture, shared with test_service

STATUS = "retail/demo-store/kiosk-01/status"
EVENTS = "retail/demo-store/kiosk-01/events"


def status_body(ts: str, **fields: object) -> bytes:
    """A status message as the kiosk's uplink writes it."""
    body = {
        "schema": "retail-edge-kiosk/status",
        "version": 1,
        "state": "online",
        "store_id": "demo-store",
        "kiosk_id": "kiosk-01",
        "software": "1.4.0",
        "ts": ts,
        "uptime_s": 3600.5,
        "restarts_24h": 2,
        "crash_loop": False,
        "backlog_events": 17,
        "bundle_id": "spring-2026",
        "sensor": {"status": "ok"},
        **fields,
    }
    return json.dumps(body).encode("utf-8")


def publish(port: int, messages: list[tuple[str, bytes, bool]]) -> None:
    """Publish QoS1 (retained when asked) and wait for every PUBACK."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(t, p, qos=1, retain=r) for t, p, r in messages]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_keeps_retained_and_live_status_once_each(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    retained = status_body("2026-11-27T10:00:00.000Z")
    publish(mosquitto.port, [(STATUS, retained, True)])
    receiver = start_receiver(plain_endpoint(mosquitto))
    wait_until(lambda: receiver.stats().statuses == 1, what="the retained status")
    live = status_body("2026-11-27T10:05:00.000Z", backlog_events=3, state="offline")
    publish(
        mosquitto.port, [(STATUS, live, False), (STATUS, live, False), (STATUS, retained, True)]
    )
    wait_until(lambda: receiver.stats().statuses == 4, what="three more statuses")
    db = tmp_path / "received.sqlite"
    history = rows(
        db,
        "SELECT sent_at, state, software, bundle_id, uptime_s, restarts_24h, crash_loop,"
        " backlog_events, camera, received_at IS NOT NULL FROM kiosk_status ORDER BY sent_at",
    )
    assert history == [
        ("2026-11-27T10:00:00.000Z", "online", "1.4.0", "spring-2026", 3600.5, 2, 0, 17, "ok", 1),
        ("2026-11-27T10:05:00.000Z", "offline", "1.4.0", "spring-2026", 3600.5, 2, 0, 3, "ok", 1),
    ]
    # the older retained message, delivered again, does not replace the newer as the latest
    assert rows(db, "SELECT sent_at, backlog_events FROM kiosk_status_latest") == [
        ("2026-11-27T10:05:00.000Z", 3)
    ]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not JSON"),
        (status_body("2026-11-27T10:00:00.000Z", kiosk_id="kiosk-99"), "the topic names"),
        (status_body("yesterday"), "not an ISO 8601 time"),
        (status_body("2026-11-27T10:00:00.000Z", backlog_events="many"), "backlog_events"),
    ],
)
def test_malformed_status_is_logged_with_topic_and_dropped(
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    payload: bytes,
    reason: str,
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    [batch] = serialise_batch(
        "b-1", make_events(3), store_id="demo-store", kiosk_id="kiosk-01", max_message_bytes=131_072
    )
    publish(mosquitto.port, [(STATUS, payload, False), (EVENTS, batch.payload, False)])
    # the receiver goes on: the batch after the bad status lands
    wait_until(lambda: receiver.stats().events_new == 3, what="the batch after the bad status")
    assert receiver.stats().statuses_dropped == 1
    assert "0 status messages (1 dropped)" in receiver.stats().line()  # kiosk-receive's progress
    assert receiver.fatal is None
    assert rows(tmp_path / "received.sqlite", "SELECT count(*) FROM kiosk_status") == [(0,)]
    [warning] = [r.getMessage() for r in caplog.records if "status message" in r.getMessage()]
    assert STATUS in warning
    assert reason in warning


def test_the_kiosks_status_reaches_the_receiver_with_restarts_bundle_and_camera(
    tmp_path: Path,
    mosquitto: Mosquitto,
    start_receiver: Callable[..., Receiver],
    running: list[UplinkService],
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    data_dir = config.paths.data_dir
    assert data_dir is not None
    now = dt.datetime.now(dt.UTC)
    crashed = {"SERVICE_RESULT": "signal", "EXIT_STATUS": "SEGV"}
    # a day and a half ago (outside the 24 h), a clean stop, then four crashes in minutes
    record_stop(data_dir, crashed, now - dt.timedelta(hours=36))
    record_stop(data_dir, {"SERVICE_RESULT": "success"}, now - dt.timedelta(hours=2))
    for minutes in (4, 3, 2, 1):
        record_stop(data_dir, crashed, now - dt.timedelta(minutes=minutes))
    # the fleet's pointer to the active bundle, where fleet.bundles keeps it
    pointer = data_dir / BUNDLES / POINTER
    pointer.parent.mkdir(parents=True)
    pointer.write_text(json.dumps({"version": 1, "active": "spring-2026", "history": []}))
    receiver = start_receiver(plain_endpoint(mosquitto))
    start_service(config, running, sensor_health=lambda: {"status": "disconnected"})
    wait_until(lambda: receiver.stats().statuses >= 1, what="the kiosk's status")
    [(restarts, loop, bundle, camera, uptime, backlog, state)] = rows(
        tmp_path / "received.sqlite",
        "SELECT restarts_24h, crash_loop, bundle_id, camera, typeof(uptime_s), backlog_events,"
        " state FROM kiosk_status_latest",
    )
    assert (restarts, loop, bundle, camera, state) == (
        4,
        1,
        "spring-2026",
        "disconnected",
        "online",
    )
    assert uptime == "real" and isinstance(backlog, int)


def test_the_brokers_last_will_for_a_killed_uplink_is_kept(
    tmp_path: Path, mosquitto: Mosquitto, start_receiver: Callable[..., Receiver]
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    record_events(config, 10)  # the uplink needs the kiosk's outbox
    receiver = start_receiver(plain_endpoint(mosquitto))
    command = [sys.executable, "-m", "uplink.cli", "--config", str(write_config(tmp_path, config))]
    uplink = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: receiver.stats().statuses >= 1, what="the online status")
        os.kill(uplink.pid, signal.SIGKILL)
        uplink.wait(10)
    finally:
        if uplink.poll() is None:
            uplink.kill()
            uplink.wait(10)
    db = tmp_path / "received.sqlite"
    query = "SELECT state, payload FROM kiosk_status ORDER BY state"
    wait_until(lambda: len(rows(db, query)) == 2, what="the last will kept")
    (state, payload), (other, _) = rows(db, query)
    assert (state, other) == ("offline", "online")
    assert json.loads(str(payload))["reason"] == "connection lost"
    assert receiver.stats().statuses_dropped == 0
