"""moto's real IoT server (``iot`` and ``iot-data``) on a loopback port for kiosk-fleet's tests,
a small fleet of things in it, and what a kiosk's side would do there (report its health,
end its job executions: moto plays no kiosk)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUP = "wave-1"
#: thing name -> (store_id, kiosk_id); the first two are in GROUP.
THINGS = {"s1-k1": ("s1", "k1"), "s1-k2": ("s1", "k2"), "s1-k3": ("s1", "k3"),
          "s2-k1": ("s2", "k1")}  # fmt: skip
IN_GROUP = ("s1-k1", "s1-k2")


@dataclass
class MotoIot:
    """The server's endpoint URL and boto3 clients on it (an independent reader)."""

    endpoint: str
    iot: Any
    data: Any

    def report(self, thing: str, health: dict[str, Any]) -> None:
        """What the kiosk's shadow agent does: report its health in the ``kiosk`` shadow."""
        payload = json.dumps({"state": {"reported": {"health": health}}}).encode()
        self.data.update_thing_shadow(thingName=thing, shadowName="kiosk", payload=payload)

    def shadow(self, thing: str) -> dict[str, Any]:
        """The thing's ``kiosk`` shadow as the server holds it."""
        answer = self.data.get_thing_shadow(thingName=thing, shadowName="kiosk")
        document: dict[str, Any] = json.loads(answer["payload"].read())
        return document


def iot_backend() -> Any:
    """The moto server's IoT state (the server runs in this process)."""
    from moto.backends import get_backend

    return get_backend("iot")[ACCOUNT][REGION]


def age_report(thing: str, seconds: float) -> None:
    """Make the thing's last report ``seconds`` old (a kiosk that stopped reporting then)."""
    backend = iot_backend()
    shadow = backend.describe_thing(thing).thing_shadows["kiosk"]
    shadow.metadata_reported = shadow._create_metadata_from_state(
        shadow.reported, int(time.time() - seconds)
    )


def end_executions(job_id: str, ends: dict[str, tuple[str, dict[str, str]]]) -> None:
    """What the kiosks' jobs agents do through IoT Jobs (moto has no jobs data plane): each
    thing's execution ends with its status and statusDetails; the job is COMPLETED."""
    from moto.iot.models import FakeJobExecution

    backend = iot_backend()
    for key in [key for key in backend.job_executions if key[0] == job_id]:
        del backend.job_executions[key]  # moto's one execution for the group's ARN
    for thing, (status, details) in ends.items():
        arn = backend.describe_thing(thing).arn
        backend.job_executions[(job_id, thing)] = FakeJobExecution(
            job_id, arn, status=status, status_details_map=details
        )
    job = backend.describe_job(job_id)
    job.status = "COMPLETED"
    statuses = [status for status, _ in ends.values()]
    job.job_process_details = {
        f"numberOf{name}Things": statuses.count(status)
        for name, status in (
            ("Succeeded", "SUCCEEDED"),
            ("Failed", "FAILED"),
            ("Rejected", "REJECTED"),
            ("Queued", "QUEUED"),
        )
    }


@pytest.fixture
def moto_iot(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoIot]:
    """moto's server on a free loopback port, reset, with THINGS (attributes store_id and
    kiosk_id) and the thing group GROUP; AWS's environment points at test credentials."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                            "AWS_EC2_METADATA_DISABLED": "true"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        iot = boto3.client("iot", endpoint_url=endpoint, region_name=REGION)
        data = boto3.client("iot-data", endpoint_url=endpoint, region_name=REGION)
        iot.create_thing_group(thingGroupName=GROUP)
        for thing, (store, kiosk) in THINGS.items():
            attributes = {"attributes": {"store_id": store, "kiosk_id": kiosk}}
            iot.create_thing(thingName=thing, attributePayload=attributes)
        for thing in IN_GROUP:
            iot.add_thing_to_thing_group(thingGroupName=GROUP, thingName=thing)
        yield MotoIot(endpoint, iot, data)
    finally:
        server.stop()
