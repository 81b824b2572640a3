"""Uplink messages: one outbox batch as one or more schema-v1 JSON messages.

A message is::

    {"schema": "retail-edge-kiosk/batch", "version": 1, "batch_id": "...", "part": 1,
     "parts": 1, "store_id": "...", "kiosk_id": "...", "first_ts": "...", "last_ts": "...",
     "count": 3, "events": [{schema-v1 event}, ...]}

A batch whose JSON would exceed ``max_message_bytes`` is cut into consecutive parts that
share the batch id, each filled with as many events as fit; ``first_ts``/``last_ts``/``count``
describe the events of each part. The events arrive already encoded (the outbox has SQLite
build their JSON), so a message is the envelope with the events' bytes spliced in.
The bytes of a batch are the same on every retry, so a resent message is a byte-identical
duplicate the receiver drops by event id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from storage import EncodedEvent

log = logging.getLogger(__name__)

SCHEMA_NAME = "retail-edge-kiosk/batch"
SCHEMA_VERSION = 1
#: AWS IoT Core refuses a PUBLISH larger than this; a single event never exceeds it.
HARD_MESSAGE_LIMIT = 131_072


@dataclass(frozen=True)
class UplinkMessage:
    """One serialised part of a batch, ready to publish."""

    batch_id: str
    part: int
    parts: int
    count: int
    payload: bytes


def _dumps(value: Any) -> bytes:
    # orjson: compact UTF-8 like json.dumps(separators=(",", ":"), ensure_ascii=False), but
    # ten times faster.
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        # Lone surrogates or exotic types: the slow path escapes or stringifies them, so
        # one odd event never blocks the batches behind it.
        return json.dumps(value, separators=(",", ":"), default=str).encode("ascii")


def encode(event: dict[str, Any]) -> EncodedEvent:
    """A schema v1 event dict as the outbox hands events over."""
    return EncodedEvent(event["id"], event["ts"], _dumps(event))


def _head(
    batch_id: str,
    part: int,
    parts: int,
    store_id: str,
    kiosk_id: str,
    events: Sequence[EncodedEvent],
) -> bytes:
    envelope = {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "batch_id": batch_id,
        "part": part,
        "parts": parts,
        "store_id": store_id,
        "kiosk_id": kiosk_id,
        "first_ts": events[0].ts if events else None,
        "last_ts": events[-1].ts if events else None,
        "count": len(events),
    }
    return _dumps(envelope)[:-1] + b',"events":['


def serialise_batch(
    batch_id: str,
    events: Sequence[dict[str, Any]],
    *,
    store_id: str,
    kiosk_id: str,
    max_message_bytes: int,
) -> list[UplinkMessage]:
    """The messages carrying ``events`` (schema-v1 event dicts, oldest first), in order;
    see :func:`serialise_encoded`."""
    return serialise_encoded(
        batch_id,
        [encode(event) for event in events],
        store_id=store_id,
        kiosk_id=kiosk_id,
        max_message_bytes=max_message_bytes,
    )


def serialise_encoded(
    batch_id: str,
    events: Sequence[EncodedEvent],
    *,
    store_id: str,
    kiosk_id: str,
    max_message_bytes: int,
) -> list[UplinkMessage]:
    """The messages carrying ``events`` (encoded schema-v1 events, oldest first), in order.

    Each message stays within ``max_message_bytes`` unless one event alone is larger; that
    event then travels alone (still within AWS IoT Core's 128 KB, since storage bounds
    payloads) and a warning is logged, rather than holding the batch back for ever.
    """
    groups = _cut(events, batch_id, store_id, kiosk_id, max_message_bytes)
    parts = len(groups)
    messages = []
    for number, group in enumerate(groups, start=1):
        payload = b"".join(
            (
                _head(batch_id, number, parts, store_id, kiosk_id, group),
                b",".join([event.json for event in group]),
                b"]}",
            )
        )
        if len(payload) > max_message_bytes:
            log.warning(
                "uplink: event %s alone is %d bytes, over max_message_bytes %d; sent alone",
                group[0].id if group else None,
                len(payload),
                max_message_bytes,
            )
        messages.append(UplinkMessage(batch_id, number, parts, len(group), payload))
    return messages


def _cut(
    events: Sequence[EncodedEvent], batch_id: str, store_id: str, kiosk_id: str, limit: int
) -> list[Sequence[EncodedEvent]]:
    """Consecutive groups of ``events``, each as long as its message allows."""
    # The envelope sized with a five-digit part number and the longest timestamps of the
    # batch: the final envelope of any group can only be shorter.
    longest = max(events, key=lambda event: len(event.ts), default=None)
    widest = [longest, longest] if longest is not None else []
    envelope = len(_head(batch_id, 99_999, 99_999, store_id, kiosk_id, widest)) + 2
    room = limit - envelope - len(str(len(events))) + 1
    if sum(len(event.json) + 1 for event in events) <= room:
        return [events]
    groups: list[Sequence[EncodedEvent]] = []
    start, used = 0, 0
    for index, event in enumerate(events):
        size = len(event.json) + 1
        if index > start and used + size > room:
            groups.append(events[start:index])
            start, used = index, 0
        used += size
    groups.append(events[start:])
    return groups
