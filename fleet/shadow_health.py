"""What the kiosk tells the fleet through its shadow, and where it records remote changes.

:class:`KioskHealth` is the health the kiosk reports (version, active bundle, config hash,
uptime, backlog); :class:`EventLogRecorder` records the ``admin.remote.*`` events through the
event log's intake (``storage.EventLog.append``). Qt-free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from settings.model import KioskConfig
from storage import Backlog, StorageHealth
from storage.event import Event, JsonObject, JsonValue

log = logging.getLogger(__name__)

#: A reason or error in the shadow is cut to this many characters (the shadow holds 8 KB).
REASON_MAX = 300
#: What the kiosk reports of the outbox's backlog and of the event log's health.
BACKLOG_FIELDS = ("events", "batches", "oldest_ts")
STORAGE_FIELDS = ("sqlite_ok", "sqlite_error", "events_today", "events_dropped", "db_bytes",
                  "free_disk_bytes", "redis_connected")  # fmt: skip


class RecordEvent(Protocol):
    """Where ``admin.remote.*`` events go; returns at once (any thread)."""

    def __call__(self, type: str, payload: JsonObject) -> None:
        """Record one event of ``type`` with ``payload``."""
        ...


class EventLogRecorder:
    """Records events through the event log's intake (``storage.EventLog.append``), stamped
    with the kiosk's store and kiosk ids, as the kiosk records its own events."""

    def __init__(self, append: Callable[[Event], None], config: KioskConfig) -> None:
        self._append = append
        self._store_id = config.kiosk.store_id
        self._kiosk_id = config.kiosk.kiosk_id
        self._payload_max = config.storage.payload_max_bytes

    def __call__(self, type: str, payload: JsonObject) -> None:
        """Make the event (checked against the schema) and append it."""
        event = Event.create(
            type,
            payload=payload,
            store_id=self._store_id,
            kiosk_id=self._kiosk_id,
            payload_max_bytes=self._payload_max,
        )
        self._append(event)


class HealthSource(Protocol):
    """What the kiosk reports as its health (called on the ``fleet-shadow`` thread)."""

    def __call__(self, config: KioskConfig) -> JsonObject:
        """A small JSON object (the shadow's reported state holds 8 KB in all)."""
        ...


class KioskHealth:
    """The health the kiosk reports: version, active bundle id and hash, config hash, uptime,
    the uplink backlog and the event log's state (the status page's storage tile), plus
    whatever ``extra`` adds."""

    def __init__(
        self,
        *,
        backlog: Callable[[], Backlog] | None = None,
        active_bundle: Callable[[], tuple[str, str] | None] | None = None,
        storage: Callable[[], StorageHealth] | None = None,
        extra: Callable[[], JsonObject] | None = None,
    ) -> None:
        self._started = time.monotonic()
        self._storage = storage
        self._backlog = backlog
        self._active_bundle = active_bundle
        self._extra = extra

    def __call__(self, config: KioskConfig) -> JsonObject:
        """The health now; a part that fails is reported as its error, not left out."""
        health: JsonObject = {
            "version": _version(),
            "config_hash": config_hash(config),
            "uptime_s": round(time.monotonic() - self._started),
        }
        health["bundle"] = _part(self._bundle)
        health["backlog"] = _part(self._backlog_now)
        health["storage"] = _part(self._storage_now)
        if self._extra is not None:
            health.update(_part(self._extra) or {})
        return health

    def _bundle(self) -> JsonValue:
        bundle = self._active_bundle() if self._active_bundle is not None else None
        return {"id": bundle[0], "sha256": bundle[1]} if bundle is not None else None

    def _backlog_now(self) -> JsonValue:
        return _picked(self._backlog, BACKLOG_FIELDS)

    def _storage_now(self) -> JsonValue:
        return _picked(self._storage, STORAGE_FIELDS)


def _picked(read: Callable[[], Any] | None, fields: tuple[str, ...]) -> JsonValue:
    """The named fields of the snapshot ``read`` returns (a dataclass); None without one."""
    if read is None:
        return None
    snapshot = dataclasses.asdict(read())
    return {name: snapshot[name] for name in fields}


def _part(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception as exc:  # a health part's failure is reported, not raised
        log.warning("fleet shadow: health part failed: %s", exc)
        return {"error": str(exc)[:REASON_MAX]}


def _version() -> str:
    try:
        return importlib.metadata.version("retail-edge-kiosk")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def config_hash(config: KioskConfig) -> str:
    """sha256 of the effective config as JSON (secrets masked), to compare kiosks."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
