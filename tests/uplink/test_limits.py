"""AWS IoT Core's limits, counted at a real broker, and the published schemas checked against
what a real uplink run put on the wire.

A subscriber in its own process (``tests.uplink.arrivals``) notes when each message reaches
it through mosquitto; the tests count publishes and bytes in every sliding second of those
arrivals (counting, not timing our code) and validate every captured message against the
files in ``resources/schema``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsonschema.validators import validator_for

import storage
from localservers import Mosquitto
from settings import KioskConfig
from settings.loader import ConfigError, load_config
from storage.event_schema import STATUS_SCHEMA, load_schema
from tests.support.waiting import wait_until
from tests.uplink.test_service import kiosk_config, record_events
from uplink import UplinkService
from uplink.pacing import PUBLISH_OVERHEAD
from uplink.schema import message_validator


@dataclass(frozen=True)
class Arrival:
    """One message as the subscriber got it."""

    at: float
    topic: str
    payload: bytes

    @property
    def packet_bytes(self) -> int:
        """The PUBLISH packet's size, counted as the uplink counts it."""
        return len(self.payload) + len(self.topic.encode("utf-8")) + PUBLISH_OVERHEAD


class ArrivalLog:
    """``tests.uplink.arrivals`` running on ``port``, its notes read back."""

    def __init__(self, port: int, out: Path) -> None:
        self.out = out
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.uplink.arrivals", str(port), "retail/#", str(out)]
        )
        wait_until(lambda: out.exists() and '"ready"' in out.read_text(), what="the subscriber")

    def arrivals(self) -> list[Arrival]:
        records = [json.loads(line) for line in self.out.read_text().splitlines()[1:]]
        return [Arrival(r["t"], r["topic"], bytes.fromhex(r["payload"])) for r in records]

    def event_ids(self) -> set[str]:
        return {
            event["id"]
            for a in self.arrivals()
            if a.topic.endswith("/events")
            for event in json.loads(a.payload)["events"]
        }

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def arrival_log(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[ArrivalLog]:
    log = ArrivalLog(mosquitto.port, tmp_path / "arrivals.jsonl")
    yield log
    log.stop()


def drain(config: KioskConfig, log: ArrivalLog, n: int) -> list[Arrival]:
    """Record ``n`` events, run the uplink until the subscriber has them all, stop it (it
    says offline), and return every message that arrived."""
    ids = set(record_events(config, n))
    assert config.storage.database is not None
    outbox = storage.Outbox(config.storage.database)
    service = UplinkService(config, outbox)
    service.start()
    try:
        wait_until(lambda: log.event_ids() >= ids, timeout=60, what="every event at the broker")
    finally:
        service.stop(timeout=5)
        outbox.close()
    wait_until(
        lambda: json.loads(log.arrivals()[-1].payload).get("state") == "offline",
        what="the offline status",
    )
    return log.arrivals()


def busiest_second(arrivals: list[Arrival]) -> tuple[int, int]:
    """The most publishes and the most bytes that arrived within any one second."""
    times = sorted((a.at, a.packet_bytes) for a in arrivals)
    most, most_bytes, start, window_bytes = 0, 0, 0, 0
    for end, (at, size) in enumerate(times):
        window_bytes += size
        while times[start][0] <= at - 1.0:
            window_bytes -= times[start][1]
            start += 1
        most = max(most, end - start + 1)
        most_bytes = max(most_bytes, window_bytes)
    return most, most_bytes


@pytest.mark.parametrize(
    ("publishes", "bytes_per_s", "events"),
    [(30, 200_000, 360), (200, 12_000, 140)],
    ids=["publishes-bound", "bytes-bound"],
)
def test_no_second_at_the_broker_holds_more_than_the_limits(
    tmp_path: Path,
    mosquitto: Mosquitto,
    arrival_log: ArrivalLog,
    publishes: int,
    bytes_per_s: int,
    events: int,
) -> None:
    """Including the first second after the connect, and the status messages."""
    config = kiosk_config(tmp_path, mosquitto)
    config.storage.batch_max_bytes = 4096
    config.uplink.max_message_bytes = 1024  # about three events a message
    config.uplink.inflight = 100
    config.uplink.status_interval_s = 1
    # model_copy: the config's own bounds (AWS's 100/s) would refuse the bytes-bound case's
    # 200/s, which is there to let the byte limit alone bind
    config.uplink = config.uplink.model_copy(
        update={"max_publishes_per_s": publishes, "max_bytes_per_s": bytes_per_s}
    )
    arrivals = drain(config, arrival_log, events)
    statuses = [a for a in arrivals if a.topic.endswith("/status")]
    assert len(statuses) >= 3  # online at the connect, every second, offline at the stop
    most, most_bytes = busiest_second(arrivals)
    assert most <= publishes
    assert most_bytes <= bytes_per_s
    # and the limit did bind: the run took several seconds' allowance
    assert len(arrivals) > publishes or sum(a.packet_bytes for a in arrivals) > 2 * bytes_per_s


def test_every_message_of_a_real_uplink_run_matches_the_published_schemas(
    tmp_path: Path, mosquitto: Mosquitto, arrival_log: ArrivalLog
) -> None:
    config = kiosk_config(tmp_path, mosquitto)
    arrivals = drain(config, arrival_log, 700)
    messages = message_validator()
    status_schema = load_schema(STATUS_SCHEMA)
    statuses = validator_for(status_schema)(status_schema)
    kinds = {"events": 0, "status": 0}
    for arrival in arrivals:
        body = json.loads(arrival.payload)
        kind = arrival.topic.rsplit("/", 1)[1]
        validator = messages if kind == "events" else statuses
        errors = [e.message for e in validator.iter_errors(body)]
        assert errors == [], f"{arrival.topic}: {errors[:3]}"
        kinds[kind] += 1
    assert kinds["events"] > 1 and kinds["status"] >= 2
    # the last will, published by the broker as the kiosk wrote it
    will = UplinkService(config, storage.Outbox(config.storage.database))._will()
    assert [e.message for e in statuses.iter_errors(json.loads(will.payload))] == []


def test_the_published_message_schema_refuses_what_the_old_one_let_through() -> None:
    """batch-v1.json requires the envelope the receiver relies on, and its events items are
    the event schema (the file used to describe another object under the same $id)."""
    schema = load_schema("batch-v1.json")
    assert schema["$id"].endswith("/batch-v1.json")
    assert {"schema", "version", "part", "parts", "store_id", "kiosk_id"} <= set(schema["required"])
    assert schema["properties"]["events"]["items"] == {"$ref": "event-v1.json"}
    ids = [load_schema(n)["$id"] for n in ("batch-v1.json", "event-v1.json", STATUS_SCHEMA)]
    assert len(set(ids)) == 3


def test_a_config_at_the_limits_loads(tmp_path: Path) -> None:
    prefix = "p" * 229  # the topic is 256 bytes, with 7 slashes
    path = write_config(
        tmp_path,
        f'[uplink]\ntopic_prefix = "a/b/c/{prefix[6:]}"\nclient_id = "{"c" * 128}"\n'
        "max_bytes_per_s = 33033\n",  # a full message: 32768 + 256 + 9 bytes
    )
    uplink = load_config(path, env={}).uplink
    assert len(uplink.topics("demo-store", "kiosk-01")[0]) == 256


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[uplink]\ntopic_prefix = "a/b/c/d/e/f"\n',
            "[uplink]: topic_prefix: the topic 'a/b/c/d/e/f/demo-store/kiosk-01/events' has "
            "8 slashes; AWS IoT Core allows 7",
        ),
        (
            f'[uplink]\ntopic_prefix = "{"p" * 230}"\n',
            f"[uplink]: topic_prefix: the topic '{'p' * 59}... is 257 bytes; AWS IoT Core "
            "allows 256",
        ),
        (
            f'[uplink]\nclient_id = "{"c" * 129}"\n',
            f"[uplink]: client_id '{'c' * 39}... is 129 bytes; AWS IoT Core allows 128",
        ),
        (
            f'[kiosk]\nstore_id = "{"s" * 64}"\nkiosk_id = "{"k" * 64}"\n',
            f"[uplink]: client_id (empty: <store_id>-<kiosk_id>) '{'s' * 39}... is 129 bytes; "
            "AWS IoT Core allows 128",
        ),
        (
            "[uplink]\nmax_bytes_per_s = 20000\n",
            "[uplink]: max_message_bytes = 32768: a full message on "
            "'retail/demo-store/kiosk-01/events' is 32810 bytes, above max_bytes_per_s = 20000",
        ),
    ],
    ids=["slashes", "topic-bytes", "client-id", "default-client-id", "message-vs-bytes"],
)
def test_a_config_that_breaks_aws_limits_is_refused_at_start_in_one_line(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = write_config(tmp_path, toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.problems == [f"config error: {path}: {expected}"]
    result = subprocess.run(
        [sys.executable, "-m", "uplink.cli", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == f"kiosk-uplink: config error: {path}: {expected}\n"
