"""The dashboards' statistics reader, run in a child process.

The day's views turn every row of the day into figures in Python (presence episodes, pair
baskets, hours of the day). On a thread of the kiosk process that work holds the GIL for
seconds on a busy day, and the UI thread, which needs the GIL to run pyqtgraph's paint code,
misses frames (``python -m benchmarks.dashboards``: p99 33 ms with a million events). In a
child process it costs the UI nothing. No Qt here: the child imports this module and
:mod:`storage.queries`, and is spawned, not forked, so it inherits no Qt or lock state.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from storage.queries import Since, StatsReader

log = logging.getLogger(__name__)

#: Longest wait for one query before the dashboards report an error (and start a new child).
CALL_TIMEOUT_S = 120.0

_reader: StatsReader | None = None


def _open(database: str) -> None:
    """In the child: open the reader once."""
    global _reader
    _reader = StatsReader(Path(database))


def _call(method: str, kwargs: dict[str, Any]) -> Any:
    """In the child: one reader call."""
    if _reader is None:
        raise RuntimeError("the statistics reader is not open")
    return getattr(_reader, method)(**kwargs)


class StatsProcess:
    """The :class:`storage.queries.StatsReader` calls the dashboards make, answered by one
    child process over ``database`` (read-only).

    Lifecycle: the child starts with the object; each call blocks the calling thread (never
    the UI thread: the admin data thread) until the answer comes; :meth:`close` ends the
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

    def _ask(self, method: str, **kwargs: Any) -> Any:
        return self._pool.submit(_call, method, kwargs).result(timeout=CALL_TIMEOUT_S)

    def product_rate(
        self, window_s: float = 600, bucket_s: float = 1, now: float | None = None
    ) -> list[tuple[float, str, int]]:
        """See :meth:`storage.queries.StatsReader.product_rate`."""
        result: list[tuple[float, str, int]] = self._ask(
            "product_rate", window_s=window_s, bucket_s=bucket_s, now=now
        )
        return result

    def top_products(self, n: int, since: Since) -> list[tuple[str, int]]:
        """See :meth:`storage.queries.StatsReader.top_products`."""
        result: list[tuple[str, int]] = self._ask("top_products", n=n, since=since)
        return result

    def funnel(self, since: Since) -> dict[str, int]:
        """See :meth:`storage.queries.StatsReader.funnel`."""
        result: dict[str, int] = self._ask("funnel", since=since)
        return result

    def dwell_histogram(self, bins: int, since: Since) -> tuple[list[float], list[int]]:
        """See :meth:`storage.queries.StatsReader.dwell_histogram`."""
        result: tuple[list[float], list[int]] = self._ask("dwell_histogram", bins=bins, since=since)
        return result

    def pairs(
        self, min_support: float, limit: int, since: Since
    ) -> list[tuple[str, str, float, float]]:
        """See :meth:`storage.queries.StatsReader.pairs`."""
        result: list[tuple[str, str, float, float]] = self._ask(
            "pairs", min_support=min_support, limit=limit, since=since
        )
        return result

    def traffic_by_hour(self, since: Since) -> list[tuple[int, int, int]]:
        """See :meth:`storage.queries.StatsReader.traffic_by_hour`."""
        result: list[tuple[int, int, int]] = self._ask("traffic_by_hour", since=since)
        return result

    def events_today(self) -> int:
        """See :meth:`storage.queries.StatsReader.events_today`."""
        return int(self._ask("events_today"))

    def close(self) -> None:
        """End the child (it closes its connection on the way out)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
