"""Checking uplink messages against the published schemas, one event at a time.

``resources/schema/batch-v1.json`` describes a message as the uplink sends it (its
``events`` items are ``event-v1.json``); the receiver loads both files, never a copy of
its own. The envelope (everything but the events) decides whether a message can be read
at all; each event is then checked on its own, so one bad event is set aside
(:attr:`CheckedMessage.rejected`) while the others land.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource

from storage import JsonObject, JsonValue
from storage.event_schema import BATCH_SCHEMA, EVENT_SCHEMA, compile_schema, load_schema
from uplink.batch import SCHEMA_NAME, SCHEMA_VERSION


class MalformedMessage(ValueError):
    """A message whose envelope is not a valid schema-v1 batch; ``str()`` says why in one line."""


@dataclass(frozen=True)
class RejectedEvent:
    """One event of a readable message that fails the event schema."""

    index: int
    event: JsonValue
    reason: str


@dataclass(frozen=True)
class CheckedMessage:
    """A message whose envelope is valid: its events split into valid and rejected ones."""

    batch: JsonObject
    events: list[JsonObject]
    rejected: list[RejectedEvent]


def load_event_schema(path: Path | None = None) -> JsonObject:
    """The event schema: the published ``event-v1.json``, or the file at ``path``.

    Raises ``OSError`` or ``ValueError`` (one line naming the file) when it cannot be read.
    """
    if path is None:
        return load_schema(EVENT_SCHEMA)
    try:
        schema: JsonValue = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise OSError(f"event schema {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ValueError(f"event schema {path}: not JSON: {exc}") from None
    if not isinstance(schema, dict):
        raise ValueError(f"event schema {path}: not a JSON object")
    return schema


def registry(event_schema: JsonObject | None = None) -> Registry[Any]:
    """The published schemas by ``$id``, so ``batch-v1.json``'s ``$ref`` finds the events'."""
    schemas = [load_schema(BATCH_SCHEMA), event_schema or load_schema(EVENT_SCHEMA)]
    return Registry().with_resources(
        (str(schema["$id"]), Resource.from_contents(schema))
        for schema in schemas
        if "$id" in schema
    )


def message_validator(event_schema: JsonObject | None = None) -> Validator:
    """A validator of whole messages (envelope and events) against the published files."""
    schema = load_schema(BATCH_SCHEMA)
    validator: Validator = validator_for(schema)(schema, registry=registry(event_schema))
    return validator


def _where(error: ValidationError | None) -> str:
    if error is None:
        return "(top): fails the schema"
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{path or '(top)'}: {error.message:.300}"


class BatchChecker:
    """Parses and checks one message; :meth:`check` returns a :class:`CheckedMessage` or
    raises :class:`MalformedMessage` when the envelope itself is unusable."""

    def __init__(self, event_schema: JsonObject | None = None) -> None:
        event_schema = event_schema if event_schema is not None else load_event_schema()
        batch_schema = load_schema(BATCH_SCHEMA)
        # The envelope as published, its events only required to be objects: each event
        # is checked on its own below, so that one bad event is set aside, not its message.
        properties = dict(batch_schema["properties"])
        properties["events"] = {"type": "array", "items": {"type": "object"}}
        envelope = {**batch_schema, "properties": properties}
        self._envelope = validator_for(envelope)(envelope)
        self._event = validator_for(event_schema)(event_schema)
        try:
            self._event_ok = compile_schema(event_schema)
        except ValueError:
            # a schema using keywords the fast check lacks (an analyst's own): jsonschema alone
            self._event_ok = self._event.is_valid

    def parse(self, payload: bytes) -> JsonValue:
        """The JSON value in ``payload``; :class:`MalformedMessage` when it is not JSON."""
        try:
            value: JsonValue = orjson.loads(payload)
        except orjson.JSONDecodeError:
            # json accepts escaped lone surrogates, which orjson refuses.
            try:
                value = json.loads(payload)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise MalformedMessage(f"not JSON: {exc}") from None
        return value

    def check(self, payload: bytes) -> CheckedMessage:
        """The message in ``payload``, its events checked one by one."""
        batch = self.parse(payload)
        if not isinstance(batch, dict):
            raise MalformedMessage("not a JSON object")
        if (batch.get("schema"), batch.get("version")) != (SCHEMA_NAME, SCHEMA_VERSION):
            raise MalformedMessage(
                f"not a {SCHEMA_NAME} v{SCHEMA_VERSION} message "
                f"(schema {batch.get('schema')!r:.60}, version {batch.get('version')!r:.20})"
            )
        if not self._envelope.is_valid(batch):
            error = best_match(self._envelope.iter_errors(batch))
            raise MalformedMessage(f"batch {_where(error)}")
        events = _envelope_list(batch, "events")
        count, part, parts = (_envelope_int(batch, name) for name in ("count", "part", "parts"))
        if count != len(events):
            raise MalformedMessage(f"count says {count} but {len(events)} events came")
        if part > parts:
            raise MalformedMessage(f"part {part} of {parts}")
        good: list[JsonObject] = []
        rejected: list[RejectedEvent] = []
        for index, event in enumerate(events):
            reason = self.event_problem(event)
            if reason is None and isinstance(event, dict):
                good.append(event)
            else:
                reason = reason or "not an object"
                rejected.append(RejectedEvent(index, event, f"event {index}: {reason}"))
        return CheckedMessage(batch, good, rejected)

    def event_problem(self, event: JsonValue) -> str | None:
        """Why ``event`` fails the event schema (one line), or None when it is valid."""
        if self._event_ok(event):
            return None
        error = best_match(self._event.iter_errors(event))
        if error is None:
            return "fails the event schema"
        ident = event.get("id") if isinstance(event, dict) else None
        return f"({ident!s:.40}) {_where(error)}"


def _envelope_list(batch: JsonObject, name: str) -> list[JsonValue]:
    """An envelope field the published schema makes an array (checked before this)."""
    value = batch[name]
    if not isinstance(value, list):
        raise MalformedMessage(f"batch {name}: not an array")
    return value


def _envelope_int(batch: JsonObject, name: str) -> int:
    """An envelope field the published schema makes an integer (checked before this)."""
    value = batch[name]
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedMessage(f"batch {name}: {value!r:.40} is not an integer")
    return value
