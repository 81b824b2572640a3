"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""

from storage.event import Event, EventRejected
from storage.eventlog import EventLog, StorageHealth
from storage.outbox import Backlog, Outbox, OutboxBatch

__all__ = [
    "Backlog",
    "Event",
    "EventLog",
    "EventRejected",
    "Outbox",
    "OutboxBatch",
    "StorageHealth",
]
