"""The lake's typed event table: schema v1 as Arrow columns, and the landing rows made into it.

Every Parquet file of the lake holds :data:`LAKE_SCHEMA`: the event's fields typed (``ts``
and ``received_at`` as UTC timestamps, the flags as booleans, ``mono_ns`` as int64), the
payload as its JSON text, and the payload's known keys (``sku``, ``dwell_ms``, ``zone``,
``people``) as columns of their own. A key whose value is not of its column's type (an
analyst's kiosk of another make sending ``"dwell_ms": "12"``, say) is NULL in the column;
the payload JSON still holds it as sent.

The rows come from the receiver's landing table (``uplink.landing.events``) in ``rowid``
order, read by :data:`SELECT_LANDED` (SQLite pulls the payload keys out with its JSON
functions), and are cut into one table per partition, the UTC date of ``ts`` and the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Written into every file's key-value metadata: what the rows are.
SCHEMA_METADATA = {b"retail-edge-kiosk/schema": b"event-v1"}

#: The lake's columns, in file order.
LAKE_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("mono_ns", pa.int64()),
        pa.field("clock_synced", pa.bool_(), nullable=False),
        pa.field("store_id", pa.string(), nullable=False),
        pa.field("kiosk_id", pa.string(), nullable=False),
        pa.field("session_id", pa.string()),
        pa.field("type", pa.string(), nullable=False),
        pa.field("page", pa.string()),
        pa.field("element", pa.string()),
        pa.field("sku", pa.string()),
        pa.field("dwell_ms", pa.int64()),
        pa.field("zone", pa.string()),
        pa.field("people", pa.int64()),
        pa.field("payload", pa.string(), nullable=False),
        pa.field("simulated", pa.bool_(), nullable=False),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("received_at", pa.timestamp("ms", tz="UTC"), nullable=False),
    ],
    metadata=SCHEMA_METADATA,
)


def _key(name: str, json_type: str) -> str:
    return (
        f"CASE WHEN json_type(payload, '$.{name}') = '{json_type}' "
        f"THEN json_extract(payload, '$.{name}') END"
    )


#: The landing table's columns in :data:`LAKE_SCHEMA`'s order (SQLite's text and integers;
#: :func:`lake_table` types them), for a ``SELECT`` from ``events``.
LANDED_COLUMNS = (
    "event_id, ts, mono_ns, clock_synced, store_id, kiosk_id, session_id, type, page, "
    f"element, sku, {_key('dwell_ms', 'integer')}, {_key('zone', 'text')}, "
    f"{_key('people', 'integer')}, payload, simulated, batch_id, received_at"
)
#: The landing rows after ``rowid`` ``?`` up to ``rowid`` ``?``.
SELECT_LANDED = f"SELECT {LANDED_COLUMNS} FROM events WHERE rowid > ? AND rowid <= ? ORDER BY rowid"

_TIMESTAMP_TEXT = {"us": 26, "ms": 23}  # '2026-11-27T09:00:00.000000Z' less the Z


def _timestamps(values: Sequence[object], field: pa.Field) -> pa.Array:
    """ISO-8601 UTC text (``...Z``) as the field's timestamp type."""
    unit = field.type.unit
    text = pc.utf8_slice_codeunits(pa.array(values, pa.string()), 0, _TIMESTAMP_TEXT[unit])
    return pc.cast(text, pa.timestamp(unit)).cast(field.type)


def _column(values: Sequence[object], field: pa.Field) -> pa.Array:
    if pa.types.is_timestamp(field.type):
        return _timestamps(values, field)
    if pa.types.is_boolean(field.type):
        return pa.array(values, pa.int8()).cast(pa.bool_())
    return pa.array(values, field.type)


def lake_table(rows: Sequence[Sequence[object]]) -> pa.Table:
    """The rows :data:`SELECT_LANDED` gave as a table of :data:`LAKE_SCHEMA`.

    Raises ``pyarrow.ArrowInvalid`` for a row the landing table could not have held (a
    timestamp that is not ISO-8601 UTC, say), naming the value.
    """
    if not rows:
        return LAKE_SCHEMA.empty_table()
    columns = list(zip(*rows, strict=True))
    arrays = [_column(values, field) for values, field in zip(columns, LAKE_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=LAKE_SCHEMA)


@dataclass(frozen=True)
class Partition:
    """The rows of one UTC day and one store, and where they go in the lake."""

    date: str
    store_id: str
    table: pa.Table

    @property
    def folder(self) -> str:
        """``events/date=YYYY-MM-DD/store=STORE`` (the store percent-encoded, as Hive does
        with characters a path cannot hold: ``store-042`` stays as it is)."""
        return partition_folder(self.date, self.store_id)


def partition_folder(date: str, store_id: str) -> str:
    """The lake folder of one day and store, relative to the lake's root."""
    return f"events/date={date}/store={quote(store_id, safe='')}"


def partitions(table: pa.Table) -> Iterator[Partition]:
    """``table`` cut by UTC date of ``ts`` and store, each part in the rows' order, the
    partitions sorted by date and store."""
    if table.num_rows == 0:
        return
    dates = pc.strftime(table["ts"], format="%Y-%m-%d").combine_chunks()
    keys = pc.binary_join_element_wise(dates, table["store_id"].combine_chunks(), "\x00")
    encoded = keys.dictionary_encode()
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    names = encoded.dictionary.to_pylist()
    order = np.argsort(indices, kind="stable")
    grouped = table.take(pa.array(order))
    counts = np.bincount(indices, minlength=len(names))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    found = []
    for index, name in enumerate(names):
        date, store_id = str(name).split("\x00", 1)
        found.append((date, store_id, int(starts[index]), int(counts[index])))
    for date, store_id, start, count in sorted(found):
        yield Partition(date, store_id, grouped.slice(start, count))
