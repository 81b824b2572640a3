"""The Redis mirror: recent-events stream and live counters, caught up from SQLite after gaps.

Keys (``P`` = ``[redis] key_prefix``): ``P:stream`` (field ``e`` = event JSON, trimmed to
``stream_maxlen``), ``P:rate:<epoch second>`` (hash sku -> interactions, kept two hours),
``P:top:<YYYYMMDD>`` (sorted set sku -> interactions, local day), ``P:sessions:<YYYYMMDD>``
(HyperLogLog of session ids), ``P:presence`` (hash: last presence.change payload and ts),
``P:seq`` (the last SQLite ``seq`` mirrored; written by the same atomic script as the
counters), ``P:origin`` (the ``database_id`` of the SQLite file mirrored).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import redis
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Row as SqlRow

from settings.model import RedisSection
from storage.db import make_engine
from storage.event import EventType, JsonObject
from storage.records import COLUMN_INDEX, EVENT_JSON_TEXT, Row
from storage.schema import events

log = logging.getLogger(__name__)

RATE_TTL_S = 7200
DAY_TTL_S = 3 * 86_400
RETRY_S = 2.0


def day_key(epoch: float) -> str:
    """The local calendar day of ``epoch`` as ``YYYYMMDD``."""
    return _day_of_second(int(epoch))


@functools.lru_cache(maxsize=4096)
def _day_of_second(second: int) -> str:
    # A batch's events share a handful of seconds: one strftime per second, not per event.
    return dt.datetime.fromtimestamp(second).strftime("%Y%m%d")


def connect(section: RedisSection) -> redis.Redis:
    """A client for ``section`` (password or password file, TLS and CA file by config)."""
    password = section.password.get_secret_value() if section.password else None
    if password is None and section.password_file is not None:
        password = section.password_file.read_text().strip()
    kwargs: dict[str, object] = {
        "socket_connect_timeout": section.connect_timeout_s,
        "socket_timeout": max(2.0, section.connect_timeout_s),
    }
    if password:
        kwargs["password"] = password
    if section.tls or section.url.startswith("rediss://"):
        url = section.url.replace("redis://", "rediss://", 1)
        if section.ca_file is not None:
            kwargs["ssl_ca_certs"] = str(section.ca_file)
    else:
        url = section.url
    return redis.Redis.from_url(url, **kwargs)


#: Separates the events' JSON in the one argument that carries them all: compact JSON has
#: no raw newline (inside strings it is escaped), so it cannot occur inside an event.
BODY_SEPARATOR = "\n"

#: Mirrors one batch in one atomic call. ARGV[1] is the batch's counters as JSON (the keys
#: are named by the caller; ``after``, when given, the seq Redis must hold already, else
#: nothing is applied and -1 returned); ARGV[2] the events' seqs, comma separated, or only
#: the first when they are consecutive (as a written batch's are); ARGV[3] their JSON,
#: separated by :data:`BODY_SEPARATOR`. One call instead of a MULTI of ~130
#: commands, and three arguments instead of two per event: packing and parsing commands
#: cost the client far more than Redis took to run them.
MIRROR_BATCH_LUA = """
local spec = cjson.decode(ARGV[1])
if spec.after then
    -- Redis must hold everything before this batch; if it lost data (a restart without
    -- persistence) the caller replays from SQLite first
    local have = tonumber(redis.call('GET', spec.seq_key) or '0')
    if have ~= tonumber(spec.after) then
        return -1
    end
end
-- ARGV[2] is the first of consecutive seqs, or else all of them
local seqs, first = {}, nil
if string.find(ARGV[2], ',', 1, true) then
    for seq in string.gmatch(ARGV[2], '%d+') do
        seqs[#seqs + 1] = seq
    end
else
    first = tonumber(ARGV[2])
end
-- plain find (memchr), not a pattern: a pattern steps through the 150 KB byte by byte
local bodies, start = ARGV[3], 1
for i = 1, spec.count do
    local stop = string.find(bodies, '\\n', start, true) or (#bodies + 1)
    local seq = seqs[i] or string.format('%d', first + i - 1)
    redis.call('XADD', spec.stream, '*', 'seq', seq, 'e', string.sub(bodies, start, stop - 1))
    start = stop + 1
end
-- trimmed once per batch (whole stream nodes, as MAXLEN ~ does)
redis.call('XTRIM', spec.stream, 'MAXLEN', '~', spec.maxlen)
for _, r in ipairs(spec.rate) do
    redis.call('HINCRBY', r[1], r[2], r[3])
end
for _, t in ipairs(spec.top) do
    redis.call('ZINCRBY', t[1], t[3], t[2])
end
for _, s in ipairs(spec.sessions) do
    local ids = s[2]
    for from = 1, #ids, 1000 do
        redis.call('PFADD', s[1], unpack(ids, from, math.min(from + 999, #ids)))
    end
end
-- after the writes: EXPIRE on a key that does not exist yet does nothing
for _, e in ipairs(spec.expire) do
    redis.call('EXPIRE', e[1], e[2])
end
if spec.presence then
    redis.call('HSET', spec.presence_key, 'state', spec.presence[1], 'ts', spec.presence[2])
end
redis.call('SET', spec.seq_key, spec.seq)
return spec.seq
"""


PRESENCE = EventType.PRESENCE_CHANGE


class MirrorBatch(NamedTuple):
    """Events to mirror, oldest first, column by column (one tuple per column)."""

    seqs: tuple[int, ...]
    types: tuple[str, ...]
    skus: tuple[str | None, ...]
    session_ids: tuple[str | None, ...]
    epochs: tuple[float, ...]
    payloads: tuple[str, ...]
    bodies: tuple[str, ...]

    @classmethod
    def of_rows(cls, rows: Iterable[Sequence[Any]]) -> MirrorBatch:
        """The batch of rows ``(seq, type, sku, session_id, ts_epoch, payload, json)``."""
        columns = tuple(zip(*rows, strict=True))
        return cls(*columns) if columns else cls((), (), (), (), (), (), ())


def _stream_args(batch: MirrorBatch) -> tuple[bytes, bytes]:
    """The seqs and the events' JSON as the script's ARGV[2] and ARGV[3]."""
    bodies = batch.bodies
    joined = BODY_SEPARATOR.join(bodies)
    if joined.count(BODY_SEPARATOR) != len(bodies) - 1:
        # Not compact JSON (a row edited by hand?): a raw newline is whitespace, or invalid
        # inside a string, so a space keeps each event one stream entry with its own seq.
        log.warning("Redis mirror: an event's JSON holds a raw newline; sent as a space")
        joined = BODY_SEPARATOR.join(b.replace(BODY_SEPARATOR, " ") for b in bodies)
    seqs = batch.seqs
    # ascending and distinct (SQLite's order), so this span means no gaps
    consecutive = seqs[-1] - seqs[0] == len(seqs) - 1
    listed = str(seqs[0]) if consecutive else ",".join(map(str, seqs))
    return listed.encode("ascii"), joined.encode("utf-8")


class RedisMirror:
    """Applies committed SQLite rows to Redis, one atomic script call per batch; remembers
    how far it got. Called from one thread (the :class:`RedisCatchUp`'s)."""

    def __init__(self, section: RedisSection) -> None:
        self.section = section
        self.prefix = section.key_prefix
        self.client = connect(section)
        # redis-py's Script sends EVALSHA and, when Redis forgot the script (a restart,
        # SCRIPT FLUSH), loads it and sends the call again
        self._script = self.client.register_script(MIRROR_BATCH_LUA)
        self.connected = False
        self.applied_seq = -1  # unknown until the first contact
        #: The last seq Redis was seen to hold (kept while Redis is away, for the lag).
        self.confirmed_seq = 0
        self.error: str | None = None
        self._retry_at = 0.0

    def due(self) -> bool:
        """True when the mirror may try Redis now (it waits a little after a failure)."""
        return self.connected or time.monotonic() >= self._retry_at

    def fail(self, exc: BaseException) -> None:
        """Redis (or the mirror itself) failed: remember it, try again later."""
        message = f"{type(exc).__name__}: {exc}"
        if self.connected or self.error != message:
            log.warning(
                "Redis mirror failed (%s): SQLite carries on, Redis catches up later", message
            )
        self.connected = False
        self.error = message
        self.applied_seq = -1
        self._retry_at = time.monotonic() + RETRY_S
        # an answer may be half read: the next call starts on fresh sockets
        self.client.connection_pool.disconnect()

    def remote_state(self) -> tuple[int, str | None]:
        """The last seq Redis holds (0 when none: a fresh or emptied server) and the
        database it was mirrored from (``P:origin``; None when not recorded). Raises
        ``ValueError`` when ``P:seq`` is not a number."""
        seq, origin = self.client.mget(f"{self.prefix}:seq", f"{self.prefix}:origin")
        try:
            number = int(seq) if seq else 0
        except ValueError:
            raise ValueError(f"Redis key {self.prefix}:seq holds {seq!r}, not a seq") from None
        if isinstance(origin, bytes):
            origin = origin.decode("utf-8", "replace")
        return number, origin or None

    def set_origin(self, origin: str) -> None:
        """Record which database Redis's keys are mirrored from."""
        self.client.set(f"{self.prefix}:origin", origin)

    def clear(self) -> int:
        """Delete every key of this mirror (``P:*``); how many."""
        deleted = 0
        batch: list[bytes] = []
        for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += int(self.client.delete(*batch))
                batch = []
        if batch:
            deleted += int(self.client.delete(*batch))
        self.applied_seq = self.confirmed_seq = 0
        return deleted

    def apply(self, batch: MirrorBatch, *, after: int | None = None) -> bool:
        """Mirror ``batch`` atomically and wait for the answer. With ``after``, Redis applies
        it only if it holds exactly up to that seq; False when it did not (nothing applied,
        e.g. after a restart that lost its data). Raises what Redis or the socket raised."""
        if not batch.seqs:
            return True
        args = [orjson.dumps(self._spec(batch, after)), *_stream_args(batch)]
        reply = self._script(args=args)
        if reply == -1:
            return False
        last = int(batch.seqs[-1])
        self.applied_seq = self.confirmed_seq = last
        if not self.connected:
            log.info("Redis connected: live counters up to date to seq %d", last)
        self.connected = True
        self.error = None
        return True

    def _spec(self, batch: MirrorBatch, after: int | None) -> dict[str, object]:
        """The batch's counters, keyed by the Redis keys they go to.

        Column-wise, at C speed: events are first counted per (second, product) and
        (second, session), so the Python loops run once per distinct pair, not per event.
        """
        p = self.prefix
        seconds = list(map(int, batch.epochs))
        rate = Counter(zip(seconds, batch.skus, strict=True))
        counted = [(second, sku, n) for (second, sku), n in rate.items() if sku is not None]
        top: dict[str, Counter[str]] = {}
        for second, sku, n in counted:
            top.setdefault(day_key(second), Counter())[sku] += n
        sessions: dict[str, set[str]] = {}
        for second, session_id in set(zip(seconds, batch.session_ids, strict=True)):
            if session_id is not None:
                sessions.setdefault(day_key(second), set()).add(session_id)
        spec: dict[str, object] = {
            "stream": f"{p}:stream",
            "maxlen": self.section.stream_maxlen,
            "rate": [[f"{p}:rate:{second}", sku, n] for second, sku, n in counted],
            "top": [
                [f"{p}:top:{day}", sku, n]
                for day, counts in top.items()
                for sku, n in counts.items()
            ],
            "sessions": [[f"{p}:sessions:{day}", sorted(ids)] for day, ids in sessions.items()],
            "expire": [
                *([f"{p}:rate:{second}", RATE_TTL_S] for second in {c[0] for c in counted}),
                *([f"{p}:top:{day}", DAY_TTL_S] for day in top),
                *([f"{p}:sessions:{day}", DAY_TTL_S] for day in sessions),
            ],
            "count": len(batch.seqs),
            "seq_key": f"{p}:seq",
            "seq": str(batch.seqs[-1]),
        }
        types = batch.types
        if PRESENCE in types:
            last = len(types) - 1 - types[::-1].index(PRESENCE)
            spec["presence_key"] = f"{p}:presence"
            spec["presence"] = [batch.payloads[last], repr(float(batch.epochs[last]))]
        if after is not None:
            spec["after"] = str(after)
        return spec


#: Committed batches handed to the mirror thread and not applied yet, at most: beyond, the
#: writer hands no more rows over and the mirror thread reads what it missed from SQLite.
FEED_BACKLOG = 16
#: How long the mirror thread sleeps when nothing was committed (it then retries Redis).
FEED_IDLE_S = 0.25
#: Events read from SQLite per replay call.
REPLAY_CHUNK = 2000
#: The columns a replay reads (the JSON after them), in :meth:`MirrorBatch.of_rows`'s order.
_REPLAYED = (
    events.c.seq,
    events.c.type,
    events.c.sku,
    events.c.session_id,
    events.c.ts_epoch,
    events.c.payload,
)


@dataclass(frozen=True, slots=True)
class RedisHealth:
    """The Redis mirror's state: connected, how far behind SQLite, its last failure, and
    when and why Redis was last rebuilt from SQLite."""

    connected: bool
    lag_events: int
    error: str | None
    #: Times Redis's keys were found out of step with SQLite (another database's, or a seq
    #: beyond SQLite's last) and rebuilt from SQLite; when and why the last time.
    rebuilds: int
    rebuilt_at: float | None
    rebuild_reason: str | None


class RedisCatchUp:
    """The Redis mirror's own thread, ``redis-mirror``: applies what the writer committed,
    batch by batch and in order, while the writer goes on with the next batch, and catches
    Redis up from SQLite after any gap.

    The writer only hands batches over (:meth:`committed`: a deque append and an event), so
    nothing Redis does, raises or takes time over reaches SQLite's path. A failure of any
    kind here (Redis away, a key of the wrong type, a Lua error, a forgotten script, a bad
    value in a row) is logged once, shown in the mirror's ``error``, and mended later by
    replaying from SQLite what Redis lacks (today's events at most), read on a connection
    of this thread's own that never takes the write lock.

    Each replay first checks Redis against SQLite: keys mirrored from another database
    (``P:origin``) or a seq beyond SQLite's last (the database was moved aside or
    replaced) are deleted and rebuilt from SQLite, with a WARNING in the log and
    :attr:`rebuilds`, :attr:`rebuilt_at` and :attr:`rebuild_reason` for health.
    """

    def __init__(self, section: RedisSection, database: Path) -> None:
        self.mirror = RedisMirror(section)
        self._database = database
        self._engine: Engine | None = None
        self._items: deque[tuple[int, Sequence[Row]]] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: While set (the shop is closed) nothing is sent to Redis; at resume the mirror
        #: catches up from SQLite.
        self.paused = False
        #: The database's identity (``meta.database_id``); set by the writer once it is open.
        self.origin: str | None = None
        #: The last seq SQLite committed (written by the writer thread only).
        self.committed_seq = 0
        #: Times the writer (re)opened the database, and the last time this thread saw it:
        #: each opening may be another file (one moved aside and started anew), so the
        #: mirror then reads it afresh and checks Redis against it before applying more.
        self._openings = 0
        self._openings_seen = 0
        self.synced = False
        self.rebuilds = 0
        self.rebuilt_at: float | None = None
        self.rebuild_reason: str | None = None

    @property
    def lag_events(self) -> int:
        """Committed events Redis was not seen to take yet."""
        return max(0, self.committed_seq - self.mirror.confirmed_seq)

    def snapshot(self) -> RedisHealth:
        """The mirror's state (any thread)."""
        m = self.mirror
        return RedisHealth(
            connected=m.connected,
            lag_events=self.lag_events,
            error=m.error,
            rebuilds=self.rebuilds,
            rebuilt_at=self.rebuilt_at,
            rebuild_reason=self.rebuild_reason,
        )

    def start(self) -> None:
        """Start the mirror thread."""
        self._thread = threading.Thread(target=self._run, name="redis-mirror", daemon=True)
        self._thread.start()

    def opened(self, origin: str, last_seq: int) -> None:
        """The writer opened the database ``origin`` whose last seq is ``last_seq``."""
        self.origin = origin
        self.committed_seq = last_seq
        # what was handed over before belongs to the file open until now
        self._items.clear()
        self._openings += 1
        self._wake.set()

    def committed(self, first: int, rows: Sequence[Row]) -> None:
        """The writer committed ``rows`` as seqs ``first``...; never raises, never waits."""
        self.committed_seq = first + len(rows) - 1
        if len(self._items) < FEED_BACKLOG:
            self._items.append((first, rows))
        self._wake.set()

    def committed_upto(self, last: int) -> None:
        """The writer committed up to seq ``last`` without handing the rows over: the
        mirror thread reads them from SQLite."""
        self.committed_seq = last
        self._wake.set()

    def pause(self) -> None:
        """Send nothing to Redis until :meth:`resume` (the shop is closed)."""
        self.paused = True

    def resume(self) -> None:
        """Catch Redis up from SQLite and mirror each batch again."""
        self.paused = False
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Apply what was handed over (and what Redis lacks), then stop the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("Redis mirror did not finish within %.1f s", timeout)

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(FEED_IDLE_S)
                self._wake.clear()
                stopping = self._stopping
                if self.paused and not stopping:
                    # idle: what was handed over is read again from SQLite at resume
                    self._items.clear()
                    self.synced = False
                    continue
                self._drain()
                if stopping and not self._items:
                    break
        finally:
            if self._engine is not None:
                self._engine.dispose()
            self.mirror.client.close()

    def _drain(self) -> None:
        m = self.mirror
        openings = self._openings
        if openings != self._openings_seen:
            # the writer opened the database again, perhaps a new file at the same path:
            # read it on a new connection and check Redis against it (origin, seq) first
            self._openings_seen = openings
            self.synced = False
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
        while True:
            try:
                first, rows = self._items.popleft()
            except IndexError:  # none left (opened() may empty it from the writer thread)
                break
            if not m.due():
                self.synced = False
                continue
            try:
                self._apply(first, rows)
            except Exception as exc:
                self.synced = False
                m.fail(exc)
        behind = not self.synced or m.applied_seq < self.committed_seq
        if behind and self.origin is not None and m.due():
            try:
                self._sync(self.committed_seq)
            except Exception as exc:
                self.synced = False
                m.fail(exc)

    def _apply(self, first: int, rows: Sequence[Row]) -> None:
        m = self.mirror
        last = first + len(rows) - 1
        if self.synced and last <= m.applied_seq:
            return  # a replay from SQLite took it already
        if not self.synced or m.applied_seq != first - 1:
            self._sync(first - 1)
        if not m.apply(_batch_of(first, rows), after=first - 1):
            # Redis lost data between two calls without an error seen (a restart without
            # persistence, a FLUSHALL): replay from SQLite, this batch included
            self.synced = False
            self._sync(last)

    def _read(self, query: Select[Any]) -> Sequence[SqlRow[Any]]:
        if self._engine is None:
            # deferred transactions: reading never takes the write lock
            self._engine = make_engine(self._database, immediate=False, persistent=True)
        with self._engine.connect() as conn:
            return conn.execute(query).all()

    def _sync(self, upto: int) -> None:
        """Replay from SQLite what Redis lacks (today's events at most) up to ``upto``,
        after rebuilding Redis's keys if they are not this database's."""
        m = self.mirror
        assert self.origin is not None
        openings = self._openings
        remote, origin = m.remote_state()
        committed = self.committed_seq
        reason = None
        if origin is not None and origin != self.origin:
            reason = f"its keys come from another database ({origin}; this one is {self.origin})"
        elif remote > committed:
            reason = f"it holds seq {remote} but SQLite's last is {committed}"
        if reason is not None:
            deleted = m.clear()
            remote = 0
            self.rebuilds += 1
            self.rebuilt_at = time.time()
            self.rebuild_reason = reason
            log.warning(
                "Redis out of step with SQLite %s (%s): its %d keys were deleted and today's "
                "events are replayed from SQLite",
                self._database,
                reason,
                deleted,
            )
        if origin != self.origin or reason is not None:
            m.set_origin(self.origin)
        today = self._read(
            select(func.min(events.c.seq)).where(events.c.ts_epoch >= _local_midnight_epoch())
        )
        floor = int(today[0][0]) - 1 if today and today[0][0] is not None else upto
        start = max(remote, floor)
        m.applied_seq = m.confirmed_seq = start
        replayed = 0
        while start < upto:
            chunk = self._read(
                select(*_REPLAYED, EVENT_JSON_TEXT)
                .where(events.c.seq > start, events.c.seq <= upto)
                .order_by(events.c.seq)
                .limit(REPLAY_CHUNK)
            )
            if not chunk:
                break
            replayed += self._replay(chunk)
            start = int(chunk[-1][0])
        if self._openings != openings:
            # the writer opened the database again meanwhile (perhaps another file): what was
            # replayed may be the old file's, so Redis starts again empty at the next sync
            m.clear()
            self.synced = False
            return
        m.applied_seq = max(m.applied_seq, upto)
        m.confirmed_seq = max(m.confirmed_seq, m.applied_seq)
        self.synced = True
        if replayed:
            log.info("Redis caught up: %d events replayed from SQLite", replayed)

    def _replay(self, chunk: Sequence[SqlRow[Any]]) -> int:
        """Mirror rows read from SQLite; a row whose values the mirror cannot count (one
        edited by hand: a time that is not a number) is left out, named in the log, so it
        cannot hold Redis back for good. How many were mirrored."""
        try:
            self.mirror.apply(MirrorBatch.of_rows(chunk))
            return len(chunk)
        except (TypeError, ValueError, OverflowError):
            pass
        done = 0
        for row in chunk:
            try:
                self.mirror.apply(MirrorBatch.of_rows([row]))
                done += 1
            except (TypeError, ValueError, OverflowError) as exc:
                log.error(
                    "Redis mirror: event seq %s in %s left out of the live counters (%s: %s)",
                    row[0],
                    self._database,
                    type(exc).__name__,
                    exc,
                )
        return done


def _local_midnight_epoch() -> float:
    now = dt.datetime.now().astimezone()
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


_COLUMNS = tuple(
    COLUMN_INDEX[name] for name in ("type", "sku", "session_id", "ts_epoch", "payload", "json")
)


def _batch_of(first: int, rows: Sequence[Row]) -> MirrorBatch:
    """The mirror batch of ``rows``, committed as seqs ``first``, ``first + 1``, ..."""
    columns = list(zip(*[r.values for r in rows], strict=True))
    seqs = tuple(range(first, first + len(rows)))
    return MirrorBatch(seqs, *(columns[i] for i in _COLUMNS))


def decode_presence(raw: dict[bytes, bytes]) -> JsonObject | None:
    """The presence hash as ``{"zone": ..., ..., "ts": epoch}``."""
    if not raw or b"state" not in raw:
        return None
    state = orjson.loads(raw[b"state"])
    if not isinstance(state, dict):
        return None
    state["ts"] = float(raw.get(b"ts", b"0"))
    return state
