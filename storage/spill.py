"""The spill file: room on disk, taken at start, for the events the writer holds while SQLite
cannot take them (a full disk, a read-only, locked or corrupt database), so a kill -9 then
does not lose them.

``<database>.spill`` is preallocated (``posix_fallocate``) to ``[storage] spill_mb`` and
fsync'd when the writer starts: blocks already allocated can be overwritten on a full file
system. Layout: a 16-byte header (magic, generation) and records, each a 16-byte head
(magic, generation, length, CRC32 of the body) and a body of rows, one JSON array (the row's
values, its schema v1 JSON among them) a line. Only records of the header's generation
count; clearing the spill writes the next generation into the header (and fsyncs), which
makes every record before it stale without writing them over.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import orjson

from storage.records import Row

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<8sQ")
_HEADER_MAGIC = b"KSPILL1\0"
_RECORD = struct.Struct("<4sIII")
_RECORD_MAGIC = b"SPR1"


def spill_path(database: Path) -> Path:
    """The spill file of ``database``: next to it, ``<name>.spill``."""
    return database.with_name(database.name + ".spill")


class Spill:
    """One preallocated spill file; used by the event log's writer thread alone."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._fd = -1
        self._generation = 0
        self._offset = _HEADER.size
        #: Rows were refused for want of room since the spill was last cleared (logged once).
        self.full = False

    @property
    def usable(self) -> bool:
        """True while the file is open and its room taken (:meth:`open` succeeded)."""
        return self._fd >= 0

    @property
    def empty(self) -> bool:
        """True when the file holds no record of the current generation."""
        return self._offset == _HEADER.size

    def open(self) -> list[Row]:
        """Open (and preallocate) the file; the rows it held from a run that did not write
        them, oldest first. A damaged record is logged naming the file and where, the
        records around it kept. When the room cannot be taken (a full disk), logs it and
        returns what the file held; the spill is then not used (:attr:`usable` is False)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            log.error(
                "event log: cannot open the spill file %s (%s); events held while the "
                "database cannot be written are kept in memory only",
                self.path,
                exc,
            )
            return []
        rows = self._read(fd)
        try:
            os.posix_fallocate(fd, 0, self.size)
            if self._generation == 0:  # a new (or unreadable) file
                self._generation = 1
                os.pwrite(fd, _HEADER.pack(_HEADER_MAGIC, self._generation), 0)
            os.fsync(fd)
            self._sync_dir()
        except OSError as exc:
            os.close(fd)
            log.error(
                "event log: cannot take %d MB for the spill file %s (%s); events held while "
                "the database cannot be written are kept in memory only (a kill loses them)",
                self.size // (1024 * 1024),
                self.path,
                exc,
            )
            return rows
        self._fd = fd
        return rows

    def _sync_dir(self) -> None:
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _read(self, fd: int) -> list[Row]:
        data = os.pread(fd, max(self.size, os.fstat(fd).st_size), 0)
        if len(data) < _HEADER.size or data[: len(_HEADER_MAGIC)] != _HEADER_MAGIC:
            if data.strip(b"\0"):
                log.error("event log: spill file %s has no valid header; ignored", self.path)
            return []
        _magic, self._generation = _HEADER.unpack_from(data, 0)
        rows: list[Row] = []
        offset = _HEADER.size
        while offset + _RECORD.size <= len(data):
            magic, generation, length, crc = _RECORD.unpack_from(data, offset)
            if magic != _RECORD_MAGIC or generation != self._generation:
                break  # the end: zeros, or a record of an earlier generation
            body_at = offset + _RECORD.size
            body = data[body_at : body_at + length]
            if len(body) < length:
                log.error(
                    "event log: spill file %s: record at byte %d is truncated (%d of %d "
                    "bytes); its events are lost, the %d before it kept",
                    self.path,
                    offset,
                    len(body),
                    length,
                    len(rows),
                )
                break
            if zlib.crc32(body) != crc:
                log.error(
                    "event log: spill file %s: record at byte %d (%d bytes) fails its CRC; "
                    "its events are lost, the records around it kept",
                    self.path,
                    offset,
                    length,
                )
            else:
                for n, line in enumerate(body.splitlines()):
                    try:
                        rows.append(Row(tuple(orjson.loads(line))))
                    except orjson.JSONDecodeError as exc:
                        log.error(
                            "event log: spill file %s: record at byte %d, line %d is not "
                            "JSON (%s); that event is lost",
                            self.path,
                            offset,
                            n + 1,
                            exc,
                        )
            offset = body_at + length
        self._offset = offset
        if rows:
            log.warning(
                "event log: %d events held in the spill file %s by an earlier run are "
                "written to the database first",
                len(rows),
                self.path,
            )
        return rows

    def add(self, rows: list[Row]) -> int:
        """Append ``rows`` as one record and fsync; how many of them it took (from the
        first: those that fit)."""
        room = self.size - self._offset - _RECORD.size
        lines = []
        used = 0
        for row in rows:
            line = orjson.dumps(row.values) + b"\n"
            if used + len(line) > room:
                break
            lines.append(line)
            used += len(line)
        if len(lines) < len(rows) and not self.full:
            self.full = True
            log.error(
                "event log: the spill file %s is full (%d MB): events held beyond it are "
                "kept in memory only (a kill loses them) until the database takes them",
                self.path,
                self.size // (1024 * 1024),
            )
        if not lines:
            return 0
        body = b"".join(lines)
        head = _RECORD.pack(_RECORD_MAGIC, self._generation, len(body), zlib.crc32(body))
        os.pwrite(self._fd, head + body, self._offset)
        os.fsync(self._fd)
        self._offset += len(head) + len(body)
        return len(lines)

    def clear(self) -> None:
        """Forget every record (the database holds them now): the next generation."""
        self._generation += 1
        os.pwrite(self._fd, _HEADER.pack(_HEADER_MAGIC, self._generation), 0)
        os.fsync(self._fd)
        self._offset = _HEADER.size
        self.full = False

    def close(self) -> None:
        """Close the file (its records stay for the next start)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
