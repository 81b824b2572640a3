"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""

from storage.event import Event, EventRejected
from storage.eventlog import EventLog, StorageHealth
from storage.outbox import Backlog, Outbox, OutboxBatch
from storage.records import EncodedEvent

__all__ = [
    "Backlog",
    "EncodedEvent",
    "Event",
    "EventLog",
    "EventRejected",
    "Outbox",
    "OutboxBatch",
    "StorageHealth",
]
