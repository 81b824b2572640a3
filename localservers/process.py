"""A server binary run as a child process, with start, stop, kill and restart."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
from pathlib import Path

from localservers.ports import free_port, wait_for_port

log = logging.getLogger(__name__)


class ServerNotInstalled(RuntimeError):
    """The server's binary is not on PATH (its Debian package is not installed)."""


class ServerProcess:
    """One server on ``127.0.0.1:port``, its files in ``workdir``.

    Subclasses say how to write the config (:meth:`prepare`) and the command line
    (:meth:`command`). The port stays the same across :meth:`restart`, so clients can
    reconnect as they would to a real server coming back.
    """

    binary = ""
    package = ""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / f"{self.binary}.log"

    @classmethod
    def available(cls) -> bool:
        """True when the server's binary is installed."""
        return shutil.which(cls.binary) is not None

    def prepare(self) -> None:
        """Write whatever the server reads at start."""

    def command(self) -> list[str]:
        """The server's command line (each server class names its own)."""
        raise NotImplementedError  # each server class names its own command line

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        if not self.available():
            raise ServerNotInstalled(
                f"{self.binary} is not installed (Debian package {self.package}); "
                "scripts/setup-system installs it"
            )
        self.prepare()
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if not wait_for_port(self.port, timeout):
            self.kill()
            tail = self.log_path.read_text(errors="replace")[-800:]
            raise RuntimeError(f"{self.binary} did not listen on port {self.port}: {tail}")
        log.debug("%s listening on 127.0.0.1:%d", self.binary, self.port)

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to stop (SIGTERM), kill it if it does not."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the server dies as on a power cut."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the server freezes (answers nothing) until :meth:`resume`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Stop (if running) and start again on the same port."""
        self.stop()
        self.start()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
