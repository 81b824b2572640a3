"""Checking uplink messages against the published schemas (batch envelope + schema-v1 events)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from settings.loader import RESOURCES
from uplink.batch import SCHEMA_NAME, SCHEMA_VERSION

log = logging.getLogger(__name__)

#: The event schema the storage package publishes (one source of truth for analysts).
EVENT_SCHEMA_PATH = RESOURCES / "schema" / "event-v1.json"

#: The batch envelope (uplink's own part of the format).
BATCH_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://retail-edge-kiosk.example/schema/batch-v1.json",
    "title": "Retail Edge Kiosk uplink batch, version 1",
    "type": "object",
    "required": [
        "schema",
        "version",
        "batch_id",
        "part",
        "parts",
        "store_id",
        "kiosk_id",
        "first_ts",
        "last_ts",
        "count",
        "events",
    ],
    "properties": {
        "schema": {"const": SCHEMA_NAME},
        "version": {"const": SCHEMA_VERSION},
        "batch_id": {"type": "string", "minLength": 1, "maxLength": 128},
        "part": {"type": "integer", "minimum": 1},
        "parts": {"type": "integer", "minimum": 1},
        "store_id": {"type": "string", "minLength": 1},
        "kiosk_id": {"type": "string", "minLength": 1},
        "first_ts": {"type": ["string", "null"]},
        "last_ts": {"type": ["string", "null"]},
        "count": {"type": "integer", "minimum": 0},
        "events": {"type": "array", "items": {"type": "object"}},
    },
}

# Used only until storage publishes resources/schema/event-v1.json: the fields of
# contracts.md, so the receiver checks something meaningful either way.
_FALLBACK_EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "id",
        "ts",
        "mono_ns",
        "clock_synced",
        "store_id",
        "kiosk_id",
        "session_id",
        "type",
        "page",
        "element",
        "payload",
    ],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "ts": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
        "mono_ns": {"type": "integer"},
        "clock_synced": {"type": "boolean"},
        "store_id": {"type": "string"},
        "kiosk_id": {"type": "string"},
        "session_id": {"type": ["string", "null"]},
        "type": {"type": "string", "minLength": 1},
        "page": {"type": ["string", "null"]},
        "element": {"type": ["string", "null"]},
        "payload": {"type": "object"},
        "simulated": {"type": "boolean"},
    },
}


class MalformedMessage(ValueError):
    """A message that is not a valid schema-v1 batch; ``str()`` says why in one line."""


def load_event_schema(path: Path = EVENT_SCHEMA_PATH) -> dict[str, Any]:
    """The schema-v1 event schema (storage's file; a built-in copy until it exists)."""
    try:
        schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return schema
    except FileNotFoundError:
        log.warning("receiver: %s not found; checking events with the built-in schema", path)
        return _FALLBACK_EVENT_SCHEMA


def _where(error: Any) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{path or '(top)'}: {error.message}"


class BatchChecker:
    """Parses and checks one message; :meth:`check` returns the batch dict or raises."""

    def __init__(self, event_schema: dict[str, Any] | None = None) -> None:
        schema = event_schema if event_schema is not None else load_event_schema()
        self._batch = Draft202012Validator(BATCH_SCHEMA)
        self._event = validator_for(schema)(schema)

    def check(self, payload: bytes) -> dict[str, Any]:
        """The batch in ``payload``; :class:`MalformedMessage` naming the first problem."""
        try:
            batch = orjson.loads(payload)
        except orjson.JSONDecodeError:
            # json accepts escaped lone surrogates, which orjson refuses.
            try:
                batch = json.loads(payload)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise MalformedMessage(f"not JSON: {exc}") from None
        if not isinstance(batch, dict):
            raise MalformedMessage("not a JSON object")
        if (batch.get("schema"), batch.get("version")) != (SCHEMA_NAME, SCHEMA_VERSION):
            raise MalformedMessage(
                f"not a {SCHEMA_NAME} v{SCHEMA_VERSION} message "
                f"(schema {batch.get('schema')!r:.60}, version {batch.get('version')!r:.20})"
            )
        if not self._batch.is_valid(batch):
            error = best_match(self._batch.iter_errors(batch))
            raise MalformedMessage(f"batch {_where(error)}")
        events = batch["events"]
        if batch["count"] != len(events):
            raise MalformedMessage(f"count says {batch['count']} but {len(events)} events came")
        for index, event in enumerate(events):
            if not self._event.is_valid(event):
                error = best_match(self._event.iter_errors(event))
                raise MalformedMessage(f"event {index} ({event.get('id')!s:.40}): {_where(error)}")
        return batch
