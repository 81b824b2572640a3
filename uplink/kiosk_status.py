"""A kiosk's status message as the receiver reads it: checked, then one ``kiosk_status`` row.

The kiosk's uplink publishes it retained on ``<prefix>/<store>/<kiosk>/status``
(:meth:`uplink.service.UplinkService.status_message`; fields in docs/events.md). The
receiver keeps every one (:meth:`uplink.landing.EventStore.store_status`); a message that
is not a status of the kiosk its topic names raises :class:`MalformedStatus`.
"""

from __future__ import annotations

import json
from datetime import datetime

from storage import JsonValue

#: The ``schema`` field every status message carries.
STATUS_SCHEMA = "retail-edge-kiosk/status"


class MalformedStatus(ValueError):
    """A status message the receiver cannot read; ``str()`` says what is wrong."""


def is_status_topic(topic: str) -> bool:
    """True for a kiosk's status topic (``.../<store>/<kiosk>/status``)."""
    return topic.endswith("/status")


def status_topic_filter(events_filter: str) -> str | None:
    """The status topics beside an events filter (``retail/+/+/events`` ->
    ``retail/+/+/status``); None when the filter does not end in ``/events``."""
    if not events_filter.endswith("/events"):
        return None
    return events_filter[: -len("events")] + "status"


def _optional(body: dict[str, JsonValue], name: str, kind: type | tuple[type, ...]) -> JsonValue:
    """The field ``name`` when absent, null or of ``kind`` (a bool is no number here)."""
    value = body.get(name)
    if value is None:
        return None
    fits = isinstance(value, bool) if kind is bool else not isinstance(value, bool)
    if not (fits and isinstance(value, kind)):
        raise MalformedStatus(f"{name} is {value!r:.80}, not of the right type")
    return value


def _camera(sensor: JsonValue) -> str | None:
    """The camera's state in one word from the message's ``sensor`` object."""
    if sensor is None:
        return None
    if not isinstance(sensor, dict) or not isinstance(sensor.get("status"), str):
        raise MalformedStatus(f"sensor is {sensor!r:.80}, not an object with a status")
    return str(sensor["status"])


def _body(topic: str, payload: bytes) -> dict[str, JsonValue]:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedStatus(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedStatus(f"a JSON {type(body).__name__}, not an object")
    if body.get("schema") != STATUS_SCHEMA:
        raise MalformedStatus(f"schema is {body.get('schema')!r}, not {STATUS_SCHEMA!r}")
    parts = topic.split("/")
    named = (parts[-3], parts[-2]) if len(parts) >= 3 else None
    if named != (body.get("store_id"), body.get("kiosk_id")):
        raise MalformedStatus(
            f"the topic names {named} but the message says "
            f"{body.get('store_id')!r}/{body.get('kiosk_id')!r}"
        )
    return body


def status_row(topic: str, payload: bytes, received_at: str) -> dict[str, object]:
    """The ``kiosk_status`` row of a status message; :class:`MalformedStatus` when it is not
    one (not JSON, another schema, a topic naming another kiosk, no send time, no state, a
    field of the wrong type)."""
    body = _body(topic, payload)
    sent = body.get("ts")
    if not isinstance(sent, str):
        raise MalformedStatus(f"ts is {sent!r}, not a time")
    try:
        datetime.fromisoformat(sent)
    except ValueError:
        raise MalformedStatus(f"ts {sent!r} is not an ISO 8601 time") from None
    state = body.get("state")
    if state not in ("online", "offline"):
        raise MalformedStatus(f"state is {state!r}, not 'online' or 'offline'")
    crash_loop = _optional(body, "crash_loop", bool)
    return {
        "store_id": body["store_id"],
        "kiosk_id": body["kiosk_id"],
        "sent_at": sent,
        "received_at": received_at,
        "state": state,
        "software": _optional(body, "software", str),
        "bundle_id": _optional(body, "bundle_id", str),
        "uptime_s": _optional(body, "uptime_s", (int, float)),
        "restarts_24h": _optional(body, "restarts_24h", int),
        "crash_loop": None if crash_loop is None else int(bool(crash_loop)),
        "backlog_events": _optional(body, "backlog_events", int),
        "camera": _camera(body.get("sensor")),
        "payload": payload.decode("utf-8"),
    }
