"""Fleet provisioning by claim, on the kiosk: from a claim certificate to a certificate of its own.

:func:`provision` makes a private key on the kiosk (it never leaves it: only a CSR is sent),
connects with the CLAIM certificate (awsiotsdk's ``mtls_from_path``), asks AWS IoT (or
:mod:`fleet.aws_provision` on a broker of your own) for a certificate with
``CreateCertificateFromCsr`` and registers the kiosk's thing with ``RegisterThing`` through
awsiotsdk's :class:`awsiot.iotidentity.IotIdentityClient`. It writes ``kiosk.key``,
``kiosk.pem`` into the credentials folder, each with mode 0600 and atomically (a temporary
file, fsync, rename), connects with the new certificate to prove it works, and only then
writes ``thing.json`` (thing name, certificate id). A folder that holds all three is left
alone unless ``force``; one without ``thing.json`` (a run that failed) is provisioned again.

``kiosk provision`` (:func:`provision_main`) is the installer's command; it prints the
``[uplink]`` lines the kiosk's config needs to use the new certificate (it writes no config).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from settings.overlay import write_atomically

KEY_NAME = "kiosk.key"
CERT_NAME = "kiosk.pem"
THING_NAME = "thing.json"
#: Seconds each step (connect, subscribe, each answer) may take.
STEP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ProvisionRequest:
    """What the installer gives: the claim's files, the endpoint, template and ids."""

    claim_cert: Path
    claim_key: Path
    ca_file: Path | None
    host: str
    port: int
    template: str
    store_id: str
    kiosk_id: str
    credentials_dir: Path
    serial_number: str | None = None

    def parameters(self) -> dict[str, str]:
        """The template's parameters: StoreId, KioskId and SerialNumber when given."""
        values = {"StoreId": self.store_id, "KioskId": self.kiosk_id}
        if self.serial_number:
            values["SerialNumber"] = self.serial_number
        return values


@dataclass(frozen=True)
class Provisioned:
    """The kiosk's own credentials; ``fresh`` is False when they were there already."""

    thing_name: str
    certificate_id: str
    cert_file: Path
    key_file: Path
    fresh: bool

    def config_lines(self) -> str:
        """The ``[uplink]`` lines that make the kiosk use these credentials."""
        return (
            "[uplink]\n"
            f'client_id = "{self.thing_name}"\n'
            f'cert_file = "{self.cert_file}"\n'
            f'key_file = "{self.key_file}"\n'
        )


class ProvisionError(Exception):
    """Provisioning failed; the message says at which step and why (one line)."""


def existing(folder: Path) -> Provisioned | None:
    """The credentials a former run wrote into ``folder``, or None when any part is missing."""
    key, cert, thing = folder / KEY_NAME, folder / CERT_NAME, folder / THING_NAME
    if not (key.is_file() and cert.is_file() and thing.is_file()):
        return None
    try:
        info = json.loads(thing.read_text(encoding="utf-8"))
        return Provisioned(info["thingName"], info["certificateId"], cert, key, fresh=False)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProvisionError(f"{thing}: unreadable ({exc}); run again with --force") from None


def provision(request: ProvisionRequest, *, force: bool = False) -> Provisioned:
    """Provision this kiosk (see the module's docstring); :class:`ProvisionError` on failure."""
    if not force:
        found = existing(request.credentials_dir)
        if found is not None:
            return found
    key_pem, csr_pem = _key_and_csr(f"{request.store_id}-{request.kiosk_id}")
    connection = _connect(request, request.claim_cert, request.claim_key, "claim")
    try:
        created, registered = _ask(connection, request, csr_pem)
    finally:
        connection.disconnect().result(STEP_TIMEOUT_S)
    done = _store(request.credentials_dir, key_pem, created, registered["thingName"])
    # thing.json, which says "provisioned", is written only once the new certificate got in
    _connect(request, done.cert_file, done.key_file, "new").disconnect().result(STEP_TIMEOUT_S)
    info = {"thingName": done.thing_name, "certificateId": done.certificate_id}
    try:
        _write_private(request.credentials_dir / THING_NAME, json.dumps(info, indent=2).encode())
    except OSError as exc:
        raise ProvisionError(f"cannot store the credentials: {exc}") from None
    return done


def _store(folder: Path, key_pem: bytes, created: dict[str, Any], thing: str) -> Provisioned:
    """Write the key and certificate (0600, atomically), thing.json taken away first."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        (folder / THING_NAME).unlink(missing_ok=True)
        _write_private(folder / KEY_NAME, key_pem)
        _write_private(folder / CERT_NAME, created["certificatePem"].encode())
    except OSError as exc:
        raise ProvisionError(f"cannot store the credentials in {folder}: {exc}") from None
    return Provisioned(thing, created["certificateId"], folder / CERT_NAME, folder / KEY_NAME, True)


def _key_and_csr(common_name: str) -> tuple[bytes, str]:
    """A new P-256 private key (PEM, stays here) and a CSR for it (PEM, sent)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def _connect(request: ProvisionRequest, cert: Path, key: Path, which: str) -> Any:
    """An awscrt MQTT connection with ``cert``/``key`` (mTLS), connected."""
    from awsiot import mqtt_connection_builder

    extra: dict[str, object] = {}
    if request.ca_file is not None:
        extra["ca_filepath"] = str(request.ca_file)
    where = f"{request.host}:{request.port}"
    try:
        connection = mqtt_connection_builder.mtls_from_path(
            endpoint=request.host,
            port=request.port,
            cert_filepath=str(cert),
            pri_key_filepath=str(key),
            client_id=f"provision-{uuid.uuid4().hex[:12]}",
            clean_session=True,
            keep_alive_secs=30,
            enable_metrics_collection=False,
            tcp_connect_timeout_ms=int(STEP_TIMEOUT_S * 1000),
            **extra,
        )
        connection.connect().result(STEP_TIMEOUT_S)
    except Exception as exc:  # awscrt raises its AwsCrtError, a timeout, or bad PEM errors
        raise ProvisionError(
            f"cannot connect to {where} with the {which} certificate {cert}: {exc}"
        ) from None
    return connection


def _ask(
    connection: Any, request: ProvisionRequest, csr_pem: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """CreateCertificateFromCsr, then RegisterThing: their accepted payloads."""
    from awscrt import mqtt
    from awsiot import iotidentity

    client = iotidentity.IotIdentityClient(connection)
    qos = mqtt.QoS.AT_LEAST_ONCE
    created: Future[dict[str, Any]] = Future()
    registered: Future[dict[str, Any]] = Future()
    csr_sub = iotidentity.CreateCertificateFromCsrSubscriptionRequest()
    thing_sub = iotidentity.RegisterThingSubscriptionRequest(template_name=request.template)
    subscriptions = [
        client.subscribe_to_create_certificate_from_csr_accepted(
            csr_sub, qos, lambda r: _settle(created, r)
        ),
        client.subscribe_to_create_certificate_from_csr_rejected(
            csr_sub, qos, lambda e: _settle(created, e)
        ),
        client.subscribe_to_register_thing_accepted(
            thing_sub, qos, lambda r: _settle(registered, r)
        ),
        client.subscribe_to_register_thing_rejected(
            thing_sub, qos, lambda e: _settle(registered, e)
        ),
    ]
    for future, _topic in subscriptions:
        _wait(future, "subscribing to the provisioning topics")
    client.publish_create_certificate_from_csr(
        iotidentity.CreateCertificateFromCsrRequest(certificate_signing_request=csr_pem), qos
    )
    cert = _wait(created, "CreateCertificateFromCsr")
    client.publish_register_thing(
        iotidentity.RegisterThingRequest(
            template_name=request.template,
            certificate_ownership_token=cert["certificateOwnershipToken"],
            parameters=request.parameters(),
        ),
        qos,
    )
    return cert, _wait(registered, f"RegisterThing with template {request.template}")


def _settle(future: Future[dict[str, Any]], answer: Any) -> None:
    """Resolve ``future`` with an accepted answer's fields or an ErrorResponse's error."""
    from awsiot import iotidentity

    if future.done():
        return
    if isinstance(answer, iotidentity.ErrorResponse):
        future.set_exception(
            ProvisionError(f"{answer.error_code} ({answer.status_code}): {answer.error_message}")
        )
    elif isinstance(answer, iotidentity.CreateCertificateFromCsrResponse):
        future.set_result({
            "certificateId": answer.certificate_id,
            "certificatePem": answer.certificate_pem,
            "certificateOwnershipToken": answer.certificate_ownership_token,
        })  # fmt: skip
    else:
        future.set_result({"thingName": answer.thing_name})


def _wait(future: Future[Any], step: str) -> Any:
    try:
        return future.result(STEP_TIMEOUT_S)
    except ProvisionError as exc:
        raise ProvisionError(f"{step} rejected: {exc}") from None
    except Exception as exc:  # a timeout or awscrt's error for the subscribe
        raise ProvisionError(f"{step} failed: {type(exc).__name__} {exc}".strip()) from None


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically (a temporary file made 0600 by
    mkstemp, renamed over it), then fsync the folder so the rename survives a power cut."""
    write_atomically(path, data, mode=0o600)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def build_parser(prog: str = "kiosk provision") -> argparse.ArgumentParser:
    """The installer's command line."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Give this kiosk a certificate and thing of its own through AWS IoT fleet "
        "provisioning, using a claim certificate. The private key is made here and never "
        "sent. Prints the [uplink] lines for the kiosk's config.",
    )
    parser.add_argument("--claim-cert", type=Path, required=True, help="claim certificate")
    parser.add_argument("--claim-key", type=Path, required=True, help="its private key")
    parser.add_argument("--ca", type=Path, help="CA that signed the endpoint's certificate")
    parser.add_argument("--endpoint", required=True, metavar="HOST:PORT", help="MQTT endpoint")
    parser.add_argument("--template", required=True, help="provisioning template name")
    parser.add_argument("--store", required=True, help="store id (template's StoreId)")
    parser.add_argument("--kiosk", required=True, help="kiosk id (template's KioskId)")
    parser.add_argument("--serial", help="serial number (template's SerialNumber)")
    parser.add_argument(
        "--credentials-dir", type=Path, default=Path("/var/lib/kiosk/credentials"),
        help="where the key, certificate and thing.json go (default /var/lib/kiosk/credentials)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="provision again over them")
    return parser


def provision_main(argv: list[str], prog: str = "kiosk provision") -> int:
    """``kiosk provision``: 0 done (or already done), 1 failed, 2 bad arguments."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    host, _, port = args.endpoint.rpartition(":")
    if not host or not port.isdigit():
        parser.error(f"--endpoint {args.endpoint!r}: write it as HOST:PORT")
    request = ProvisionRequest(
        claim_cert=args.claim_cert, claim_key=args.claim_key, ca_file=args.ca,
        host=host, port=int(port), template=args.template, store_id=args.store,
        kiosk_id=args.kiosk, credentials_dir=args.credentials_dir, serial_number=args.serial,
    )  # fmt: skip
    try:
        done = provision(request, force=args.force)
    except ProvisionError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if done.fresh:
        print(f"{prog}: provisioned thing {done.thing_name} (certificate {done.certificate_id})")
    else:
        print(f"{prog}: already provisioned as {done.thing_name}; nothing done (--force redoes)")
    print("# add to the kiosk's config (kiosk.toml):")
    sys.stdout.write(done.config_lines())
    return 0
