"""The fleet's jobs in the running kiosk: :class:`fleet.jobs.KioskHooks` on the real window.

:class:`WindowHooks` answers what a job asks (is a shopper session open, show this bundle, is
the experience showing, a PNG of the screen, restart) from the ``fleet-jobs`` thread: each
question is posted to the UI thread through the :class:`~kiosk.tasks.TaskRunner` and its
answer awaited with a timeout; loading a bundle's experience is done on the asking thread,
never on the UI thread.

The composition root (``kiosk/app.py``, ``[fleet] jobs``) calls :func:`recover_bundles`
before the window loads its first experience (a kiosk killed mid-deployment starts on a
whole bundle) and shows the active bundle through :class:`FleetHistory`; behind the first
page :func:`start_jobs` starts the :class:`~fleet.jobs.JobsAgent`, and :meth:`FleetJobs.stop`
stops it with the kiosk (docs/fleet.md, "Jobs").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QBuffer, QIODevice

from designer_import import load_experience

if TYPE_CHECKING:
    from fleet.bundles import ActiveBundle, BundleStore
    from fleet.jobs import JobsAgent
    from kiosk.admin.library import ContentEntry, ContentLibrary
    from kiosk.screen.window import KioskWindow
    from kiosk.tasks import TaskRunner
    from settings import KioskConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a job waits for the UI thread to answer one question.
UI_TIMEOUT_S = 10.0


class WindowHooks:
    """The jobs' view of the kiosk (``fleet.jobs.KioskHooks``), for any thread but the UI's.

    ``configured`` is what shows when no bundle is active (``[kiosk] experience``);
    ``restart`` is the composition root's way to restart the kiosk (run on the UI thread).
    """

    def __init__(
        self,
        *,
        window: KioskWindow,
        tasks: TaskRunner,
        configured: Path,
        restart: Callable[[str], None],
        timeout_s: float = UI_TIMEOUT_S,
    ) -> None:
        self._window = window
        self._tasks = tasks
        self._configured = configured
        self._restart = restart
        self._timeout_s = timeout_s
        #: the questions waiting for the UI thread, answered at :meth:`close`
        self._waiting: set[Future[Any]] = set()
        self._closed = False
        self._lock = threading.Lock()

    def close(self) -> None:
        """The kiosk is stopping (UI thread): a question waiting for the window, and any
        asked later, fails at once instead of waiting for a UI thread that is busy stopping."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, set()
        for future in waiting:  # each on this thread or given up by its job: none answered yet
            if not future.done() and future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("the kiosk is stopping"))

    def _on_ui(self, question: Callable[[], T]) -> T:
        """``question()`` run on the UI thread, its answer (or its exception) returned here."""
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("the fleet's job hooks are not called on the UI thread")
        answer: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the kiosk is stopping")
            self._waiting.add(answer)

        def ask() -> None:
            if answer.done() or not answer.set_running_or_notify_cancel():
                return  # the job gave up waiting, or the kiosk is stopping
            try:
                answer.set_result(question())
            except Exception as exc:  # handed to the job, which fails with it
                answer.set_exception(exc)

        try:
            self._tasks.post(ask)
            return answer.result(self._timeout_s)
        except FutureTimeout:
            answer.cancel()
            raise TimeoutError(
                f"the kiosk's window did not answer in {self._timeout_s:g} s"
            ) from None
        finally:
            with self._lock:
                self._waiting.discard(answer)

    def shopper_session_open(self) -> bool:
        """True while a shopper session is open on the window."""
        return self._on_ui(lambda: self._window.session.session_id is not None)

    def show_bundle(self, bundle: ActiveBundle | None) -> None:
        """Load the bundle's experience here, then show it from attract on the window."""
        path = bundle.path if bundle is not None else self._configured
        experience = load_experience(path)  # DrawioError: one line, the job's reason
        self._on_ui(lambda: self._window.activate_experience(path, experience))
        log.info("fleet jobs: the window shows %s", path)

    def health_problem(self) -> str | None:
        """Why the chosen experience does not show (a stand-in or "back soon"), else None."""
        problem = self._on_ui(self._window.experience_error)
        return None if problem is None else f"the experience does not show: {problem}"

    def screenshot_png(self) -> bytes:
        """A PNG of the shopper window (what the screen shows; no camera is involved)."""
        return self._on_ui(self._grab)

    def _grab(self) -> bytes:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not self._window.grab().save(buffer, "PNG"):
            raise RuntimeError("the window's picture could not be written as PNG")
        return bytes(buffer.data().data())

    def restart(self, reason: str) -> None:
        """Ask the composition root to restart the kiosk (on the UI thread; returns at once)."""
        self._tasks.post(lambda: self._restart(reason))


class BundleEntry:
    """The fleet's active bundle as an entry of the activation history (``role`` "fleet")."""

    def __init__(self, bundle: ActiveBundle) -> None:
        self.path = str(bundle.path)
        self.role = "fleet"


class FleetHistory:
    """What the kiosk shows at start when the fleet's jobs are on: the active bundle, unless
    staff activated an experience on the Content page after the fleet activated it (the
    newer choice wins, and the log says which and why)."""

    def __init__(
        self, library: ContentLibrary, bundle: ActiveBundle | None, activated_at: float
    ) -> None:
        self._library = library
        self._bundle = bundle
        self._activated_at = activated_at

    def active(self) -> ContentEntry | BundleEntry | None:
        """The entry to show now (``ActivationHistory``)."""
        entry = self._library.active()
        if self._bundle is None:
            return entry
        if entry is not None and entry.role != "config" and entry.activated_at > self._activated_at:
            log.info("fleet: showing %s, activated on the kiosk after the fleet's bundle %s",
                     entry.path, self._bundle.bundle_id)  # fmt: skip
            return entry
        log.info("fleet: showing bundle %s (%s)", self._bundle.bundle_id, self._bundle.path)
        return BundleEntry(self._bundle)


def recover_bundles(config: KioskConfig) -> tuple[BundleStore, FleetHistory]:
    """The kiosk's bundles (``<data_dir>/bundles``) made consistent after whatever stopped the
    kiosk (``BundleStore.recover``), and the history to start the window with. Runs before
    the first page: it reads a pointer and the bundles' manifests. A folder that cannot be
    recovered is logged, and the kiosk starts on what staff or the config chose."""
    from fleet.bundle_errors import BundleError
    from fleet.bundles import POINTER, BundleStore
    from kiosk.admin.library import ContentLibrary

    store = BundleStore(config.data_path(""))
    library = ContentLibrary.for_config(config)
    try:
        active = store.recover()
        activated_at = (store.root / POINTER).stat().st_mtime if active is not None else 0.0
    except (BundleError, OSError) as exc:
        log.error("fleet: the bundles in %s cannot be recovered (%s): no bundle is shown",
                  store.root, exc)  # fmt: skip
        return store, FleetHistory(library, None, 0.0)
    return store, FleetHistory(library, active, activated_at)


class FleetJobs:
    """The running kiosk's jobs agent and the window hooks it asks through."""

    def __init__(self, agent: JobsAgent, hooks: WindowHooks) -> None:
        self.agent = agent
        self.hooks = hooks
        self._stopped = False

    def stop(self) -> None:
        """Stop the agent (UI thread; safe twice): its job stops where it is, a question it
        is waiting on the window for fails at once, and the job stays IN_PROGRESS."""
        if self._stopped:
            return
        self._stopped = True
        self.agent.stopping()
        self.hooks.close()
        self.agent.stop()


def start_jobs(
    config: KioskConfig,
    *,
    window: KioskWindow,
    tasks: TaskRunner,
    bundles: BundleStore,
    restart: Callable[[str], None],
) -> FleetJobs | None:
    """Start the fleet's jobs agent when ``[fleet] jobs`` is on (any thread: the boot lane);
    None when it is off or cannot start (logged: the kiosk runs on without it)."""
    if not config.fleet.jobs:
        return None
    from fleet.bundle_errors import BundleError
    from fleet.bundles import trusted_keys
    from fleet.jobs import JobsAgent, JobsSetup, jobs_endpoint
    from fleet.shadow import ShadowEndpoint, ShadowError

    try:
        endpoint = jobs_endpoint(ShadowEndpoint.of_config(config))
        trusted = trusted_keys(config.fleet.bundle_keys)
    except (ShadowError, BundleError) as exc:
        log.error("%s: the kiosk runs without the fleet's jobs", exc)
        return None
    hooks = WindowHooks(
        window=window, tasks=tasks, configured=config.kiosk.experience, restart=restart
    )
    setup = JobsSetup(bundles, trusted, config.paths.log_dir, cafile=config.fleet.https_ca_file)
    agent = JobsAgent(endpoint, hooks, setup)
    agent.start()
    return FleetJobs(agent, hooks)
