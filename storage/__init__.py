"""The event schema and the durable interaction log: SQLite, Redis and the uplink outbox.

The names below are imported on first use (PEP 562): ``from storage import Event`` loads
only :mod:`storage.event`, so the shopper window can build events without paying for
SQLAlchemy, redis and jsonschema before its first page is painted; ``from storage import
EventLog`` loads the log and everything it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.event import Event, EventRejected, EventType, JsonObject, JsonValue
    from storage.eventlog import EventLog, StorageHealth
    from storage.outbox import Backlog, Outbox, OutboxBatch

#: Each exported name and the module that defines it.
_HOMES = {
    "Backlog": "storage.outbox",
    "Event": "storage.event",
    "EventLog": "storage.eventlog",
    "EventRejected": "storage.event",
    "EventType": "storage.event",
    "JsonObject": "storage.event",
    "JsonValue": "storage.event",
    "Outbox": "storage.outbox",
    "OutboxBatch": "storage.outbox",
    "StorageHealth": "storage.eventlog",
}

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


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` on first use (then it is a plain global)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
