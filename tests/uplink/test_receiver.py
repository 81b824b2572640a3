"""The analysts' receiver on real mosquitto: landing, de-duplication, malformed input, export."""

from __future__ import annotations

import csv
import json
import resource
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from localservers import Mosquitto, TestPki
from storage.event_schema import load_schema
from tests.support.uplink import make_events, plain_endpoint, tls_endpoint
from tests.support.waiting import wait_until
from uplink.batch import serialise_batch
from uplink.landing import EventStore
from uplink.receiver import Receiver, export_events, parse_broker_url
from uplink.receiver_cli import main as receive_main
from uplink.schema import BatchChecker, load_event_schema

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


def test_a_bad_event_is_quarantined_and_the_rest_of_its_message_lands(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    events = make_events(10)
    del events[3]["type"]
    events[7]["payload"] = {"sku": 42}
    mixed = batch_bytes(events, "b-mixed")
    publish(mosquitto.port, [(TOPIC, mixed), (TOPIC, mixed)])  # the second: a redelivery
    wait_until(lambda: receiver.stats().messages == 2, what="the messages")
    stats = receiver.stats()
    assert (stats.events_new, stats.events_duplicate, stats.quarantined) == (8, 8, 2)
    assert stats.malformed == 0
    db = tmp_path / "received.sqlite"
    landed = {i for (i,) in rows(db, "SELECT event_id FROM events")}
    assert landed == {e["id"] for i, e in enumerate(events) if i not in (3, 7)}
    quarantined = rows(
        db,
        "SELECT kind, store_id, kiosk_id, batch_id, part, event_id, reason, raw "
        "FROM quarantine ORDER BY id",
    )
    assert [(q[0], q[1], q[2], q[3], q[4], q[5]) for q in quarantined] == [
        ("event", "demo-store", "kiosk-01", "b-mixed", 1, events[3]["id"]),
        ("event", "demo-store", "kiosk-01", "b-mixed", 1, events[7]["id"]),
    ]
    assert "event 3" in quarantined[0][6] and "'type' is a required property" in quarantined[0][6]
    assert (
        "event 7" in quarantined[1][6]
        and "payload/sku: 42 is not of type 'string'" in (quarantined[1][6])
    )
    # the raw JSON, as the kiosk sent it
    assert json.loads(quarantined[0][7]) == events[3]
    assert json.loads(quarantined[1][7]) == events[7]


def test_unreadable_messages_are_quarantined_whole_and_do_not_stop_it(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    receiver = start_receiver(plain_endpoint(mosquitto))
    good = make_events(3)
    bad_count = json.loads(batch_bytes(make_events(2, start=20), "b-c"))
    bad_count["count"] = 5
    other_topic = "retail/other-store/kiosk-01/events"
    sent = [
        (TOPIC, b"\xff not json"),
        (TOPIC, b'{"schema": "something else"}'),
        (TOPIC, json.dumps(bad_count).encode()),
        (other_topic, batch_bytes(make_events(1, start=30), "b-t")),
        (TOPIC, batch_bytes(good, "b-good")),
    ]
    publish(mosquitto.port, sent + sent[:4])  # each bad one twice: kept once
    wait_until(lambda: receiver.stats().messages == 9, what="9 messages")
    assert receiver.stats().malformed == 8
    db = tmp_path / "received.sqlite"
    assert rows(db, "SELECT count(*) FROM events") == [(3,)]
    quarantined = rows(db, "SELECT kind, topic, store_id, reason, raw FROM quarantine ORDER BY id")
    assert [q[0] for q in quarantined] == ["message"] * 4
    assert [(q[1], q[4]) for q in quarantined] == [(t, p) for t, p in sent[:4]]  # byte for byte
    assert quarantined[3][2] == "other-store"
    reasons = [q[3] for q in quarantined]
    assert reasons[0].startswith("not JSON")
    assert "schema" in reasons[1]
    assert "count says 5 but 2 events came" in reasons[2]
    assert "topic names other-store/kiosk-01" in reasons[3]


def test_quarantine_list_show_and_replay_with_a_newer_schema(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """An analyst's receiver with an older schema (no ``system.*`` events) sets a kiosk's
    new events aside; after the schema update, ``quarantine replay`` lands them."""
    older = load_schema("event-v1.json")
    older["properties"]["type"]["anyOf"][1]["pattern"] = "^admin\\.[a-z0-9_.]+$"
    older_file = tmp_path / "event-older.json"
    older_file.write_text(json.dumps(older), encoding="utf-8")
    db = tmp_path / "received.sqlite"
    receiver = start_receiver(
        plain_endpoint(mosquitto), db, checker=BatchChecker(load_event_schema(older_file))
    )
    events = make_events(4)
    events[1]["type"] = "system.started"
    events[2]["type"] = "system.stopped"
    publish(mosquitto.port, [(TOPIC, batch_bytes(events))])
    wait_until(lambda: receiver.stats().messages == 1, what="the message")
    assert receiver.stats().quarantined == 2
    receiver.stop()

    listed = run_cli("quarantine", "list", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("1\t") and events[1]["id"] in lines[0] and "type" in lines[0]
    shown = run_cli("quarantine", "show", "2", "--db", str(db))
    assert json.loads(shown.stdout) == events[2]

    still_old = run_cli("quarantine", "replay", "--db", str(db), "--schema", str(older_file))
    assert still_old.returncode == 1
    assert "0 entries replayed" in still_old.stderr and "2 still failing" in still_old.stderr

    replayed = run_cli("quarantine", "replay", "--db", str(db))
    assert replayed.returncode == 0, replayed.stderr
    assert "2 entries replayed (2 new events), 0 still failing" in replayed.stderr
    assert {i for (i,) in rows(db, "SELECT event_id FROM events")} == {e["id"] for e in events}
    assert run_cli("quarantine", "list", "--db", str(db)).stdout == ""
    assert len(run_cli("quarantine", "list", "--all", "--db", str(db)).stdout.splitlines()) == 2


def test_replaying_a_quarantined_message_lands_its_events(
    mosquitto: Mosquitto, start_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    db = tmp_path / "received.sqlite"
    receiver = start_receiver(plain_endpoint(mosquitto), db)
    message = json.loads(batch_bytes(make_events(3)))
    message["count"] = 4  # a kiosk bug: the envelope is wrong, its events are fine
    publish(mosquitto.port, [(TOPIC, json.dumps(message).encode())])
    wait_until(lambda: receiver.stats().malformed == 1, what="the message quarantined")
    receiver.stop()
    store = EventStore(db)
    try:
        assert store.replay(BatchChecker()).still_failing == [(1, "count says 4 but 3 events came")]
        with sqlite3.connect(db) as conn:  # the analyst repairs the envelope
            conn.execute(
                "UPDATE quarantine SET raw = ? WHERE id = 1",
                (json.dumps({**message, "count": 3}).encode(),),
            )
        result = store.replay(BatchChecker())
    finally:
        store.close()
    assert (result.landed, result.events_new, result.still_failing) == (1, 3, [])
    assert rows(db, "SELECT count(*) FROM events") == [(3,)]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uplink.receiver_cli", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


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


class ReceiverProcess:
    """``kiosk-receive`` in its own process, its progress lines collected as they come."""

    def __init__(self, port: int, db: Path, mqtt_version: str = "3.1.1") -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uplink.receiver_cli", "--broker",
             f"mqtt://127.0.0.1:{port}", "--db", str(db), "--progress-s", "0.1",
             "--mqtt-version", mqtt_version],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_connected(self) -> None:
        wait_until(
            lambda: any("messages" in x and "not connected" not in x for x in self.lines),
            what="the receiver connected",
        )

    def finish(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code


@pytest.mark.parametrize("mqtt_version", ["3.1.1", "5"])
def test_what_the_database_could_not_take_is_not_acknowledged_and_comes_again(
    mosquitto: Mosquitto, tmp_path: Path, mqtt_version: str
) -> None:
    """The receiver's disk fills (a file size limit the kernel enforces, set on the running
    process): the messages are not acknowledged, it stops saying why, and the next run on
    the same file gets them again from its broker session."""
    db = tmp_path / "received.sqlite"
    first = ReceiverProcess(mosquitto.port, db, mqtt_version)
    try:
        first.wait_connected()
        # from now on no file of the receiver may grow: its next write fails (EFBIG)
        resource.prlimit(first.proc.pid, resource.RLIMIT_FSIZE, (0, 0))
        events = make_events(12)
        publish(mosquitto.port, [(TOPIC, batch_bytes(events)), (TOPIC, b"not a batch")])
        assert first.proc.wait(30) == 1
    finally:
        first.finish()
    assert any("cannot write" in x and str(db) in x for x in first.lines), first.lines
    assert rows(db, "SELECT count(*) FROM events") == [(0,)]
    assert rows(db, "SELECT count(*) FROM quarantine") == [(0,)]

    second = ReceiverProcess(mosquitto.port, db, mqtt_version)
    try:
        wait_until(lambda: rows(db, "SELECT count(*) FROM quarantine") == [(1,)], what="redelivery")
    finally:
        assert second.finish() == 0
    assert {i for (i,) in rows(db, "SELECT event_id FROM events")} == {e["id"] for e in events}
    assert rows(db, "SELECT raw FROM quarantine") == [(b"not a batch",)]
