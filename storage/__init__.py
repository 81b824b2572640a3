"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox."""

from storage.event import Event, EventRejected

__all__ = ["Event", "EventRejected"]
