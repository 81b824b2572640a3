"""The SQLite file: engine set-up (WAL, busy timeout, explicit transactions) and migrations
(the schema itself is declared in :mod:`storage.schema`)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, insert, inspect, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry, NullPool, QueuePool

from storage.schema import MIGRATIONS, meta, metadata, schema_version

log = logging.getLogger(__name__)

#: How long a connection waits for another writer's lock before it reports "locked".
BUSY_TIMEOUT_MS = 5000
#: The writer's events between two background checkpoints (about SQLite's default of 1000
#: WAL pages) ...
CHECKPOINT_EVENTS = 2000
#: ... and the longest pause between two, when anything was written.
CHECKPOINT_EVERY_S = 1.0
#: The WAL size (pages, 40 MB) at which the writer's own commit checkpoints after all: under
#: a sustained load a background checkpoint never reaches the WAL's end, so the WAL is never
#: started afresh; the writer's checkpoint then copies only what the background one has not.
WRITER_CHECKPOINT_PAGES = 10_000
#: The size the WAL file is cut back to after a checkpoint emptied it.
WAL_SIZE_LIMIT = 8 * 1024 * 1024


class StorageError(RuntimeError):
    """The database cannot be used (corrupt, read-only, locked, newer schema, full disk)."""


#: The schema version this kiosk writes (:mod:`storage.schema`).
LATEST_VERSION = max(MIGRATIONS)


def make_engine(
    path: Path,
    *,
    readonly: bool = False,
    strict: bool = False,
    immediate: bool = True,
    persistent: bool = False,
    checkpoint_pages: int | None = None,
) -> Engine:
    """An engine on ``path`` with WAL, a busy timeout and explicit transactions.

    ``immediate`` transactions take the write lock at BEGIN, so two processes (the kiosk's
    writer and an uplink claiming a batch) queue on the busy timeout instead of failing halfway.
    ``persistent`` keeps one connection open between transactions (the event log's writer:
    opening and closing per batch cost it about a quarter of its time, the close of the last
    connection checkpointing the WAL each time); otherwise each use opens its own.
    ``checkpoint_pages`` sets the WAL size, in pages, at which a commit checkpoints (SQLite's
    default is 1000); the writer raises it and leaves checkpoints to a :class:`Checkpointer`.
    """
    url = f"sqlite:///file:{path}?mode=ro&uri=true" if readonly else f"sqlite:///{path}"
    engine = create_engine(
        url,
        poolclass=QueuePool if persistent else NullPool,
        **({"pool_size": 1, "max_overflow": 2} if persistent else {}),
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
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
            if checkpoint_pages is not None:
                cur.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint_pages)}")
                # the WAL file shrinks back to this once a checkpoint has emptied it
                cur.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate and not readonly else "BEGIN")

    return engine


def driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under ``conn``, in its transaction, for the hot paths (the
    writer's batches, the uplink's claims): plain tuples straight from sqlite3. SQLAlchemy's
    statement handling and Row objects cost those paths more than the queries did."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def file_identity(path: Path) -> tuple[int, int]:
    """(device, inode) of the file at ``path``: which file the path names now (a database
    moved aside and started anew is another file at the same path). Raises ``OSError``."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino


class Checkpointer:
    """Copies the WAL back into the database file on a thread and connection of its own.

    SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1000 pages:
    the copy and two fsyncs, 7-10 ms, in the writer's thread, every twentieth batch under
    load. The writer's threshold is raised to :data:`WRITER_CHECKPOINT_PAGES` and this
    thread checkpoints instead: when :meth:`nudge` says :data:`CHECKPOINT_EVENTS` more events
    were written, or every ``every_s`` seconds when some were. A PASSIVE checkpoint never
    blocks the writer; a failed one is logged and tried again at the next turn.
    """

    def __init__(self, path: Path, *, every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = Path(path)
        self.every_s = every_s
        self.error: str | None = None
        self.checkpoints = 0
        self._due = threading.Event()
        self._stop = threading.Event()
        # each written by one thread only: the writer's total, and the total at the last
        # checkpoint (the checkpoint thread's)
        self._written = 0
        self._checkpointed = 0
        self._thread: threading.Thread | None = None
        #: Set by the writer when it opened the database again (perhaps another file at the
        #: path): the checkpoint thread then drops its connection to the old one.
        self._reopen = threading.Event()

    def start(self) -> None:
        """Start the checkpoint thread."""
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def reopen(self) -> None:
        """The writer opened the database again: checkpoint the file at the path from now on."""
        self._reopen.set()

    def nudge(self, events: int) -> None:
        """The writer committed ``events`` more (called from the writer thread)."""
        self._written += events
        if self._written - self._checkpointed >= CHECKPOINT_EVENTS:
            self._due.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (closing the last connection checkpoints what is left)."""
        self._stop.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        engine = make_engine(self.path, immediate=False, persistent=True)
        try:
            while not self._stop.is_set():
                self._due.wait(self.every_s)
                self._due.clear()
                written = self._written
                if written == self._checkpointed or self._stop.is_set():
                    continue
                self._checkpointed = written
                if self._reopen.is_set():
                    self._reopen.clear()
                    engine.dispose()  # the next checkpoint connects to the file at the path
                self._checkpoint(engine)
        finally:
            engine.dispose()

    def _checkpoint(self, engine: Engine) -> None:
        try:
            conn = engine.raw_connection()
            try:
                conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                conn.close()
        except Exception as exc:
            message = describe(exc, self.path)
            if message != self.error:
                log.warning("WAL checkpoint failed: %s; the writer carries on", message)
            self.error = message
            return
        if self.error is not None:
            log.info("WAL checkpoint works again: %s", self.path)
        self.error = None
        self.checkpoints += 1


def current_version(conn: Connection) -> int:
    """The schema version of the open database (0 for an empty file)."""
    if not inspect(conn).has_table(schema_version.name):
        return 0
    return int(conn.scalar(select(func.max(schema_version.c.version))) or 0)


def migrate(engine: Engine, path: Path) -> int:
    """Bring the database to :data:`LATEST_VERSION`; :class:`StorageError` if it cannot.

    One transaction: a new file gets :data:`storage.schema.metadata` whole, an older one the
    steps after its version; each version applied is recorded in ``schema_version``, so a
    crash never leaves a half-migrated file.
    """
    with engine.begin() as conn:
        current = current_version(conn)
        if current > LATEST_VERSION:
            raise StorageError(
                f"{path}: database schema v{current} is newer than this kiosk's "
                f"v{LATEST_VERSION}; update the kiosk software or move the file aside"
            )
        if current == LATEST_VERSION:
            return LATEST_VERSION
        if current == 0:
            metadata.create_all(conn)
        else:
            for version in range(current + 1, LATEST_VERSION + 1):
                MIGRATIONS[version](conn)
        applied_at = dt.datetime.now(dt.UTC).isoformat()
        conn.execute(
            insert(schema_version),
            [
                {"version": version, "applied_at": applied_at}
                for version in range(current + 1, LATEST_VERSION + 1)
            ],
        )
        log.info("%s: database schema migrated from v%d to v%d", path, current, LATEST_VERSION)
    return LATEST_VERSION


def database_id(engine: Engine) -> str:
    """This database file's identity (``meta.database_id``, made once, kept for its life):
    the Redis mirror records it to tell a replaced database from the one it mirrored."""
    with engine.begin() as conn:
        conn.execute(
            sqlite_insert(meta)
            .values(key="database_id", value=uuid.uuid4().hex)
            .on_conflict_do_nothing(index_elements=[meta.c.key])
        )
        value = conn.scalar(select(meta.c.value).where(meta.c.key == "database_id"))
    return str(value)


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
