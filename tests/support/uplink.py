"""The uplink tests' helpers: schema-v1 events, broker endpoints and a raw MQTT subscriber."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as paho
import uuid_utils
from paho.mqtt.enums import CallbackAPIVersion

from localservers import Mosquitto, TestPki
from uplink.transport import BrokerEndpoint

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make_events(
    n: int, *, store_id: str = "demo-store", kiosk_id: str = "kiosk-01", start: int = 0
) -> list[dict[str, Any]]:
    """``n`` schema-v1 event dicts, time ordered, some about products."""
    events = []
    for i in range(start, start + n):
        ts = START + timedelta(milliseconds=250 * i)
        kind = ("page.view", "touch", "action")[i % 3]
        events.append(
            {
                "v": 1,
                "id": str(uuid_utils.uuid7()),
                "ts": ts.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "mono_ns": 1_000_000 * i,
                "clock_synced": True,
                "store_id": store_id,
                "kiosk_id": kiosk_id,
                "session_id": f"s-{i // 20}",
                "type": kind,
                "page": f"page-{i % 4}",
                "element": None if kind == "page.view" else f"el-{i % 7}",
                "payload": {"sku": f"SKU-{i % 5}"} if kind != "page.view" else {},
                "simulated": False,
            }
        )
    return events


def plain_endpoint(broker: Mosquitto) -> BrokerEndpoint:
    """The plain mosquitto as an endpoint."""
    return BrokerEndpoint(host="127.0.0.1", port=broker.port)


def tls_endpoint(broker: Mosquitto, pki: TestPki) -> BrokerEndpoint:
    """The TLS mosquitto with the test client certificate."""
    return BrokerEndpoint(
        host="127.0.0.1",
        port=broker.port,
        tls=True,
        ca_file=pki.ca_cert,
        cert_file=pki.client_cert,
        key_file=pki.client_key,
    )


class Subscriber:
    """A raw paho subscriber collecting (topic, payload, retain) on a background thread."""

    def __init__(self, endpoint: BrokerEndpoint, topic: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._ready = threading.Event()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: (c.subscribe(topic, qos=1), None)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = lambda _c, _u, m: self.messages.append(
            (m.topic, bytes(m.payload), bool(m.retain))
        )
        self.client.connect(endpoint.host, endpoint.port)
        self.client.loop_start()
        assert self._ready.wait(10), "subscriber did not subscribe"

    def json_on(self, suffix: str) -> list[dict[str, Any]]:
        """Decoded payloads of messages whose topic ends with ``suffix``."""
        return [json.loads(p) for t, p, _r in list(self.messages) if t.endswith(suffix)]

    def close(self) -> None:
        """Stop."""
        self.client.disconnect()
        self.client.loop_stop()
