"""The Redis hot path: recent-events stream and live counters, replayed from SQLite after gaps.

Keys (``P`` = ``[redis] key_prefix``): ``P:stream`` (field ``e`` = event JSON, trimmed to
``stream_maxlen``), ``P:rate:<epoch second>`` (hash sku -> interactions, kept two hours),
``P:top:<YYYYMMDD>`` (sorted set sku -> interactions, local day), ``P:sessions:<YYYYMMDD>``
(HyperLogLog of session ids), ``P:presence`` (hash: last presence.change payload and ts),
``P:seq`` (the last SQLite ``seq`` mirrored; written in the same MULTI as the counters).
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


#: Appends a batch's events to the stream in one command: ARGV = maxlen, then seq and event
#: JSON pairs. One XADD call from Python per event cost the mirror more than SQLite's write.
XADD_BATCH_LUA = """
local maxlen = ARGV[1]
for i = 2, #ARGV, 2 do
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'seq', ARGV[i], 'e', ARGV[i + 1])
end
return (#ARGV - 1) / 2
"""


class RedisMirror:
    """Applies committed SQLite rows to Redis; remembers how far it got."""

    def __init__(self, section: RedisSection) -> None:
        self.section = section
        self.prefix = section.key_prefix
        self.client = connect(section)
        self._xadd_batch = self.client.register_script(XADD_BATCH_LUA)
        self.connected = False
        self.applied_seq = -1  # unknown until the first contact
        self.error: str | None = None
        self._retry_at = 0.0

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

    def remote_seq(self) -> int:
        """The last seq Redis holds (0 when it has none: a fresh or restarted server)."""
        value = self.client.get(f"{self.prefix}:seq")
        return int(value) if value else 0

    def apply(self, rows: list[tuple[Any, ...]]) -> None:
        """Mirror rows ``(seq, type, sku, session_id, ts_epoch, payload, json)`` in one MULTI."""
        if not rows:
            return
        p = self.prefix
        rate: Counter[tuple[int, str]] = Counter()
        top: dict[str, Counter[str]] = {}
        sessions: dict[str, set[str]] = {}
        presence: tuple[Any, ...] | None = None
        pipe = self.client.pipeline(transaction=True)
        maxlen = self.section.stream_maxlen
        stream_args: list[Any] = [maxlen]
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
        self._xadd_batch(keys=[f"{p}:stream"], args=stream_args, client=pipe)
        for (second, sku), n in rate.items():
            key = f"{p}:rate:{second}"
            pipe.hincrby(key, sku, n)
            pipe.expire(key, RATE_TTL_S)
        for day, counts in top.items():
            for sku, n in counts.items():
                pipe.zincrby(f"{p}:top:{day}", n, sku)
            pipe.expire(f"{p}:top:{day}", DAY_TTL_S)
        for day, ids in sessions.items():
            pipe.pfadd(f"{p}:sessions:{day}", *ids)
            pipe.expire(f"{p}:sessions:{day}", DAY_TTL_S)
        if presence is not None:
            pipe.hset(f"{p}:presence", mapping={"state": presence[0], "ts": presence[1]})
        last = rows[-1][0]
        pipe.set(f"{p}:seq", last)
        pipe.execute()
        self.applied_seq = last
        if not self.connected:
            log.info("Redis connected: live counters up to date to seq %d", last)
        self.connected = True
        self.error = None


def decode_presence(raw: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The presence hash as ``{"zone": ..., ..., "ts": epoch}``."""
    if not raw or b"state" not in raw:
        return None
    state = orjson.loads(raw[b"state"])
    if not isinstance(state, dict):
        return None
    state["ts"] = float(raw.get(b"ts", b"0"))
    return state
