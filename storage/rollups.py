"""The day rollups: the dashboards' day views, kept by the event log's writer as it writes.

Today's top products, funnel, dwell histogram, pairs and traffic used to be a scan of the
day's events at every refresh (hundreds of thousands of rows on a busy day, ~0.9 s with a
million events, ``python -m benchmarks.dashboards``). The writer now folds each batch into
these tables in the batch's own transaction (:func:`fold_batch`), so a refresh reads a few
hundred rows (:mod:`storage.queries`), and the rollups always say what the committed events
say: a kill -9 mid-batch loses the batch and its fold together.

A *day* is the local calendar date of an event's ``ts_epoch`` (``YYYY-MM-DD``, SQLite's
``date(ts_epoch, 'unixepoch', 'localtime')``, the same ``localtime`` as Python's
:func:`time.localtime`), so "today" means what the shop's clock says, DST included.

- ``rollup_days``: per day, shoppers (sessions with any event), those who touched, those who
  viewed a product, and the presence funnel (episodes that passed, approached, engaged; an
  episode ends at a zone other than those three) with the running episode's deepest zone.
- ``rollup_traffic``: per day and local hour, events, sessions started, touches.
- ``rollup_products``: per day and product, interactions and sessions that saw it.
- ``rollup_dwell``: per day and page, page views per dwell bin (:data:`DWELL_EDGES_MS`).
- ``rollup_day_sessions`` and ``rollup_baskets``: which sessions were seen that day, and the
  products each saw (the state that makes the distinct counts exact across batches).
- ``rollup_pairs``: per day, sessions that saw both products ``a`` and ``b`` (``a < b``).
- ``rollup_progress``: the last ``seq`` folded. Events after it are the backlog: a database
  from before the rollups existed is built once, :data:`BUILD_CHUNK` events per batch on the
  writer thread (:func:`fold_batch`), never on the UI thread, and resumes after a restart.

The fold is raw SQL on the writer's sqlite3 connection: it runs inside every batch's
transaction, the writer's hot path (``python -m benchmarks.event_log`` keeps it). Retention
drops whole days with :func:`prune`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from storage.batch_hooks import WrittenBatch
from storage.db import driver
from storage.schema import ROLLUP_TABLES, rollup_progress

#: Edges of the dwell histogram's bins in milliseconds; the last bin holds everything from
#: its lower edge up (a page left open for an hour is one long view, not a new scale).
DWELL_EDGES_MS = (
    0,
    5_000,
    10_000,
    15_000,
    20_000,
    30_000,
    45_000,
    60_000,
    90_000,
    120_000,
    180_000,
    240_000,
)
#: Presence zones in funnel order; any other zone ends the episode.
FUNNEL_ZONES = {"passing": 1, "approaching": 2, "engaged": 3}
#: Backlog events folded per written batch while a database's rollups are being built (a
#: few tens of milliseconds of the writer's time per batch).
BUILD_CHUNK = 5000
#: Every rollup table that holds a ``day`` column, for :func:`prune`.
DAY_TABLES = tuple(table for table in ROLLUP_TABLES if table is not rollup_progress)


def local_day(epoch: float) -> str:
    """The local calendar day (``YYYY-MM-DD``) of ``epoch``: the rollups' day key."""
    return time.strftime("%Y-%m-%d", time.localtime(epoch))


def dwell_bin(dwell_ms: float) -> int:
    """The :data:`DWELL_EDGES_MS` bin of a dwell time (the last bin is open-ended)."""
    index = 0
    for number, edge in enumerate(DWELL_EDGES_MS):
        if dwell_ms >= edge:
            index = number
    return index


def folded_upto(db: sqlite3.Connection) -> int:
    """The last event ``seq`` the rollups hold (every event up to it is folded)."""
    row = db.execute("SELECT seq FROM rollup_progress WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


class DayRollups:
    """The event log's batch hook (:mod:`storage.batch_hooks`) that keeps the rollups:
    :func:`fold_batch` on the writer's connection, in the batch's transaction, then
    :func:`prune` of the days past ``retention_days`` (the events' own retention horizon,
    ``[storage] retention_days``), so no day past it comes back with a late event.

    ``EventLog(config, batch_hooks=[DayRollups(config.storage.retention_days)])``
    """

    def __init__(self, retention_days: float, clock: Callable[[], float] = time.time) -> None:
        self.retention_days = retention_days
        self._clock = clock

    def __call__(self, batch: WrittenBatch) -> None:
        """Fold ``batch`` and prune (writer thread; a few index seeks when nothing is old)."""
        db = driver(batch.connection)
        fold_batch(db, batch.first_seq, batch.last_seq)
        prune(db, local_day(self._clock() - self.retention_days * 86_400))


def fold_batch(db: sqlite3.Connection, first: int, last: int) -> None:
    """Fold a batch the writer just inserted (``seq`` ``first``..``last``) in its transaction.

    While older events are not folded yet (a database from before the rollups), up to
    :data:`BUILD_CHUNK` of them are folded first; the batch then waits its turn in that
    backlog, so events are always folded in ``seq`` order and exactly once.
    """
    done = folded_upto(db)
    if done >= last:
        return
    if done + 1 < first:
        upto = min(first - 1, done + BUILD_CHUNK)
        fold(db, done + 1, upto)
        if upto < first - 1:
            return
    fold(db, max(first, done + 1), last)


def catch_up(db: sqlite3.Connection, limit: int | None = None) -> int:
    """Fold up to ``limit`` (:data:`BUILD_CHUNK`) backlog events (the writer calls this when
    it is idle); how many events are still not folded afterwards."""
    limit = BUILD_CHUNK if limit is None else limit
    done = folded_upto(db)
    row = db.execute("SELECT max(seq) FROM events").fetchone()
    newest = int(row[0] or 0) if row else 0
    upto = min(newest, done + limit)
    if upto > done:
        fold(db, done + 1, upto)
    return newest - max(done, upto)


_BATCH_SQL = """
INSERT INTO temp.rollup_batch
SELECT seq, date(ts_epoch, 'unixepoch', 'localtime'),
    CAST(strftime('%H', ts_epoch, 'unixepoch', 'localtime') AS INTEGER),
    type, session_id, sku, coalesce(page, ''),
    CASE WHEN type = 'presence.change' THEN json_extract(payload, '$.zone') END,
    CASE WHEN type = 'page.view' AND json_type(payload, '$.dwell_ms') IN ('integer', 'real')
        THEN json_extract(payload, '$.dwell_ms') END
FROM events WHERE seq BETWEEN ? AND ?
"""
_TRAFFIC_SQL = """
INSERT INTO rollup_traffic (day, hour, events, sessions, touches)
SELECT day, hour, count(*), sum(type = 'session.start'), sum(type = 'touch')
FROM temp.rollup_batch WHERE true GROUP BY day, hour
ON CONFLICT (day, hour) DO UPDATE SET events = events + excluded.events,
    sessions = sessions + excluded.sessions, touches = touches + excluded.touches
"""
_PRODUCTS_SQL = """
INSERT INTO rollup_products (day, sku, events, sessions)
SELECT day, sku, count(*), 0 FROM temp.rollup_batch WHERE sku IS NOT NULL GROUP BY day, sku
ON CONFLICT (day, sku) DO UPDATE SET events = events + excluded.events
"""


def _dwell_sql() -> str:
    bins = " ".join(
        f"WHEN dwell_ms < {edge} THEN {index - 1}"
        for index, edge in enumerate(DWELL_EDGES_MS)
        if index
    )
    return f"""
INSERT INTO rollup_dwell (day, page, bin, views)
SELECT day, page, CASE {bins} ELSE {len(DWELL_EDGES_MS) - 1} END, count(*)
FROM temp.rollup_batch WHERE dwell_ms >= 0 GROUP BY 1, 2, 3
ON CONFLICT (day, page, bin) DO UPDATE SET views = views + excluded.views
"""


_DWELL_SQL = _dwell_sql()
_SESSIONS_SEEN_SQL = """
SELECT b.day, sum(s.session_id IS NULL), sum(b.touched AND coalesce(s.touched, 0) = 0),
    sum(b.viewed AND coalesce(s.viewed, 0) = 0)
FROM (SELECT day, session_id, max(type = 'touch') AS touched, max(sku IS NOT NULL) AS viewed
      FROM temp.rollup_batch WHERE session_id IS NOT NULL GROUP BY day, session_id) AS b
LEFT JOIN rollup_day_sessions AS s ON s.day = b.day AND s.session_id = b.session_id
GROUP BY b.day
"""
_SESSIONS_SQL = """
INSERT INTO rollup_day_sessions (day, session_id, touched, viewed)
SELECT day, session_id, max(type = 'touch'), max(sku IS NOT NULL)
FROM temp.rollup_batch WHERE session_id IS NOT NULL GROUP BY day, session_id
ON CONFLICT (day, session_id) DO UPDATE SET touched = max(touched, excluded.touched),
    viewed = max(viewed, excluded.viewed)
"""
_NEW_BASKET_SQL = """
INSERT INTO temp.rollup_new_basket
SELECT DISTINCT day, session_id, sku FROM temp.rollup_batch AS e
WHERE session_id IS NOT NULL AND sku IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM rollup_baskets AS r
    WHERE r.day = e.day AND r.session_id = e.session_id AND r.sku = e.sku)
"""
# each product new to a session's basket pairs with the products the basket held already
# and with the other new ones; a pair is kept once, a < b (the reader gives both orders)
_PAIRS_SQL = """
INSERT INTO rollup_pairs (day, a, b, sessions)
SELECT day, a, b, count(*) FROM (
    SELECT n.day AS day, min(n.sku, o.sku) AS a, max(n.sku, o.sku) AS b
    FROM temp.rollup_new_basket AS n
    JOIN rollup_baskets AS o ON o.day = n.day AND o.session_id = n.session_id
    UNION ALL
    SELECT n.day, n.sku, m.sku FROM temp.rollup_new_basket AS n
    JOIN temp.rollup_new_basket AS m
        ON m.day = n.day AND m.session_id = n.session_id AND n.sku < m.sku
) WHERE true GROUP BY day, a, b
ON CONFLICT (day, a, b) DO UPDATE SET sessions = sessions + excluded.sessions
"""
_BASKET_PRODUCTS_SQL = """
INSERT INTO rollup_products (day, sku, events, sessions)
SELECT day, sku, 0, count(*) FROM temp.rollup_new_basket WHERE true GROUP BY day, sku
ON CONFLICT (day, sku) DO UPDATE SET sessions = sessions + excluded.sessions
"""


def _prepare(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rollup_batch (seq INTEGER PRIMARY KEY, day TEXT, "
        "hour INTEGER, type TEXT, session_id TEXT, sku TEXT, page TEXT, zone, dwell_ms)"
    )
    db.execute(
        # keyed: the pairs query joins it with itself by (day, session_id)
        "CREATE TEMP TABLE IF NOT EXISTS rollup_new_basket (day TEXT, session_id TEXT, sku TEXT, "
        "PRIMARY KEY (day, session_id, sku)) WITHOUT ROWID"
    )
    db.execute("DELETE FROM temp.rollup_batch")
    db.execute("DELETE FROM temp.rollup_new_basket")


def fold(db: sqlite3.Connection, first: int, last: int) -> None:
    """Fold the events ``seq`` ``first``..``last`` into the rollups and mark them folded
    (in the caller's transaction; every earlier event must be folded already)."""
    _prepare(db)
    db.execute(_BATCH_SQL, (first, last))
    db.execute("INSERT OR IGNORE INTO rollup_days (day) SELECT DISTINCT day FROM temp.rollup_batch")
    db.execute(_TRAFFIC_SQL)
    db.execute(_PRODUCTS_SQL)
    db.execute(_DWELL_SQL)
    _fold_sessions(db)
    _fold_funnel(db)
    db.execute(
        "INSERT INTO rollup_progress (id, seq) VALUES (1, ?) "
        "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
        (last,),
    )


def _fold_sessions(db: sqlite3.Connection) -> None:
    """Shoppers, touched and viewed per day, and the baskets and pairs of products."""
    seen = db.execute(_SESSIONS_SEEN_SQL).fetchall()
    db.executemany(
        "UPDATE rollup_days SET sessions = sessions + ?, touched = touched + ?, "
        "viewed = viewed + ? WHERE day = ?",
        [(new, touched, viewed, day) for day, new, touched, viewed in seen],
    )
    db.execute(_SESSIONS_SQL)
    db.execute(_NEW_BASKET_SQL)
    db.execute(_PAIRS_SQL)
    db.execute(_BASKET_PRODUCTS_SQL)
    db.execute("INSERT INTO rollup_baskets SELECT * FROM temp.rollup_new_basket")


def _fold_funnel(db: sqlite3.Connection) -> None:
    """Presence episodes, in ``seq`` order, each day's running episode carried over."""
    zones = db.execute(
        "SELECT day, zone FROM temp.rollup_batch WHERE type = 'presence.change' ORDER BY seq"
    ).fetchall()
    if not zones:
        return
    state: dict[str, list[int]] = {}
    for day, zone in zones:
        funnel = state.get(day)
        if funnel is None:
            row = db.execute(
                "SELECT passed, approached, engaged, deepest FROM rollup_days WHERE day = ?",
                (day,),
            ).fetchone()
            funnel = state[day] = list(row)
        step_funnel(funnel, zone)
    db.executemany(
        "UPDATE rollup_days SET passed = ?, approached = ?, engaged = ?, deepest = ? WHERE day = ?",
        [(*funnel, day) for day, funnel in state.items()],
    )


def step_funnel(funnel: list[int], zone: object) -> None:
    """One presence change into ``[passed, approached, engaged, deepest]`` (in place)."""
    level = FUNNEL_ZONES.get(zone, 0) if isinstance(zone, str) else 0
    deepest = funnel[3]
    if level == 0:
        funnel[3] = 0
        return
    if deepest == 0:
        funnel[0] += 1
    if level >= 2 and deepest < 2:
        funnel[1] += 1
    if level >= 3 and deepest < 3:
        funnel[2] += 1
    funnel[3] = max(deepest, level)


def prune(db: sqlite3.Connection, before_day: str) -> int:
    """Drop every rollup row of a day before ``before_day`` (retention); rows dropped."""
    dropped = 0
    for table in DAY_TABLES:
        dropped += db.execute(f"DELETE FROM {table.name} WHERE day < ?", (before_day,)).rowcount
    return dropped


def days(db: sqlite3.Connection) -> list[str]:
    """The days the rollups hold, oldest first."""
    return [str(day) for (day,) in db.execute("SELECT day FROM rollup_days ORDER BY day")]
