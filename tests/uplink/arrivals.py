"""A subscriber in its own process that notes when each message arrives (for the rate tests).

``python -m tests.uplink.arrivals PORT TOPIC_FILTER OUT``: subscribes at QoS1 and writes one
JSON line per message to OUT (``time.monotonic()`` on arrival, topic, payload in hex), after
a first line ``{"ready": true}`` once the broker confirmed the subscription. Its own process,
so that the test's threads never hold up its timestamps; it asks for a higher scheduling
priority where it may (as root, like CI).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def main(argv: list[str]) -> int:
    """Subscribe and note arrivals until SIGTERM."""
    port, topic, out = int(argv[0]), argv[1], argv[2]
    try:
        os.nice(-10)
    except PermissionError:
        print("arrivals: running at normal priority (not root)", file=sys.stderr)
    handle = open(out, "w", encoding="utf-8")  # noqa: SIM115 (closed at exit by the OS)
    lock = threading.Lock()

    def write(record: dict[str, Any]) -> None:
        with lock:
            handle.write(json.dumps(record) + "\n")
            handle.flush()

    client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: write({"ready": True})
    client.on_message = lambda _c, _u, m: write(
        {"t": time.monotonic(), "topic": m.topic, "payload": bytes(m.payload).hex()}
    )
    client.connect("127.0.0.1", port)
    client.loop_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
