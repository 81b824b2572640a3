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
from typing import Any

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


#: Mirrors one batch in one atomic call. ARGV[1] is the batch's counters as JSON (the keys
#: are named by the caller; ``after``, when given, the seq Redis must hold already, else
#: nothing is applied and -1 returned); ARGV[2..] are seq and event JSON pairs. One call
#: instead of a MULTI of ~130 commands: the commands cost the client far more to pack and
#: parse than Redis took to run them.
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
for i = 2, #ARGV, 2 do
    redis.call('XADD', spec.stream, 'MAXLEN', '~', spec.maxlen, '*',
        'seq', ARGV[i], 'e', ARGV[i + 1])
end
for _, r in ipairs(spec.rate) do
    redis.call('HINCRBY', r[1], r[2], r[3])
end
for _, t in ipairs(spec.top) do
    redis.call('ZINCRBY', t[1], t[3], t[2])
end
for _, s in ipairs(spec.sessions) do
    local ids = s[2]
    for first = 1, #ids, 1000 do
        redis.call('PFADD', s[1], unpack(ids, first, math.min(first + 999, #ids)))
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

    def apply(self, rows: list[tuple[Any, ...]], *, after: int | None = None) -> bool:
        """Mirror rows ``(seq, type, sku, session_id, ts_epoch, payload, json)`` atomically
        and wait for it; see :meth:`send` and :meth:`finish`."""
        self.send(rows, after=after)
        return self.finish() is not False

    def send(self, rows: list[tuple[Any, ...]], *, after: int | None = None) -> None:
        """Send rows ``(seq, type, sku, session_id, ts_epoch, payload, json)`` to be mirrored
        atomically, without waiting. With ``after``, Redis applies them only if it holds
        exactly up to that seq (:meth:`finish` then says False when it did not, e.g. after
        a restart that lost its data). The previous batch must be finished."""
        assert self._inflight is None, "finish() the batch in flight first"
        if not rows:
            return
        p = self.prefix
        rate: Counter[tuple[int, str]] = Counter()
        top: dict[str, Counter[str]] = {}
        sessions: dict[str, set[str]] = {}
        presence: tuple[Any, ...] | None = None
        stream_args: list[Any] = []
        for seq, etype, sku, session_id, epoch, payload, body in rows:
            stream_args += (seq, body)
            day = day_key(epoch)
            if sku is not None:
                rate[(int(epoch), sku)] += 1
                top.setdefault(day, Counter())[sku] += 1
            if session_id is not None:
                sessions.setdefault(day, set()).add(session_id)
            if etype == "presence.change":
                presence = (payload, epoch)
        last = rows[-1][0]
        spec: dict[str, Any] = {
            "stream": f"{p}:stream",
            "maxlen": self.section.stream_maxlen,
            "rate": [[f"{p}:rate:{second}", sku, n] for (second, sku), n in rate.items()],
            "top": [
                [f"{p}:top:{day}", sku, n]
                for day, counts in top.items()
                for sku, n in counts.items()
            ],
            "sessions": [[f"{p}:sessions:{day}", sorted(ids)] for day, ids in sessions.items()],
            "expire": [
                *([f"{p}:rate:{second}", RATE_TTL_S] for second in {s for s, _ in rate}),
                *([f"{p}:top:{day}", DAY_TTL_S] for day in top),
                *([f"{p}:sessions:{day}", DAY_TTL_S] for day in sessions),
            ],
            "seq_key": f"{p}:seq",
            "seq": str(last),
        }
        if presence is not None:
            spec["presence_key"] = f"{p}:presence"
            spec["presence"] = [presence[0], repr(float(presence[1]))]
        if after is not None:
            spec["after"] = str(after)
        args = [orjson.dumps(spec), *stream_args]
        if self._conn is None:
            self._conn = self.client.connection_pool.get_connection()
        try:
            self._conn.send_command("EVALSHA", self._script.sha, 0, *args)
        except BaseException:
            self._conn.disconnect()
            raise
        self._inflight = (int(last), args)

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
