"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""

from storage.event import Event, EventRejected, EventType, JsonObject, JsonValue
from storage.eventlog import EventLog, StorageHealth
from storage.outbox import Backlog, Outbox, OutboxBatch

__all__ = [
    "Backlog",
    "Event",
    "EventLog",
    "EventRejected",
    "EventType",
    "JsonObject",
    "JsonValue",
    "Outbox",
    "OutboxBatch",
    "StorageHealth",
]
