"""Transports: how the uplink reaches a broker (paho-mqtt, or awsiotsdk for AWS IoT Core).

A transport opens *sessions*. A session is one network connection; when it drops it is over
(``connected`` turns False) and the service opens a new one after a backoff. Unacknowledged
publishes of a dead session are never resent by the client library: the service puts their
batches back in the outbox and publishes them again on the next session, so durability is
ours and not the library's memory queue.

Both implementations run every callback on the thread that calls :meth:`TransportSession.poll`
(the uplink thread), so the service needs no locks around its in-flight bookkeeping.
"""

from __future__ import annotations

import logging
import queue
import ssl
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from settings.model import UplinkSection
from uplink.credentials import CredentialError, check_private, check_public

log = logging.getLogger(__name__)

#: Called once per publish with True on PUBACK (success) or False (refused or connection lost).
AckCallback = Callable[[bool], None]


class TransportError(ConnectionError):
    """Connecting failed (broker away, TLS refused, bad credentials); one clear line."""


@dataclass(frozen=True)
class LastWill:
    """The message the broker publishes for us when the connection dies."""

    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True)
class BrokerEndpoint:
    """Where a broker is and how to authenticate to it (used by the uplink and the receiver)."""

    host: str
    port: int
    mqtt_version: str = "3.1.1"
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str = ""
    password: str | None = None
    keepalive_s: int = 60

    def describe(self) -> str:
        """``mqtts://host:port`` for logs and status lines."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def check_files(self) -> None:
        """Raise :class:`CredentialError` for a missing CA/cert or a key others can read."""
        if self.ca_file is not None:
            check_public(self.ca_file, "CA file")
        if self.cert_file is not None or self.key_file is not None:
            check_public(self.cert_file, "certificate file")
            check_private(self.key_file, "key file")


def endpoint_from_config(section: UplinkSection) -> BrokerEndpoint:
    """The broker endpoint named by ``[uplink]``."""
    return BrokerEndpoint(
        host=section.host,
        port=section.port,
        mqtt_version=section.mqtt_version,
        tls=section.tls,
        ca_file=section.ca_file,
        cert_file=section.cert_file,
        key_file=section.key_file,
        username=section.username,
        password=section.password.get_secret_value() if section.password else None,
        keepalive_s=section.keepalive_s,
    )


class TransportSession(Protocol):
    """One connection to the broker.

    Lifecycle: returned connected by :meth:`UplinkTransport.open`; :meth:`publish` and
    :meth:`poll` while ``connected``; :meth:`close` once (also after the connection died).
    Nothing here raises on a lost connection: ``connected`` turns False and every pending
    ``on_done`` is simply never called (the caller owns what was in flight).
    """

    @property
    def connected(self) -> bool:
        """False once the connection is lost or closed."""
        ...

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        on_done: AckCallback | None = None,
    ) -> None:
        """Send one message; ``on_done(ok)`` runs on the polling thread at its PUBACK."""
        ...

    def poll(self, timeout: float) -> None:
        """Do network work and run callbacks for up to ``timeout`` seconds."""
        ...

    def close(self, timeout: float = 2.0) -> None:
        """Disconnect cleanly (the broker then does not publish the last will)."""
        ...


class UplinkTransport(Protocol):
    """Opens sessions to one broker; chosen by ``[uplink] transport``."""

    def describe(self) -> str:
        """Where it connects, for logs and status."""
        ...

    def open(self, client_id: str, will: LastWill | None, timeout: float) -> TransportSession:
        """Connect and wait for the broker's CONNACK; raises :class:`TransportError`."""
        ...


# ---------------------------------------------------------------------------------------------
# paho-mqtt


def make_paho_client(
    endpoint: BrokerEndpoint, client_id: str, *, clean: bool = True
) -> paho.Client:
    """A paho 2 client configured for ``endpoint`` (TLS, client certificate, credentials)."""
    v5 = endpoint.mqtt_version == "5"
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        clean_session=None if v5 else clean,
    )
    if endpoint.tls:
        try:
            client.tls_set(
                ca_certs=str(endpoint.ca_file) if endpoint.ca_file else None,
                certfile=str(endpoint.cert_file) if endpoint.cert_file else None,
                keyfile=str(endpoint.key_file) if endpoint.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (ssl.SSLError, OSError) as exc:
            raise CredentialError(f"uplink: TLS files for {endpoint.describe()}: {exc}") from None
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    return client


class PahoSession:
    """A paho-mqtt connection driven by the caller's thread (no paho background thread)."""

    def __init__(self, client: paho.Client) -> None:
        self._client = client
        self._connected = True
        self._pending: dict[int, AckCallback | None] = {}
        client.on_publish = self._on_publish
        client.on_disconnect = self._on_disconnect

    @property
    def connected(self) -> bool:
        """False once the connection is lost or closed."""
        return self._connected

    def _on_publish(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        callback = self._pending.pop(mid, None)
        if callback is None:
            return
        ok = not reason.is_failure
        if not ok:
            log.warning("uplink: broker refused a publish: %s", reason)
        callback(ok)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        props: Properties | None,
    ) -> None:
        if self._connected:
            log.info("uplink: connection lost (%s)", reason)
        self._connected = False

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        on_done: AckCallback | None = None,
    ) -> None:
        """Send one message; ``on_done(ok)`` runs in :meth:`poll` at its PUBACK."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_QUEUE_SIZE):
            # The message is not on the wire; the session is as good as dead.
            self._connected = False
            return
        if qos > 0:
            self._pending[info.mid] = on_done
        elif on_done is not None:
            on_done(True)

    def poll(self, timeout: float) -> None:
        """Read PUBACKs, write what is queued, send keep-alives."""
        if not self._connected:
            return
        rc = self._client.loop(timeout=timeout)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._connected = False

    def close(self, timeout: float = 2.0) -> None:
        """Disconnect cleanly when still connected; drop whatever paho still holds."""
        if self._connected:
            self._connected = False
            try:
                self._client.disconnect()
                self._client.loop(timeout=min(timeout, 0.2))
            except (OSError, ValueError) as exc:
                log.debug("uplink: disconnect: %s", exc)
        self._pending.clear()


class PahoTransport:
    """``transport = "mqtt"``: paho-mqtt 2, MQTT 3.1.1 or 5, plain or TLS, user/password."""

    def __init__(self, endpoint: BrokerEndpoint) -> None:
        endpoint.check_files()
        self.endpoint = endpoint

    def describe(self) -> str:
        """``mqtt://host:port`` or ``mqtts://host:port``."""
        return self.endpoint.describe()

    def open(self, client_id: str, will: LastWill | None, timeout: float) -> PahoSession:
        """Connect and wait for CONNACK; raises :class:`TransportError`."""
        client = make_paho_client(self.endpoint, client_id)
        client.connect_timeout = timeout
        # Our own window bounds what is in flight; paho must never hold a publish back.
        client.max_inflight_messages_set(100)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        answer: list[ReasonCode] = []
        client.on_connect = lambda _c, _u, _f, reason, _p: answer.append(reason)
        where = self.endpoint.describe()
        try:
            client.connect(self.endpoint.host, self.endpoint.port, self.endpoint.keepalive_s)
        except ssl.SSLError as exc:
            raise TransportError(f"TLS with {where} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise TransportError(f"cannot connect to {where}: {exc.strerror or exc}") from None
        session = PahoSession(client)
        waited = 0.0
        while not answer and session.connected and waited < timeout:
            session.poll(0.05)
            waited += 0.05
        if not answer:
            session.close()
            raise TransportError(f"{where} did not answer the MQTT CONNECT in {timeout:.0f} s")
        if answer[0].is_failure:
            session.close()
            raise TransportError(f"{where} refused the connection: {answer[0]}")
        return session


# ---------------------------------------------------------------------------------------------
# awsiotsdk


class AwsIotSession:
    """An awscrt MQTT 3.1.1 connection; its callbacks are queued to the polling thread."""

    def __init__(self) -> None:
        self._events: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._connected = True
        # an awscrt.mqtt.Connection once open; Any because awscrt's methods carry no
        # annotations (a typed attribute would make each call an untyped call)
        self.connection: Any = None

    @property
    def connected(self) -> bool:
        """False once the connection was interrupted or closed."""
        return self._connected

    def interrupted(self, connection: object = None, error: object = None, **_: object) -> None:
        """The on_connection_interrupted callback of awscrt (any thread)."""
        if self._connected:
            log.info("uplink: connection lost (%s)", error)
        self._connected = False
        self._events.put(lambda: None)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        on_done: AckCallback | None = None,
    ) -> None:
        """Send one message; ``on_done(ok)`` runs in :meth:`poll` at its PUBACK."""
        from awscrt import mqtt

        future, _packet_id = self.connection.publish(topic, payload, mqtt.QoS(qos), retain=retain)
        if on_done is None:
            return

        def done(fut: Future[object]) -> None:
            ok = fut.exception() is None
            self._events.put(lambda: on_done(ok))

        future.add_done_callback(done)

    def poll(self, timeout: float) -> None:
        """Run the callbacks awscrt's threads queued, waiting up to ``timeout`` for one."""
        try:
            first = self._events.get(timeout=max(timeout, 0.0)) if timeout > 0 else None
        except queue.Empty:
            return
        if first is not None:
            first()
        while self._connected:
            try:
                self._events.get_nowait()()
            except queue.Empty:
                return

    def close(self, timeout: float = 2.0) -> None:
        """Disconnect; awscrt's own reconnect loop stops with it."""
        self._connected = False
        if self.connection is None:
            return
        try:
            self.connection.disconnect().result(timeout)
        except Exception as exc:  # awscrt raises its own AwsCrtError or a timeout
            log.debug("uplink: disconnect: %s", exc)


class AwsIotTransport:
    """``transport = "aws-iot"``: awsiotsdk ``mtls_from_path`` (X.509 client certificate).

    SDK metrics (sent in the MQTT username) are off unless ``aws_metrics``: other brokers
    would take them for a user name.
    """

    def __init__(self, endpoint: BrokerEndpoint, *, metrics: bool = False) -> None:
        check_public(endpoint.cert_file, "certificate file (cert_file)")
        check_private(endpoint.key_file, "key file (key_file)")
        if endpoint.ca_file is not None:
            check_public(endpoint.ca_file, "CA file")
        self.endpoint = endpoint
        self.metrics = metrics

    def describe(self) -> str:
        """``aws-iot://host:port``."""
        return f"aws-iot://{self.endpoint.host}:{self.endpoint.port}"

    def open(self, client_id: str, will: LastWill | None, timeout: float) -> AwsIotSession:
        """Connect with mutual TLS and wait for CONNACK; raises :class:`TransportError`."""
        from awscrt import mqtt
        from awsiot import mqtt_connection_builder

        session = AwsIotSession()
        extra: dict[str, object] = {}
        if self.endpoint.ca_file is not None:
            extra["ca_filepath"] = str(self.endpoint.ca_file)
        if will is not None:
            extra["will"] = mqtt.Will(will.topic, mqtt.QoS.AT_LEAST_ONCE, will.payload, will.retain)
        if self.endpoint.username:
            extra["username"] = self.endpoint.username
        where = self.describe()
        try:
            connection = mqtt_connection_builder.mtls_from_path(
                endpoint=self.endpoint.host,
                port=self.endpoint.port,
                cert_filepath=str(self.endpoint.cert_file),
                pri_key_filepath=str(self.endpoint.key_file),
                client_id=client_id,
                clean_session=True,
                keep_alive_secs=self.endpoint.keepalive_s,
                enable_metrics_collection=self.metrics,
                on_connection_interrupted=session.interrupted,
                tcp_connect_timeout_ms=int(timeout * 1000),
                **extra,
            )
        except Exception as exc:  # awscrt reports bad PEM files as AwsCrtError
            raise TransportError(f"cannot set up TLS for {where}: {exc}") from None
        session.connection = connection
        try:
            connection.connect().result(timeout)
        except Exception as exc:
            session.close()
            raise TransportError(f"cannot connect to {where}: {exc}") from None
        return session


def build_transport(section: UplinkSection) -> UplinkTransport:
    """The transport ``[uplink] transport`` names; raises :class:`CredentialError` for bad files."""
    endpoint = endpoint_from_config(section)
    if section.transport == "aws-iot":
        return AwsIotTransport(endpoint, metrics=section.aws_metrics)
    if section.tls and section.cert_file is None and section.key_file is not None:
        raise CredentialError("uplink: key_file is set but cert_file is not")
    return PahoTransport(endpoint)
