"""The one place every interaction becomes an event on its way to the event log.

``EventRecorder.record(type, page=, element=, payload=)`` fills the session id and the
simulated flag, builds a ``storage.Event`` and appends it to the sink (``storage.EventLog``
in the product). Each shopper interaction has its own method here, so that its payload is
built in one place (a ``page.view`` or ``session.end`` looks the same whichever way the
page was left or the session ended). Nothing here raises into the UI: a rejected event is
logged and dropped, a broken sink is logged once.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from settings import KioskConfig
from storage import Event, EventRejected, EventType
from storage.event import JsonObject, JsonValue

if TYPE_CHECKING:
    from designer_import.model import Page
    from kiosk.models.session import SessionEnd

log = logging.getLogger(__name__)

#: Events a ``MemorySink`` keeps (the newest).
MEMORY_KEEP = 10_000


class EventSink(Protocol):
    """Where interactions go: ``storage.EventLog`` in the product, a ``MemorySink`` in tests
    and while storage could not start."""

    def append(self, event: Event) -> None:
        """Take one event; returns at once."""
        ...


class MemorySink:
    """Keeps the newest events in memory: the sink while storage is absent, and in tests."""

    def __init__(self, keep: int = MEMORY_KEEP) -> None:
        self.events: deque[Event] = deque(maxlen=keep)

    def append(self, event: Event) -> None:
        """Keep one event."""
        self.events.append(event)

    def of_type(self, type: str) -> list[Event]:
        """The kept events of one type, oldest first."""
        return [e for e in self.events if e.type == type]


def page_view_payload(page: Page, dwell_s: float) -> JsonObject:
    """A ``page.view``'s payload: how long the page was shown, its name, its product."""
    payload: JsonObject = {"dwell_ms": round(max(0.0, dwell_s) * 1000), "name": page.name}
    sku = page.properties.get("sku")
    if sku:
        payload["sku"] = sku
    return payload


def session_end_payload(ended: SessionEnd) -> JsonObject:
    """A ``session.end``'s payload: why and after how long, how many touches and pages."""
    return {
        "reason": ended.reason,
        "duration_s": ended.duration_s,
        "touches": ended.touches,
        "pages": ended.pages,
    }


class EventRecorder:
    """Builds events from interactions and hands them to ``sink`` (UI thread)."""

    def __init__(
        self,
        config: KioskConfig,
        sink: EventSink,
        *,
        session_id: Callable[[], str | None] = lambda: None,
        simulated: Callable[[], bool] = lambda: False,
        language: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.session_id = session_id
        self.simulated = simulated
        #: The shopper's language (``kiosk.models.languages``), put in every event's
        #: payload as ``language``; None: none is put.
        self.language = language
        #: How many interactions were handed to the sink since start.
        self.recorded = 0
        self._sink_failed = False

    def record(
        self,
        type: EventType | str,
        *,
        page: str | None = None,
        element: str | None = None,
        payload: JsonObject | None = None,
        session_id: str | None = None,
        simulated: bool = False,
    ) -> None:
        """Record one interaction now (``session_id`` overrides the current session's, for
        the ``session.end`` of a session that has just ended; ``simulated`` marks an event
        simulated presence caused, whatever the kiosk's mode); the payload gets the
        ``language`` the shopper reads unless it has one."""
        body = dict(payload or {})
        language = self.language()
        if language is not None:
            body.setdefault("language", language)
        try:
            event = Event.create(
                type,
                session_id=session_id if session_id is not None else self.session_id(),
                page=page,
                element=element,
                payload=body,
                simulated=simulated or self.simulated(),
                store_id=self.config.kiosk.store_id,
                kiosk_id=self.config.kiosk.kiosk_id,
            )
        except EventRejected as exc:
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

    # --- the shopper's interactions, each payload built here only ---------------------------

    def session_start(self, trigger: str, page: Page | None) -> None:
        """A session began: ``trigger`` is "touch", "presence" or "staff"."""
        self.record(
            EventType.SESSION_START,
            page=page.id if page else None,
            payload={"trigger": trigger},
        )

    def session_end(self, ended: SessionEnd, page: Page | None) -> None:
        """A session ended (recorded under its own id: the machine has let it go)."""
        self.record(
            EventType.SESSION_END,
            page=page.id if page else None,
            payload=session_end_payload(ended),
            session_id=ended.session_id,
            simulated=ended.simulated,
        )

    def page_view(self, page: Page, dwell_s: float, *, ended: SessionEnd | None = None) -> None:
        """The shopper left ``page`` after ``dwell_s`` seconds (``ended``: the session that
        ended while it showed, whose id and simulated flag the view belongs to)."""
        self.record(
            EventType.PAGE_VIEW,
            page=page.id,
            payload=page_view_payload(page, dwell_s),
            session_id=ended.session_id if ended is not None else None,
            simulated=ended.simulated if ended is not None else False,
        )

    def touch(self, page: Page, element: str | None, payload: JsonObject) -> None:
        """A tap (``x``/``y`` in the page, the element's ``sku``) or a swipe (``gesture``)."""
        self.record(EventType.TOUCH, page=page.id, element=element, payload=payload)

    def action(self, page: Page, element: str, name: str, params: Mapping[str, JsonValue]) -> None:
        """A kiosk action the shopper triggered (``back``, ``home``, a custom one)."""
        self.record(
            EventType.ACTION, page=page.id, element=element, payload={"action": name, **params}
        )

    def presence_change(self, page: Page | None, payload: JsonObject, *, simulated: bool) -> None:
        """The sensor saw someone move to another zone (``zone``, ``previous``, ...)."""
        self.record(
            EventType.PRESENCE_CHANGE,
            page=page.id if page else None,
            payload=payload,
            simulated=simulated,
        )

    def session_prompt(
        self, page: Page | None, step: str, payload: JsonObject, *, ended: SessionEnd | None = None
    ) -> None:
        """The "Still there?" prompt: ``step`` "shown" (``countdown_s``), "kept" (``by``
        touch or presence, ``after_s``) or "expired"/"ended" (``reason``, ``after_s``:
        ``ended`` is the session that ended under it, whose id it is recorded with)."""
        self.record(
            EventType.SESSION_PROMPT,
            page=page.id if page else None,
            payload={"prompt": "still-there", "step": step, **payload},
            session_id=ended.session_id if ended is not None else None,
            simulated=ended.simulated if ended is not None else False,
        )

    def list_shown(self, page: Page, element: str | None, skus: list[str], url: str | None) -> None:
        """The shopper's list to take home was shown: its ``skus`` and the link its QR code
        carries (None for an empty list: no code shows)."""
        self.record(
            EventType.LIST_SHOWN,
            page=page.id,
            element=element,
            payload={"skus": list[JsonValue](skus), "count": len(skus), "url": url},
        )

    def list_printed(
        self, page: Page, skus: list[str], error: str | None, *, session_id: str | None
    ) -> None:
        """The shopper asked for their list on paper: an ``action`` event ``print-list``
        with the ``skus`` and ``printed`` (``error`` says why not), under the session that
        asked (the slip may come out after it ended)."""
        payload: JsonObject = {"action": "print-list", "skus": list[JsonValue](skus)}
        payload["printed"] = error is None
        if error is not None:
            payload["error"] = error[:200]
        self.record(EventType.ACTION, page=page.id, payload=payload, session_id=session_id)
