"""The Redis hot path: recent-events stream and live counters, replayed from SQLite after gaps.

Keys (``P`` = ``[redis] key_prefix``): ``P:stream`` (field ``e`` = event JSON, trimmed to
``stream_maxlen``), ``P:rate:<epoch second>`` (hash sku -> interactions, kept two hours),
``P:top:<YYYYMMDD>`` (sorted set sku -> interactions, local day), ``P:sessions:<YYYYMMDD>``
(HyperLogLog of session ids), ``P:presence`` (hash: last presence.change payload and ts),
``P:seq`` (the last SQLite ``seq`` mirrored; written by the same atomic script as the
counters).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import orjson
import redis

from settings.model import RedisSection

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
    kwargs: dict[str, Any] = {
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


PRESENCE = "presence.change"


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
    """Applies committed SQLite rows to Redis; remembers how far it got.

    :meth:`send` hands a batch to Redis without waiting; :meth:`finish` reads its answer.
    The writer sends a batch, writes the next one to SQLite while Redis runs the first, then
    finishes it: at most one batch is in flight, on a connection of its own.
    """

    def __init__(self, section: RedisSection) -> None:
        self.section = section
        self.prefix = section.key_prefix
        self.client = connect(section)
        self._script = self.client.register_script(MIRROR_BATCH_LUA)
        self._conn: Any = None
        #: The batch sent and not finished: its last seq and its EVALSHA arguments.
        self._inflight: tuple[int, list[Any]] | None = None
        self.connected = False
        self.applied_seq = -1  # unknown until the first contact
        self.error: str | None = None
        self._retry_at = 0.0

    @property
    def pending(self) -> bool:
        """A batch was sent and its answer not read yet."""
        return self._inflight is not None

    def due(self) -> bool:
        """True when the mirror may try Redis now (it waits a little after a failure)."""
        return self.connected or time.monotonic() >= self._retry_at

    def fail(self, exc: BaseException) -> None:
        """Redis went away: remember it, try again later."""
        if self.connected or self.error is None:
            log.warning("Redis unavailable (%s): SQLite carries on, Redis catches up later", exc)
        self.connected = False
        self.error = str(exc)
        self.applied_seq = -1
        self._retry_at = time.monotonic() + RETRY_S
        self._inflight = None
        if self._conn is not None:
            # an answer may be half read: the next call starts on a fresh socket
            self._conn.disconnect()

    def remote_seq(self) -> int:
        """The last seq Redis holds (0 when it has none: a fresh or restarted server)."""
        value = self.client.get(f"{self.prefix}:seq")
        return int(value) if value else 0

    def apply(self, batch: MirrorBatch, *, after: int | None = None) -> bool:
        """Mirror ``batch`` atomically and wait for it; see :meth:`send` and :meth:`finish`."""
        self.send(batch, after=after)
        return self.finish() is not False

    def send(self, batch: MirrorBatch, *, after: int | None = None) -> None:
        """Send ``batch`` to be mirrored atomically, without waiting. With ``after``, Redis
        applies it only if it holds exactly up to that seq (:meth:`finish` then says False
        when it did not, e.g. after a restart that lost its data). The previous batch must
        be finished."""
        assert self._inflight is None, "finish() the batch in flight first"
        if not batch.seqs:
            return
        args = [orjson.dumps(self._spec(batch, after)), *_stream_args(batch)]
        if self._conn is None:
            self._conn = self.client.connection_pool.get_connection()
        try:
            self._conn.send_command("EVALSHA", self._script.sha, 0, *args)
        except BaseException:
            self._conn.disconnect()
            raise
        self._inflight = (int(batch.seqs[-1]), args)

    def _spec(self, batch: MirrorBatch, after: int | None) -> dict[str, Any]:
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
        spec: dict[str, Any] = {
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

    def finish(self) -> bool | None:
        """Read the answer for the batch in flight: True when applied, False when Redis
        did not hold what it should before it (nothing applied), None when none was in
        flight. Raises what Redis or the socket raised."""
        if self._inflight is None:
            return None
        last, args = self._inflight
        self._inflight = None
        conn = self._conn
        try:
            try:
                reply = conn.read_response()
            except redis.exceptions.NoScriptError:
                # a restarted Redis forgot the script: load it and send the batch again
                self.client.script_load(MIRROR_BATCH_LUA)
                conn.send_command("EVALSHA", self._script.sha, 0, *args)
                reply = conn.read_response()
        except BaseException:
            conn.disconnect()
            raise
        if reply == -1:
            return False
        self.applied_seq = last
        if not self.connected:
            log.info("Redis connected: live counters up to date to seq %d", last)
        self.connected = True
        self.error = None
        return True


def decode_presence(raw: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The presence hash as ``{"zone": ..., ..., "ts": epoch}``."""
    if not raw or b"state" not in raw:
        return None
    state = orjson.loads(raw[b"state"])
    if not isinstance(state, dict):
        return None
    state["ts"] = float(raw.get(b"ts", b"0"))
    return state
