"""fleet.aws_jobs: AWS IoT Jobs' MQTT API on a real mosquitto with mTLS, seen from a device
that speaks the topics itself (paho), with AWS's documented payloads."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho
import pytest

from fleet.aws_jobs import JobService
from fleet.broker_service import BrokerOptions
from localservers import Mosquitto, TestPki

THING = "demo-store-kiosk-01"
BASE = f"$aws/things/{THING}/jobs"


@pytest.fixture
def service(mosquitto_tls: Mosquitto, test_pki: TestPki) -> Iterator[JobService]:
    """fleet.aws_jobs on the TLS broker, with the test CA's client certificate."""
    broker = BrokerOptions(port=mosquitto_tls.port, ca_file=test_pki.ca_cert,
                           cert_file=test_pki.client_cert, key_file=test_pki.client_key,
                           client_id="fleet-jobs-service")  # fmt: skip
    jobs = JobService(broker)
    jobs.start(timeout=10)
    yield jobs
    jobs.stop()


class Device:
    """A thing that publishes jobs requests and hears every answer on its jobs topics."""

    def __init__(self, port: int, pki: TestPki) -> None:
        self.heard: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="device")
        self.client.tls_set(str(pki.ca_cert), str(pki.client_cert), str(pki.client_key))
        self.client.on_message = lambda c, u, m: self.heard.put((m.topic, json.loads(m.payload)))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        answers = ("+/accepted", "+/rejected", "+/+/accepted", "+/+/rejected", "notify-next")
        result, _mid = self.client.subscribe([(f"{BASE}/{topic}", 1) for topic in answers])
        assert result == paho.MQTT_ERR_SUCCESS
        # the subscription is in place once a message to it comes back
        self.client.publish(f"{BASE}/ready/accepted", "{}", qos=1)
        assert self.next()[0] == f"{BASE}/ready/accepted"

    def ask(self, topic: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.client.publish(topic, json.dumps(payload), qos=1)
        return self.next()

    def next(self) -> tuple[str, dict[str, Any]]:
        try:
            return self.heard.get(timeout=10)
        except queue.Empty:
            pytest.fail("no message from the jobs service in 10 s")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def device(mosquitto_tls: Mosquitto, test_pki: TestPki) -> Iterator[Device]:
    thing = Device(mosquitto_tls.port, test_pki)
    yield thing
    thing.close()


def test_a_job_is_notified_started_and_ended_as_aws_does(
    service: JobService, device: Device
) -> None:
    service.create_job(THING, "job-1", {"operation": "restart"})
    topic, notice = device.next()
    assert topic == f"{BASE}/notify-next"
    assert notice["execution"]["jobId"] == "job-1"
    assert notice["execution"]["status"] == "QUEUED"
    assert notice["execution"]["jobDocument"] == {"operation": "restart"}

    topic, started = device.ask(f"{BASE}/start-next", {"clientToken": "t1"})
    assert topic == f"{BASE}/start-next/accepted"
    assert started["clientToken"] == "t1"
    execution = started["execution"]
    assert (execution["jobId"], execution["status"], execution["versionNumber"]) == (
        "job-1", "IN_PROGRESS", 2,
    )  # fmt: skip
    assert isinstance(execution["startedAt"], int) and isinstance(started["timestamp"], int)

    request = {
        "status": "IN_PROGRESS", "statusDetails": {"step": "half"}, "expectedVersion": 2,
        "includeJobExecutionState": True, "clientToken": "t2",
    }  # fmt: skip
    topic, updated = device.ask(f"{BASE}/job-1/update", request)
    assert topic == f"{BASE}/job-1/update/accepted"
    assert updated["executionState"] == {
        "status": "IN_PROGRESS", "statusDetails": {"step": "half"}, "versionNumber": 3,
    }  # fmt: skip

    topic, updated = device.ask(f"{BASE}/job-1/update", {"status": "SUCCEEDED"})
    assert topic == f"{BASE}/job-1/update/accepted"
    topic, notice = device.next()
    assert topic == f"{BASE}/notify-next" and "execution" not in notice  # nothing is next

    topic, again = device.ask(f"{BASE}/start-next", {})
    assert topic == f"{BASE}/start-next/accepted" and "execution" not in again


def test_requests_aws_would_refuse_are_rejected_with_its_codes(
    service: JobService, device: Device
) -> None:
    topic, missing = device.ask(f"{BASE}/nope/get", {"clientToken": "t"})
    assert topic == f"{BASE}/nope/get/rejected"
    assert (missing["code"], missing["clientToken"]) == ("ResourceNotFound", "t")

    service.create_job(THING, "job-2", {"operation": "screenshot"})
    assert device.next()[0] == f"{BASE}/notify-next"
    stale = {"status": "IN_PROGRESS", "expectedVersion": 7}
    topic, rejected = device.ask(f"{BASE}/job-2/update", stale)
    assert (topic, rejected["code"]) == (f"{BASE}/job-2/update/rejected", "VersionMismatch")
    assert rejected["executionState"]["versionNumber"] == 1

    topic, rejected = device.ask(f"{BASE}/job-2/update", {"status": "QUEUED"})
    assert rejected["code"] == "InvalidRequest"
    topic, rejected = device.ask(f"{BASE}/job-2/update", {"status": "FAILED",
                                                          "statusDetails": {"why": 3}})  # fmt: skip
    assert rejected["code"] == "InvalidRequest" and "statusDetails[why]" in rejected["message"]

    assert device.ask(f"{BASE}/job-2/update", {"status": "REJECTED"})[0].endswith("/accepted")
    assert device.next()[0] == f"{BASE}/notify-next"
    topic, rejected = device.ask(f"{BASE}/job-2/update", {"status": "SUCCEEDED"})
    assert (topic, rejected["code"]) == (f"{BASE}/job-2/update/rejected",
                                         "InvalidStateTransition")  # fmt: skip

    device.client.publish(f"{BASE}/job-2/get", b"{not json", qos=1)
    topic, invalid = device.next()
    assert (topic, invalid["code"]) == (f"{BASE}/job-2/get/rejected", "InvalidJson")


def test_the_next_execution_is_the_one_in_progress_then_the_oldest_queued(
    service: JobService, device: Device
) -> None:
    for job_id in ("a", "b", "c"):
        service.create_job(THING, job_id, {"operation": "restart"})
    assert device.next()[1]["execution"]["jobId"] == "a"  # only a change of "next" notifies
    assert device.ask(f"{BASE}/b/update", {"status": "IN_PROGRESS"})[0].endswith("/accepted")
    topic, notice = device.next()  # an execution in progress goes before the queued ones
    assert (topic, notice["execution"]["jobId"]) == (f"{BASE}/notify-next", "b")
    topic, started = device.ask(f"{BASE}/start-next", {})
    assert started["execution"]["jobId"] == "b"
    topic, pending = device.ask(f"{BASE}/get", {})
    assert topic == f"{BASE}/get/accepted"
    assert [j["jobId"] for j in pending["inProgressJobs"]] == ["b"]
    assert [j["jobId"] for j in pending["queuedJobs"]] == ["a", "c"]
    assert [e.status for e in service.executions(THING)] == ["QUEUED", "IN_PROGRESS", "QUEUED"]
