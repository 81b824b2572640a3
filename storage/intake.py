"""The events appended and not yet taken by the writer: a queue with back-pressure."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.event import Event

log = logging.getLogger(__name__)

#: How long ``put`` waits for room in a full queue before it drops the event (loudly).
BACKPRESSURE_WAIT_S = 0.25
#: How often back-pressure is logged at most while it lasts.
BACKPRESSURE_LOG_EVERY_S = 10.0


class _StopMarker:
    """Put after the last event accepted before a stop."""


_STOP = _StopMarker()


@dataclass(frozen=True, slots=True)
class IntakeHealth:
    """The queue's state: depth, whether callers wait, events dropped for want of room."""

    queue_depth: int
    backpressure: bool
    events_dropped: int


@dataclass(frozen=True, slots=True)
class Taken:
    """What one :meth:`Intake.take` got: the events, and whether the stop marker came."""

    events: list[Event]
    stop_seen: bool


class Intake:
    """Events on their way from ``EventLog.append`` (any thread) to the writer thread.

    ``put`` returns at once while the queue has room; when it is full the caller waits up to
    :data:`BACKPRESSURE_WAIT_S` for room and then drops the event (counted, logged); while it
    stays full, drops come at once (no caller waits twice). ``held`` says how many events
    the writer holds in memory, for the log line.
    """

    def __init__(self, queue_max: int, held: Callable[[], int]) -> None:
        self.queue_max = queue_max
        self._held = held
        self._queue: queue.SimpleQueue[Event | _StopMarker] = queue.SimpleQueue()
        self._backpressure = False
        self._saturated = False
        self._logged_at = 0.0
        self.dropped = 0

    def depth(self) -> int:
        """Events queued now."""
        return self._queue.qsize()

    def put(self, event: Event) -> None:
        """Queue ``event`` (back-pressure when the queue is full, see the class)."""
        if self._queue.qsize() < self.queue_max:
            self._queue.put(event)
            return
        self._wait_for_room(event)

    def drop(self, event: Event, why: str) -> None:
        """Count and log an event that is not queued at all."""
        self.dropped += 1
        log.warning("event log %s: %s event not saved", why, event.type)

    def _wait_for_room(self, event: Event) -> None:
        self._backpressure = True
        now = time.monotonic()
        if now - self._logged_at > BACKPRESSURE_LOG_EVERY_S:
            self._logged_at = now
            log.warning(
                "event log back-pressure: %d events queued (queue_max %d); callers wait",
                self._queue.qsize(),
                self.queue_max,
            )
        deadline = now + (0.0 if self._saturated else BACKPRESSURE_WAIT_S)
        while self._queue.qsize() >= self.queue_max:
            if time.monotonic() >= deadline:
                self._saturated = True
                self.dropped += 1
                log.error(
                    "event log full (queue %d, memory %d): %s event DROPPED (%d so far)",
                    self._queue.qsize(),
                    self._held(),
                    event.type,
                    self.dropped,
                )
                return
            time.sleep(0.001)
        self._queue.put(event)

    def close(self) -> None:
        """Mark the end: the writer takes what was queued before it, then stops."""
        self._queue.put(_STOP)

    def relieve(self) -> None:
        """The writer thread's turn ended: back-pressure ends once the queue is half empty."""
        if self._queue.qsize() < self.queue_max // 2:
            self._backpressure = False
            self._saturated = False

    def take(self, limit: int, wait: float, gather: float) -> Taken:
        """Up to ``limit`` events: waits up to ``wait`` for the first, then up to ``gather``
        seconds for more (the writer's flush interval)."""
        q = self._queue
        try:
            items = [q.get(timeout=wait)]
        except queue.Empty:
            return Taken([], stop_seen=False)
        take = q.get_nowait
        deadline = time.monotonic() + gather
        while len(items) < limit and items[-1] is not _STOP:
            try:
                items.append(take())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(q.get(timeout=remaining))
                except queue.Empty:
                    break
        # close() puts the marker after the last event accepted
        stop_seen = items[-1] is _STOP
        if stop_seen:
            items.pop()
        return Taken([e for e in items if not isinstance(e, _StopMarker)], stop_seen)

    def take_rest(self) -> list[Event]:
        """Every event still queued (after the stop marker was seen)."""
        events: list[Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return events
            if not isinstance(item, _StopMarker):
                events.append(item)

    def health(self) -> IntakeHealth:
        """A snapshot (any thread)."""
        depth = self._queue.qsize()
        return IntakeHealth(depth, self._backpressure or depth >= self.queue_max, self.dropped)
