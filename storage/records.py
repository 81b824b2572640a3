"""Event <-> SQLite row: the one place that knows the column order of the events table."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import orjson
from sqlalchemy import LargeBinary, case, cast, func, literal_column
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

from storage.event import PRODUCT_TYPES, SCHEMA_VERSION, Event, EventRejected
from storage.event_schema import EventCheck
from storage.schema import events

#: Columns written by the event log, in this order (``seq`` is assigned by SQLite).
COLUMNS = (
    "id",
    "ts",
    "ts_epoch",
    "mono_ns",
    "clock_synced",
    "store_id",
    "kiosk_id",
    "session_id",
    "type",
    "page",
    "element",
    "sku",
    "payload",
    "simulated",
    "size",
    "json",
)
#: Each column's position in a row's values.
COLUMN_INDEX = {name: i for i, name in enumerate(COLUMNS)}
_JSON = COLUMN_INDEX["json"]
_TYPE = COLUMN_INDEX["type"]
INSERT_SQL = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
#: Folds the events ``seq BETWEEN ? AND ?`` (one written batch) into the sessions table, in the
#: batch's transaction: first/last time, start/end, end reason, events, touches, page views and
#: whether the session was simulated. SET expressions see the row's old values (SQLite).
SESSIONS_UPSERT_SQL = """
INSERT INTO sessions (session_id, first_ts, first_epoch, last_epoch, started_ts, ended_ts,
    end_reason, events, touches, page_views, simulated)
SELECT session_id, min(ts), min(ts_epoch), max(ts_epoch),
    min(CASE WHEN type = 'session.start' THEN ts END),
    max(CASE WHEN type = 'session.end' THEN ts END),
    max(CASE WHEN type = 'session.end' THEN json_extract(payload, '$.reason') END),
    count(*), sum(type = 'touch'), sum(type = 'page.view'), max(simulated)
FROM events WHERE seq BETWEEN ? AND ? AND session_id IS NOT NULL
GROUP BY session_id
ON CONFLICT (session_id) DO UPDATE SET
    first_ts = CASE WHEN excluded.first_epoch < first_epoch THEN excluded.first_ts
        ELSE first_ts END,
    first_epoch = min(first_epoch, excluded.first_epoch),
    last_epoch = max(last_epoch, excluded.last_epoch),
    started_ts = coalesce(started_ts, excluded.started_ts),
    ended_ts = coalesce(excluded.ended_ts, ended_ts),
    end_reason = coalesce(excluded.end_reason, end_reason),
    events = events + excluded.events,
    touches = touches + excluded.touches,
    page_views = page_views + excluded.page_views,
    simulated = max(simulated, excluded.simulated)
"""


def _json_bool(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.json(case((column != 0, "true"), else_="false"))


#: An events-table row's schema v1 JSON (text), built by SQLite itself from the columns:
#: compact, keys in the schema's order, the stored payload embedded as JSON; the same text as
#: :func:`to_row`'s. For rows recorded before schema v4, which did not store their JSON.
BUILT_JSON = func.json_object(
    *(literal_column(f"'{key}'") for key in ("v",)),
    literal_column(str(SCHEMA_VERSION)),
    *(
        part
        for key, value in (
            ("id", events.c.id),
            ("ts", events.c.ts),
            ("mono_ns", events.c.mono_ns),
            ("clock_synced", _json_bool(events.c.clock_synced)),
            ("store_id", events.c.store_id),
            ("kiosk_id", events.c.kiosk_id),
            ("session_id", events.c.session_id),
            ("type", events.c.type),
            ("page", events.c.page),
            ("element", events.c.element),
            ("payload", func.json(events.c.payload)),
            ("simulated", _json_bool(events.c.simulated)),
        )
        for part in (literal_column(f"'{key}'"), value)
    ),
)
#: An events-table row's schema v1 JSON as text: as recorded, or built for an older row
#: (``coalesce`` evaluates its second argument only when the first is NULL).
EVENT_JSON_TEXT = func.coalesce(events.c.json, BUILT_JSON)
#: The same as UTF-8 bytes, as the uplink sends it, as SQL text for the outbox's claim (raw
#: SQL on its hot path): compiled from the expression above, so it is declared once.
EVENT_JSON_SQL = str(
    cast(EVENT_JSON_TEXT, LargeBinary).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
)


class Row(NamedTuple):
    """One events-table row, in :data:`COLUMNS` order.

    Its JSON is kept as text: orjson's bytes, kept alive in their thousands until a batch is
    written, cost the writer more than their encoding, while a ``str`` of the same JSON
    comes from Python's own pool.
    """

    values: tuple[Any, ...]

    @property
    def type(self) -> str:
        """The event's type."""
        return str(self.values[_TYPE])

    @property
    def json(self) -> str:
        """The event's schema v1 JSON, as stored."""
        return str(self.values[_JSON])


def ts_epoch(ts: str) -> float:
    """Seconds since the epoch of a ``...Z`` timestamp."""
    return dt.datetime.fromisoformat(ts).timestamp()


def to_row(event: Event, store_id: str, kiosk_id: str, payload_max: int) -> Row:
    """The row of a schema v1 event; empty store/kiosk ids are filled in from the config.

    Raises :class:`EventRejected` for an object that is not a storable event.
    """
    data = EventCheck.as_stored(event, store_id, kiosk_id)
    payload = data["payload"]
    etype = data["type"]
    if not isinstance(payload, dict):
        raise EventRejected(f"{etype} event {data['id']}: payload must be a JSON object")
    try:
        payload_json = orjson.dumps(payload)
        body = orjson.dumps(data)
        text = body.decode("utf-8")
        epoch = ts_epoch(data["ts"])
    except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
        raise EventRejected(f"{etype} event {data['id']}: cannot be stored: {exc}") from None
    if len(payload_json) > payload_max:
        raise EventRejected(
            f"{etype} event {data['id']}: payload is {len(payload_json)} bytes, "
            f"the limit is {payload_max}"
        )
    sku = payload.get("sku") if etype in PRODUCT_TYPES else None
    if sku is not None and not isinstance(sku, str):
        sku = str(sku)
    return Row(
        (
            data["id"],
            data["ts"],
            epoch,
            data["mono_ns"],
            int(data["clock_synced"]),
            data["store_id"],
            data["kiosk_id"],
            data["session_id"],
            etype,
            data["page"],
            data["element"],
            sku,
            payload_json.decode("utf-8"),
            int(data["simulated"]),
            len(body),
            text,
        )
    )
