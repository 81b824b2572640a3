"""The kiosk checks each event against the published schema where it is made: at
``EventLog.append``, with a check compiled from ``resources/schema/event-v1.json`` that a
property test holds to the answers of ``jsonschema`` itself."""

from __future__ import annotations

import copy
import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.validators import validator_for

from storage import Event, EventLog, EventRejected
from storage.event_schema import EVENT_SCHEMA, EventCheck, compile_schema, load_schema
from tests.support.storage import sqlite_only_config, stop_when_written

SCHEMA = load_schema(EVENT_SCHEMA)
FULL = validator_for(SCHEMA)(SCHEMA)
FAST = compile_schema(SCHEMA)


def good_event(**changes: Any) -> Event:
    event = Event.create("touch", session_id="s-1", page="p", element="e", payload={"sku": "SKU-1"})
    return dataclasses.replace(event, **changes)


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"payload": {"sku": 42}}, "payload/sku: 42 is not of type 'string'"),
        ({"payload": {"zone": "far"}}, "payload/zone: 'far' is not one of"),
        ({"payload": {"dwell_ms": -5}}, "payload/dwell_ms: -5 is less than the minimum of 0"),
        ({"type": "admin.Login"}, "type: 'admin.Login' is not valid under any"),
        ({"id": "not-a-uuid"}, "id: 'not-a-uuid' does not match"),
        ({"ts": "2026-11-23 09:00:00"}, "ts: '2026-11-23 09:00:00' does not match"),
        ({"mono_ns": -1}, "mono_ns: -1 is less than the minimum of 0"),
        ({"page": "p" * 129}, "page: 'ppppp"),
        ({"session_id": 7}, "session_id: 7 is not of type 'string', 'null'"),
    ],
)
def test_append_refuses_an_event_off_the_schema_with_the_field_and_rule(
    tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    bad = good_event(**changes)
    with pytest.raises(EventRejected) as caught:
        log.append(bad)
    message = str(caught.value)
    assert says in message and "event-v1.json" in message and "\n" not in message
    assert len(message) < 400
    log.append(good_event())
    assert stop_when_written(log, 1) == (1, "ok")
    assert log.health().events_rejected == 1
    with sqlite3.connect(log.database) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE id = ?", (bad.id,)).fetchone() == (
            0,
        )


def test_append_refuses_a_payload_that_is_not_json_or_too_large(tmp_path: Path) -> None:
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    with pytest.raises(EventRejected, match="payload is not JSON"):
        log.append(good_event(payload={"when": object()}))
    with pytest.raises(EventRejected, match="payload is 5011 bytes of JSON, the limit is 4096"):
        log.append(good_event(payload={"note": "x" * 5000}))
    with pytest.raises(EventRejected, match=r"not an event \(dict\)"):
        log.append({"type": "touch"})
    log.stop()
    assert log.health().events_rejected == 3


def test_the_ids_the_log_fills_in_count_as_filled() -> None:
    """An event made without store/kiosk ids gets the config's (as the log stores it)."""
    check = EventCheck()
    event = good_event()
    check(event, "store-1", "kiosk-1", 4096)
    data = check.as_stored(event, "store-1", "kiosk-1")
    assert (data["store_id"], data["kiosk_id"]) == ("store-1", "kiosk-1")
    assert FULL.is_valid(data)


def test_create_refuses_an_event_off_the_schema_where_it_is_made() -> None:
    with pytest.raises(EventRejected) as caught:
        Event.create("touch", payload={"sku": 42})
    assert "does not match event-v1.json: payload/sku: 42 is not of type 'string'" in str(
        caught.value
    )
    assert Event.create("touch", payload={"sku": "SKU-1"}).checked
    assert not dataclasses.replace(Event.create("touch"), page="p").checked


def test_a_created_event_whose_payload_changed_since_is_checked_again(tmp_path: Path) -> None:
    """All but the payload's contents is frozen, so that is what append looks at again."""
    log = EventLog(sqlite_only_config(tmp_path))
    log.start()
    event = Event.create("presence.change", payload={"zone": "engaged"})
    event.payload["zone"] = "nearby"
    with pytest.raises(EventRejected, match="payload/zone: 'nearby' is not one of"):
        log.append(event)
    log.stop()
    assert log.health().events_rejected == 1


# --- the compiled check against jsonschema -------------------------------------------------

FIELDS = list(SCHEMA["properties"])
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=140),
    st.sampled_from(
        ["touch", "admin.login", "admin.", "system.x_1", "ADMIN.x", "2026-11-23T09:00:00.123456Z"]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["sku", "dwell_ms", "zone", "x"]), st.integers(), max_size=3),
)
PAYLOAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=5),
    st.floats(allow_nan=False, min_value=-2, max_value=2),
    st.sampled_from(["SKU-1", "away", "engaged", "far", ""]),
)


@settings(max_examples=400, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS), ODD_VALUES, max_size=3),
    payload=st.dictionaries(
        st.sampled_from(["sku", "dwell_ms", "zone", "people"]), PAYLOAD_VALUES, max_size=3
    ),
    dropped=st.sets(st.sampled_from(FIELDS), max_size=2),
    extra=st.booleans(),
)
def test_the_compiled_check_answers_as_jsonschema_does(
    changes: dict[str, Any], payload: dict[str, Any], dropped: set[str], extra: bool
) -> None:
    data = good_event().to_json_dict()
    data["store_id"], data["kiosk_id"] = "store-1", "kiosk-1"
    data["payload"] = payload
    data.update(changes)
    for name in dropped:
        data.pop(name, None)
    if extra:
        data["unknown"] = 1
    assert FAST(data) == FULL.is_valid(data), data


def test_the_compiler_refuses_a_keyword_it_does_not_know() -> None:
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["payload"]["properties"]["sku"]["format"] = "uuid"
    with pytest.raises(ValueError, match="format not supported"):
        compile_schema(schema)
