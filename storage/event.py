"""The interaction event, schema v1: what every touch, page view and presence change becomes."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

import uuid_utils

if TYPE_CHECKING:
    from storage.event_schema import EventCheck

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: The payload limit when no config says otherwise (``[storage] payload_max_bytes``).
PAYLOAD_MAX_BYTES = 4096
#: A JSON value as an event's payload holds it (what ``json.loads`` returns).
JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
#: An event's payload: a JSON object.
JsonObject: TypeAlias = dict[str, JsonValue]


class EventType(StrEnum):
    """The event types with a fixed name (schema v1); ``admin.*`` and ``system.*`` are open
    families of plain strings. A member is its string (``EventType.TOUCH == "touch"``)."""

    SESSION_START = "session.start"
    SESSION_END = "session.end"
    PAGE_VIEW = "page.view"
    TOUCH = "touch"
    ACTION = "action"
    PRESENCE_CHANGE = "presence.change"
    #: The "Still there?" prompt of an idle session: shown, kept (answered) or expired.
    SESSION_PROMPT = "session.prompt"
    #: The shopper's list to take home was shown (its SKUs and the QR code's link).
    LIST_SHOWN = "list.shown"


#: Types with a fixed name; ``admin.*`` and ``system.*`` are open families.
FIXED_TYPES = frozenset(EventType)
OPEN_FAMILIES = ("admin.", "system.")
#: Event types that count as an interaction with a product when the payload names a ``sku``.
PRODUCT_TYPES = frozenset({EventType.TOUCH, EventType.ACTION, EventType.PAGE_VIEW})
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$|^[a-z][a-z0-9_]*$")
_ID_MAX = 128


class EventRejected(ValueError):
    """An event that cannot be stored (unknown type, oversized or non-JSON payload)."""


def utc_iso(ts: dt.datetime) -> str:
    """``2026-11-23T03:28:39.123456Z`` for an aware UTC datetime."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _ClockSync:
    """Whether the kernel says the wall clock is synchronised (NTP/chrony), cached a minute."""

    REFRESH_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = -1e18
        self._synced = False
        self._adjtimex: Callable[[ctypes.Array[ctypes.c_char]], int] | None = None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            self._adjtimex = libc.adjtimex
        except (OSError, AttributeError):
            self._adjtimex = None

    def synced(self) -> bool:
        now = time.monotonic()
        if now - self._checked < self.REFRESH_S:
            return self._synced
        with self._lock:
            self._checked = now
            self._synced = self._probe()
        return self._synced

    def _probe(self) -> bool:
        if self._adjtimex is None:
            return False
        # struct timex is about 208 bytes on 64-bit Linux; modes = 0 (the first int) only reads.
        buf = ctypes.create_string_buffer(512)
        state = int(self._adjtimex(buf))
        time_error = 5  # TIME_ERROR: the clock is not synchronised
        return 0 <= state != time_error


_clock = _ClockSync()


def clock_synced() -> bool:
    """True when the kernel reports a synchronised wall clock."""
    return _clock.synced()


_checks: list[EventCheck] = []


def _schema_check() -> EventCheck:
    """The process's ``EventCheck`` (storage.event_schema imports this module: made on
    first use)."""
    if not _checks:
        from storage.event_schema import EventCheck

        _checks.append(EventCheck())
    return _checks[0]


def check_type(type: object) -> None:
    """Raise :class:`EventRejected` unless ``type`` is a schema v1 event type."""
    if not isinstance(type, str) or not type:
        raise EventRejected(f"event type must be a non-empty string, got {type!r}")
    if type in FIXED_TYPES:
        return
    if type.startswith(OPEN_FAMILIES) and len(type) <= 64 and _TYPE_RE.match(type):
        return
    raise EventRejected(
        f"unknown event type {type!r}: use one of {', '.join(sorted(FIXED_TYPES))}, "
        "admin.* or system.*"
    )


def encode_payload(payload: object, limit: int = PAYLOAD_MAX_BYTES, type: str = "?") -> str:
    """The payload as compact JSON, or :class:`EventRejected` naming what is wrong."""
    if not isinstance(payload, dict):
        raise EventRejected(
            f"{type} event: payload must be a JSON object (dict), got {type_name(payload)}"
        )
    try:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise EventRejected(f"{type} event: payload is not JSON: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > limit:
        raise EventRejected(
            f"{type} event: payload is {size} bytes of JSON, the limit is {limit} "
            "([storage] payload_max_bytes)"
        )
    return text


def type_name(value: object) -> str:
    """The class name of ``value`` for error messages."""
    return type(value).__name__


def _check_text(name: str, value: object, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or len(value) > _ID_MAX:
        raise EventRejected(
            f"event {name} must be a string of at most {_ID_MAX} characters, got {value!r:.80}"
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One interaction, schema v1 (see ``resources/schema/event-v1.json``).

    ``id`` is a UUIDv7 (time ordered), ``ts`` the UTC wall clock as ``...Z`` with
    microseconds, ``mono_ns`` ``time.monotonic_ns()`` when it happened and ``clock_synced``
    whether the wall clock was NTP-synchronised then.
    """

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
    payload: JsonObject = field(default_factory=dict)
    simulated: bool = False
    #: Set by :meth:`create` once the event matched the published schema; an event built
    #: any other way (or copied with ``dataclasses.replace``) is checked whole at append.
    checked: bool = field(default=False, init=False, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        type: EventType | str,
        *,
        session_id: str | None = None,
        page: str | None = None,
        element: str | None = None,
        payload: Mapping[str, JsonValue] | None = None,
        simulated: bool = False,
        store_id: str = "",
        kiosk_id: str = "",
        payload_max_bytes: int = PAYLOAD_MAX_BYTES,
    ) -> Event:
        """A new event stamped now, checked against the published schema
        (``resources/schema/event-v1.json``); :class:`EventRejected` naming the field and
        the rule when it cannot be stored."""
        check_type(type)
        type = str(type)  # the member's plain string: what SQLite and the JSON hold
        if payload is None:
            payload = {}
        elif not isinstance(payload, dict):
            payload = dict(payload)
        encode_payload(payload, payload_max_bytes, type)
        for name, value in (("session_id", session_id), ("page", page), ("element", element)):
            _check_text(name, value, optional=True)
        _check_text("store_id", store_id, optional=False)
        _check_text("kiosk_id", kiosk_id, optional=False)
        mono = time.monotonic_ns()
        now = dt.datetime.now(dt.UTC)
        event = cls(
            id=str(uuid_utils.uuid7()),
            ts=utc_iso(now),
            mono_ns=mono,
            clock_synced=clock_synced(),
            store_id=store_id,
            kiosk_id=kiosk_id,
            session_id=session_id,
            type=type,
            page=page,
            element=element,
            payload=payload,
            simulated=bool(simulated),
        )
        _schema_check().check_new(event)
        object.__setattr__(event, "checked", True)  # frozen: only create may say so
        return event

    def to_json_dict(self) -> JsonObject:
        """The event as a schema v1 JSON object (plain dict, ``v`` = 1)."""
        return {
            "v": SCHEMA_VERSION,
            "id": self.id,
            "ts": self.ts,
            "mono_ns": self.mono_ns,
            "clock_synced": self.clock_synced,
            "store_id": self.store_id,
            "kiosk_id": self.kiosk_id,
            "session_id": self.session_id,
            "type": self.type,
            "page": self.page,
            "element": self.element,
            "payload": self.payload,
            "simulated": self.simulated,
        }
