"""The fleet's jobs in the running kiosk: :class:`fleet.jobs.KioskHooks` on the real window.

:class:`WindowHooks` answers what a job asks (is a shopper session open, show this bundle, is
the experience showing, a PNG of the screen, restart) from the ``fleet-jobs`` thread: each
question is posted to the UI thread through the :class:`~kiosk.tasks.TaskRunner` and its
answer awaited with a timeout; loading a bundle's experience is done on the asking thread,
never on the UI thread. Not wired into ``kiosk/app.py`` yet (docs/fleet.md, "Jobs").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QBuffer, QIODevice

from designer_import import load_experience

if TYPE_CHECKING:
    from fleet.bundles import ActiveBundle
    from kiosk.screen.window import KioskWindow
    from kiosk.tasks import TaskRunner

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

    def _on_ui(self, question: Callable[[], T]) -> T:
        """``question()`` run on the UI thread, its answer (or its exception) returned here."""
        if threading.current_thread() is threading.main_thread():
            raise RuntimeError("the fleet's job hooks are not called on the UI thread")
        answer: Future[T] = Future()

        def ask() -> None:
            if not answer.set_running_or_notify_cancel():
                return  # the job gave up waiting
            try:
                answer.set_result(question())
            except Exception as exc:  # handed to the job, which fails with it
                answer.set_exception(exc)

        self._tasks.post(ask)
        try:
            return answer.result(self._timeout_s)
        except FutureTimeout:
            answer.cancel()
            raise TimeoutError(
                f"the kiosk's window did not answer in {self._timeout_s:g} s"
            ) from None

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
