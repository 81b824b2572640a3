"""The kiosk's Device Shadow (fleet.shadow) against a real mosquitto with mTLS, the real
awsiotsdk client, and fleet.aws_side answering the shadow topics as AWS IoT does."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from fleet.aws_side import ShadowService, state_delta
from fleet.broker_service import BrokerOptions
from fleet.remote_config import OVERLAY_NAME, Applied, RemoteConfig
from fleet.shadow import ShadowAgent, open_shadow
from fleet.shadow_health import KioskHealth
from localservers import Mosquitto, TestPki
from settings import KioskConfig
from storage import Event, EventLog, Outbox
from tests.storage.test_spill import _fill as fill
from tests.storage.test_spill import disk  # a small tmpfs of the test's own
from tests.support.waiting import wait_until

__all__ = ["disk"]  # the fixture, imported for the tests here

THING = "demo-store-kiosk-01"
SHADOW = "kiosk"


@pytest.fixture
def service(mosquitto_tls: Mosquitto, test_pki: TestPki) -> Iterator[ShadowService]:
    """fleet.aws_side on the TLS broker, with the test CA's client certificate."""
    broker = BrokerOptions(
        port=mosquitto_tls.port,
        ca_file=test_pki.ca_cert,
        cert_file=test_pki.client_cert,
        key_file=test_pki.client_key,
        client_id="fleet-shadow-service",
    )
    shadows = ShadowService(broker)
    shadows.start(timeout=10)
    yield shadows
    shadows.stop()


class Fleet:
    """Whoever runs the fleet: sets desired config over MQTT, as the AWS console would."""

    def __init__(self, mosquitto: Mosquitto, pki: TestPki, shadows: ShadowService) -> None:
        self.shadows = shadows
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="fleet-operator")
        self.client.tls_set(str(pki.ca_cert), str(pki.client_cert), str(pki.client_key))
        self.client.connect("127.0.0.1", mosquitto.port)
        self.client.loop_start()

    def version(self) -> int:
        doc = self.shadows.store.document(THING, SHADOW)
        return doc.version if doc is not None else 0

    def desire(self, config: dict[str, Any]) -> None:
        """Publish a desired config and wait until the shadow took it."""
        before = self.version()
        payload = json.dumps({"state": {"desired": {"config": config}}})
        self.client.publish(f"$aws/things/{THING}/shadow/name/{SHADOW}/update", payload, qos=1)
        wait_until(lambda: self.version() > before, "the shadow service to take the update")

    def reported(self) -> dict[str, Any]:
        doc = self.shadows.store.document(THING, SHADOW)
        return doc.reported if doc is not None else {}

    def desired(self) -> dict[str, Any]:
        doc = self.shadows.store.document(THING, SHADOW)
        return doc.desired if doc is not None else {}

    def reported_config(self, *keys: str) -> Any:
        node: Any = self.reported().get("config", {})
        for key in keys:
            node = node.get(key, {}) if isinstance(node, dict) else None
        return node

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def fleet(mosquitto_tls: Mosquitto, test_pki: TestPki, service: ShadowService) -> Iterator[Fleet]:
    operator = Fleet(mosquitto_tls, test_pki, service)
    yield operator
    operator.close()


def kiosk_config(tmp_path: Path, pki: TestPki, port: int) -> KioskConfig:
    config = KioskConfig()
    config.paths.data_dir = tmp_path / "data"
    config.paths.data_dir.mkdir()
    config.storage.database = config.paths.data_dir / "events.sqlite"
    config.redis.enabled = False
    config.uplink.host = "127.0.0.1"
    config.uplink.port = port
    config.uplink.ca_file = pki.ca_cert
    config.uplink.cert_file = pki.client_cert
    config.uplink.key_file = pki.client_key
    # reports at connection and after each change only (no periodic report during a test)
    config.uplink.status_interval_s = 3600
    return config


class Kiosk:
    """A kiosk's shadow agent with a real event log (SQLite in tmp_path) and its overlay."""

    def __init__(self, config: KioskConfig) -> None:
        self.base = config
        self.events = EventLog(config)
        self.events.start()
        self.applied: list[list[Applied]] = []
        self.overlay = config.data_path(OVERLAY_NAME)
        self.agent: ShadowAgent | None = None
        self.outboxes: list[Outbox] = []

    def start(self, extra: Callable[[], dict[str, Any]] | None = None) -> ShadowAgent:
        agent = self.begin(extra)
        assert agent.wait_synced(20), f"the shadow did not sync: {agent.last_error}"
        return agent

    def begin(self, extra: Callable[[], dict[str, Any]] | None = None) -> ShadowAgent:
        """Start the agent without waiting for it to sync."""
        outbox = Outbox(self.events.database)
        self.outboxes.append(outbox)
        health = KioskHealth(
            backlog=outbox.backlog,
            active_bundle=lambda: ("bundle-7", "ab" * 32),
            storage=self.events.health,
            extra=extra,
        )
        self.agent = open_shadow(
            self.base,
            append=self.events.append,
            health=health,
            on_applied=lambda _config, applied: self.applied.append(applied),
        )
        self.agent.sync_retry_s = 1.0
        self.agent.start()
        return self.agent

    def stop_agent(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None

    def recorded(self) -> list[tuple[str, dict[str, Any]]]:
        """The admin.remote.* events in the SQLite file (the log is stopped first)."""
        self.events.stop()
        with sqlite3.connect(self.events.database) as conn:
            rows = conn.execute(
                "SELECT type, payload FROM events WHERE type LIKE 'admin.remote.%' ORDER BY seq"
            ).fetchall()
        return [(kind, json.loads(payload)) for kind, payload in rows]

    def close(self) -> None:
        self.stop_agent()
        for outbox in self.outboxes:
            outbox.close()
        self.events.stop()


@pytest.fixture(autouse=True)
def root_log_level() -> Iterator[None]:
    """The agent sets the process's log level when the fleet asks: put it back."""
    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


@pytest.fixture
def kiosk_at(tmp_path: Path, test_pki: TestPki) -> Iterator[Callable[[int], Kiosk]]:
    made: list[Kiosk] = []

    def make(port: int) -> Kiosk:
        kiosk = Kiosk(kiosk_config(tmp_path, test_pki, port))
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def test_the_kiosk_reports_its_health_and_config_at_connection(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    for _ in range(3):
        kiosk.events.append(Event.create("touch", store_id="demo-store", kiosk_id="kiosk-01"))
    wait_until(lambda: kiosk.events.health().events_written == 3, "the events to be written")
    kiosk.start()
    health = fleet.reported()["health"]
    assert health["backlog"]["events"] == 3 and health["backlog"]["oldest_ts"] is not None
    assert health["storage"]["sqlite_ok"] is True and health["storage"]["events_today"] == 3
    assert health["bundle"] == {"id": "bundle-7", "sha256": "ab" * 32}
    assert len(health["config_hash"]) == 64 and health["uptime_s"] >= 0
    assert fleet.reported_config("kiosk", "idle_timeout_s") == 45.0
    assert fleet.reported_config("logging", "level") == "INFO"
    # nothing the fleet may not set is reported as config
    assert set(fleet.reported()["config"]) == {"kiosk", "sensors", "schedule", "uplink", "logging"}
    assert "host" not in fleet.reported()["config"]["uplink"]


def test_desired_config_is_applied_persisted_and_recorded(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    agent = kiosk.start()
    fleet.desire({"kiosk": {"idle_timeout_s": 60}, "sensors": {"zones": {"engaged_m": 0.8}},
                  "logging": {"level": "DEBUG"}})  # fmt: skip
    wait_until(lambda: fleet.reported_config("kiosk", "idle_timeout_s") == 60, "the report")

    assert agent.config.kiosk.idle_timeout_s == 60
    assert agent.config.sensors.zones.engaged_m == 0.8
    assert logging.getLogger().level == logging.DEBUG
    assert [a.key for batch in kiosk.applied for a in batch] == [
        "kiosk.idle_timeout_s", "logging.level", "sensors.zones.engaged_m"
    ]  # fmt: skip
    assert state_delta(fleet.desired(), fleet.reported()) == {}
    # persisted in the overlay, which the next start lays over the /etc config
    again = RemoteConfig.open(kiosk.overlay).applied_to(kiosk.base).config
    assert again.kiosk.idle_timeout_s == 60 and again.sensors.zones.engaged_m == 0.8
    assert kiosk.base.kiosk.idle_timeout_s == 45  # the config read from /etc is not touched
    applied = [(p["key"], p["value"], p["previous"]) for t, p in kiosk.recorded()
               if t == "admin.remote.applied"]  # fmt: skip
    assert applied == [("kiosk.idle_timeout_s", 60, 45.0), ("logging.level", "DEBUG", "INFO"),
                       ("sensors.zones.engaged_m", 0.8, 1.0)]  # fmt: skip


def test_a_bad_value_is_refused_and_reported_with_its_reason(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    agent = kiosk.start()
    fleet.desire({"kiosk": {"idle_timeout_s": 2, "attract_rotate_s": 12},
                  "sensors": {"zones": {"engaged_m": 5.0}}})  # fmt: skip
    wait_until(lambda: "rejected" in fleet.reported(), "the refusals to be reported")

    rejected = fleet.reported()["rejected"]
    assert set(rejected) == {"kiosk.idle_timeout_s", "sensors.zones.engaged_m"}
    assert rejected["kiosk.idle_timeout_s"]["value"] == 2
    reason = rejected["kiosk.idle_timeout_s"]["reason"]
    assert reason == "kiosk.idle_timeout_s = 2: Input should be greater than or equal to 5"
    assert "engaged_m < approaching_m < passing_m" in rejected["sensors.zones.engaged_m"]["reason"]
    assert "\n" not in reason
    # the good value beside the bad ones is applied; the bad ones change nothing
    assert agent.config.kiosk.attract_rotate_s == 12
    assert agent.config.kiosk.idle_timeout_s == 45 and agent.config.sensors.zones.engaged_m == 1.0
    assert RemoteConfig.open(kiosk.overlay).values == {"kiosk.attract_rotate_s": 12}
    refused = [p["key"] for t, p in kiosk.recorded() if t == "admin.remote.rejected"]
    assert refused == ["kiosk.idle_timeout_s", "sensors.zones.engaged_m"]


def test_a_key_that_is_not_allow_listed_is_refused(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    agent = kiosk.start()
    fleet.desire({"admin": {"staff_pin_hash": "$argon2id$x"}, "uplink": {"host": "10.0.0.9",
                  "cert_file": "/tmp/other.pem"}, "storage": {"retention_days": 1}})  # fmt: skip
    wait_until(lambda: "rejected" in fleet.reported(), "the refusals to be reported")

    rejected = fleet.reported()["rejected"]
    assert set(rejected) == {"admin", "uplink.host", "uplink.cert_file", "storage"}
    assert "set on the kiosk only" in rejected["uplink.host"]["reason"]
    assert agent.config.uplink.host == "127.0.0.1"
    assert agent.config.admin.staff_pin_hash is None
    assert agent.config.uplink.cert_file == kiosk.base.uplink.cert_file
    assert not kiosk.overlay.exists()
    refused = sorted(p["key"] for t, p in kiosk.recorded() if t == "admin.remote.rejected")
    assert refused == ["admin", "storage", "uplink.cert_file", "uplink.host"]


class CuttableLink:
    """A TCP relay on loopback between the kiosk and the broker; :meth:`cut` drops every
    connection and closes each new one at once (the shop's network goes down) until
    :meth:`restore`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closing = False
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                inside, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            if self._closing:
                inside.close()
                return
            if not self._up.is_set():
                inside.close()
                continue
            outside = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            outside.settimeout(None)
            with self._lock:
                self._sockets += [inside, outside]
            self._spawn(self._pump, inside, outside)
            self._spawn(self._pump, outside, inside)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # cut() or the other direction closed the sockets: this direction ends
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already shut
            end.close()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the peer shut it first

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self.cut()
        self._closing = True
        socket.create_connection(("127.0.0.1", self.port), timeout=5).close()  # wakes accept()
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


@pytest.fixture
def link(mosquitto_tls: Mosquitto) -> Iterator[CuttableLink]:
    relay = CuttableLink(mosquitto_tls.port)
    yield relay
    relay.close()


def past_the_second() -> None:
    """AWS stamps metadata in whole seconds: let the clock pass the next one, so the order of
    the fleet's and staff's changes is unambiguous."""
    start = int(time.time())
    while int(time.time()) <= start:
        time.sleep(0.05)


def test_offline_then_reconnect_reconciles_and_says_who_won(
    fleet: Fleet,
    kiosk_at: Callable[[int], Kiosk],
    link: CuttableLink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="fleet.shadow")
    kiosk = kiosk_at(link.port)
    agent = kiosk.start()
    link.cut()
    wait_until(lambda: not agent.wait_synced(0), "the kiosk to see the link down")
    # while the kiosk is offline: the fleet asks for two values (their deltas reach nobody) ...
    fleet.desire({"kiosk": {"idle_timeout_s": 90, "attract_rotate_s": 20}})
    past_the_second()
    # ... and staff then set one of them on the kiosk itself
    agent.note_local_change("kiosk.attract_rotate_s", 15)
    wait_until(lambda: RemoteConfig.open(kiosk.overlay).values.get("kiosk.attract_rotate_s") == 15,
               "the kiosk's own change to be kept")  # fmt: skip
    assert agent.config.kiosk.idle_timeout_s == 45
    link.restore()
    assert agent.wait_synced(30), "the kiosk did not reconcile after reconnecting"
    wait_until(lambda: fleet.reported_config("kiosk", "idle_timeout_s") == 90, "the report")

    assert agent.config.kiosk.idle_timeout_s == 90  # the fleet's value, missed offline
    assert agent.config.kiosk.attract_rotate_s == 15  # staff's, newer than the fleet's
    assert fleet.reported_config("kiosk", "attract_rotate_s") == 15
    assert "attract_rotate_s" not in fleet.desired()["config"]["kiosk"]
    assert state_delta(fleet.desired(), fleet.reported()) == {}
    said = [r.getMessage() for r in caplog.records if "wins over" in r.getMessage()]
    fleet_won = ("fleet shadow: kiosk.idle_timeout_s: the fleet's value 90 wins over the kiosk's "
                 "45.0: the kiosk's value was not changed here")  # fmt: skip
    kiosk_won = ("fleet shadow: kiosk.attract_rotate_s: the kiosk's value 15 wins over the "
                 "fleet's 20: staff changed it on the kiosk at")  # fmt: skip
    assert any(m.startswith(fleet_won) for m in said), said
    assert any(m.startswith(kiosk_won) for m in said), said
    kinds = [(t, p["key"]) for t, p in kiosk.recorded()]
    assert ("admin.remote.kept_local", "kiosk.attract_rotate_s") in kinds
    assert ("admin.remote.applied", "kiosk.idle_timeout_s") in kinds


def test_a_restarted_kiosk_starts_with_the_fleet_values_and_takes_those_it_missed(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    kiosk.start()
    fleet.desire({"kiosk": {"goodbye_s": 5}})
    wait_until(lambda: fleet.reported_config("kiosk", "goodbye_s") == 5, "the report")
    kiosk.stop_agent()
    # at the next start the kiosk runs with the fleet's values before it connects
    unstarted = open_shadow(kiosk.base, append=kiosk.events.append, health=KioskHealth())
    assert unstarted.config.kiosk.goodbye_s == 5 and kiosk.base.kiosk.goodbye_s == 3
    fleet.desire({"uplink": {"max_publishes_per_s": 10}})  # while the kiosk is off
    agent = kiosk.start()
    wait_until(lambda: fleet.reported_config("uplink", "max_publishes_per_s") == 10, "the report")
    assert agent.config.kiosk.goodbye_s == 5 and agent.config.uplink.max_publishes_per_s == 10


def test_a_report_the_shadow_service_refuses_is_said_not_dropped(
    fleet: Fleet,
    kiosk_at: Callable[[int], Kiosk],
    mosquitto_tls: Mosquitto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    # a health part that makes the reported state larger than the 8 KB AWS IoT accepts
    agent = kiosk.begin(extra=lambda: {"tiles": "x" * 9000})
    wait_until(lambda: agent.last_error is not None, "the refusal to reach the kiosk")
    assert agent.last_error == "update rejected: 413 The payload exceeds the maximum size allowed"
    assert not agent.wait_synced(0)
    assert "the shadow service refused the kiosk's report: 413" in caplog.text
    assert fleet.reported() == {}


def test_a_kiosk_that_starts_while_the_broker_is_down_syncs_once_it_is_back(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    fleet.desire({"kiosk": {"goodbye_s": 7}})
    mosquitto_tls.kill()  # kill -9: the broker dies as on a power cut
    kiosk = kiosk_at(mosquitto_tls.port)
    agent = kiosk.begin()
    assert not agent.wait_synced(1)
    # staff's change while the kiosk has never connected is kept all the same
    agent.note_local_change("kiosk.presence_grace_s", 12)
    wait_until(lambda: "kiosk.presence_grace_s" in RemoteConfig.open(kiosk.overlay).values,
               "the kiosk's own change to be kept while offline")  # fmt: skip
    mosquitto_tls.start()  # the same port; the shadow service reconnects by itself
    assert agent.wait_synced(40), f"the kiosk did not sync: {agent.last_error}"
    assert agent.config.kiosk.goodbye_s == 7
    wait_until(lambda: fleet.reported_config("kiosk", "presence_grace_s") == 12, "the report")


def test_a_get_left_unanswered_is_asked_again(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], service: ShadowService
) -> None:
    fleet.desire({"kiosk": {"goodbye_s": 9}})
    service.stop()  # the broker is up, nobody answers the shadow topics
    kiosk = kiosk_at(service.broker.port)
    agent = kiosk.begin()
    assert not agent.wait_synced(2)
    again = ShadowService(service.broker, service.store)
    again.start(timeout=10)
    try:
        assert agent.wait_synced(20), f"the kiosk did not sync: {agent.last_error}"
        assert agent.config.kiosk.goodbye_s == 9
    finally:
        again.stop()


def test_a_delta_is_judged_by_the_desired_versions_seen_not_the_kiosks_own_reports(
    fleet: Fleet, kiosk_at: Callable[[int], Kiosk], mosquitto_tls: Mosquitto
) -> None:
    kiosk = kiosk_at(mosquitto_tls.port)
    agent = kiosk.start()  # no shadow yet: the kiosk's first report makes version 1
    assert fleet.version() == 1

    def delta(version: int, goodbye_s: float) -> None:
        # AWS IoT does not order messages across topics: a delta may come after the
        # acceptance of a report that the shadow service handled later
        payload = {"state": {"config": {"kiosk": {"goodbye_s": goodbye_s}}}, "version": version}
        topic = f"$aws/things/{THING}/shadow/name/{SHADOW}/update/delta"
        fleet.client.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)

    delta(1, 4)
    wait_until(lambda: agent.config.kiosk.goodbye_s == 4, "the delta to be applied")
    delta(1, 6)  # not newer than the last desired state seen: stale
    delta(2, 2)
    wait_until(lambda: agent.config.kiosk.goodbye_s == 2, "the newer delta to be applied")
    applied = [a.value for batch in kiosk.applied for a in batch]
    assert applied == [4, 2]


def test_a_value_that_cannot_be_saved_is_refused_and_reported(
    fleet: Fleet, mosquitto_tls: Mosquitto, test_pki: TestPki, tmp_path: Path, disk: Path
) -> None:
    config = kiosk_config(tmp_path, test_pki, mosquitto_tls.port)
    config.paths.data_dir = disk  # the overlay's folder, on a small tmpfs; the database is not
    kiosk = Kiosk(config)
    try:
        agent = kiosk.start()
        ballast = disk / "ballast"
        fill(ballast)
        fleet.desire({"kiosk": {"idle_timeout_s": 60}})
        wait_until(lambda: "rejected" in fleet.reported(), "the refusal to be reported")
        reason = fleet.reported()["rejected"]["kiosk.idle_timeout_s"]["reason"]
        assert reason.startswith(f"cannot be saved in {kiosk.overlay}: No space left on device")
        assert agent.config.kiosk.idle_timeout_s == 45 and not kiosk.overlay.exists()
        assert not list(disk.glob(".*.tmp*"))
        ballast.unlink()
        fleet.desire({"kiosk": {"idle_timeout_s": 61}})
        wait_until(lambda: fleet.reported_config("kiosk", "idle_timeout_s") == 61, "the report")
        assert "rejected" not in fleet.reported()
        assert RemoteConfig.open(kiosk.overlay).values == {"kiosk.idle_timeout_s": 61}
    finally:
        kiosk.close()
