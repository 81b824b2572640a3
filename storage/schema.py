"""The event log's SQLite schema, declared once: tables and indexes as SQLAlchemy Core
:class:`~sqlalchemy.MetaData`, and the steps that bring an older file up to it.

A new file gets :data:`metadata` as it stands (``create_all``). A file made by an older kiosk
gets the steps after its version, in order; each step adds the objects of :data:`metadata`
that its version introduced (a column through :class:`~sqlalchemy.schema.CreateColumn`, an
index through :class:`~sqlalchemy.schema.CreateIndex`), so the DDL of a column or an index is
written in one place only. A test builds a file of every older version and checks that its
migrated schema is the one ``create_all`` makes.

Why ordered Core steps and not Alembic: SQLite's ``ALTER TABLE`` only adds columns, so every
step is "add this column" or "create/drop this index", which Core compiles from the same
objects; Alembic (and Mako under it) would be two more packages in the kiosk's wheel for
the same four statements, and its revision files would declare the columns a second time.

A new table (the dashboards' rollups) is declared here too, with a step of its own in
:data:`MIGRATIONS` that creates it in older files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import REAL, Column, Index, Integer, MetaData, Table, Text, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateColumn, CreateIndex

metadata = MetaData()


def event_columns(*, mono_ns_required: bool) -> list[Column[Any]]:
    """The event's schema v1 fields, in order, as every events table holds them: the kiosk's
    log here and the analysts' landing table (``uplink.landing``), which takes ``mono_ns``
    as optional (a kiosk of another make may not send it)."""
    return [
        Column("ts", Text, nullable=False),
        Column("ts_epoch", REAL, nullable=False),
        Column("mono_ns", Integer, nullable=not mono_ns_required),
        Column("clock_synced", Integer, nullable=False),
        Column("store_id", Text, nullable=False),
        Column("kiosk_id", Text, nullable=False),
        Column("session_id", Text),
        Column("type", Text, nullable=False),
        Column("page", Text),
        Column("element", Text),
        Column("sku", Text),
        Column("payload", Text, nullable=False),
        Column("simulated", Integer, nullable=False),
    ]


#: One row per event, in the order SQLite stored them (``seq``). The columns the event log
#: writes are :data:`storage.records.COLUMNS`, in this order.
events = Table(
    "events",
    metadata,
    # primary keys without NOT NULL, as older kiosks declared them: a migrated file and a
    # new one have the same schema (a test compares them)
    Column("seq", Integer, primary_key=True, nullable=True),
    Column("id", Text, nullable=False, unique=True),
    *event_columns(mono_ns_required=True),
    Column("size", Integer, nullable=False),
    # v4: the event's schema v1 JSON as recorded (NULL in older rows: readers build it)
    Column("json", Text),
    # a seq is never reused, even after the newest events were deleted (the outbox and the
    # Redis mirror count on seqs only growing)
    sqlite_autoincrement=True,
)
Index("ix_events_ts", events.c.ts_epoch)
Index(
    "ix_events_session",
    events.c.session_id,
    events.c.seq,
    sqlite_where=events.c.session_id.is_not(None),
)
#: v3: time ordered, so new events land at its end (a batch's commit writes a few of its
#: pages instead of one per product) and the dashboards' product queries, all over a time
#: window, read it alone.
ix_events_sku_ts = Index(
    "ix_events_sku_ts",
    events.c.ts_epoch,
    events.c.sku,
    events.c.session_id,
    sqlite_where=events.c.sku.is_not(None),
)

#: One row per shopper session, folded in by the writer in each batch's transaction
#: (storage.records.SESSIONS_UPSERT_SQL).
sessions = Table(
    "sessions",
    metadata,
    Column("session_id", Text, primary_key=True, nullable=True),
    Column("first_ts", Text, nullable=False),
    Column("first_epoch", REAL, nullable=False),
    Column("last_epoch", REAL, nullable=False),
    Column("started_ts", Text),
    Column("ended_ts", Text),
    Column("end_reason", Text),
    Column("events", Integer, nullable=False, server_default=text("0")),
    Column("touches", Integer, nullable=False, server_default=text("0")),
    Column("simulated", Integer, nullable=False, server_default=text("0")),
    # v2
    Column("page_views", Integer, nullable=False, server_default=text("0")),
)
Index("ix_sessions_first", sessions.c.first_epoch)

#: The uplink's batches: a range of seqs, leased to one sender at a time until acknowledged.
outbox = Table(
    "outbox",
    metadata,
    Column("batch_id", Text, primary_key=True, nullable=True),
    Column("first_seq", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("count", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("first_ts", Text, nullable=False),
    Column("last_ts", Text, nullable=False),
    Column("created_at", REAL, nullable=False),
    Column("lease_owner", Text),
    Column("lease_until", REAL),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("sent_at", REAL),
)
Index("ix_outbox_unsent", outbox.c.first_seq, sqlite_where=outbox.c.sent_at.is_(None))

#: Small named values: ``database_id`` (this file's identity), ``outbox_last_seq``.
meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True, nullable=True),
    Column("value", Text, nullable=False),
)

#: One row per schema version applied to the file, with when.
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, nullable=True),
    Column("applied_at", Text, nullable=False),
)

#: v5, the dashboards' day rollups, kept by the writer in each batch's transaction
#: (:mod:`storage.rollups` says what each holds). A *day* is the local date, ``YYYY-MM-DD``.
rollup_progress = Table(
    "rollup_progress",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
)


def _tally(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default=text("0"))


def _day_table(name: str, keys: dict[str, type[Text | Integer]], tallies: tuple[str, ...]) -> Table:
    """A rollup table: keyed by ``day`` and ``keys`` (name -> type), then its counts; no
    rowid (the key is the table's one b-tree)."""
    return Table(
        name,
        metadata,
        Column("day", Text, primary_key=True),
        *(Column(key, kind, primary_key=True) for key, kind in keys.items()),
        *(_tally(tally) for tally in tallies),
        sqlite_with_rowid=False,
    )


rollup_days = _day_table(
    "rollup_days",
    {},
    ("sessions", "touched", "viewed", "passed", "approached", "engaged", "deepest"),
)
rollup_traffic = _day_table("rollup_traffic", {"hour": Integer}, ("events", "sessions", "touches"))
rollup_products = _day_table("rollup_products", {"sku": Text}, ("events", "sessions"))
rollup_dwell = _day_table("rollup_dwell", {"page": Text, "bin": Integer}, ("views",))
rollup_day_sessions = _day_table("rollup_day_sessions", {"session_id": Text}, ("touched", "viewed"))
rollup_baskets = _day_table("rollup_baskets", {"session_id": Text, "sku": Text}, ())
rollup_pairs = _day_table("rollup_pairs", {"a": Text, "b": Text}, ("sessions",))
# the pairs query reads only the day's pairs near or above the support threshold
Index("ix_rollup_pairs_support", rollup_pairs.c.day, rollup_pairs.c.sessions)
#: The rollup tables, each with a ``day`` column but the progress.
ROLLUP_TABLES = (
    rollup_progress,
    rollup_days,
    rollup_traffic,
    rollup_products,
    rollup_dwell,
    rollup_day_sessions,
    rollup_baskets,
    rollup_pairs,
)

#: A step takes a file's schema from version N-1 to N; it runs in the transaction that also
#: records N in ``schema_version``.
MigrationStep = Callable[[Connection], None]


def add_column(conn: Connection, column: Column[Any]) -> None:
    """``ALTER TABLE ... ADD COLUMN`` for ``column`` as :data:`metadata` declares it."""
    table = column.table
    spec = CreateColumn(column).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {spec}")


def _v2_sessions_page_views(conn: Connection) -> None:
    add_column(conn, sessions.c.page_views)


def _v3_time_ordered_product_index(conn: Connection) -> None:
    # the old (sku, ts_epoch) index is in no declaration any more: named here alone
    conn.exec_driver_sql("DROP INDEX ix_events_sku")
    conn.execute(CreateIndex(ix_events_sku_ts))


def _v4_events_json(conn: Connection) -> None:
    add_column(conn, events.c.json)


def _v5_dashboard_rollups(conn: Connection) -> None:
    # empty: the writer builds them from the file's events (storage.rollups.fold_batch)
    for table in ROLLUP_TABLES:
        table.create(conn)


#: The steps, by the version they bring a file to. Version 1 is the first schema: a file
#: without one (new or empty) gets :data:`metadata` whole, at the latest version, at once.
#: A new table gets a step that creates it (``table.create(conn)``, with its indexes).
MIGRATIONS: dict[int, MigrationStep] = {
    2: _v2_sessions_page_views,
    3: _v3_time_ordered_product_index,
    4: _v4_events_json,
    5: _v5_dashboard_rollups,
}
