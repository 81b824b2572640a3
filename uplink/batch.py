"""Uplink messages: one outbox batch as one or more schema-v1 JSON messages.

A message is::

    {"schema": "retail-edge-kiosk/batch", "version": 1, "batch_id": "...", "part": 1,
     "parts": 1, "store_id": "...", "kiosk_id": "...", "first_ts": "...", "last_ts": "...",
     "count": 3, "events": [{schema-v1 event}, ...]}

A batch whose JSON would exceed ``max_message_bytes`` is cut into consecutive parts that
share the batch id; ``first_ts``/``last_ts``/``count`` describe the events of each part.
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
    # ten times faster; re-encoding the outbox's events is the uplink's main CPU cost.
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
    events: Sequence[dict[str, Any]],
) -> bytes:
    envelope = {
        "schema": SCHEMA_NAME,
        "version": SCHEMA_VERSION,
        "batch_id": batch_id,
        "part": part,
        "parts": parts,
        "store_id": store_id,
        "kiosk_id": kiosk_id,
        "first_ts": events[0].get("ts") if events else None,
        "last_ts": events[-1].get("ts") if events else None,
        "count": len(events),
    }
    # The events array is spliced in after the header, so each group is dumped only once.
    return _dumps(envelope)[:-1] + b',"events":'


def serialise_batch(
    batch_id: str,
    events: Sequence[dict[str, Any]],
    *,
    store_id: str,
    kiosk_id: str,
    max_message_bytes: int,
) -> list[UplinkMessage]:
    """The messages carrying ``events`` (schema-v1 event dicts, oldest first), in order.

    Each message stays within ``max_message_bytes`` unless one event alone is larger; that
    event then travels alone (still within AWS IoT Core's 128 KB, since storage bounds
    payloads) and a warning is logged, rather than holding the batch back for ever.
    """
    events = list(events)
    groups = _cut(events, _dumps(events), batch_id, store_id, kiosk_id, max_message_bytes)
    parts = len(groups)
    messages = []
    for number, (group, body) in enumerate(groups, start=1):
        payload = _head(batch_id, number, parts, store_id, kiosk_id, group) + body + b"}"
        if len(payload) > max_message_bytes:
            log.warning(
                "uplink: event %s alone is %d bytes, over max_message_bytes %d; sent alone",
                group[0].get("id") if group else None,
                len(payload),
                max_message_bytes,
            )
        messages.append(UplinkMessage(batch_id, number, parts, len(group), payload))
    return messages


def _cut(
    events: list[dict[str, Any]],
    body: bytes,
    batch_id: str,
    store_id: str,
    kiosk_id: str,
    limit: int,
) -> list[tuple[list[dict[str, Any]], bytes]]:
    """Consecutive (events, their JSON array) groups whose messages fit ``limit``."""
    # Sized with a five-digit part number: the final numbering can only be shorter.
    size = len(_head(batch_id, 99_999, 99_999, store_id, kiosk_id, events)) + len(body) + 1
    if size <= limit or len(events) <= 1:
        return [(events, body)]
    pieces = min(len(events), -(-size // limit) + (1 if size > 2 * limit else 0))
    step = -(-len(events) // max(pieces, 2))
    groups: list[tuple[list[dict[str, Any]], bytes]] = []
    for lo in range(0, len(events), step):
        group = events[lo : lo + step]
        groups.extend(_cut(group, _dumps(group), batch_id, store_id, kiosk_id, limit))
    return groups
