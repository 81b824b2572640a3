"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""

from storage.event import Event, EventRejected
from storage.eventlog import EventLog, StorageHealth

__all__ = ["Event", "EventLog", "EventRejected", "StorageHealth"]
