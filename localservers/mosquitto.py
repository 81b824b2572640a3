"""A private mosquitto broker, plain or TLS with client certificates."""

from __future__ import annotations

import os
from pathlib import Path

from localservers.pki import TestPki
from localservers.process import ServerProcess


class Mosquitto(ServerProcess):
    """mosquitto 2 on 127.0.0.1.

    With ``pki`` it requires TLS and a client certificate signed by the test CA, as AWS IoT
    Core does, so awsiotsdk's ``mtls_from_path`` connects to it as it would to the cloud.
    """

    binary = "mosquitto"
    package = "mosquitto"

    def __init__(self, workdir: Path, port: int | None = None, pki: TestPki | None = None):
        super().__init__(workdir, port)
        self.pki = pki
        self.conf_path = self.workdir / "mosquitto.conf"

    def prepare(self) -> None:
        """Write mosquitto.conf: a loopback listener, no persistence, TLS when given a PKI."""
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "max_inflight_messages 100",
            "max_queued_messages 0",
            "max_queued_bytes 0",
            "message_size_limit 0",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages true",
        ]
        if os.geteuid() == 0:
            # As root mosquitto would switch to the "mosquitto" user, who cannot read our
            # 0600 keys or write in the test's folder.
            lines.append("user root")
        if self.pki is not None:
            lines += [
                f"cafile {self.pki.ca_cert}",
                f"certfile {self.pki.server_cert}",
                f"keyfile {self.pki.server_key}",
                "require_certificate true",
                "use_identity_as_username true",
                "tls_version tlsv1.2",
            ]
        self.conf_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def command(self) -> list[str]:
        """``mosquitto -c <workdir>/mosquitto.conf``."""
        return [self.binary, "-c", str(self.conf_path)]
