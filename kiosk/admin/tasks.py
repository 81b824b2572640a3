"""Run a slow call off the UI thread and get its result back on the UI thread.

The idiom of Anki's ``QueryOp``: ``run_off_ui(fn, on_done)`` runs ``fn()`` on Qt's thread
pool and calls ``on_done(result, error)`` on the UI thread through a queued signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

_running: set[_Relay] = set()


class _Relay(QObject):
    done = Signal(object, object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:
            log.debug("admin task failed", exc_info=True)
            self._relay.done.emit(None, exc)
        else:
            self._relay.done.emit(result, None)


def run_off_ui(fn: Callable[[], Any], on_done: Callable[[Any, Exception | None], None]) -> None:
    """Run ``fn`` on the thread pool; ``on_done(result, error)`` runs on the calling
    (UI) thread afterwards. ``error`` is the exception ``fn`` raised, else None."""
    relay = _Relay()  # lives on the UI thread, so its signal is delivered there (queued)
    _running.add(relay)

    def finish(result: Any, error: Exception | None) -> None:
        _running.discard(relay)
        on_done(result, error)

    relay.done.connect(finish)
    QThreadPool.globalInstance().start(_Job(fn, relay))


def pending() -> int:
    """How many tasks have not reported back yet (tests wait for 0)."""
    return len(_running)
