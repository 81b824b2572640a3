"""The one way to run work off the UI thread (Anki's ``QueryOp`` idiom).

The composition root owns one :class:`TaskRunner` and hands it to whoever needs background
work::

    runner.run(load, name="experience load", lane="experience").on_success(show).on_failure(warn)

``fn`` runs on a worker thread and must not touch a widget; its result, or the exception it
raised, comes back on the UI thread through a queued Qt signal. A failure is logged with its
traceback on the worker and handed to the task's ``on_failure`` callback or, when it has
none, to the runner's failure handler (the app installs one that shows it): never swallowed.

``run`` is called on the UI thread. It starts the work at once; callbacks chained in the same
turn of the event loop are in place before any result arrives, because results are delivered
in a later turn.

Threads: a shared pool for independent work, and named serial *lanes* (one worker each) for
work that must not overlap or must happen in order (loading experiences one at a time).
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Workers of the shared pool (2 CPU cores; the work is mostly I/O or holds the GIL anyway).
POOL_WORKERS = 4

#: What a failure handler receives: the task's name and the exception its ``fn`` raised.
FailureHandler = Callable[[str, Exception], None]


class TaskRunnerClosed(RuntimeError):
    """``run`` or ``post`` after :meth:`TaskRunner.shutdown`."""


class Task(Generic[T]):
    """One piece of background work and what to do with its outcome (on the UI thread)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[Exception], None] | None = None
        #: True once the outcome was delivered on the UI thread.
        self.finished = False

    def on_success(self, callback: Callable[[T], None]) -> Task[T]:
        """Call ``callback(result)`` on the UI thread when ``fn`` returns."""
        self._on_success = callback
        return self

    def on_failure(self, callback: Callable[[Exception], None]) -> Task[T]:
        """Call ``callback(error)`` on the UI thread when ``fn`` raises (instead of the
        runner's failure handler); the error has been logged with its traceback already."""
        self._on_failure = callback
        return self

    def succeeded(self, result: T) -> None:
        """Deliver ``result`` (the runner calls this on the UI thread)."""
        self.finished = True
        if self._on_success is not None:
            self._on_success(result)

    def failed(self, error: Exception, fallback: FailureHandler) -> None:
        """Deliver ``error`` to ``on_failure``, else to ``fallback`` (the runner's handler;
        called on the UI thread)."""
        self.finished = True
        if self._on_failure is not None:
            self._on_failure(error)
        else:
            fallback(self.name, error)


class TaskRunner(QObject):
    """Runs callables off the UI thread and delivers their outcome on it.

    Built on the UI thread (it lives there: that is where its queued signal is delivered).
    """

    _deliver = Signal(object)

    def __init__(
        self,
        *,
        failure_handler: FailureHandler | None = None,
        workers: int = POOL_WORKERS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="task")
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._futures: set[Future[None]] = set()
        self._names: dict[Future[None], str] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._pending = 0
        self._failure_handler: FailureHandler = failure_handler or _log_unhandled
        #: The last failure no caller handled ("task name: error type: message"), for staff
        #: to see on the admin panel; None while there has been none.
        self.unhandled_failure: str | None = None
        self._deliver.connect(self._call, Qt.ConnectionType.QueuedConnection)

    def set_failure_handler(self, handler: FailureHandler) -> None:
        """What happens to a failure whose task has no ``on_failure`` (the app shows it)."""
        self._failure_handler = handler

    def run(self, fn: Callable[[], T], *, name: str, lane: str | None = None) -> Task[T]:
        """Start ``fn()`` on a worker and return its :class:`Task` to chain callbacks on.

        ``lane`` names a serial lane: tasks of one lane run one after the other, in the
        order given, on that lane's own thread. Raises :class:`TaskRunnerClosed` after
        :meth:`shutdown`.
        """
        task: Task[T] = Task(name)
        executor = self._executor(lane)
        with self._lock:
            if self._closed:
                raise TaskRunnerClosed(f"task {name!r}: the task runner has shut down")
            self._pending += 1
            future = executor.submit(self._work, task, fn)
            self._futures.add(future)
            self._names[future] = name
        future.add_done_callback(self._forget)
        return task

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the UI thread, from any thread (in a later turn of its loop)."""
        self._deliver.emit(fn)

    def pending(self) -> int:
        """Tasks whose outcome has not been delivered yet (tests wait for 0)."""
        return self._pending

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Take no more work, drop what has not started and wait up to ``timeout`` seconds
        for what runs; True when every worker finished in time (else they are logged).

        From now on no outcome is delivered: the parts that asked are stopping (a failure
        is still in the log, written on its worker)."""
        with self._lock:
            self._closed = True
            executors = [self._pool, *self._lanes.values()]
            running = set(self._futures)
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=True)
        # a cancelled future never counts as done for wait(): only what started is waited on
        running = {future for future in running if not future.cancelled()}
        _finished, late = concurrent.futures.wait(running, timeout=max(0.0, timeout))
        if late:
            names = ", ".join(sorted(self._names.get(f, "?") for f in late))
            log.warning("background tasks still running after %.1f s: %s", timeout, names)
            return False
        for executor in executors:
            executor.shutdown(wait=True)  # every worker is idle: this only joins threads
        return True

    # --- internals -------------------------------------------------------------------------

    def _executor(self, lane: str | None) -> ThreadPoolExecutor:
        if lane is None:
            return self._pool
        with self._lock:
            executor = self._lanes.get(lane)
            if executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lane-{lane}")
                self._lanes[lane] = executor
            return executor

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)
            self._names.pop(future, None)
        if future.cancelled():
            # dropped by shutdown before it started: nothing will be delivered for it
            self._deliver.emit(self._cancelled)

    def _cancelled(self) -> None:
        self._pending -= 1

    def _work(self, task: Task[T], fn: Callable[[], T]) -> None:
        # on a worker thread: no UI calls here
        try:
            result = fn()
        except Exception as exc:
            log.error("background task %r failed", task.name, exc_info=exc)
            self._deliver.emit(functools.partial(self._fail, task, exc))
        else:
            self._deliver.emit(functools.partial(self._succeed, task, result))

    def _call(self, fn: Callable[[], None]) -> None:
        # on the UI thread; an exception escaping a callback goes to sys.excepthook (the
        # app's: logged, and the shopper back to attract)
        fn()

    def _succeed(self, task: Task[T], result: T) -> None:
        self._pending -= 1
        if self._closed:
            log.debug("task %r finished after the shutdown: its result is not delivered", task.name)
            return
        task.succeeded(result)

    def _fail(self, task: Task[T], error: Exception) -> None:
        self._pending -= 1
        if self._closed:
            log.debug("task %r failed after the shutdown (logged above): not delivered", task.name)
            return
        task.failed(error, self._unhandled)

    def _unhandled(self, name: str, error: Exception) -> None:
        self.unhandled_failure = f"{name}: {type(error).__name__}: {error}"
        self._failure_handler(name, error)


def _log_unhandled(name: str, error: Exception) -> None:
    """The failure handler until the app installs its own: says nobody handled it."""
    log.error("background task %r failed and nothing handled it: %s", name, error)
