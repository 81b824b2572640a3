"""The analysts' receiver: subscribe to kiosk uplinks, check, de-duplicate, land in SQLite.

Each message's envelope is checked against the published ``batch-v1.json`` and each of its
events against ``event-v1.json``; the valid events land in the ``events`` table keyed by
event id (the uplink is at-least-once, so a batch delivered twice leaves one row per event),
and each invalid event, or a whole message that cannot be read, goes to ``quarantine`` with
the reason and the raw JSON (see :mod:`uplink.landing`). The PUBACK goes back to the broker
only after that transaction committed: a message the file could not take is never
acknowledged, and the broker delivers it again. For that the broker must keep the
receiver's session while it is away, so the receiver always connects with a fixed client id
and a persistent session (by default one derived from the host and the database file).
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from uplink.kiosk_status import MalformedStatus, is_status_topic, status_row, status_topic_filter
from uplink.landing import (
    EVENT_COLUMNS,
    EventStore,
    Landed,
    ReceiverDatabaseError,
    check_topic,
    export_events,
    metadata,
    now_iso,
)
from uplink.schema import BatchChecker, MalformedMessage
from uplink.transport import BrokerEndpoint, make_paho_client

log = logging.getLogger(__name__)

__all__ = [
    "EVENT_COLUMNS",
    "EventStore",
    "Receiver",
    "ReceiverDatabaseError",
    "ReceiverStats",
    "default_client_id",
    "export_events",
    "metadata",
    "parse_broker_url",
]

#: How long an MQTT 5 broker keeps the receiver's session (and its unacknowledged
#: messages) while the receiver is away: a week.
SESSION_EXPIRY_S = 7 * 86_400


@dataclass(frozen=True)
class ReceiverStats:
    """Counters since the receiver started (shown as progress)."""

    messages: int = 0
    events_new: int = 0
    events_duplicate: int = 0
    #: Events set aside in ``quarantine`` (each failing the schema).
    quarantined: int = 0
    #: Whole messages set aside in ``quarantine`` (not readable as a batch).
    malformed: int = 0
    #: Kiosk status messages kept, and those dropped as unreadable.
    statuses: int = 0
    statuses_dropped: int = 0
    connected: bool = False

    def line(self) -> str:
        """One progress line."""
        return (
            f"{self.messages:,} messages, {self.events_new + self.events_duplicate:,} events "
            f"({self.events_new:,} new, {self.events_duplicate:,} duplicate), "
            f"{self.quarantined:,} events and {self.malformed:,} messages quarantined, "
            f"{self.statuses:,} status messages ({self.statuses_dropped:,} dropped)"
            + ("" if self.connected else ", not connected")
        )


def default_client_id(database: Path) -> str:
    """A client id fixed for this host and database file (``receiver-`` and 12 hex
    digits, within MQTT 3.1.1's 23 characters): a receiver restarted on the same file
    picks up its broker session, and what was not acknowledged is delivered again."""
    origin = f"{socket.gethostname()}:{Path(database).resolve()}"
    return "receiver-" + hashlib.sha256(origin.encode("utf-8")).hexdigest()[:12]


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` -> (host, port, tls)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "mqtt", url
    scheme = scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
    tls = scheme in ("mqtts", "ssl")
    rest = rest.rstrip("/")
    host, colon, port_text = rest.rpartition(":")
    if not colon or "]" in port_text:
        host, port_text = rest, ""
    host = host.strip("[]")
    if not host:
        raise ValueError(f"broker URL {url!r}: no host")
    try:
        port = int(port_text) if port_text else (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"broker URL {url!r}: port {port_text!r} is not a number") from None
    if not 0 < port < 65_536:
        raise ValueError(f"broker URL {url!r}: port {port} out of range")
    return host, port, tls


class Receiver:
    """Subscribes to ``topic`` on ``endpoint`` and lands every batch in ``database``.

    Lifecycle: ``start()`` (connects in the background, reconnects on its own), ``stats()``
    from any thread, ``stop()``. The broker keeps the receiver's session (``client_id``,
    by default :func:`default_client_id`), so batches published while the receiver is away,
    or delivered but not acknowledged, wait for it. When the database cannot be written the
    message is not acknowledged, :attr:`fatal` says why and the receiver disconnects.
    """

    def __init__(
        self,
        endpoint: BrokerEndpoint,
        topic: str,
        database: Path,
        *,
        client_id: str = "",
        checker: BatchChecker | None = None,
        reconnect_s: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        endpoint.check_files()
        self.endpoint = endpoint
        self.topic = topic
        self.store = EventStore(database)
        self.checker = checker or BatchChecker()
        self.client_id = client_id or default_client_id(database)
        self._client = make_paho_client(endpoint, self.client_id, clean=False)
        # paho types the delays as int but waits on floats; tests use sub-second delays.
        self._client.reconnect_delay_set(*reconnect_s)  # type: ignore[arg-type]
        # PUBACK only after the events are committed (see _on_message).
        self._client.manual_ack_set(True)
        #: Set when the database cannot be written; the receiver then stops.
        self.fatal: str | None = None
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._stats = ReceiverStats()
        self._subscribed = threading.Event()

    def _on_connect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("receiver: %s refused the connection: %s", self.endpoint.describe(), reason)
            return
        log.info(
            "receiver: connected to %s as %s, subscribing to %s",
            self.endpoint.describe(),
            self.client_id,
            self.topic,
        )
        client.subscribe(self.topic, qos=1)
        status_filter = status_topic_filter(self.topic)
        if status_filter is not None:
            # the kiosks' status messages beside their events (retained ones come at once)
            client.subscribe(status_filter, qos=1)
        self._set_connected(True)
        self._subscribed.set()

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        log.info("receiver: disconnected (%s); reconnecting", reason)
        self._set_connected(False)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        if self.fatal is not None:
            return  # not acknowledged: the broker delivers it again to the next run
        payload = bytes(message.payload)
        topic = message.topic
        try:
            if is_status_topic(topic):
                self._land_status(topic, payload)
                client.ack(message.mid, message.qos)
                return
            landed = self._land(topic, payload)
        except ReceiverDatabaseError as exc:
            # Not acknowledged: the broker keeps the message in the session for the next run.
            self.fatal = str(exc)
            log.error("receiver: %s; stopping without acknowledging", self.fatal)
            client.disconnect()
            return
        except Exception as exc:
            # A failure nothing foresaw: the same, never an acknowledgement of what is not stored
            self.fatal = f"cannot land a message on {topic}: {type(exc).__name__}: {exc}"
            log.exception("receiver: %s; stopping without acknowledging", self.fatal)
            client.disconnect()
            return
        client.ack(message.mid, message.qos)
        self._count(landed)

    def _land(self, topic: str, payload: bytes) -> Landed | None:
        """Store the message (its events, or it in quarantine); None for a message that
        could not be read as a batch. :class:`ReceiverDatabaseError` when nothing could be
        stored."""
        try:
            checked = self.checker.check(payload)
            check_topic(topic, checked.batch)
        except MalformedMessage as exc:
            log.warning(
                "receiver: message on %s (%d bytes) quarantined: %s", topic, len(payload), exc
            )
            self.store.quarantine_message(topic, str(exc), payload)
            return None
        landed = self.store.ingest(checked, topic)
        if landed.quarantined:
            log.warning(
                "receiver: %d event(s) of batch %s part %s quarantined; first: %s",
                landed.quarantined,
                checked.batch["batch_id"],
                checked.batch["part"],
                checked.rejected[0].reason if checked.rejected else "does not fit the table",
            )
        return landed

    def _land_status(self, topic: str, payload: bytes) -> None:
        """Keep a kiosk's status message; one that cannot be read is logged and dropped."""
        try:
            row = status_row(topic, payload, now_iso())
        except MalformedStatus as exc:
            log.warning(
                "receiver: status message on %s (%d bytes) dropped: %s", topic, len(payload), exc
            )
            self._add_status(stored=False)
            return
        self.store.store_status(row)
        self._add_status(stored=True)

    def _add_status(self, *, stored: bool) -> None:
        with self._lock:
            stats = self._stats
            self._stats = replace(
                stats,
                statuses=stats.statuses + int(stored),
                statuses_dropped=stats.statuses_dropped + int(not stored),
            )

    def _count(self, landed: Landed | None) -> None:
        """Count one acknowledged message: its events, or it whole in quarantine (None)."""
        with self._lock:
            stats = self._stats
            if landed is None:
                self._stats = replace(
                    stats, messages=stats.messages + 1, malformed=stats.malformed + 1
                )
                return
            self._stats = replace(
                stats,
                messages=stats.messages + 1,
                events_new=stats.events_new + landed.new,
                events_duplicate=stats.events_duplicate + landed.duplicate,
                quarantined=stats.quarantined + landed.quarantined,
            )

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            self._stats = replace(self._stats, connected=connected)

    def stats(self) -> ReceiverStats:
        """Counters so far."""
        with self._lock:
            return self._stats

    def start(self) -> None:
        """Connect in the background (retrying while the broker is away) and subscribe."""
        endpoint = self.endpoint
        if endpoint.mqtt_version == "5":
            # MQTT 5 ends a session at disconnect unless told to keep it
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
            self._client.connect_async(
                endpoint.host,
                endpoint.port,
                keepalive=endpoint.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        else:
            self._client.connect_async(endpoint.host, endpoint.port, keepalive=endpoint.keepalive_s)
        rc = self._client.loop_start()
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"receiver: paho could not start its thread ({rc})")

    def wait_subscribed(self, timeout: float) -> bool:
        """True once the first subscription is on its way (tests wait for it)."""
        if not self._subscribed.wait(timeout):
            return False
        # SUBACK follows the SUBSCRIBE on the same connection; a short grace keeps tests honest.
        time.sleep(0.2)
        return True

    def stop(self) -> None:
        """Disconnect and close the database."""
        self._client.disconnect()
        self._client.loop_stop()
        self.store.close()
