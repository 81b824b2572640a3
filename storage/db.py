"""The SQLite file: engine set-up (WAL, busy timeout, explicit transactions) and migrations."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool, QueuePool

log = logging.getLogger(__name__)

#: How long a connection waits for another writer's lock before it reports "locked".
BUSY_TIMEOUT_MS = 5000


class StorageError(RuntimeError):
    """The database cannot be used (corrupt, read-only, locked, newer schema, full disk)."""


# Each migration takes the schema from version N-1 to N; they run in order, each in the same
# transaction as its row in schema_version, so a crash never leaves a half-migrated file.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            ts TEXT NOT NULL,
            ts_epoch REAL NOT NULL,
            mono_ns INTEGER NOT NULL,
            clock_synced INTEGER NOT NULL,
            store_id TEXT NOT NULL,
            kiosk_id TEXT NOT NULL,
            session_id TEXT,
            type TEXT NOT NULL,
            page TEXT,
            element TEXT,
            sku TEXT,
            payload TEXT NOT NULL,
            simulated INTEGER NOT NULL,
            size INTEGER NOT NULL
        )""",
        "CREATE INDEX ix_events_ts ON events (ts_epoch)",
        "CREATE INDEX ix_events_session ON events (session_id, seq) WHERE session_id IS NOT NULL",
        "CREATE INDEX ix_events_sku ON events (sku, ts_epoch) WHERE sku IS NOT NULL",
        """CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            first_ts TEXT NOT NULL,
            first_epoch REAL NOT NULL,
            last_epoch REAL NOT NULL,
            started_ts TEXT,
            ended_ts TEXT,
            end_reason TEXT,
            events INTEGER NOT NULL DEFAULT 0,
            touches INTEGER NOT NULL DEFAULT 0,
            simulated INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX ix_sessions_first ON sessions (first_epoch)",
        """CREATE TABLE outbox (
            batch_id TEXT PRIMARY KEY,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            count INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            first_ts TEXT NOT NULL,
            last_ts TEXT NOT NULL,
            created_at REAL NOT NULL,
            lease_owner TEXT,
            lease_until REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at REAL
        )""",
        "CREATE INDEX ix_outbox_unsent ON outbox (first_seq) WHERE sent_at IS NULL",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
    # v2: the sessions table is written (see records.SESSIONS_UPSERT_SQL) and counts page views.
    2: ["ALTER TABLE sessions ADD COLUMN page_views INTEGER NOT NULL DEFAULT 0"],
    # v3: the product index is time ordered, (ts_epoch, sku, session_id), instead of
    # (sku, ts_epoch). New events land at its end, so a batch's commit writes a few of its
    # pages instead of one per product (the writer's commits took half the time), and the
    # dashboards' product queries, all over a time window, read it alone.
    3: [
        "DROP INDEX ix_events_sku",
        "CREATE INDEX ix_events_sku_ts ON events (ts_epoch, sku, session_id) WHERE sku IS NOT NULL",
    ],
}
LATEST_VERSION = max(MIGRATIONS)


def make_engine(
    path: Path,
    *,
    readonly: bool = False,
    strict: bool = False,
    immediate: bool = True,
    persistent: bool = False,
) -> Engine:
    """An engine on ``path`` with WAL, a busy timeout and explicit transactions.

    ``immediate`` transactions take the write lock at BEGIN, so two processes (the kiosk's
    writer and an uplink claiming a batch) queue on the busy timeout instead of failing halfway.
    ``persistent`` keeps one connection open between transactions (the event log's writer:
    opening and closing per batch cost it about a quarter of its time, the close of the last
    connection checkpointing the WAL each time); otherwise each use opens its own.
    """
    url = f"sqlite:///file:{path}?mode=ro&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(
        url,
        poolclass=QueuePool if persistent else NullPool,
        **({"pool_size": 1, "max_overflow": 2} if persistent else {}),
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # pysqlite's own implicit BEGIN is off: SQLAlchemy's "begin" hook below emits it.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not readonly:
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode and str(mode[0]).lower() != "wal":
                log.warning("%s: journal mode is %s, not WAL", path, mode[0])
            # NORMAL in WAL mode survives a killed process; FULL also survives power loss.
            cur.execute(f"PRAGMA synchronous = {'FULL' if strict else 'NORMAL'}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not readonly else "BEGIN")

    return engine


def schema_version(conn: Connection) -> int:
    """The schema version of the open database (0 for an empty file)."""
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).first()
    if exists is None:
        return 0
    row = conn.exec_driver_sql("SELECT max(version) FROM schema_version").first()
    return int(row[0] or 0) if row else 0


def migrate(engine: Engine, path: Path) -> int:
    """Bring the database to :data:`LATEST_VERSION`; :class:`StorageError` if it cannot."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        current = schema_version(conn)
        if current > LATEST_VERSION:
            raise StorageError(
                f"{path}: database schema v{current} is newer than this kiosk's "
                f"v{LATEST_VERSION}; update the kiosk software or move the file aside"
            )
        for version in range(current + 1, LATEST_VERSION + 1):
            for statement in MIGRATIONS[version]:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                (version, dt.datetime.now(dt.UTC).isoformat()),
            )
            log.info("%s: database schema migrated to v%d", path, version)
    return LATEST_VERSION


def describe(exc: BaseException, path: Path) -> str:
    """One line that says what is wrong with the database file and what staff can do."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""
    low = text.lower()
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"{path}: the database file is corrupt ({text}); move it aside to start a new one"
    if "readonly" in low or "read-only" in low or "attempt to write" in low:
        return f"{path}: the database file is read-only ({text}); check its permissions"
    if "locked" in low or "busy" in low:
        return f"{path}: the database is locked by another program ({text})"
    if "disk is full" in low or "no space" in low or "database or disk is full" in low:
        return f"{path}: the disk is full ({text}); free space or set [storage] disk_budget_mb"
    if "unable to open" in low:
        return f"{path}: cannot open the database file ({text}); check the folder exists"
    return f"{path}: {text or type(exc).__name__}"


def quick_check(engine: Engine, path: Path) -> None:
    """Raise :class:`StorageError` when SQLite's quick check finds damage."""
    with engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise StorageError(
            f"{path}: the database file is corrupt ({'; '.join(map(str, rows[:3]))}); "
            "move it aside to start a new one"
        )
