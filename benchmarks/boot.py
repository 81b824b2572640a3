"""``python -m benchmarks.boot``: from ``kiosk`` start to the first page painted, cold and warm.

A kiosk that boots, or that systemd restarts after a hang, must show its experience at once.
Each round starts the kiosk twice (page cache cold, then warm) beside the limit: a Qt program
that only shows one full-screen image (the demo's first page as a PNG), started the same way,
cold and warm too (the JSON line's ratio is the kiosk cold over Qt alone warm, as before;
``cold_ratio_to_alone_cold`` compares like with like). "Painted" is when the program says
READY=1 on a real sd_notify socket, which the kiosk does once its first page is on the screen
(as under systemd's ``Type=notify``), so the figure is what systemd sees. Cold: the files the
programs read (the venv, the standard library, the repository) are dropped from the page cache
first (``posix_fadvise(DONTNEED)``, and ``/proc/sys/vm/drop_caches`` when writable). Then the
kiosk runs ``--minutes`` (10 by default) on its demo and its peak RSS (``VmHWM``) is read.

The repository's packages are byte-compiled first, as pip does when it installs the kiosk
(``scripts/install-kiosk``): a developer's shell with ``PYTHONDONTWRITEBYTECODE`` would
otherwise compile every module of the kiosk from source at each start (about 0.3 s here), which
no installed kiosk does. ``--against DIR`` also starts the kiosk from another checkout (a git
worktree of the code before a change: its packages come first on ``PYTHONPATH``) in each
round, in alternating order, and adds a JSON line comparing the two.

The kiosk runs with its demo experience, no camera (``[sensors] type = "none"``), Redis off
and the uplink off: what a kiosk shows first does not wait for either.
"""

from __future__ import annotations

import argparse
import compileall
import os
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Machine, Rounds, add_rounds_argument, begin, report_rounds

REPO = Path(__file__).resolve().parents[1]
IMAGE = REPO / "docs" / "screenshots" / "attract.png"
READY_TIMEOUT_S = 60.0
GOAL_S = 1.5

#: The limit: Qt alone showing one full-screen image, READY=1 after its first paint.
QT_ALONE = """
import sys
import sdnotify
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication(sys.argv)

class Image(QLabel):
    painted = False

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, lambda: sdnotify.SystemdNotifier().notify("READY=1"))

image = Image()
image.setPixmap(QPixmap(sys.argv[1]))
image.setScaledContents(True)
image.showFullScreen()
app.exec()
"""


def kiosk_config(folder: Path) -> Path:
    """The kiosk's config for the run: its demo, no camera, no Redis, no uplink."""
    path = folder / "kiosk.toml"
    path.write_text(
        f'[paths]\ndata_dir = "{folder / "data"}"\n\n[sensors]\ntype = "none"\n\n'
        '[redis]\nenabled = false\n\n[uplink]\nenabled = false\n\n[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return path


def byte_compile(tree: Path) -> int:
    """Byte-compile the Python packages at the top of ``tree`` into their ``__pycache__``
    folders (ignored by git), as pip does at install; how many packages."""
    packages = [p for p in sorted(tree.iterdir()) if (p / "__init__.py").is_file()]
    for package in packages:
        if not compileall.compile_dir(package, quiet=1):
            raise SystemExit(f"boot: {package} does not byte-compile")
    return len(packages)


def evict_page_cache(*trees: Path) -> str:
    """Drop the files the programs read from the page cache (the venv, the standard library,
    this repository and ``trees``); how it was done."""
    if os.access("/proc/sys/vm/drop_caches", os.W_OK):
        os.sync()
        try:
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            return "drop_caches"
        except OSError:
            pass  # a container may list it writable and refuse the write: fall back below
    folders = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"]), REPO}
    folders.update(trees)
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    fd = os.open(path, os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
    return "posix_fadvise(DONTNEED) on the venv, the standard library and the repository"


class Started:
    """One program started with a notify socket; ``ready_s`` once it said READY=1. ``code``:
    the checkout whose packages it runs (first on ``PYTHONPATH``), else the installed ones."""

    def __init__(self, command: list[str], folder: Path, code: Path | None = None) -> None:
        self.socket_path = folder / f"notify-{time.monotonic_ns()}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.socket_path))
        env = {**os.environ, "NOTIFY_SOCKET": str(self.socket_path)}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        skipped = ("KIOSK_", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH")
        env = {k: v for k, v in env.items() if not k.startswith(skipped)}
        if code is not None:
            env["PYTHONPATH"] = str(code)  # its packages before the editable install's
        started = time.monotonic()
        self.command = " ".join(command[:4])
        self.proc = subprocess.Popen(
            command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.ready_s = self._wait_ready(started)

    def _wait_ready(self, started: float) -> float:
        self.sock.settimeout(0.5)
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise SystemExit(f"boot: {self.command} exited before READY=1:\n{err}")
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in message.split("\n"):
                return time.monotonic() - started
        raise SystemExit(f"boot: no READY=1 from {self.command} in {READY_TIMEOUT_S:.0f} s")

    def peak_rss_mb(self) -> float:
        """The process's peak resident set so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise SystemExit("boot: no VmHWM in /proc/PID/status")

    def stop(self) -> None:
        """SIGTERM, then wait; the socket goes."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()
        self.socket_path.unlink(missing_ok=True)


def cold_and_warm(folder: Path, kiosk: list[str], code: Path) -> tuple[float, float]:
    """The kiosk from the checkout ``code`` started with the page cache dropped, then again:
    seconds to the first page painted."""
    evict_page_cache(code)
    times = []
    for _ in range(2):
        started = Started(kiosk, folder, code)
        times.append(started.ready_s)
        started.stop()
    return times[0], times[1]


def one_round(
    folder: Path, kiosk: list[str], alone: list[str], against: Path | None, index: int
) -> tuple[float, ...]:
    """(kiosk cold, kiosk warm, Qt alone warm, Qt alone cold[, against cold, against warm])
    seconds to the first page painted; with ``against``, who goes first alternates from
    round to round."""
    trees = [REPO] if against is None else [REPO, against][:: -1 if index % 2 else 1]
    measured = {tree: cold_and_warm(folder, kiosk, tree) for tree in trees}
    evict_page_cache()
    times = []
    for _ in range(2):
        started = Started(alone, folder)
        times.append(started.ready_s)
        started.stop()
    limit_cold, limit = times
    cold, warm = measured[REPO]
    others = measured[against] if against is not None else ()
    line = (
        f"  kiosk cold {cold:.3f} s, warm {warm:.3f} s; "
        f"Qt alone cold {limit_cold:.3f} s, warm {limit:.3f} s"
    )
    if others:
        line += f"; against cold {others[0]:.3f} s, warm {others[1]:.3f} s"
    print(line, flush=True)
    return (cold, warm, limit, limit_cold, *others)


def main(argv: list[str] | None = None) -> int:
    """Run the rounds, then the long run for the peak RSS; print the JSON line(s)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.boot", description=__doc__)
    add_rounds_argument(parser)
    parser.add_argument("--minutes", type=float, default=10.0, help="the run for the peak RSS")
    parser.add_argument(
        "--against", type=Path, default=None, metavar="DIR",
        help="also start the kiosk from this checkout (e.g. a git worktree of the old code)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    machine = begin("boot")
    against = args.against.resolve() if args.against is not None else None
    for tree in (REPO, *([against] if against is not None else [])):
        print(f"byte-compiled {byte_compile(tree)} packages of {tree}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-boot-") as tmp:
        folder = Path(tmp)
        kiosk = [sys.executable, "-m", "kiosk.cli", "--config", str(kiosk_config(folder))]
        alone = [sys.executable, "-c", QT_ALONE, str(IMAGE)]
        print(f"page cache: {evict_page_cache()}", flush=True)
        rounds = [one_round(folder, kiosk, alone, against, i) for i in range(args.rounds)]
        columns = [Rounds(tuple(column)) for column in zip(*rounds, strict=True)]
        cold, warm, limit, limit_cold = columns[:4]
        print(f"kiosk cold: {cold.describe('s')}\nkiosk warm: {warm.describe('s')}")
        print(f"Qt alone:   {limit.describe('s')}\nQt alone cold: {limit_cold.describe('s')}")
        running = Started(kiosk, folder, REPO)
        time.sleep(args.minutes * 60)
        peak = running.peak_rss_mb()
        running.stop()
    print(f"peak RSS after {args.minutes:g} min: {peak:.1f} MB", flush=True)
    report_rounds(
        "boot", machine, cold, "s",
        "Qt alone showing one full-screen image, same machine, same run (warm)", limit,
        warm_s=round(warm.median, 3), warm_ratio=round(warm.median / limit.median, 3),
        alone_cold_s=round(limit_cold.median, 3),
        cold_ratio_to_alone_cold=round(cold.median / limit_cold.median, 3),
        goal_s=GOAL_S, peak_rss_mb=round(peak, 1), rss_minutes=args.minutes,
    )  # fmt: skip
    if against is not None:
        report_against(machine, against, columns)
    return 0


def report_against(machine: Machine, against: Path, columns: list[Rounds]) -> None:
    """The JSON line of this kiosk against the one from ``against``, same rounds: cold as
    the value (the ratio is this one's over that one's), warm beside it."""
    cold, warm, _limit, _limit_cold, old_cold, old_warm = columns
    report_rounds(
        "boot-against", machine, cold, "s",
        f"the kiosk from {against}, cold, in the same rounds (alternating)", old_cold,
        warm_s=round(warm.median, 3), against_warm_s=round(old_warm.median, 3),
        warm_ratio=round(warm.median / old_warm.median, 3),
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
