"""Where the lake lives: a local folder or an S3 bucket, each written atomically.

A local file is written under a hidden temporary name (``.part-<uuid>.parquet.tmp``: Hive,
Spark, Athena and DuckDB's ``*.parquet`` globs all pass it by), flushed to disk and renamed
into place, so a reader, or a receiver killed mid-write, never sees half a file. An S3
object appears whole when its upload completes (a PUT, or the completion of a multipart
upload); an upload cut short leaves no object. Either way the same name written twice
holds the second file, which is how a flush redone after a crash replaces what it had
already written (``analytics.lake``).

``open_lake("s3://bucket/prefix", endpoint="http://127.0.0.1:9000")`` points pyarrow's
S3 filesystem at any S3 endpoint (MinIO, moto, Ceph); credentials and region come from
the usual AWS environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_REGION``, ``AWS_PROFILE``, an instance role).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from analytics.lake_table import LAKE_SCHEMA, partition_folder

#: Parquet's compression in the lake: what Firehose's conversion writes by default too.
COMPRESSION = "snappy"


class LakeTarget(Protocol):
    """A lake's storage. Methods run on the caller's thread; each raises ``OSError`` (a
    one-line message naming the place) when the storage cannot be used."""

    #: ``file:///abs/path`` or ``s3://bucket/prefix``: names the lake in the journal.
    uri: str

    def put(self, relative: str, table: pa.Table) -> None:
        """Write ``table`` as the Parquet file ``relative`` (to the lake's root), whole or
        not at all; a file already there is replaced."""
        ...

    def day_files(self, date: str, store_id: str | None) -> list[str]:
        """The Parquet files of one UTC day (of one store, or all), as the filesystem names
        them, sorted."""
        ...

    def filesystem(self) -> pafs.FileSystem:
        """The pyarrow filesystem the paths of :meth:`day_files` are on."""
        ...


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalLake:
    """A lake in a local folder (also a mounted network share)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.uri = self.root.as_uri()

    def put(self, relative: str, table: pa.Table) -> None:
        """Write to a hidden temporary name, fsync, rename into place, fsync the folder."""
        final = self.root / relative
        folder = final.parent
        temporary = folder / f".{final.name}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                pq.write_table(table, handle, compression=COMPRESSION)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            _fsync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):  # a full disk: give back what it took
                temporary.unlink(missing_ok=True)
            raise OSError(f"cannot write {final}: {exc.strerror or exc}") from exc

    def day_files(self, date: str, store_id: str | None) -> list[str]:
        """The day's ``part-*.parquet`` files under the root."""
        if store_id is None:
            folders = sorted((self.root / "events").glob(f"date={date}/store=*"))
        else:
            folders = [self.root / partition_folder(date, store_id)]
        return [str(path) for folder in folders for path in sorted(folder.glob("part-*.parquet"))]

    def filesystem(self) -> pafs.FileSystem:
        """The local filesystem."""
        return pafs.LocalFileSystem()


class S3Lake:
    """A lake under ``s3://bucket/prefix`` through pyarrow's S3 filesystem."""

    def __init__(self, uri: str, *, endpoint: str | None = None) -> None:
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"lake {uri!r}: an S3 lake is s3://BUCKET[/PREFIX]")
        self.uri = f"s3://{parts.netloc}{parts.path.rstrip('/')}"
        self.base = f"{parts.netloc}{parts.path.rstrip('/')}"
        options: dict[str, Any] = {}
        if endpoint:
            where = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            if where.scheme not in ("http", "https") or not where.netloc:
                raise ValueError(f"S3 endpoint {endpoint!r}: give http(s)://HOST[:PORT]")
            options.update(endpoint_override=where.netloc, scheme=where.scheme)
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        self._fs = pafs.S3FileSystem(**options)

    def put(self, relative: str, table: pa.Table) -> None:
        """One upload: the object appears whole when it completes."""
        key = f"{self.base}/{relative}"
        try:
            with self._fs.open_output_stream(key) as stream:
                pq.write_table(table, stream, compression=COMPRESSION)
        except OSError as exc:
            raise OSError(f"cannot write s3://{key}: {exc}") from exc

    def day_files(self, date: str, store_id: str | None) -> list[str]:
        """The day's ``part-*.parquet`` objects, listed from S3."""
        if store_id is None:
            folder = f"{self.base}/events/date={date}"
        else:
            folder = f"{self.base}/{partition_folder(date, store_id)}"
        try:
            found = self._fs.get_file_info(pafs.FileSelector(folder, recursive=True))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise OSError(f"cannot list s3://{folder}: {exc}") from exc
        return sorted(
            info.path
            for info in found
            if info.type == pafs.FileType.File
            and info.base_name.startswith("part-")
            and info.base_name.endswith(".parquet")
        )

    def filesystem(self) -> pafs.FileSystem:
        """The S3 filesystem."""
        return self._fs


def open_lake(uri: str, *, endpoint: str | None = None) -> LakeTarget:
    """The lake at ``uri``: ``s3://bucket/prefix``, ``file:///path`` or a plain path."""
    if uri.startswith("s3://"):
        return S3Lake(uri, endpoint=endpoint)
    if endpoint:
        raise ValueError(f"lake {uri!r}: an S3 endpoint was given for a local folder")
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return LocalLake(Path(parts.path))
    if parts.scheme and len(parts.scheme) > 1:
        raise ValueError(f"lake {uri!r}: a local folder or s3://BUCKET[/PREFIX]")
    return LocalLake(Path(uri))


def day_dataset(lake: LakeTarget, date: str, store_id: str | None) -> ds.Dataset | None:
    """The day's files as one pyarrow dataset of :data:`LAKE_SCHEMA` (None: no file)."""
    files = lake.day_files(date, store_id)
    if not files:
        return None
    return ds.dataset(files, schema=LAKE_SCHEMA, format="parquet", filesystem=lake.filesystem())
