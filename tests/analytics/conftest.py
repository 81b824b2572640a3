"""Fixtures for the lake tests: landed events in a receiver's SQLite file, a real moto S3
server on a loopback port, and readers of what the lake holds."""

from __future__ import annotations

import sqlite3
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.uplink import make_events
from uplink.batch import serialise_batch
from uplink.landing import EventStore, Landed
from uplink.schema import BatchChecker

BUCKET = "kiosk-lake"


def batch_bytes(events: list[dict[str, Any]], batch_id: str) -> bytes:
    """One schema-v1 message of ``events`` (one kiosk's)."""
    [message] = serialise_batch(
        batch_id,
        events,
        store_id=str(events[0]["store_id"]),
        kiosk_id=str(events[0]["kiosk_id"]),
        max_message_bytes=10_000_000,
    )
    return message.payload


def land(db: Path, messages: list[bytes]) -> list[Landed]:
    """Land ``messages`` as the receiver does (checked, de-duplicated by event id)."""
    store = EventStore(db)
    checker = BatchChecker()
    try:
        landed = []
        for payload in messages:
            checked = checker.check(payload)
            batch = checked.batch
            landed.append(
                store.ingest(checked, f"retail/{batch['store_id']}/{batch['kiosk_id']}/events")
            )
        return landed
    finally:
        store.close()


def shop_events(stores: int, kiosks: int, per_kiosk: int) -> list[list[dict[str, Any]]]:
    """One list of events per kiosk, ``stores`` stores of ``kiosks`` each."""
    return [
        make_events(per_kiosk, store_id=f"store-{s:03d}", kiosk_id=f"kiosk-{k:02d}")
        for s in range(stores)
        for k in range(kiosks)
    ]


def move_to(event: dict[str, Any], when: datetime) -> dict[str, Any]:
    """``event`` at another time (a valid schema-v1 ``ts``)."""
    stamp = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {**event, "ts": stamp}


def lake_files(root: Path) -> list[Path]:
    """Every file under a local lake, hidden ones too."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def read_lake(root: Path) -> pa.Table:
    """Every visible part file of a local lake, concatenated."""
    parts = sorted(root.glob("events/date=*/store=*/part-*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in parts])


def landed_ids(db: Path) -> list[str]:
    """The event ids in the receiver's landing table."""
    with sqlite3.connect(db) as conn:
        return sorted(row[0] for row in conn.execute("SELECT event_id FROM events"))


@pytest.fixture
def moto_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's real S3 server (HTTP) on a free loopback port, with a bucket; its endpoint URL.
    The AWS environment points at it with test credentials."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto's servers in one process share their state: start from an empty S3
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client on the moto server (a second, independent reader of the bucket)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
