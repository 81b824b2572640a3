"""The rows the writer holds in memory until SQLite takes them, and the spill file behind them."""

from __future__ import annotations

import logging
from collections import deque
from itertools import islice

from storage.records import Row
from storage.spill import Spill

log = logging.getLogger(__name__)


class HeldRows:
    """Rows converted from events and not yet in SQLite, oldest first.

    While the database cannot be written, :meth:`keep_in_spill` copies the rows the spill
    file does not hold yet into it (fsync'd, so a kill -9 loses none); once every row is
    written the spill is cleared. Writer thread only; ``len`` from any thread.
    """

    def __init__(self, spill: Spill | None) -> None:
        self.spill = spill
        self._rows: deque[Row] = deque()
        #: The first rows that the spill file holds too.
        self.spilled = 0

    def __len__(self) -> int:
        return len(self._rows)

    def open_spill(self) -> None:
        """Open the spill file and hold what an earlier run left in it, first."""
        spill = self.spill
        if spill is None:
            return
        rows = spill.open()
        self._rows.extend(rows)
        if spill.usable:
            self.spilled = len(rows)
        else:
            self.spill = None

    def add(self, row: Row) -> None:
        """Hold one more row (the newest)."""
        self._rows.append(row)

    def first(self, n: int) -> list[Row]:
        """The ``n`` oldest rows (fewer when fewer are held)."""
        return list(islice(self._rows, n))

    def written(self, n: int) -> None:
        """The ``n`` oldest rows are in SQLite now (or rejected): let them go."""
        popleft = self._rows.popleft
        for _ in range(n):
            popleft()
        self.spilled = max(0, self.spilled - n)

    def spill_pending(self, database_open: bool) -> bool:
        """True when the spill file has work: rows to take (the database cannot take
        them) or records to clear."""
        spill = self.spill
        return spill is not None and (not spill.empty or (bool(self._rows) and not database_open))

    def keep_in_spill(self, database_open: bool) -> None:
        """Held rows not in the spill file yet go there (fsync'd) while the database cannot
        take them; once it holds every row, the spill is cleared. A failing spill file is
        logged and given up (rows are then held in memory only)."""
        spill = self.spill
        if spill is None:
            return
        try:
            if not self._rows:
                if not spill.empty:
                    spill.clear()
                self.spilled = 0
            elif not database_open and self.spilled < len(self._rows) and not spill.full:
                self.spilled += spill.add(list(islice(self._rows, self.spilled, None)))
        except OSError as exc:
            log.error(
                "event log: the spill file %s failed (%s); events held while the database "
                "cannot be written are kept in memory only from now on",
                spill.path,
                exc,
            )
            spill.close()
            self.spill = None

    def close(self, database_open: bool) -> None:
        """At stop: what the database did not take stays in the spill file; close it."""
        if self.spill is not None:
            self.keep_in_spill(database_open)
            if self.spill is not None:
                self.spill.close()
