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

log = logging.getLogger(__name__)

SCHEMA_NAME = "retail-edge-kiosk/batch"
SCHEMA_VERSION = 1
#: AWS IoT Core refuses a PUBLISH larger than this; a single event never exceeds it.
HARD_MESSAGE_LIMIT = 131_072
# Room for the part/parts/count digits growing past the estimate made with the batch's values.
_HEADER_SLACK = 48


@dataclass(frozen=True)
class UplinkMessage:
    """One serialised part of a batch, ready to publish."""

    batch_id: str
    part: int
    parts: int
    count: int
    payload: bytes


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
    # The events array is spliced in after the header so each event is serialised once.
    return _dumps(envelope)[:-1] + b',"events":['


def _message(
    batch_id: str,
    part: int,
    parts: int,
    store_id: str,
    kiosk_id: str,
    events: Sequence[dict[str, Any]],
    encoded: Sequence[bytes],
) -> bytes:
    head = _head(
        batch_id,
        part,
        parts,
        store_id,
        kiosk_id,
        events[0].get("ts") if events else None,
        events[-1].get("ts") if events else None,
        len(events),
    )
    return head + b",".join(encoded) + b"]}"


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
    encoded = [_dumps(event) for event in events]
    if not encoded:
        return [
            UplinkMessage(batch_id, 1, 1, 0, _message(batch_id, 1, 1, store_id, kiosk_id, [], []))
        ]
    first = events[0].get("ts")
    last = events[-1].get("ts")
    overhead = len(_head(batch_id, 1, 1, store_id, kiosk_id, first, last, len(events))) + 2
    budget = max_message_bytes - overhead - _HEADER_SLACK
    # Greedy consecutive packing: events keep their order and parts stay contiguous.
    groups: list[tuple[int, int]] = []
    start, size = 0, 0
    for index, item in enumerate(encoded):
        cost = len(item) + (1 if index > start else 0)
        if index > start and size + cost > budget:
            groups.append((start, index))
            start, size = index, len(item)
        else:
            size += cost
    groups.append((start, len(encoded)))
    parts = len(groups)
    messages = []
    for number, (lo, hi) in enumerate(groups, start=1):
        payload = _message(
            batch_id, number, parts, store_id, kiosk_id, events[lo:hi], encoded[lo:hi]
        )
        if len(payload) > max_message_bytes:
            log.warning(
                "uplink: event %s alone is %d bytes, over max_message_bytes %d; sent alone",
                events[lo].get("id"),
                len(payload),
                max_message_bytes,
            )
        messages.append(UplinkMessage(batch_id, number, parts, hi - lo, payload))
    return messages
