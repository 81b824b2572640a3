"""fleet.aws_side: AWS IoT's answers on the named-shadow topics (payloads as AWS documents
them), and its ``python -m fleet.aws_side`` entry on a real TLS broker."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from fleet.aws_side import ShadowStore, state_delta
from localservers import Mosquitto, TestPki
from tests.storage.test_spill import _fill as fill
from tests.storage.test_spill import disk  # a small tmpfs of the test's own
from tests.support.waiting import wait_until

__all__ = ["disk"]  # the fixture, imported for the tests here

BASE = "$aws/things/k1/shadow/name/kiosk"


def service_answer(store: ShadowStore, verb: str, request: object) -> list[tuple[str, Any]]:
    from fleet.aws_side import ShadowService
    from fleet.broker_service import BrokerOptions

    service = ShadowService(BrokerOptions(), store)  # not started: answers only
    raw = request if isinstance(request, bytes) else json.dumps(request).encode()
    return service.answer("k1", "kiosk", verb, raw)


def test_an_update_is_accepted_with_metadata_and_a_delta_and_the_documents() -> None:
    store = ShadowStore()
    service_answer(store, "update", {"state": {"reported": {"a": 1, "zones": {"near": 1.0}}}})
    answers = dict(service_answer(store, "update", {
        "state": {"desired": {"a": 2, "zones": {"near": 1.0, "far": 3.0}}}, "clientToken": "t1",
    }))  # fmt: skip
    accepted = answers[f"{BASE}/update/accepted"]
    assert accepted["version"] == 2 and accepted["clientToken"] == "t1"
    assert set(accepted["metadata"]["desired"]["zones"]) == {"near", "far"}
    assert isinstance(accepted["metadata"]["desired"]["a"]["timestamp"], int)
    delta = answers[f"{BASE}/update/delta"]
    assert delta["state"] == {"a": 2, "zones": {"far": 3.0}}
    assert delta["clientToken"] == "t1" and delta["version"] == 2
    documents = answers[f"{BASE}/update/documents"]
    assert documents["previous"]["version"] == 1 and documents["current"]["version"] == 2
    assert documents["current"]["state"]["desired"]["a"] == 2


def test_a_reported_update_that_matches_publishes_no_delta_and_null_deletes() -> None:
    store = ShadowStore()
    service_answer(store, "update", {"state": {"desired": {"a": 2, "b": 1}}})
    topics = [t for t, _ in service_answer(store, "update", {"state": {"reported": {"a": 2}}})]
    assert f"{BASE}/update/delta" not in topics
    service_answer(store, "update", {"state": {"desired": {"b": None}}})
    document = store.document("k1", "kiosk")
    assert document is not None and document.desired == {"a": 2}
    assert "b" not in document.metadata["desired"]
    assert state_delta(document.desired, document.reported) == {}


def test_get_answers_the_whole_document_with_its_delta_or_404() -> None:
    store = ShadowStore()
    [(topic, rejected)] = service_answer(store, "get", {"clientToken": "g"})
    assert topic == f"{BASE}/get/rejected"
    assert rejected["code"] == 404 and rejected["clientToken"] == "g"
    assert rejected["message"] == "No shadow exists with name: 'kiosk'"
    service_answer(store, "update", {"state": {"desired": {"a": 2}, "reported": {"a": 1}}})
    [(topic, accepted)] = service_answer(store, "get", b"")
    assert topic == f"{BASE}/get/accepted"
    assert accepted["state"] == {"desired": {"a": 2}, "reported": {"a": 1}, "delta": {"a": 2}}
    assert accepted["version"] == 1 and "timestamp" in accepted["metadata"]["reported"]["a"]


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (b"{not json", 400, "Payload contains invalid json"),
        ({"desired": {"a": 1}}, 400, "Missing required node: state"),
        ({"state": {"wanted": {}}}, 400, "State contains an invalid node: 'wanted'"),
        ({"state": {"desired": {"a": 1}}, "version": 7}, 409, "Version conflict"),
        ({"state": {"desired": {"a": "x" * 9000}}}, 413,
         "The payload exceeds the maximum size allowed"),
        ({"state": {"desired": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}, 400,
         "JSON contains too many levels of nesting; maximum is 6"),
    ],
)  # fmt: skip
def test_requests_aws_would_reject_are_rejected_with_its_code(
    request_: object, code: int, message: str
) -> None:
    store = ShadowStore()
    [(topic, rejected)] = service_answer(store, "update", request_)
    assert topic == f"{BASE}/update/rejected"
    assert (rejected["code"], rejected["message"]) == (code, message)
    assert store.document("k1", "kiosk") is None


def test_the_state_file_keeps_the_shadows_across_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "shadows.json"
    service_answer(ShadowStore(state), "update", {"state": {"desired": {"a": 2}}})
    document = ShadowStore(state).document("k1", "kiosk")
    assert document is not None and document.desired == {"a": 2} and document.version == 1
    state.write_text("{broken", encoding="utf-8")
    with pytest.raises(ValueError, match=r"shadows.json cannot be read"):
        ShadowStore(state)


def test_python_m_fleet_aws_side_answers_on_a_tls_broker(
    mosquitto_tls: Mosquitto, test_pki: TestPki, tmp_path: Path
) -> None:
    command = [
        sys.executable, "-m", "fleet.aws_side", "--broker-port", str(mosquitto_tls.port),
        "--ca-file", str(test_pki.ca_cert), "--cert-file", str(test_pki.client_cert),
        "--key-file", str(test_pki.client_key), "--state", str(tmp_path / "shadows.json"),
    ]  # fmt: skip
    log_path = tmp_path / "aws_side.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ)
    answers: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="asker")
    client.tls_set(str(test_pki.ca_cert), str(test_pki.client_cert), str(test_pki.client_key))
    client.on_message = lambda _c, _u, m: answers.put((m.topic, json.loads(m.payload)))
    try:
        client.connect("127.0.0.1", mosquitto_tls.port)
        client.loop_start()
        client.subscribe(f"{BASE}/update/+", qos=1)
        wait_until(lambda: b"answering" in log_path.read_bytes(), "the service to subscribe", 20)
        client.publish(f"{BASE}/update", json.dumps({"state": {"desired": {"a": 1}}}), qos=1)
        topic, accepted = answers.get(timeout=20)
        assert topic == f"{BASE}/update/accepted" and accepted["version"] == 1
    finally:
        client.disconnect()
        client.loop_stop()
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, log_path.read_text()
    assert (
        json.loads((tmp_path / "shadows.json").read_text())["shadows"]["k1/kiosk"]["version"] == 1
    )


def test_a_full_disk_answers_500_and_changes_nothing(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = disk / "shadows.json"
    store = ShadowStore(state)
    service_answer(store, "update", {"state": {"desired": {"a": 1}}})
    ballast = disk / "ballast"
    fill(ballast)
    [(topic, rejected)] = service_answer(
        store, "update", {"state": {"desired": {"a": "x" * 4000}}, "clientToken": "f"}
    )
    assert topic == f"{BASE}/update/rejected"
    assert (rejected["code"], rejected["message"]) == (500, "Internal service failure")
    assert "cannot be written" in caplog.text and str(state) in caplog.text
    document = store.document("k1", "kiosk")
    assert document is not None and document.desired == {"a": 1} and document.version == 1
    assert json.loads(state.read_text())["shadows"]["k1/kiosk"]["version"] == 1
    assert not list(disk.glob(".*.tmp*"))
    ballast.unlink()
    answers = dict(service_answer(store, "update", {"state": {"desired": {"a": 2}}}))
    assert answers[f"{BASE}/update/accepted"]["version"] == 2
