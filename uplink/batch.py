"""Uplink messages: one outbox batch as one or more schema-v1 JSON messages.

A message is::

    {"schema": "retail-edge-kiosk/batch", "version": 1, "batch_id": "...", "part": 1,
     "parts": 1, "store_id": "...", "kiosk_id": "...", "first_ts": "...", "last_ts": "...",
     "count": 3, "events": [{schema-v1 event}, ...]}

A batch whose JSON would exceed ``max_message_bytes`` is cut into consecutive parts that
share the batch id, each filled with as many events as fit; ``first_ts``/``last_ts``/``count``
describe the events of each part. The events arrive already encoded (the outbox hands over
their JSON as recorded), so a message is the envelope with the events' bytes spliced in.
The bytes of a batch are the same on every retry, so a resent message is a byte-identical
duplicate the receiver drops by event id.
"""

from __future__ import annotations

import itertools
import json
import logging
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

import orjson

from storage import JsonValue

log = logging.getLogger(__name__)

SCHEMA_NAME = "retail-edge-kiosk/batch"
SCHEMA_VERSION = 1
#: AWS IoT Core refuses a PUBLISH larger than this; a single event never exceeds it.
HARD_MESSAGE_LIMIT = 131_072
#: The longest batch id (a UUID) and event timestamp ("2026-11-23T09:00:00.000000Z").
BATCH_ID_TEMPLATE = "00000000-0000-0000-0000-000000000000"
TS_LEN = 27
#: Bytes a cut between two messages of a batch may leave unused (one event of the usual size).
CUT_ALLOWANCE = 1024


@dataclass(frozen=True)
class UplinkMessage:
    """One serialised part of a batch, ready to publish."""

    batch_id: str
    part: int
    parts: int
    count: int
    payload: bytes


def _dumps(value: object) -> bytes:
    # orjson: compact UTF-8 like json.dumps(separators=(",", ":"), ensure_ascii=False), but
    # ten times faster.
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        # Lone surrogates or exotic types: the slow path escapes or stringifies them, so
        # one odd event never blocks the batches behind it.
        return json.dumps(value, separators=(",", ":"), default=str).encode("ascii")


def _head(
    batch_id: str,
    part: int,
    parts: int,
    store_id: str,
    kiosk_id: str,
    first_ts: str | None,
    last_ts: str | None,
    count: int,
) -> bytes:
    envelope = {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "batch_id": batch_id,
        "part": part,
        "parts": parts,
        "store_id": store_id,
        "kiosk_id": kiosk_id,
        "first_ts": first_ts,
        "last_ts": last_ts,
        "count": count,
    }
    return _dumps(envelope)[:-1] + b',"events":['


def _envelope_bytes(batch_id: str, store_id: str, kiosk_id: str, ts_len: int, count: int) -> int:
    """The most bytes a message's envelope takes (all but its events and their commas) for
    this batch id, at most ``count`` events and timestamps of ``ts_len`` characters: sized
    with five-digit part numbers, which the final numbering can only shorten."""
    ts = "0" * ts_len
    return len(_head(batch_id, 99_999, 99_999, store_id, kiosk_id, ts, ts, count)) + len(b"]}")


def batch_bytes(batch_max_bytes: int, max_message_bytes: int, store_id: str, kiosk_id: str) -> int:
    """The event bytes to claim per outbox batch so that its messages leave full: a whole
    number of messages' worth of events (within ``batch_max_bytes``, at least one message).

    Claiming exactly ``batch_max_bytes`` would leave most batches a short last message (a
    64 KB batch in 32 KB messages is two full messages and a few events). Each cut between
    two messages can leave up to one event's bytes unused; :data:`CUT_ALLOWANCE` covers the
    usual events (a rare larger one only adds a short message)."""
    envelope = _envelope_bytes(BATCH_ID_TEMPLATE, store_id, kiosk_id, TS_LEN, 99_999)
    room = max(1, max_message_bytes - envelope)
    if batch_max_bytes <= room:
        return batch_max_bytes
    allowance = min(CUT_ALLOWANCE, room // 4)
    messages = max(1, (batch_max_bytes - allowance) // (room - allowance))
    return messages * room - (messages - 1) * allowance


def serialise_batch(
    batch_id: str,
    events: Sequence[Mapping[str, JsonValue]],
    *,
    store_id: str,
    kiosk_id: str,
    max_message_bytes: int,
) -> list[UplinkMessage]:
    """The messages carrying ``events`` (schema-v1 event dicts, oldest first), in order;
    see :func:`serialise_json`."""
    return serialise_json(
        batch_id,
        [_dumps(event) for event in events],
        [str(event["ts"]) for event in events],
        store_id=store_id,
        kiosk_id=kiosk_id,
        max_message_bytes=max_message_bytes,
    )


def serialise_json(
    batch_id: str,
    jsons: Sequence[bytes],
    timestamps: Sequence[str],
    *,
    store_id: str,
    kiosk_id: str,
    max_message_bytes: int,
) -> list[UplinkMessage]:
    """The messages carrying the events whose schema-v1 JSON is ``jsons`` and whose ``ts``
    is ``timestamps`` (oldest first), in order: the outbox hands a batch over this way.

    Each message stays within ``max_message_bytes`` unless one event alone is larger; that
    event then travels alone (still within AWS IoT Core's 128 KB, since storage bounds
    payloads) and a warning is logged, rather than holding the batch back for ever.
    """
    ts_len = max(map(len, timestamps), default=0)
    room = max_message_bytes - _envelope_bytes(batch_id, store_id, kiosk_id, ts_len, len(jsons))
    cuts = _cut(jsons, room)
    parts = len(cuts) - 1
    messages = []
    for number, (start, stop) in enumerate(itertools.pairwise(cuts), start=1):
        first, last = (timestamps[start], timestamps[stop - 1]) if stop > start else (None, None)
        payload = b"".join(
            (
                _head(batch_id, number, parts, store_id, kiosk_id, first, last, stop - start),
                b",".join(jsons[start:stop]),
                b"]}",
            )
        )
        if len(payload) > max_message_bytes:
            log.warning(
                "uplink: event %s alone is %d bytes, over max_message_bytes %d; sent alone",
                _event_id(jsons[start]),
                len(payload),
                max_message_bytes,
            )
        messages.append(UplinkMessage(batch_id, number, parts, stop - start, payload))
    return messages


def _event_id(body: bytes) -> object:
    try:
        ident: object = orjson.loads(body).get("id")
        return ident
    except (orjson.JSONDecodeError, AttributeError):
        return None


def _cut(jsons: Sequence[bytes], room: int) -> list[int]:
    """Where consecutive messages of ``room`` bytes of events start, plus the end: each as
    long as its message allows (greedy; a lone event larger than ``room`` goes alone)."""
    # ``ends[i]``: the bytes of the first i events, each with its comma (one more than
    # needed, like the outbox counts); summed and searched in C, not event by event
    ends = list(accumulate(map(len, jsons), lambda total, size: total + size + 1, initial=0))
    if ends[-1] <= room:
        return [0, len(jsons)]
    cuts = [0]
    while cuts[-1] < len(jsons):
        start = cuts[-1]
        # the most events from ``start`` that fit, at least one
        cuts.append(max(bisect_right(ends, ends[start] + room) - 1, start + 1))
    return cuts
