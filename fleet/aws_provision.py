"""AWS IoT fleet provisioning's MQTT API, played on any broker by a small service.

A kiosk that holds only a claim certificate asks, over MQTT, for a certificate of its own
(``$aws/certificates/create-from-csr/json``: it sends a CSR, the private key stays on the
kiosk) and then registers its thing with a provisioning template
(``$aws/provisioning-templates/{template}/provision/json``). AWS IoT Core answers those
topics in the cloud; :class:`ProvisioningService` answers them on a broker of your own, with
AWS's documented payloads:

- create-from-csr ``/accepted``: ``certificateId``, ``certificatePem`` (signed by the CA given
  to the service, which the broker must trust), ``certificateOwnershipToken``;
- provision ``/accepted``: ``thingName`` and ``deviceConfiguration``;
- ``/rejected``: ``statusCode``, ``errorCode``, ``errorMessage``.

The ownership token is good once, for :data:`TOKEN_LIFETIME_S` (AWS: one hour), and only
for the certificate it came with. ``python -m fleet.aws_provision`` runs the service.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.broker_service import (
    BrokerOptions,
    BrokerService,
    broker_arguments,
    serve_until_signalled,
)

CSR_TOPIC = "$aws/certificates/create-from-csr/json"
PROVISION_FILTER = "$aws/provisioning-templates/+/provision/json"
log = logging.getLogger(__name__)

_PROVISION_TOPIC = re.compile(r"^\$aws/provisioning-templates/([^/]+)/provision/json$")

#: How long a certificate ownership token may be used (AWS IoT: one hour).
TOKEN_LIFETIME_S = 3600.0
#: How long a certificate the service signs is valid.
CERT_LIFETIME_DAYS = 365

_ID = r"^[A-Za-z0-9_-]{1,64}$"

Message = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Template:
    """A provisioning template: its parameters (name -> pattern a value must match), which
    are required, how the thing is named from them, and the device configuration it answers.
    """

    name: str
    parameters: Mapping[str, str] = field(
        default_factory=lambda: {"StoreId": _ID, "KioskId": _ID, "SerialNumber": _ID}
    )
    required: tuple[str, ...] = ("StoreId", "KioskId")
    thing_name: str = "{StoreId}-{KioskId}"
    device_configuration: Mapping[str, str] = field(default_factory=dict)

    def problems(self, parameters: object) -> list[str]:
        """What is wrong with ``parameters`` (none when the template accepts them)."""
        if not isinstance(parameters, dict):
            return ["parameters must be an object of strings"]
        found = [f"missing parameter {name}" for name in self.required if name not in parameters]
        for name, value in parameters.items():
            pattern = self.parameters.get(name)
            if pattern is None:
                found.append(f"unknown parameter {name}")
            elif not isinstance(value, str) or not re.fullmatch(pattern, value):
                found.append(f"parameter {name}={value!r} does not match {pattern}")
        return found


class _Reject(Exception):
    """A request answered on ``/rejected`` with AWS's status code, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.payload = {"statusCode": status, "errorCode": code, "errorMessage": message}


class CertificateAuthority:
    """Signs kiosks' CSRs with a CA certificate and key read from PEM files."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        self.cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{key_file}: the CA's key must be an EC or RSA key")
        self.key = key

    def sign(self, csr_pem: str) -> tuple[str, str]:
        """``(certificateId, certificatePem)`` for a CSR; :class:`_Reject` for a bad one."""
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.x509.oid import ExtendedKeyUsageOID

        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as exc:
            raise _Reject(400, "InvalidCertificateSigningRequest", f"bad CSR: {exc}") from None
        if not csr.is_signature_valid:
            raise _Reject(400, "InvalidCertificateSigningRequest", "the CSR's signature is bad")
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.cert.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CERT_LIFETIME_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .sign(self.key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        return hashlib.sha256(der).hexdigest(), pem


class ProvisioningService(BrokerService):
    """Answers fleet provisioning's two requests on a broker (see the module's docstring)."""

    def __init__(
        self, broker: BrokerOptions, authority: CertificateAuthority, templates: list[Template]
    ) -> None:
        super().__init__(
            broker,
            name="provisioning service",
            topics=(CSR_TOPIC, PROVISION_FILTER),
            answer=self.answer,
        )
        self.authority = authority
        self.templates = {template.name: template for template in templates}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        #: thing name -> certificate id, of every thing registered
        self.things: dict[str, str] = {}

    def answer(self, topic: str, payload: bytes) -> list[Message]:
        """The answer to one request (none for a topic that is not one)."""
        match = _PROVISION_TOPIC.match(topic)
        if topic != CSR_TOPIC and match is None:
            return []
        try:
            request = _json_object(payload)
            if match is None:
                return [(f"{CSR_TOPIC}/accepted", self._create_from_csr(request))]
            return [(f"{topic}/accepted", self._provision(match.group(1), request))]
        except _Reject as reject:
            return [(f"{topic}/rejected", reject.payload)]

    def _create_from_csr(self, request: dict[str, Any]) -> dict[str, Any]:
        csr = request.get("certificateSigningRequest")
        if not isinstance(csr, str):
            raise _Reject(400, "InvalidPayload", "certificateSigningRequest is missing")
        certificate_id, pem = self.authority.sign(csr)
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = (certificate_id, time.monotonic() + TOKEN_LIFETIME_S)
        return {
            "certificateId": certificate_id,
            "certificatePem": pem,
            "certificateOwnershipToken": token,
        }

    def _provision(self, name: str, request: dict[str, Any]) -> dict[str, Any]:
        template = self.templates.get(name)
        if template is None:
            raise _Reject(404, "ResourceNotFound", f"no provisioning template named {name!r}")
        parameters = request.get("parameters", {})
        problems = template.problems(parameters)
        if problems:
            raise _Reject(400, "InvalidParameters", f"template {name}: " + "; ".join(problems))
        certificate_id = self._take_token(request.get("certificateOwnershipToken"))
        thing = template.thing_name.format_map(parameters)
        with self._lock:
            self.things[thing] = certificate_id
        log.info(
            "registered thing %s with certificate %s (template %s)", thing, certificate_id, name
        )
        return {"thingName": thing, "deviceConfiguration": dict(template.device_configuration)}

    def _take_token(self, token: object) -> str:
        """The certificate id a token was given with; the token cannot be used again."""
        with self._lock:
            entry = self._tokens.pop(token, None) if isinstance(token, str) else None
        if entry is None or entry[1] < time.monotonic():
            raise _Reject(
                400,
                "InvalidCertificateOwnershipToken",
                "certificateOwnershipToken is unknown, used or expired",
            )
        return entry[0]


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        request = json.loads(payload or b"{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Reject(400, "InvalidPayload", f"payload is not JSON: {exc}") from None
    if not isinstance(request, dict):
        raise _Reject(400, "InvalidPayload", "payload must be a JSON object")
    return request


def main(argv: list[str] | None = None) -> int:
    """``python -m fleet.aws_provision``: answer fleet provisioning until SIGTERM/Ctrl+C."""
    parser = argparse.ArgumentParser(
        prog="python -m fleet.aws_provision",
        description="Play AWS IoT fleet provisioning (CreateCertificateFromCsr, "
        "RegisterThing) on an MQTT broker: sign kiosks' CSRs with --signing-ca-cert/key "
        "(a CA the broker trusts) and register things with the named templates.",
    )
    broker_arguments(parser, "fleet-provisioning-service")
    parser.add_argument("--signing-ca-cert", type=Path, required=True, help="CA cert (PEM)")
    parser.add_argument("--signing-ca-key", type=Path, required=True, help="its key (PEM)")
    parser.add_argument(
        "--template", action="append", required=True, metavar="NAME",
        help="a template's name (StoreId, KioskId required, SerialNumber optional; "
        "thing name <StoreId>-<KioskId>, as the uplink names it); repeatable",
    )  # fmt: skip
    args = parser.parse_args(argv)
    templates = [Template(name) for name in args.template]

    def make(broker: BrokerOptions) -> BrokerService:
        authority = CertificateAuthority(args.signing_ca_cert, args.signing_ca_key)
        return ProvisioningService(broker, authority, templates)

    return serve_until_signalled(parser.prog, args, make)


if __name__ == "__main__":
    raise SystemExit(main())
