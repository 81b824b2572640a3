"""The dashboards' SQLite reader, run in a child process at a lower CPU priority.

Why a process and not the task lane's thread: with the rollups a refresh reads a few
hundred rows, but the rate window's first read still takes every product event of the last
ten minutes (on a busy kiosk, or in ``python -m benchmarks.dashboards`` right after a
million events were written, hundreds of thousands of rows), and turning rows into Python
objects, SQLAlchemy's statement building and its result handling all hold the GIL. On a
thread of the kiosk process that work makes the UI thread, which needs the GIL for every
paint, miss frames. In a child it costs the UI thread nothing, and ``os.nice`` makes it give
way to the kiosk, Redis and the camera pipeline on a small PC's two cores. The page still
runs its reads through the kiosk's :class:`~kiosk.tasks.TaskRunner` (the lane thread waits
on this process), which delivers the snapshot on the UI thread.

No Qt here: the child imports this module and :mod:`storage.queries`, and is spawned, not
forked, so it inherits no Qt or lock state.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from storage.queries import DayViews, StatsReader

log = logging.getLogger(__name__)

#: Longest wait for one query before the dashboards report an error (and start a new child).
CALL_TIMEOUT_S = 120.0
#: How much nicer than the kiosk the child runs (``os.nice``; 19 is the least favoured).
NICE = 10

_reader: StatsReader | None = None


def _open(database: str) -> None:
    """In the child: lower its priority, open the reader once."""
    global _reader
    try:
        os.nice(NICE)
    except OSError as exc:  # not on this platform, or not allowed: it still works
        log.info("the dashboards' reader keeps the kiosk's priority: %s", exc)
    _reader = StatsReader(Path(database))


def _reader_open() -> StatsReader:
    if _reader is None:
        raise RuntimeError("the statistics reader is not open")
    return _reader


def _day_views(day: str, min_support: float, pairs_limit: int) -> DayViews:
    """In the child: :meth:`StatsReader.day_views`."""
    return _reader_open().day_views(day, min_support=min_support, pairs_limit=pairs_limit)


def _recent_rates(window_s: float, now: float, busiest: int) -> list[tuple[float, str, int]]:
    """In the child: :meth:`StatsReader.recent_rates` (the child keeps the window)."""
    return _reader_open().recent_rates(window_s, now, busiest=busiest)


def _niceness() -> int:
    """In the child: its nice value."""
    return os.nice(0)


class StatsProcess:
    """The :class:`storage.queries.StatsReader` calls the dashboards make, answered by one
    child process over ``database`` (read-only), :data:`NICE` steps nicer than the kiosk.

    Lifecycle: the child starts with the object; each call blocks the calling thread (never
    the UI thread: the dashboards' task lane) until the answer comes; :meth:`close` ends the
    child. A call raises what the reader raised, ``TimeoutError`` after
    :data:`CALL_TIMEOUT_S`, or ``BrokenProcessPool`` when the child died; the caller closes
    this object and opens a new one.
    """

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_open,
            initargs=(str(self.database),),
        )

    def day_views(self, day: str, *, min_support: float, pairs_limit: int) -> DayViews:
        """See :meth:`storage.queries.StatsReader.day_views`."""
        future = self._pool.submit(_day_views, day, min_support, pairs_limit)
        return future.result(timeout=CALL_TIMEOUT_S)

    def recent_rates(
        self, *, window_s: float, now: float, busiest: int
    ) -> list[tuple[float, str, int]]:
        """See :meth:`storage.queries.StatsReader.recent_rates` (the ``busiest`` products'
        rows only: they are all the parent needs, and all it pays to unpickle)."""
        future = self._pool.submit(_recent_rates, window_s, now, busiest)
        return future.result(timeout=CALL_TIMEOUT_S)

    def niceness(self) -> int:
        """The child's nice value (what the OS scheduler sees)."""
        return self._pool.submit(_niceness).result(timeout=CALL_TIMEOUT_S)

    def close(self) -> None:
        """End the child (it closes its connection on the way out)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
