"""The Parquet lake: landed events copied once into Hive-style files, typed, bounded, atomic."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analytics.lake import LakeBounds, LakeError, LakeJournal, LakeWriter
from analytics.lake_table import LAKE_SCHEMA
from analytics.lake_target import LocalLake, open_lake
from tests.analytics.conftest import (
    BUCKET,
    batch_bytes,
    lake_files,
    land,
    landed_ids,
    move_to,
    read_lake,
    s3_client,
    shop_events,
)
from tests.support.uplink import make_events
from tests.support.waiting import wait_until
from uplink.receiver_cli import main as receive_main

NEXT_DAY = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def drain(db: Path, root: Path, file_rows: int = 25) -> LakeWriter:
    writer = LakeWriter(db, LocalLake(root), LakeBounds(file_rows=file_rows))
    try:
        writer.drain()
    finally:
        writer.stop()
    return writer


def test_duplicated_and_out_of_order_batches_land_once(tmp_path: Path) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    first, second = shop_events(stores=2, kiosks=1, per_kiosk=60)
    # the last ten of the first kiosk's events come the next day (their own batch)
    late = [move_to(e, NEXT_DAY + timedelta(seconds=i)) for i, e in enumerate(first[50:])]
    messages = [
        batch_bytes(late, "b-late"),  # the newest batch arrives first
        batch_bytes(second, "b-second"),
        batch_bytes(first[:50], "b-first"),
        batch_bytes(first[:50], "b-first"),  # delivered twice
        batch_bytes(first[20:40], "b-retry"),  # the same events in another batch
    ]
    land(db, messages)
    drain(db, root)

    table = read_lake(root)
    expected = sorted(e["id"] for e in [*first[:50], *late, *second])
    assert sorted(table.column("event_id").to_pylist()) == expected == landed_ids(db)
    # each file holds its folder's day and store only, at most file_rows rows
    files = lake_files(root)
    assert all(path.name.startswith("part-") and path.suffix == ".parquet" for path in files)
    folders = {(p.parent.parent.name, p.parent.name) for p in files}
    assert folders == {
        ("date=2026-11-23", "store=store-000"),
        ("date=2026-11-23", "store=store-001"),
        ("date=2026-11-24", "store=store-000"),
    }
    for path in files:
        rows = pq.read_table(path).to_pylist()
        assert 0 < len(rows) <= 25
        day, store = path.parent.parent.name[5:], path.parent.name[6:]
        assert {(r["ts"].date().isoformat(), r["store_id"]) for r in rows} == {(day, store)}

    # the same batches again and five new events: only the new five are added
    new = make_events(5, store_id="store-001", kiosk_id="kiosk-00", start=60)
    land(db, [batch_bytes(first[:50], "b-first"), batch_bytes(new, "b-new")])
    drain(db, root)
    assert sorted(read_lake(root).column("event_id").to_pylist()) == sorted(
        expected + [e["id"] for e in new]
    )


def test_columns_are_typed_and_the_payload_keys_have_their_own(tmp_path: Path) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    events = make_events(4)
    events[0].update(type="page.view", payload={"sku": "SKU-7", "dwell_ms": 12_345})
    events[1].update(type="presence.change", payload={"zone": "engaged", "people": 2})
    # a key of a type its column cannot hold: NULL in the column, kept in the JSON
    events[2].update(type="presence.change", payload={"zone": "passing", "people": "two"})
    events[3].update(clock_synced=False, simulated=True, session_id=None, payload={})
    land(db, [batch_bytes(events, "b-1")])
    drain(db, root)

    [path] = lake_files(root)
    table = pq.read_table(path)
    assert table.schema.equals(LAKE_SCHEMA, check_metadata=True)
    rows = {row["event_id"]: row for row in table.to_pylist()}
    view, engaged, odd, quiet = (rows[e["id"]] for e in events)
    assert view["ts"] == datetime.fromisoformat(events[0]["ts"])
    assert view["ts"].microsecond == 0 and view["ts"].tzinfo is not None
    assert (view["sku"], view["dwell_ms"], view["zone"], view["people"]) == (
        "SKU-7", 12_345, None, None,
    )  # fmt: skip
    assert json.loads(view["payload"]) == {"sku": "SKU-7", "dwell_ms": 12_345}
    assert (engaged["zone"], engaged["people"]) == ("engaged", 2)
    assert (odd["zone"], odd["people"]) == ("passing", None)
    assert json.loads(odd["payload"]) == {"zone": "passing", "people": "two"}
    assert (quiet["clock_synced"], quiet["simulated"], quiet["session_id"]) == (False, True, None)
    assert (view["mono_ns"], view["batch_id"], view["kiosk_id"]) == (0, "b-1", "kiosk-01")
    assert view["received_at"].tzinfo is not None


def test_files_close_at_the_size_bound_while_the_rest_waits_for_the_time_bound(
    tmp_path: Path,
) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    land(db, [batch_bytes(make_events(35), "b-1")])
    bounds = LakeBounds(file_rows=10, file_age_s=3600, poll_s=0.05)
    writer = LakeWriter(db, LocalLake(root), bounds)
    writer.start()  # what waits at start is written at start, whatever the bounds
    try:
        wait_until(lambda: writer.status().events == 35, what="the backlog at start")
        land(db, [batch_bytes(make_events(25, start=35), "b-2")])
        wait_until(lambda: writer.status().events == 55, what="two full files")
        wait_until(lambda: writer.status().waiting == 5, what="the five left waiting")
        assert len(lake_files(root)) == 6  # 10 10 10 5 at start, then 10 10
    finally:
        writer.stop()
    assert writer.status().events == 60  # stopping closed the last five into a file
    assert sorted(len(pq.read_table(p)) for p in lake_files(root)) == [5, 5, 10, 10, 10, 10, 10]


def test_the_time_bound_closes_a_file_that_never_fills(tmp_path: Path) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    land(db, [])
    writer = LakeWriter(
        db, LocalLake(root), LakeBounds(file_rows=1000, file_age_s=0.3, poll_s=0.05)
    )
    writer.start()
    try:
        land(db, [batch_bytes(make_events(7), "b-1")])
        wait_until(lambda: writer.status().events == 7, what="the time bound's file")
        assert [len(pq.read_table(p)) for p in lake_files(root)] == [7]
    finally:
        writer.stop()


def test_a_lake_that_cannot_be_written_keeps_the_events_waiting_and_says_why(
    tmp_path: Path,
) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    land(db, [batch_bytes(make_events(12), "b-1")])
    root.write_text("a file where the lake's folder should be")
    writer = LakeWriter(db, LocalLake(root), LakeBounds(file_rows=100, file_age_s=0.1, poll_s=0.05))
    writer.start()
    try:
        wait_until(lambda: writer.status().problem is not None, what="the problem")
        status = writer.status()
        assert f"cannot write {root}/events/date=2026-11-23/store=demo-store/part-" in str(
            status.problem
        )
        assert "Not a directory" in str(status.problem)
        assert "12 waiting" in status.line() and "(retrying)" in status.line()
        root.unlink()
        wait_until(lambda: writer.status().events == 12, what="the retry")
        assert writer.status().problem is None
    finally:
        writer.stop()
    assert sorted(read_lake(root).column("event_id").to_pylist()) == landed_ids(db)


def test_s3_lake_on_moto_server(tmp_path: Path, moto_s3: str) -> None:
    db = tmp_path / "received.sqlite"
    kiosks = shop_events(stores=2, kiosks=2, per_kiosk=30)
    land(db, [batch_bytes(events, f"b-{n}") for n, events in enumerate(kiosks)])
    land(db, [batch_bytes(kiosks[0], "b-0")])  # a redelivery
    lake = open_lake(f"s3://{BUCKET}/lake", endpoint=moto_s3)
    writer = LakeWriter(db, lake, LakeBounds(file_rows=50))
    try:
        writer.drain()
    finally:
        writer.stop()

    # an independent client lists what is in the bucket: whole objects, Hive layout
    listed = s3_client(moto_s3).list_objects_v2(Bucket=BUCKET, Prefix="lake/")
    keys = sorted(item["Key"] for item in listed["Contents"])
    assert {key.rsplit("/", 1)[0] for key in keys} == {
        "lake/events/date=2026-11-23/store=store-000",
        "lake/events/date=2026-11-23/store=store-001",
    }
    assert all(key.rsplit("/", 1)[1].startswith("part-") for key in keys)
    files = lake.day_files("2026-11-23", None)
    assert files == [f"{BUCKET}/{key}" for key in keys]
    fs = lake.filesystem()
    ids = [i for path in files for i in pq.read_table(path, filesystem=fs)["event_id"].to_pylist()]
    assert sorted(ids) == landed_ids(db) and len(ids) == 120
    assert lake.day_files("2026-11-23", "store-001") == [f for f in files if "store-001" in f]
    assert lake.day_files("2026-11-22", None) == []


def test_a_new_lake_gets_every_event_already_landed(tmp_path: Path) -> None:
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(make_events(30), "b-1")])
    drain(db, tmp_path / "lake-a")
    drain(db, tmp_path / "lake-b")
    with sqlite3.connect(db) as conn:
        lakes = conn.execute(
            "SELECT lake, sum(events) FROM lake_flushes GROUP BY lake ORDER BY lake"
        ).fetchall()
    assert lakes == [((tmp_path / "lake-a").as_uri(), 30), ((tmp_path / "lake-b").as_uri(), 30)]
    assert len(read_lake(tmp_path / "lake-b")) == 30


@pytest.mark.parametrize(
    ("uri", "endpoint", "message"),
    [
        ("s3://", None, "an S3 lake is s3://BUCKET[/PREFIX]"),
        ("/tmp/lake", "http://127.0.0.1:9", "an S3 endpoint was given for a local folder"),
        ("s3://bucket", "ftp://host", "give http(s)://HOST[:PORT]"),
        ("gs://bucket/x", None, "a local folder or s3://BUCKET[/PREFIX]"),
    ],
)
def test_a_lake_address_that_cannot_work_is_refused_naming_it(
    uri: str, endpoint: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        open_lake(uri, endpoint=endpoint)


def test_kiosk_receive_refuses_a_lake_option_without_a_lake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--broker", "mqtt://127.0.0.1:9", "--db", str(tmp_path / "r.sqlite")]
    assert receive_main([*argv, "--lake-endpoint", "http://127.0.0.1:9"]) == 2
    assert "kiosk-receive: --lake-endpoint needs --lake" in capsys.readouterr().err
    assert receive_main([*argv, "--lake", "gs://bucket"]) == 2
    assert "lake 'gs://bucket': a local folder or s3://BUCKET[/PREFIX]" in capsys.readouterr().err


def test_the_lake_reading_the_landing_table_does_not_hold_back_the_receiver(
    tmp_path: Path,
) -> None:
    db = tmp_path / "received.sqlite"
    land(db, [batch_bytes(make_events(10), "b-1")])
    journal = LakeJournal(db, (tmp_path / "lake").as_uri())
    try:
        # a flush's read of the events (a large one takes seconds) while kiosks' batches land
        with journal._reading("read the events of") as conn:
            assert conn.execute("SELECT count(*) FROM events").fetchall() == [(10,)]
            [landed] = land(db, [batch_bytes(make_events(5, start=10), "b-2")])
        assert landed.new == 5
    finally:
        journal.close()


def test_a_second_writer_filling_the_same_lake_is_refused_before_it_writes_twice(
    tmp_path: Path,
) -> None:
    db, root = tmp_path / "received.sqlite", tmp_path / "lake"
    land(db, [batch_bytes(make_events(30), "b-1")])
    first, second = (LakeJournal(db, root.as_uri()) for _ in range(2))
    try:
        watermark, _, pending = second.state()
        assert (watermark, pending) == (0, None)
        assert first.begin(0, 10) is not None  # the first writer records its flush ...
        with pytest.raises(LakeError, match="another writer is filling file://"):
            second.begin(watermark, 10)  # ... and the second, from what it read before
    finally:
        first.close()
        second.close()
