"""The end of a chaos run (benchmarks.chaos): the kiosk's and the analysts' tables compared
id by id, losses at each kiosk kill against the documented flush window, simulated flags,
and Redis's live counters against SQLite."""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

#: Event types only a (here simulated) shopper causes; with session ids, what must be marked.
SHOPPER_TYPES = ("touch", "presence.change")


@dataclass
class Life:
    """One kiosk process from start to its death."""

    pid: int
    rows_at_start: int
    recorded: int = 0
    written: int = 0
    samples: list[tuple[float, int]] = field(default_factory=list)
    ended: str = "running"
    at_kill_rate: float = 0.0
    stored: int | None = None
    #: Seconds since the writer's last commit, at the last count.
    flush_age_s: float | None = None
    #: At the last count the writer was committing (SQLite fine, nothing held in memory).
    writer_ok: bool = False
    #: time.monotonic() at its start.
    started: float = field(default_factory=time.monotonic)


def count(database: Path, sql: str, *params: Any) -> Any:
    """One value from a read-only query (None when the file is not there yet)."""
    if not database.exists():
        return None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


def ids(database: Path, table: str, column: str) -> list[str]:
    """Every id of a table, duplicates kept."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        return [r[0] for r in conn.execute(f'SELECT "{column}" FROM "{table}"')]


def check_redis(url: str, database: Path) -> dict[str, Any]:
    """Redis's seq, today's product counts and sessions against SQLite."""
    client = redis.Redis.from_url(url, decode_responses=True)
    day = dt.datetime.now().strftime("%Y%m%d")
    today = dt.datetime.now().strftime("%Y-%m-%d")
    seq = count(database, "SELECT max(seq) FROM events")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        top = dict(
            conn.execute(
                "SELECT sku, count(*) FROM events WHERE sku IS NOT NULL AND type IN "
                "('touch', 'action', 'page.view') AND "
                "date(ts_epoch, 'unixepoch', 'localtime') = ? GROUP BY sku",
                (today,),
            ).fetchall()
        )
        sessions = conn.execute(
            "SELECT count(DISTINCT session_id) FROM events WHERE session_id IS NOT NULL "
            "AND date(ts_epoch, 'unixepoch', 'localtime') = ?",
            (today,),
        ).fetchone()[0]
    redis_seq = client.get("kiosk:seq")
    scores: Any = client.zrange(f"kiosk:top:{day}", 0, -1, withscores=True)
    redis_top = {str(sku): int(score) for sku, score in scores}
    redis_sessions = int(client.pfcount(f"kiosk:sessions:{day}"))
    client.close()
    # HyperLogLog counts are estimates (0.81 % standard error)
    sessions_ok = abs(redis_sessions - sessions) <= max(1, math.ceil(sessions * 0.02))
    return {
        "match": str(seq) == str(redis_seq) and top == redis_top and sessions_ok,
        "seq": [seq, None if redis_seq is None else int(redis_seq)],
        "top_products_differ": sorted(
            k for k in set(top) | set(redis_top) if top.get(k) != redis_top.get(k)
        ),
        "sessions": [sessions, redis_sessions],
    }


def compare(
    lives: list[Life], database: Path, received_db: Path, injected_ids: list[str], flush_ms: int
) -> dict[str, Any]:
    """Generated, stored and received events, losses per kill, duplicates, simulated flags,
    quarantine: the figures of one run."""
    kiosk_ids = ids(database, "events", "id")
    columns = {
        r[1]
        for r in sqlite3.connect(f"file:{received_db}?mode=ro", uri=True).execute(
            "PRAGMA table_info(events)"
        )
    }
    id_column = "event_id" if "event_id" in columns else "id"
    received_ids = ids(received_db, "events", id_column)
    stored, received = set(kiosk_ids), set(received_ids)
    generated = 0
    window_loss = 0
    lost_at_stop = 0
    per_kill: list[dict[str, Any]] = []
    next_rows = [life.rows_at_start for life in lives[1:]] + [len(kiosk_ids)]
    for life, rows_after in zip(lives, next_rows, strict=True):
        life.stored = rows_after - life.rows_at_start
        # the last count is read just before a kill: what it stored after that was made too
        generated += max(life.recorded, life.stored)
        lost = max(0, life.recorded - life.stored)
        if life.ended.startswith("stopped"):
            lost_at_stop += lost  # a graceful stop writes everything: goal 0
            continue
        # The contract: a kill loses at most the events appended since the last commit, one
        # flush interval's worth. While the writer was committing (SQLite fine, nothing held
        # in memory), that is what it had not committed yet at the last count; while it was
        # not (a full disk), only as many as a writer keeping up holds at the rate just before.
        pending = life.recorded - life.written
        rate_window = math.ceil(life.at_kill_rate * flush_ms / 1000) + 1
        window = pending if life.writer_ok else min(pending, rate_window)
        within = min(lost, window)
        window_loss += within
        per_kill.append(
            {
                "how": life.ended,
                "recorded": life.recorded,
                "committed_at_kill": life.written,
                "writer_committing": life.writer_ok,
                "last_commit_age_s": None
                if life.flush_age_s is None
                else round(life.flush_age_s, 3),
                "stored": life.stored,
                "lost": lost,
                "flush_window": window,
                "lost_beyond_window": lost - within,
            }
        )
    falsely_unmarked = {}
    falsely_marked = {}
    for name, db in (("kiosk", database), ("analysts", received_db)):
        falsely_unmarked[name] = count(
            db,
            "SELECT count(*) FROM events WHERE NOT simulated AND (session_id IS NOT NULL "
            f"OR type IN {SHOPPER_TYPES!r})",
        )
        falsely_marked[name] = count(
            db,
            "SELECT count(*) FROM events WHERE simulated AND "
            "(type LIKE 'system.%' OR type LIKE 'admin.%')",
        )
    quarantined = None
    if count(received_db, "SELECT count(*) FROM sqlite_master WHERE name='quarantine'"):
        quarantined = count(received_db, "SELECT count(*) FROM quarantine")
    return {
        "generated": generated,
        "stored": len(kiosk_ids),
        "received": len(received),
        "should_arrive": generated - window_loss,
        "per_kill": per_kill,
        "lost_beyond_window": sum(k["lost_beyond_window"] for k in per_kill),
        "lost_at_graceful_stop": lost_at_stop,
        "stored_not_received": len(stored - received),
        "received_not_stored": len(received - stored),
        "injected_events_landed": len(set(injected_ids) & received),
        "quarantined": quarantined,
        "duplicates_analysts": len(received_ids) - len(received),
        "duplicates_kiosk": len(kiosk_ids) - len(stored),
        "falsely_unmarked_simulated": falsely_unmarked,
        "falsely_marked_simulated": falsely_marked,
    }
