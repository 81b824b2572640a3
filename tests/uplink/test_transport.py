"""Transports against real mosquitto: plain, TLS with client certificates, MQTT 5, awsiotsdk."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from localservers import Mosquitto, TestPki, make_test_pki
from settings import KioskConfig
from tests.support.uplink import Subscriber, plain_endpoint, tls_endpoint
from tests.support.waiting import wait_until
from uplink.credentials import CredentialError
from uplink.transport import (
    AwsIotTransport,
    LastWill,
    PahoTransport,
    TransportError,
    TransportSession,
    build_transport,
)


def publish_and_wait(session: TransportSession, topic: str, payloads: list[bytes]) -> list[bool]:
    """Publish QoS1 and poll until every PUBACK came."""
    acks: list[bool] = []
    for payload in payloads:
        session.publish(topic, payload, qos=1, on_done=acks.append)
    for _ in range(400):
        if len(acks) == len(payloads):
            break
        session.poll(0.05)
    return acks


def test_paho_plain_publishes_and_gets_pubacks(mosquitto: Mosquitto) -> None:
    endpoint = plain_endpoint(mosquitto)
    subscriber = Subscriber(endpoint, "retail/#")
    session = PahoTransport(endpoint).open("t-plain", None, 5)
    try:
        acks = publish_and_wait(session, "retail/s/k/events", [b"one", b"two", b"three"])
        assert acks == [True, True, True]
        wait_until(lambda: len(subscriber.messages) == 3, what="3 messages")
        assert [m[1] for m in subscriber.messages] == [b"one", b"two", b"three"]
    finally:
        session.close()
        subscriber.close()


def test_paho_mqtt5_publishes(mosquitto: Mosquitto) -> None:
    endpoint = replace(plain_endpoint(mosquitto), mqtt_version="5")
    session = PahoTransport(endpoint).open("t-v5", None, 5)
    try:
        assert publish_and_wait(session, "retail/s/k/events", [b"x"]) == [True]
    finally:
        session.close()


def test_paho_tls_with_client_certificate(mosquitto_tls: Mosquitto, test_pki: TestPki) -> None:
    session = PahoTransport(tls_endpoint(mosquitto_tls, test_pki)).open("t-tls", None, 5)
    try:
        assert publish_and_wait(session, "retail/s/k/events", [b"secure"]) == [True]
    finally:
        session.close()


def test_aws_iot_transport_to_the_tls_broker(mosquitto_tls: Mosquitto, test_pki: TestPki) -> None:
    transport = AwsIotTransport(tls_endpoint(mosquitto_tls, test_pki), metrics=False)
    session = transport.open("t-aws", None, 10)
    try:
        assert publish_and_wait(session, "retail/s/k/events", [b"a", b"b"]) == [True, True]
    finally:
        session.close()


def test_tls_refuses_a_broker_signed_by_another_ca(
    mosquitto_tls: Mosquitto, test_pki: TestPki, tmp_path: Path
) -> None:
    other = make_test_pki(tmp_path / "other")
    endpoint = replace(tls_endpoint(mosquitto_tls, test_pki), ca_file=other.ca_cert)
    with pytest.raises(TransportError, match=r"TLS|connect"):
        PahoTransport(endpoint).open("t-bad-ca", None, 5)


def test_broker_away_is_a_transport_error(mosquitto: Mosquitto) -> None:
    endpoint = plain_endpoint(mosquitto)
    mosquitto.stop()
    with pytest.raises(TransportError, match="cannot connect"):
        PahoTransport(endpoint).open("t-away", None, 2)


def test_last_will_is_published_retained_when_the_connection_dies(mosquitto: Mosquitto) -> None:
    endpoint = plain_endpoint(mosquitto)
    will = LastWill("retail/s/k/status", b'{"state":"offline"}')
    session = PahoTransport(endpoint).open("t-will", will, 5)
    # Drop the socket without DISCONNECT, as a power cut would.
    session._client.socket().close()  # type: ignore[attr-defined]
    subscriber = Subscriber(endpoint, "retail/s/k/status")
    try:
        wait_until(lambda: subscriber.json_on("/status"), what="the last will")
        assert subscriber.json_on("/status")[-1] == {"state": "offline"}
    finally:
        subscriber.close()


def test_key_readable_by_others_is_refused(test_pki: TestPki, tmp_path: Path) -> None:
    key = tmp_path / "client.key"
    shutil.copy(test_pki.client_key, key)
    key.chmod(0o644)
    config = KioskConfig()
    config.uplink.tls = True
    config.uplink.ca_file = test_pki.ca_cert
    config.uplink.cert_file = test_pki.client_cert
    config.uplink.key_file = key
    with pytest.raises(
        CredentialError, match=r"client.key is accessible by group or others .*chmod 600"
    ):
        build_transport(config.uplink)
    config.uplink.transport = "aws-iot"
    with pytest.raises(CredentialError, match="chmod 600"):
        build_transport(config.uplink)


def test_missing_certificate_is_named(test_pki: TestPki, tmp_path: Path) -> None:
    config = KioskConfig()
    config.uplink.transport = "aws-iot"
    config.uplink.cert_file = tmp_path / "nope.pem"
    config.uplink.key_file = test_pki.client_key
    with pytest.raises(CredentialError, match=r"nope.pem does not exist"):
        build_transport(config.uplink)
    config.uplink.cert_file = None
    with pytest.raises(CredentialError, match="is not set"):
        build_transport(config.uplink)
