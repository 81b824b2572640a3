"""Per-batch hooks: work the event log's writer does in each batch's own transaction.

A hook (the dashboards' rollups, :mod:`storage.rollups`) sees every batch the writer
inserts, before it commits, on the writer's connection: what it writes is committed with
the batch's events or not at all, so a count can never miss or repeat a batch.

A hook that raises does not cost the batch: its writes are rolled back to a savepoint taken
before it ran, the events are committed, the failure is logged (once per message) and shown
in ``StorageHealth.batch_hook_failures`` / ``batch_hook_error``. Events are the truth; what a
hook derives from them can be rebuilt from them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from storage.records import Row

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WrittenBatch:
    """One batch the writer inserted, inside its transaction (not committed yet).

    The events table's seqs ``first_seq`` to ``last_seq`` hold the batch's inserted events
    (an event whose id was stored already is not inserted again: ``rows`` may hold a few
    more than that range). ``connection`` is the writer's, in the batch's transaction.
    """

    connection: Connection
    first_seq: int
    last_seq: int
    rows: Sequence[Row]


#: A hook: called on the writer thread with each batch, in its transaction.
BatchHook = Callable[[WrittenBatch], None]


@dataclass(frozen=True, slots=True)
class HookFailures:
    """How often the batch hooks failed since the start, and the last failure."""

    failures: int = 0
    error: str | None = None


class BatchHooks:
    """The hooks the writer runs per batch, each behind a savepoint. Writer thread only."""

    def __init__(self, hooks: Sequence[BatchHook] = ()) -> None:
        self.hooks = tuple(hooks)
        self._failures = 0
        self._error: str | None = None

    def run(self, db: sqlite3.Connection, batch: WrittenBatch) -> None:
        """Run every hook on ``batch``; ``db`` is the sqlite3 connection under
        ``batch.connection``. A hook's failure rolls back its own writes only."""
        for hook in self.hooks:
            db.execute("SAVEPOINT batch_hook")
            try:
                hook(batch)
            except Exception as exc:
                db.execute("ROLLBACK TO batch_hook")
                self._failed(hook, exc)
            db.execute("RELEASE batch_hook")

    def _failed(self, hook: BatchHook, exc: Exception) -> None:
        name = getattr(hook, "__qualname__", type(hook).__name__)
        message = f"{name}: {type(exc).__name__}: {exc}"
        self._failures += 1
        if message != self._error:
            log.error(
                "event log: the batch hook %s failed; the batch's events are stored, what "
                "the hook derives from them is not (%d failures so far)",
                message,
                self._failures,
                exc_info=exc,
            )
        self._error = message

    def snapshot(self) -> HookFailures:
        """The failures so far (any thread)."""
        return HookFailures(self._failures, self._error)
