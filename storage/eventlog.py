"""The event log: ``append`` from any thread; one writer thread batching into SQLite.

:class:`EventLog` is the front the kiosk holds: it checks each event against the published
schema and queues it (:mod:`storage.intake`), and composes the parts that do the work on
threads of their own: the batch writer (:mod:`storage.writer`), the Redis catch-up
(:mod:`storage.redis_mirror`) and, on the writer's thread between batches, the retention
schedule (:mod:`storage.retention`). :class:`StorageHealth` is built from their snapshots.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from settings import KioskConfig
from storage.batch_hooks import BatchHook
from storage.event import Event, EventRejected
from storage.event_schema import EventCheck
from storage.intake import Intake, IntakeHealth
from storage.redis_mirror import RedisCatchUp, RedisHealth
from storage.retention import RetentionHealth, RetentionSchedule
from storage.writer import BatchWriter, WriterHealth, WriterSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StorageHealth:
    """What the admin status page and the control socket show about the event log."""

    sqlite_ok: bool
    sqlite_error: str | None
    redis_connected: bool
    redis_lag_events: int
    queue_depth: int
    backpressure: bool
    events_today: int
    db_bytes: int
    free_disk_bytes: int | None
    memory_held_events: int
    last_flush_at: float | None
    events_written: int = 0
    events_dropped: int = 0
    events_rejected: int = 0
    #: Uplinked events deleted by retention (age or disk budget).
    purged_uplinked: int = 0
    #: Events deleted BEFORE they were uplinked, because the disk budget was exceeded.
    purged_unsent: int = 0
    last_purge_at: float | None = None
    #: False while the writer thread is down (it is restarted; ``sqlite_ok`` is False then).
    writer_alive: bool = True
    #: Times the writer thread failed and was restarted, and the last failure.
    writer_restarts: int = 0
    writer_error: str | None = None
    #: The Redis mirror's last failure (None while it works).
    redis_error: str | None = None
    #: Times Redis's keys were found out of step with SQLite (another database's, or a seq
    #: beyond SQLite's last) and rebuilt from SQLite; when and why the last time.
    redis_rebuilds: int = 0
    redis_rebuilt_at: float | None = None
    redis_rebuild_reason: str | None = None
    #: Held events also kept in the spill file (a kill does not lose them), and whether it
    #: was full (the events held beyond it are in memory only).
    spill_held_events: int = 0
    spill_full: bool = False
    #: Times a per-batch hook (the dashboards' rollups) failed, and the last failure; the
    #: batches' events were stored all the same.
    batch_hook_failures: int = 0
    batch_hook_error: str | None = None

    @classmethod
    def of(
        cls,
        *,
        intake: IntakeHealth,
        writer: WriterHealth,
        redis: RedisHealth | None,
        retention: RetentionHealth,
        append_rejected: int,
        db_bytes: int,
        free_disk_bytes: int | None,
    ) -> StorageHealth:
        """The log's health from its parts' snapshots (``redis`` None when it is off)."""
        return cls(
            sqlite_ok=writer.sqlite_error is None,
            sqlite_error=writer.sqlite_error,
            redis_connected=redis is not None and redis.connected,
            redis_lag_events=redis.lag_events if redis is not None else 0,
            queue_depth=intake.queue_depth,
            backpressure=intake.backpressure,
            events_today=writer.events_today,
            db_bytes=db_bytes,
            free_disk_bytes=free_disk_bytes,
            memory_held_events=writer.memory_held_events,
            last_flush_at=writer.last_flush_at,
            events_written=writer.events_written,
            events_dropped=intake.events_dropped,
            events_rejected=append_rejected + writer.events_rejected,
            purged_uplinked=retention.purged_uplinked,
            purged_unsent=retention.purged_unsent,
            last_purge_at=retention.last_purge_at,
            writer_alive=writer.alive,
            writer_restarts=writer.restarts,
            writer_error=writer.error,
            redis_error=redis.error if redis is not None else None,
            redis_rebuilds=redis.rebuilds if redis is not None else 0,
            redis_rebuilt_at=redis.rebuilt_at if redis is not None else None,
            redis_rebuild_reason=redis.rebuild_reason if redis is not None else None,
            spill_held_events=writer.spill_held_events,
            spill_full=writer.spill_full,
            batch_hook_failures=writer.hooks.failures,
            batch_hook_error=writer.hooks.error,
        )


def database_path(config: KioskConfig) -> Path:
    """The SQLite file of ``config`` (``[storage] database`` or ``events.sqlite`` in data)."""
    if config.storage.database is not None:
        return Path(config.storage.database)
    if config.paths.data_dir is not None:
        return config.data_path("events.sqlite")
    return Path(platformdirs.user_data_dir("retail-edge-kiosk")) / "events.sqlite"


class EventLog:
    """Durable interaction log: SQLite is the truth, written in batches by one thread.

    ``batch_hooks`` run in each batch's transaction on the writer's thread (see
    :mod:`storage.batch_hooks`). Lifecycle: ``start()`` once, ``append()`` and ``health()``
    from any thread, ``stop()`` once (it writes everything appended before it).
    """

    def __init__(self, config: KioskConfig, *, batch_hooks: Sequence[BatchHook] = ()) -> None:
        self.config = config
        s = config.storage
        self._database = database_path(config)
        self._payload_max = s.payload_max_bytes
        self._store_id = config.kiosk.store_id
        self._kiosk_id = config.kiosk.kiosk_id
        self._check = EventCheck()
        self._rejected = 0
        self._stopped = False
        self._started = False
        self._intake = Intake(s.queue_max, held=lambda: len(self.writer.held))
        self._catch_up = (
            RedisCatchUp(config.redis, self._database) if config.redis.enabled else None
        )
        #: Purges by age and disk budget (its ``retention_every_s`` and ``budget_every_s``
        #: may be set before ``start``).
        self.retention = RetentionSchedule(
            self._database, s.retention_days, s.disk_budget_mb * 1024 * 1024
        )
        #: The writer thread's part (its ``engine`` and ``checkpointer`` for tests to read).
        self.writer = BatchWriter(
            WriterSettings.of_config(config, self._database),
            self._intake,
            batch_hooks=batch_hooks,
            catch_up=self._catch_up,
            retention=self.retention,
        )

    @property
    def database(self) -> Path:
        """The SQLite file (the uplink's :class:`storage.Outbox` opens the same file)."""
        return self._database

    def start(self) -> None:
        """Open (or create and migrate) the database and start the writer thread; events an
        earlier run held in the spill file are written first."""
        self.writer.start()
        if self._catch_up is not None:
            self._catch_up.start()
        self._started = True

    def append(self, event: Event) -> None:
        """Queue one event; returns at once unless the queue is full (back-pressure).

        Raises :class:`EventRejected` (one line: the event, the field, the rule) for an event
        that does not match the published schema (``resources/schema/event-v1.json``).
        """
        try:
            self._check(event, self._store_id, self._kiosk_id, self._payload_max)
        except EventRejected:
            self._rejected += 1
            raise
        if self._stopped:
            self._intake.drop(event, "stopped")
            return
        self._intake.put(event)

    def stop(self, timeout: float = 5.0) -> None:
        """Write everything queued, then stop the writer thread and the Redis catch-up."""
        if not self._started or self._stopped:
            self._stopped = True
            return
        self._stopped = True
        self._intake.close()
        self.writer.stop(timeout)
        if self._catch_up is not None:
            self._catch_up.stop(timeout)

    def pause_mirror(self) -> None:
        """Idle the Redis mirror (the shop is closed): events go on into SQLite and the
        outbox; Redis catches up at :meth:`resume_mirror`. Nothing to do without Redis."""
        if self._catch_up is not None:
            self._catch_up.pause()

    def resume_mirror(self) -> None:
        """Mirror to Redis again, starting with what it missed while paused."""
        if self._catch_up is not None:
            self._catch_up.resume()

    @property
    def mirror_paused(self) -> bool:
        """True while the Redis mirror idles (False without Redis)."""
        return self._catch_up is not None and self._catch_up.paused

    def health(self) -> StorageHealth:
        """A snapshot of the log's state (cheap: a few stat calls)."""
        db_bytes = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                db_bytes += Path(f"{self._database}{suffix}").stat().st_size
            except OSError:
                pass
        try:
            free: int | None = shutil.disk_usage(self._database.parent).free
        except OSError:
            free = None
        catch_up = self._catch_up
        return StorageHealth.of(
            intake=self._intake.health(),
            writer=self.writer.snapshot(self._stopped),
            redis=catch_up.snapshot() if catch_up is not None else None,
            retention=self.retention.snapshot(),
            append_rejected=self._rejected,
            db_bytes=db_bytes,
            free_disk_bytes=free,
        )
