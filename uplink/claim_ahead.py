"""Claiming the next batches while the current ones are on the wire.

A claim is a SQLite transaction that reads a batch's events and leases them (about 2-3 ms
for a 64 KB batch on a small kiosk PC). Made on the uplink thread, between publishes, each
claim stopped the network: no PUBACK was read and nothing was written while SQLite worked,
so the in-flight window ran dry at every batch (benchmarks.uplink_drain measured claims at
half the uplink thread's time). :class:`ClaimAhead` makes the claims, and serialises the
claimed batches into messages, on a thread of its own, keeping up to ``depth`` batches
ready; the uplink thread takes them as the window opens. The same thread marks the
acknowledged batches sent (``housekeeping``, asked for by :meth:`ClaimAhead.nudge`): with
claims and marks on two threads, each waited on the other's write lock, and SQLite's busy
handler sleeps 1, 2, 5, 10 ms... between tries, stalling the network thread at random.

Nothing is lost or sent twice by claiming ahead: a batch ready but not taken is still
leased to this run, and :meth:`ClaimAhead.stop` returns it so the uplink gives it back to
the outbox (same id, same events) with the batches it had in flight.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from storage import OutboxBatch
from uplink.batch import UplinkMessage, serialise_json

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReadyBatch:
    """A claimed batch and the messages that carry it, oldest first."""

    batch: OutboxBatch
    messages: list[UplinkMessage]

    @classmethod
    def of(
        cls, batch: OutboxBatch, *, store_id: str, kiosk_id: str, max_message_bytes: int
    ) -> ReadyBatch:
        """``batch`` serialised into the messages that carry it."""
        messages = serialise_json(
            batch.batch_id,
            batch.jsons,
            batch.timestamps,
            store_id=store_id,
            kiosk_id=kiosk_id,
            max_message_bytes=max_message_bytes,
        )
        return cls(batch, messages)


class ClaimAhead:
    """Claims batches on the ``uplink-claims`` thread, up to ``depth`` ahead of the sender.

    ``claim()`` returns the next batch ready to publish (claimed and serialised) or None
    when the outbox had nothing; ``housekeeping()`` (the marks) runs before each claim and
    after each :meth:`nudge`; both run on the claims thread only. Lifecycle: ``start()``,
    ``take()`` and ``nudge()`` from one thread (the uplink's), ``stop()`` once, which
    returns the batches claimed and not taken (the caller releases them). An exception from
    either stops the claiming and is raised by the next ``take()``.
    """

    def __init__(
        self,
        claim: Callable[[], ReadyBatch | None],
        depth: int,
        housekeeping: Callable[[], None] = lambda: None,
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, not {depth}")
        self._claim = claim
        self._housekeeping = housekeeping
        self._depth = depth
        self._ready: deque[ReadyBatch] = deque()
        self._changed = threading.Condition()
        # Guarded by _changed: the outbox was empty at the last claim (the next take() asks
        # for another try), claiming is over, and why it ended if it failed.
        self._empty = False
        self._nudged = False
        self._stopping = False
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="uplink-claims", daemon=True)

    def start(self) -> None:
        """Start claiming."""
        self._thread.start()

    def take(self) -> tuple[ReadyBatch | None, bool]:
        """The oldest ready batch, or None; and whether the outbox was empty at the last
        try (the caller then waits its idle interval; otherwise a claim is under way).
        Raises the exception that stopped the claiming."""
        with self._changed:
            if self._ready:
                ready = self._ready.popleft()
                self._changed.notify_all()
                return ready, False
            if self._error is not None:
                raise self._error
            empty = self._empty
            if empty:
                self._empty = False  # try again at once: new events may be there by now
                self._changed.notify_all()
            return None, empty

    def nudge(self) -> None:
        """Ask for the housekeeping to run soon (acknowledged batches to mark)."""
        with self._changed:
            self._nudged = True
            self._changed.notify_all()

    def wait_ready(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for a batch to be ready, a claim to find the outbox
        empty or the claiming to fail."""
        with self._changed:
            self._changed.wait_for(
                lambda: bool(self._ready) or self._empty or self._error is not None, timeout
            )

    def stop(self, timeout: float = 10.0) -> list[OutboxBatch]:
        """Stop claiming, wait for a claim under way, and return the batches claimed and not
        taken, oldest first (they are still leased: the caller releases them)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("uplink: a claim still runs after %.1f s; its lease expires", timeout)
        with self._changed:
            left = [ready.batch for ready in self._ready]
            self._ready.clear()
        return left

    def _wanted(self) -> bool:
        return len(self._ready) < self._depth and not self._empty

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._nudged or self._wanted())
                if self._stopping:
                    return
                self._nudged = False
                claiming = self._wanted()
            try:
                self._housekeeping()
                ready = self._claim() if claiming else None
            except Exception as exc:
                with self._changed:
                    self._error = exc
                    self._changed.notify_all()
                return
            with self._changed:
                if ready is not None:
                    self._ready.append(ready)
                elif claiming:
                    self._empty = True
                self._changed.notify_all()
