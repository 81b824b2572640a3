"""A private X server (Xvfb) so the kiosk can run in a real window without a screen."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

from localservers.process import ServerNotInstalled


class Xvfb:
    """Xvfb on a display number it picks itself (``-displayfd``).

    ``display`` is ``":N"`` once started; give it to children as ``DISPLAY``.
    """

    def __init__(self, width: int = 1920, height: int = 1080, depth: int = 24) -> None:
        self.size = (width, height, depth)
        self.proc: subprocess.Popen[bytes] | None = None
        self.display = ""

    @staticmethod
    def available() -> bool:
        """True when Xvfb is installed."""
        return shutil.which("Xvfb") is not None

    def start(self, timeout: float = 10.0) -> None:
        """Start Xvfb and wait until it has chosen its display."""
        if shutil.which("Xvfb") is None:
            raise ServerNotInstalled("Xvfb is not installed (Debian package xvfb)")
        read_fd, write_fd = os.pipe()
        width, height, depth = self.size
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x{depth}",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as reader:
            ready, _, _ = select.select([reader], [], [], timeout)
            number = reader.readline().decode().strip() if ready else ""
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not report a display number")
        self.display = f":{number}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a child that should draw on this display."""
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.display
        env.pop("QT_QPA_PLATFORM", None)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def stop(self) -> None:
        """Stop the X server."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> Xvfb:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def screenshot_kiosk(
    out: Path,
    args: list[str],
    *,
    delay_s: float = 4.0,
    width: int = 1920,
    height: int = 1080,
    timeout_s: float = 60.0,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``kiosk ARGS --screenshot OUT`` in a real window under a private Xvfb, let it
    take its screenshot after ``delay_s``, stop it with SIGTERM and return how it ended."""
    kiosk = shutil.which("kiosk", path=(os.environ if env is None else env).get("PATH"))
    if kiosk is None:
        raise ServerNotInstalled("the kiosk command is not installed in this environment")
    with Xvfb(width, height) as xvfb:
        proc = subprocess.Popen(
            [kiosk, *args, "--screenshot", str(out), "--screenshot-delay", str(delay_s)],
            env=xvfb.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline_s = delay_s + timeout_s
        try:
            waited = 0.0
            while not out.exists() and proc.poll() is None and waited < deadline_s:
                time.sleep(0.2)
                waited += 0.2
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
