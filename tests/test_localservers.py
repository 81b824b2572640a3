"""The real-server fixtures work: redis answers, mosquitto relays, TLS needs a certificate."""

from __future__ import annotations

import ssl
import threading

import paho.mqtt.client as mqtt
import pytest
import redis

from localservers import Mosquitto, RedisServer, TestPki


def test_redis_server_answers_and_restarts_on_the_same_port(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url)
    assert client.ping()
    client.set("k", "v")
    port = redis_server.port
    redis_server.kill()
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(redis_server.url, socket_connect_timeout=0.5).ping()
    redis_server.start()
    assert redis_server.port == port
    assert redis.Redis.from_url(redis_server.url).ping()


def _roundtrip(port: int, tls: ssl.SSLContext | None = None) -> bytes:
    received: list[bytes] = []
    got = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        received.append(msg.payload)
        got.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sub")
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="pub")
    for client in (sub, pub):
        if tls is not None:
            client.tls_set_context(tls)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe("t/#", qos=1)
    sub.loop_start()
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        # the subscription is in place once the broker answered a round trip
        pub.publish("t/x", b"hello", qos=1).wait_for_publish(5)
        for _ in range(20):
            if got.wait(0.25):
                break
            pub.publish("t/x", b"hello", qos=1).wait_for_publish(5)
    finally:
        for client in (sub, pub):
            client.loop_stop()
            client.disconnect()
    assert received, "no message came back through the broker"
    return received[0]


def test_plain_mosquitto_relays_messages(mosquitto: Mosquitto) -> None:
    assert _roundtrip(mosquitto.port) == b"hello"


def test_tls_mosquitto_relays_with_a_client_certificate(
    mosquitto_tls: Mosquitto, test_pki: TestPki
) -> None:
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    context.load_cert_chain(str(test_pki.client_cert), str(test_pki.client_key))
    assert _roundtrip(mosquitto_tls.port, context) == b"hello"


def test_tls_mosquitto_refuses_a_client_without_certificate(
    mosquitto_tls: Mosquitto, test_pki: TestPki
) -> None:
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="nocert")
    client.tls_set_context(context)
    with pytest.raises((ssl.SSLError, OSError, ConnectionError)):
        client.connect("127.0.0.1", mosquitto_tls.port)
        # TLS 1.3 reports the missing certificate on the first read
        for _ in range(20):
            rc = client.loop(0.2)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionError(rc)
