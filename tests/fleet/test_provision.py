"""Fleet provisioning by claim: fleet.provision (awsiotsdk's IotIdentityClient) against
fleet.aws_provision on a real mosquitto with mTLS."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from fleet.aws_provision import CSR_TOPIC, CertificateAuthority, ProvisioningService, Template
from fleet.broker_service import BrokerOptions
from fleet.provision import ProvisionError, ProvisionRequest, existing, provision
from localservers import Mosquitto, TestPki
from localservers.pki import make_test_pki
from tests.support.waiting import wait_until

TEMPLATE = "kiosk-template"


@dataclass
class Setup:
    """The broker, the provisioning service, the test PKI and every message seen on the broker."""

    broker: Mosquitto
    pki: TestPki
    service: ProvisioningService
    traffic: list[tuple[str, bytes]]
    folder: Path

    def request(self, store: str = "s1", kiosk: str = "k2") -> ProvisionRequest:
        """Provision with the test client certificate as the claim."""
        return ProvisionRequest(
            claim_cert=self.pki.client_cert, claim_key=self.pki.client_key,
            ca_file=self.pki.ca_cert, host="127.0.0.1", port=self.broker.port,
            template=TEMPLATE, store_id=store, kiosk_id=kiosk,
            credentials_dir=self.folder / "credentials",
        )  # fmt: skip


def _signing_ca(folder: Path) -> tuple[Path, Path]:
    """A second CA (the one that signs kiosks' certificates), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiosk signing CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / "signing-ca.pem", folder / "signing-ca.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _paho(pki: TestPki, cert: Path, key: Path, client_id: str) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.tls_set(ca_certs=str(pki.ca_cert), certfile=str(cert), keyfile=str(key))
    return client


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """mosquitto (mTLS, trusting the test CA and the signing CA), the service, a recorder."""
    with running(tmp_path, trust_signing_ca=True) as started:
        yield started


@contextmanager
def running(tmp_path: Path, *, trust_signing_ca: bool) -> Iterator[Setup]:
    """The setup; with ``trust_signing_ca`` False the broker refuses the kiosks' new certs."""
    pki = make_test_pki(tmp_path / "pki")
    signing_cert, signing_key = _signing_ca(tmp_path)
    trusted = tmp_path / "trusted.pem"
    signing = signing_cert.read_bytes() if trust_signing_ca else b""
    trusted.write_bytes(pki.ca_cert.read_bytes() + signing)
    broker_pki = TestPki(trusted, pki.server_cert, pki.server_key, pki.client_cert, pki.client_key)
    broker = Mosquitto(tmp_path / "mosquitto", pki=broker_pki)
    broker.start()
    options = BrokerOptions(
        port=broker.port, ca_file=pki.ca_cert, cert_file=pki.client_cert,
        key_file=pki.client_key, client_id="provisioning-service",
    )  # fmt: skip
    service = ProvisioningService(
        options, CertificateAuthority(signing_cert, signing_key), [Template(TEMPLATE)]
    )
    traffic: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    recorder = _paho(pki, pki.client_cert, pki.client_key, "recorder")
    recorder.on_message = lambda c, u, m: traffic.append((m.topic, bytes(m.payload)))
    recorder.on_subscribe = lambda *_: subscribed.set()
    recorder.on_connect = lambda c, *_: c.subscribe([("#", 1), ("$aws/#", 1)])
    try:
        service.start()
        recorder.connect("127.0.0.1", broker.port)
        recorder.loop_start()
        wait_until(subscribed.is_set, "the recorder's subscriptions", timeout=10)
        yield Setup(broker, pki, service, traffic, tmp_path)
    finally:
        recorder.disconnect()
        recorder.loop_stop()
        service.stop()
        broker.stop()


def _connects(setup: Setup, cert: Path, key: Path) -> bool:
    """Whether a plain MQTT client gets in with this certificate (mosquitto checks it)."""
    client = _paho(setup.pki, cert, key, "new-kiosk-check")
    try:
        return client.connect("127.0.0.1", setup.broker.port) == 0 and client.loop(5.0) == 0
    except OSError:
        return False
    finally:
        client.disconnect()


def test_a_kiosk_provisions_from_its_claim_and_connects_with_its_own_certificate(
    setup: Setup,
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    done = provision(setup.request())
    assert done.fresh and done.thing_name == "s1-k2"
    assert setup.service.things == {"s1-k2": done.certificate_id}
    folder = setup.folder / "credentials"
    for name in ("kiosk.key", "kiosk.pem", "thing.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert sorted(p.name for p in folder.iterdir()) == ["kiosk.key", "kiosk.pem", "thing.json"]
    cert = x509.load_pem_x509_certificate(done.cert_file.read_bytes())
    key = serialization.load_pem_private_key(done.key_file.read_bytes(), None)
    assert cert.public_key() == key.public_key()
    assert cert.issuer.rfc4514_string() == "CN=kiosk signing CA"
    assert _connects(setup, done.cert_file, done.key_file)


def test_the_private_key_never_appears_on_the_broker(setup: Setup) -> None:
    done = provision(setup.request())
    key_body = "".join(done.key_file.read_text().strip().splitlines()[1:-1])
    # every topic of the exchange was recorded, so the check below saw the CSR go by
    wait_until(lambda: len(setup.traffic) >= 4, "the four provisioning messages", timeout=10)
    topics = [topic for topic, _ in setup.traffic]
    assert "$aws/certificates/create-from-csr/json" in topics
    assert f"$aws/provisioning-templates/{TEMPLATE}/provision/json/accepted" in topics
    for payload in (payload for _, payload in setup.traffic):
        text = payload.decode()
        assert "PRIVATE KEY" not in text
        assert key_body not in text and key_body[:40] not in text


def test_a_rejected_template_parameter_is_one_clear_error_and_nothing_is_stored(
    setup: Setup,
) -> None:
    with pytest.raises(ProvisionError) as raised:
        provision(setup.request(store="store 1"))
    message = str(raised.value)
    assert message == (
        f"RegisterThing with template {TEMPLATE} rejected: InvalidParameters (400): "
        f"template {TEMPLATE}: parameter StoreId='store 1' does not match ^[A-Za-z0-9_-]{{1,64}}$"
    )
    assert not (setup.folder / "credentials").exists()
    assert setup.service.things == {}


def test_a_certificate_the_broker_refuses_fails_provisioning_at_the_check(
    tmp_path: Path,
) -> None:
    with (
        running(tmp_path, trust_signing_ca=False) as setup,
        pytest.raises(ProvisionError, match=r"^cannot connect to 127\.0\.0\.1:\d+ with the new"),
    ):
        provision(setup.request())
    # nothing says "provisioned": the next run provisions again
    assert existing(tmp_path / "credentials") is None
    assert not (tmp_path / "credentials" / "thing.json").exists()


def test_the_service_refuses_a_used_token_an_unknown_template_and_a_bad_csr(
    setup: Setup,
) -> None:
    from fleet.provision import _key_and_csr

    _, csr = _key_and_csr("s1-k2")
    [(topic, created)] = setup.service.answer(
        CSR_TOPIC, json.dumps({"certificateSigningRequest": csr}).encode()
    )
    assert topic == f"{CSR_TOPIC}/accepted" and len(created["certificateId"]) == 64
    request = json.dumps({
        "certificateOwnershipToken": created["certificateOwnershipToken"],
        "parameters": {"StoreId": "s1", "KioskId": "k2", "SerialNumber": "SN1"},
    }).encode()  # fmt: skip
    topic = f"$aws/provisioning-templates/{TEMPLATE}/provision/json"
    [(answered, accepted)] = setup.service.answer(topic, request)
    assert answered == f"{topic}/accepted"
    assert accepted == {"thingName": "s1-k2", "deviceConfiguration": {}}
    [(answered, used)] = setup.service.answer(topic, request)
    assert (
        answered == f"{topic}/rejected" and used["errorCode"] == "InvalidCertificateOwnershipToken"
    )
    other = "$aws/provisioning-templates/other/provision/json"
    [(answered, unknown)] = setup.service.answer(other, request)
    assert answered == f"{other}/rejected" and unknown["statusCode"] == 404
    [(answered, bad)] = setup.service.answer(CSR_TOPIC, b'{"certificateSigningRequest": "x"}')
    assert answered == f"{CSR_TOPIC}/rejected"
    assert bad["errorCode"] == "InvalidCertificateSigningRequest"


def test_python_m_fleet_aws_provision_serves_until_sigterm(tmp_path: Path) -> None:
    with running(tmp_path, trust_signing_ca=True) as setup:
        setup.service.stop()  # the process below answers instead
        pki, log_file = setup.pki, tmp_path / "service.log"
        command = [
            sys.executable, "-m", "fleet.aws_provision", "--broker-port", str(setup.broker.port),
            "--ca-file", str(pki.ca_cert), "--cert-file", str(pki.client_cert),
            "--key-file", str(pki.client_key), "--template", TEMPLATE,
            "--signing-ca-cert", str(tmp_path / "signing-ca.pem"),
            "--signing-ca-key", str(tmp_path / "signing-ca.key"),
        ]  # fmt: skip
        with log_file.open("wb") as log:
            process = subprocess.Popen(command, stderr=log, cwd=Path(__file__).parents[2])
        try:
            wait_until(lambda: "answering" in log_file.read_text(), "the service", timeout=20)
            done = provision(setup.request(store="s9"))
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
            process.wait(timeout=10)
    assert done.thing_name == "s9-k2"
    assert f"registered thing s9-k2 with certificate {done.certificate_id}" in log_file.read_text()


def _cli(setup: Setup, *extra: str) -> subprocess.CompletedProcess[str]:
    """``kiosk provision`` in a process of its own, which also says whether Qt was loaded."""
    request = setup.request()
    argv = [
        "provision", "--claim-cert", str(request.claim_cert), "--claim-key",
        str(request.claim_key), "--ca", str(request.ca_file), "--endpoint",
        f"127.0.0.1:{request.port}", "--template", TEMPLATE, "--store", "s1", "--kiosk", "k2",
        "--credentials-dir", str(request.credentials_dir), *extra,
    ]  # fmt: skip
    code = (
        "import sys; from kiosk.cli import main; status = main(sys.argv[1:]); "
        "print('qt loaded' if 'PySide6' in sys.modules else 'no qt'); sys.exit(status)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip


def test_kiosk_provision_is_idempotent_unless_forced_and_loads_no_qt(setup: Setup) -> None:
    first = _cli(setup)
    assert first.returncode == 0, first.stderr
    assert "provisioned thing s1-k2" in first.stdout and "no qt" in first.stdout
    folder = setup.folder / "credentials"
    assert f'key_file = "{folder / "kiosk.key"}"' in first.stdout
    cert = (folder / "kiosk.pem").read_bytes()
    again = _cli(setup)
    assert again.returncode == 0, again.stderr
    assert "already provisioned as s1-k2; nothing done" in again.stdout
    assert (folder / "kiosk.pem").read_bytes() == cert and len(setup.service.things) == 1
    forced = _cli(setup, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (folder / "kiosk.pem").read_bytes() != cert
    thing = json.loads((folder / "thing.json").read_text())
    assert setup.service.things["s1-k2"] == thing["certificateId"]
