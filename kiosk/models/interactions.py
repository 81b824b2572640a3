"""The one place every interaction becomes an event on its way to the event log.

``EventRecorder.record(type, page=, element=, payload=)`` is ``KioskServices.record``: it
fills the session id and the simulated flag, builds a ``storage.Event`` and appends it to
the sink (``storage.EventLog`` in the product). It never raises into the UI: a rejected
event is logged and dropped, a broken sink is logged once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import uuid_utils

from kiosk.services import EventSink
from settings import KioskConfig

log = logging.getLogger(__name__)

#: Events a ``MemorySink`` keeps (the newest).
MEMORY_KEEP = 10_000


@dataclass(frozen=True)
class KioskEvent:
    """Schema v1 event with the fields of ``storage.Event``, used when the storage package
    is not available (tests of the shopper screen, a kiosk whose storage failed)."""

    id: str
    ts: str
    mono_ns: int
    clock_synced: bool
    store_id: str
    kiosk_id: str
    session_id: str | None
    type: str
    page: str | None
    element: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False

    def to_json_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict."""
        return asdict(self)


_factory: list[Callable[..., Any] | None] = []


def _storage_event_factory() -> Callable[..., Any] | None:
    # looked up once per process: ``storage.Event.create`` or None when storage lacks it
    if not _factory:
        try:
            import storage
        except ImportError:
            _factory.append(None)
        else:
            _factory.append(getattr(getattr(storage, "Event", None), "create", None))
    return _factory[0]


def make_event(
    type: str,
    *,
    session_id: str | None,
    page: str | None,
    element: str | None,
    payload: dict[str, Any],
    simulated: bool,
    store_id: str,
    kiosk_id: str,
) -> Any:
    """A ``storage.Event`` when storage is there, else a ``KioskEvent`` with the same fields."""
    create = _storage_event_factory()
    if create is not None:
        return create(
            type,
            session_id=session_id,
            page=page,
            element=element,
            payload=payload,
            simulated=simulated,
            store_id=store_id,
            kiosk_id=kiosk_id,
        )
    now = dt.datetime.now(dt.UTC)
    return KioskEvent(
        id=str(uuid_utils.uuid7()),
        ts=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        mono_ns=time.monotonic_ns(),
        clock_synced=False,
        store_id=store_id,
        kiosk_id=kiosk_id,
        session_id=session_id,
        type=type,
        page=page,
        element=element,
        payload=payload,
        simulated=simulated,
    )


class MemorySink:
    """Keeps the newest events in memory: the sink while storage is absent, and in tests."""

    def __init__(self, keep: int = MEMORY_KEEP) -> None:
        self.events: deque[Any] = deque(maxlen=keep)

    def append(self, event: Any) -> None:
        """Keep one event."""
        self.events.append(event)

    def of_type(self, type: str) -> list[Any]:
        """The kept events of one type, oldest first."""
        return [e for e in self.events if e.type == type]


class EventRecorder:
    """Builds events from interactions and hands them to ``sink``."""

    def __init__(
        self,
        config: KioskConfig,
        sink: EventSink,
        *,
        session_id: Callable[[], str | None] = lambda: None,
        simulated: Callable[[], bool] = lambda: False,
    ) -> None:
        self.config = config
        self.sink = sink
        self.session_id = session_id
        self.simulated = simulated
        self.recorded = 0
        self._sink_failed = False

    def record(
        self,
        type: str,
        *,
        page: str | None = None,
        element: str | None = None,
        payload: dict[str, Any] | None = None,
        session_id: str | None = None,
        simulated: bool = False,
    ) -> None:
        """Record one interaction now (``session_id`` overrides the current session's, for
        the ``session.end`` of a session that has just ended; ``simulated`` marks an event
        simulated presence caused, whatever the kiosk's mode)."""
        try:
            event = make_event(
                type,
                session_id=session_id if session_id is not None else self.session_id(),
                page=page,
                element=element,
                payload=dict(payload or {}),
                simulated=simulated or self.simulated(),
                store_id=self.config.kiosk.store_id,
                kiosk_id=self.config.kiosk.kiosk_id,
            )
        except ValueError as exc:
            log.warning("event %s on page %s not recorded: %s", type, page, exc)
            return
        try:
            self.sink.append(event)
        except Exception:
            if not self._sink_failed:
                log.exception("the event log refused an event; interactions are being lost")
                self._sink_failed = True
            return
        self._sink_failed = False
        self.recorded += 1
