"""The analysts' receiver on real mosquitto: landing, de-duplication, malformed input, export."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from localservers import Mosquitto, TestPki
from tests.uplink.conftest import make_events, plain_endpoint, tls_endpoint, wait_until
from uplink.batch import serialise_batch
from uplink.receiver import Receiver, export_events, parse_broker_url
from uplink.receiver_cli import main as receive_main

TOPIC = "retail/demo-store/kiosk-01/events"


def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish QoS1 with a plain paho client and wait for every PUBACK."""
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def batch_bytes(events: list[dict], batch_id: str = "b-1") -> bytes:
    [message] = serialise_batch(
        batch_id, events, store_id="demo-store", kiosk_id="kiosk-01", max_message_bytes=131_072
    )
    return message.payload


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_lands_typed_rows_and_drops_duplicates(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    events = make_events(30)
    first, again = batch_bytes(events[:20]), batch_bytes(events[10:], "b-2")
    publish(mosquitto.port, [(TOPIC, first), (TOPIC, first), (TOPIC, again)])
    wait_until(lambda: receiver.stats().messages == 3, what="3 messages")
    stats = receiver.stats()
    assert (stats.events_new, stats.events_duplicate, stats.malformed) == (30, 30, 0)
    db = tmp_path / "received.sqlite"
    assert rows(db, "SELECT count(*), count(DISTINCT event_id) FROM events") == [(30, 30)]
    [row] = rows(
        db,
        "SELECT event_id, ts, typeof(ts_epoch), clock_synced, store_id, kiosk_id, type, sku, "
        "simulated, batch_id FROM events ORDER BY ts_epoch LIMIT 1 OFFSET 1",
    )
    event = events[1]
    assert row == (
        event["id"], event["ts"], "real", 1, "demo-store", "kiosk-01", "touch",
        "SKU-1", 0, "b-1",
    )  # fmt: skip
    assert rows(db, "SELECT batch_id, part, count, new_events FROM batches ORDER BY batch_id") == [
        ("b-1", 1, 20, 20),
        ("b-2", 1, 20, 10),
    ]


def test_malformed_messages_are_counted_kept_and_do_not_stop_it(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    good = make_events(3)
    broken = make_events(2, start=10)
    del broken[1]["type"]
    bad_count = json.loads(batch_bytes(make_events(2, start=20), "b-c"))
    bad_count["count"] = 5
    publish(
        mosquitto.port,
        [
            (TOPIC, b"\xff not json"),
            (TOPIC, b'{"schema": "something else"}'),
            (TOPIC, batch_bytes(broken, "b-broken")),
            (TOPIC, json.dumps(bad_count).encode()),
            ("retail/other-store/kiosk-01/events", batch_bytes(make_events(1, start=30), "b-t")),
            (TOPIC, batch_bytes(good, "b-good")),
        ],
    )
    wait_until(lambda: receiver.stats().messages == 6, what="6 messages")
    assert receiver.stats().malformed == 5
    db = tmp_path / "received.sqlite"
    assert rows(db, "SELECT count(*) FROM events") == [(3,)]
    reasons = [r for (r,) in rows(db, "SELECT reason FROM rejected ORDER BY id")]
    assert reasons[0].startswith("not JSON")
    assert "schema" in reasons[1]
    assert "event 1" in reasons[2] and "'type' is a required property" in reasons[2]
    assert "count says 5 but 2 events came" in reasons[3]
    assert "topic names other-store/kiosk-01" in reasons[4]


def test_receiver_over_tls_with_client_certificate(
    mosquitto_tls: Mosquitto,
    test_pki: TestPki,
    start_receiver: Callable[..., Receiver],
) -> None:
    endpoint = tls_endpoint(mosquitto_tls, test_pki)
    receiver = start_receiver(endpoint)
    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.tls_set(
        ca_certs=str(test_pki.ca_cert),
        certfile=str(test_pki.client_cert),
        keyfile=str(test_pki.client_key),
    )
    client.connect("127.0.0.1", mosquitto_tls.port)
    client.loop_start()
    client.publish(TOPIC, batch_bytes(make_events(4)), qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()
    wait_until(lambda: receiver.stats().events_new == 4, what="4 events over TLS")


def test_export_csv_and_parquet(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    events = make_events(12)
    publish(mosquitto.port, [(TOPIC, batch_bytes(events))])
    wait_until(lambda: receiver.stats().events_new == 12, what="12 events")
    db = tmp_path / "received.sqlite"
    assert receive_main(["export", "--db", str(db), "--format", "csv"]) == 0
    with db.with_suffix(".csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["event_id"] for r in table] == [e["id"] for e in events]
    assert json.loads(table[1]["payload"]) == {"sku": "SKU-1"}

    import pyarrow.parquet as pq

    out = tmp_path / "events.parquet"
    assert export_events(db, "parquet", out) == 12
    frame = pq.read_table(out)
    assert frame.num_rows == 12
    assert str(frame.schema.field("ts").type) == "timestamp[us, tz=UTC]"
    assert frame.column("sku").to_pylist()[1] == "SKU-1"


def test_export_of_a_missing_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert receive_main(["export", "--db", str(tmp_path / "none.sqlite")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.sqlite: no such receiver database" in err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker.example", ("broker.example", 1883, False)),
        ("mqtts://broker.example", ("broker.example", 8883, True)),
        ("127.0.0.1:1999", ("127.0.0.1", 1999, False)),
        ("mqtt://[::1]:1884", ("::1", 1884, False)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_broker_url(url) == expected


def test_cli_bad_broker_url_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "uplink.receiver_cli", "--broker", "http://x", "--db",
         str(tmp_path / "r.sqlite")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kiosk-receive: broker URL 'http://x': scheme must be mqtt:// or mqtts://"
    )


def test_cli_receives_and_reports_progress(mosquitto: Mosquitto, tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "uplink.receiver_cli", "--broker",
         f"mqtt://127.0.0.1:{mosquitto.port}", "--db", str(db), "--progress-s", "0.2",
         "--client-id", "analysts-1"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # A fixed client id keeps a session: wait for it, then publish.
        wait_until(lambda: db.exists(), what="the receiver database")
        events = make_events(7)
        wait_until(
            lambda: _published_and_landed(mosquitto.port, db, events), timeout=30, what="landing"
        )
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "7 new" in err


def _published_and_landed(port: int, db: Path, events: list[dict]) -> bool:
    if rows(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events'") == [(0,)]:
        return False
    if rows(db, "SELECT count(*) FROM events") == [(0,)]:
        publish(port, [(TOPIC, batch_bytes(events))])
    return rows(db, "SELECT count(*) FROM events") == [(len(events),)]
