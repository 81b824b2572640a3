"""A private redis-server."""

from __future__ import annotations

from pathlib import Path

from localservers.process import ServerProcess


class RedisServer(ServerProcess):
    """redis-server on 127.0.0.1 with no persistence, optionally with a password."""

    binary = "redis-server"
    package = "redis-server"

    def __init__(self, workdir: Path, port: int | None = None, password: str | None = None):
        super().__init__(workdir, port)
        self.password = password

    def command(self) -> list[str]:
        """``redis-server`` on loopback, nothing saved to disk, with the password if set."""
        cmd = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.password:
            cmd += ["--requirepass", self.password]
        return cmd

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0`` (the password is configured separately)."""
        return f"redis://127.0.0.1:{self.port}/0"
