"""A service that plays AWS IoT's side of some ``$aws/things/...`` topics on any MQTT broker.

:mod:`fleet.aws_side` (Device Shadow) and :mod:`fleet.aws_jobs` (Jobs) are both one paho-mqtt
client that connects (TLS or mTLS when the files are given), subscribes to request topics,
answers each request with AWS's documented payloads, and reconnects and subscribes again
after a broker restart. :class:`BrokerService` is that client; each service says what its
requests are answered with (its ``answer``). :func:`broker_arguments`
and :func:`serve_until_signalled` are their ``python -m`` commands' common part.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerOptions:
    """Where the service connects: host and port, and the TLS files (all three for mTLS)."""

    host: str = "127.0.0.1"
    port: int = 1883
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    client_id: str = "fleet-shadow-service"
    keepalive_s: int = 30


#: What a service answers one request with: ``(topic, payload)`` pairs (none: not a request).
Answer = Callable[[str, bytes], list[tuple[str, dict[str, Any]]]]


class BrokerService:
    """Answers ``topics`` on a broker (paho-mqtt, its network thread) with ``answer(topic,
    payload)``'s messages; ``name`` begins its log lines and errors ("shadow service").

    Lifecycle: :meth:`start` connects and returns once subscribed (or raises
    ``ConnectionError``); paho reconnects by itself after a broker restart and subscribes
    again; :meth:`stop` disconnects and joins paho's thread.
    """

    def __init__(
        self, broker: BrokerOptions, *, name: str, topics: tuple[str, ...], answer: Answer
    ) -> None:
        import paho.mqtt.client as paho

        self.broker = broker
        self.name = name
        self.topics = topics
        self._answer = answer
        self._subscribed = threading.Event()
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=broker.client_id,
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        if broker.ca_file is not None or broker.cert_file is not None:
            self._client.tls_set(
                ca_certs=str(broker.ca_file) if broker.ca_file else None,
                certfile=str(broker.cert_file) if broker.cert_file else None,
                keyfile=str(broker.key_file) if broker.key_file else None,
            )
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect

    def describe(self) -> str:
        """``mqtt[s]://host:port``."""
        scheme = "mqtts" if self.broker.cert_file or self.broker.ca_file else "mqtt"
        return f"{scheme}://{self.broker.host}:{self.broker.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe to the request topics, and return once the broker confirmed."""
        try:
            self._client.connect(self.broker.host, self.broker.port, self.broker.keepalive_s)
        except (OSError, ValueError) as exc:
            raise ConnectionError(
                f"{self.name}: cannot connect to {self.describe()}: {exc}"
            ) from None
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.stop()
            raise ConnectionError(
                f"{self.name}: {self.describe()} did not confirm the subscriptions in {timeout:g} s"
            )
        log.info("%s answering %s on %s", self.name, ", ".join(self.topics), self.describe())

    def stop(self) -> None:
        """Disconnect and stop paho's network thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Publish ``payload`` as compact JSON, QoS 1."""
        self._client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)

    def _on_connect(
        self, client: Any, userdata: object, flags: object, reason: Any, properties: object
    ) -> None:
        if reason.is_failure:
            log.error("%s: %s refused the connection: %s", self.name, self.describe(), reason)
            return
        client.subscribe([(topic, 1) for topic in self.topics])

    def _on_subscribe(
        self, client: Any, userdata: object, mid: int, reasons: list[Any], properties: object
    ) -> None:
        failed = [str(reason) for reason in reasons if reason.is_failure]
        if failed:
            log.error("%s: subscriptions refused: %s", self.name, ", ".join(failed))
            return
        self._subscribed.set()

    def _on_disconnect(
        self, client: Any, userdata: object, flags: object, reason: Any, properties: object
    ) -> None:
        self._subscribed.clear()
        log.info("%s: disconnected from %s (%s)", self.name, self.describe(), reason)

    def _on_message(self, client: Any, userdata: object, message: Any) -> None:
        try:
            for topic, payload in self._answer(message.topic, bytes(message.payload)):
                self.publish(topic, payload)
        except Exception:  # paho's network thread must live on: one request failed, said here
            log.exception("%s: answering %s failed", self.name, message.topic)


def broker_arguments(parser: argparse.ArgumentParser, client_id: str) -> None:
    """The broker's options (:class:`BrokerOptions`' fields) and ``--log-level``."""
    parser.add_argument("--broker-host", dest="host", default="127.0.0.1", help="broker host")
    parser.add_argument("--broker-port", dest="port", type=int, default=1883, help="its port")
    parser.add_argument("--ca-file", type=Path, help="CA certificate that signed the broker's")
    parser.add_argument("--cert-file", type=Path, help="this service's client certificate (mTLS)")
    parser.add_argument("--key-file", type=Path, help="the client certificate's private key")
    parser.add_argument("--client-id", default=client_id, help="MQTT client id")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def serve_until_signalled(
    prog: str, args: argparse.Namespace, make: Callable[[BrokerOptions], BrokerService]
) -> int:
    """Run the service ``make`` builds from the command line's broker options until SIGTERM
    or Ctrl+C; 1 (said on stderr) when it cannot start, 2 for half a client certificate."""
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if (args.cert_file is None) != (args.key_file is None):
        print(f"{prog}: --cert-file and --key-file go together", file=sys.stderr)
        return 2
    options = {f.name for f in dataclasses.fields(BrokerOptions)}
    broker = BrokerOptions(**{k: v for k, v in vars(args).items() if k in options})
    # paho's thread inherits the mask: the signals come to sigwait below, on this thread
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        service = make(broker)
        service.start()
    except (ValueError, ConnectionError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    signal.sigwait(stop_signals)
    service.stop()
    return 0
