"""Batch serialisation: schema-v1 messages, byte limits, splitting, determinism."""

from __future__ import annotations

import itertools
import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.uplink import make_events
from uplink.batch import SCHEMA_NAME, serialise_batch
from uplink.schema import BatchChecker

#: Bytes the splitter keeps free in an envelope for part numbers and counts it does not know
#: yet (five digits each, where the final ones may be a single digit).
ENVELOPE_SLACK = 16


def test_small_batch_is_one_message_with_the_envelope() -> None:
    events = make_events(5)
    [message] = serialise_batch(
        "b-1", events, store_id="s1", kiosk_id="k1", max_message_bytes=32_768
    )
    body = json.loads(message.payload)
    assert body["schema"] == SCHEMA_NAME
    assert body["version"] == 1
    assert (body["batch_id"], body["part"], body["parts"]) == ("b-1", 1, 1)
    assert (body["store_id"], body["kiosk_id"]) == ("s1", "k1")
    assert body["first_ts"] == events[0]["ts"]
    assert body["last_ts"] == events[-1]["ts"]
    assert body["count"] == 5
    assert body["events"] == events


def test_big_batch_splits_into_ordered_parts_within_the_limit() -> None:
    events = make_events(400)
    messages = serialise_batch("b-2", events, store_id="s1", kiosk_id="k1", max_message_bytes=4096)
    assert len(messages) > 1
    bodies = [json.loads(m.payload) for m in messages]
    assert all(len(m.payload) <= 4096 for m in messages)
    assert [b["part"] for b in bodies] == list(range(1, len(messages) + 1))
    assert {b["parts"] for b in bodies} == {len(messages)}
    assert [e for b in bodies for e in b["events"]] == events
    for body in bodies:
        assert body["count"] == len(body["events"])
        assert body["first_ts"] == body["events"][0]["ts"]
        assert body["last_ts"] == body["events"][-1]["ts"]


def test_every_part_passes_the_receivers_schema_check() -> None:
    checker = BatchChecker()
    for message in serialise_batch(
        "b-3", make_events(50), store_id="s", kiosk_id="k", max_message_bytes=2048
    ):
        checked = checker.check(message.payload)
        assert (len(checked.events), checked.rejected) == (message.count, [])


def test_an_event_larger_than_the_limit_travels_alone() -> None:
    events = make_events(3)
    events[1]["payload"] = {"sku": "X", "note": "n" * 3000}
    messages = serialise_batch("b-4", events, store_id="s", kiosk_id="k", max_message_bytes=1024)
    assert [m.count for m in messages] == [1, 1, 1]
    assert [json.loads(m.payload)["events"][0]["id"] for m in messages] == [e["id"] for e in events]


def test_the_same_batch_gives_the_same_bytes_on_a_retry() -> None:
    events = make_events(30)
    first = serialise_batch("b-5", events, store_id="s", kiosk_id="k", max_message_bytes=2048)
    again = serialise_batch("b-5", events, store_id="s", kiosk_id="k", max_message_bytes=2048)
    assert [m.payload for m in first] == [m.payload for m in again]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=120),
    limit=st.integers(min_value=1024, max_value=20_000),
    note=st.text(max_size=200),
)
def test_splitting_keeps_every_event_once_in_order(n: int, limit: int, note: str) -> None:
    events = make_events(n)
    for event in events[::7]:
        event["payload"] = {"sku": "S", "note": note}
    messages = serialise_batch("b", events, store_id="s", kiosk_id="k", max_message_bytes=limit)
    bodies = [json.loads(m.payload) for m in messages]
    assert [e["id"] for b in bodies for e in b["events"]] == [e["id"] for e in events]
    assert all(len(m.payload) <= limit for m in messages)
    # each part is as full as it can be: the next part's first event would not have fitted
    # (give or take the envelope's room for five-digit part numbers and counts)
    for message, following in itertools.pairwise(messages):
        first = orjson.dumps(json.loads(following.payload)["events"][0])
        assert len(message.payload) + 1 + len(first) > limit - ENVELOPE_SLACK


def test_an_odd_string_falls_back_to_escaped_json_the_receiver_accepts() -> None:
    events = make_events(2)
    events[0]["payload"] = {"sku": "S", "note": "half a pair \ud83d"}
    [message] = serialise_batch("b-6", events, store_id="s", kiosk_id="k", max_message_bytes=8192)
    assert b"\\ud83d" in message.payload
    checked = BatchChecker().check(message.payload)
    assert checked.rejected == []
    assert checked.events[0]["payload"]["note"] == "half a pair \ud83d"
