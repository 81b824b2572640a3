"""Unpacking a downloaded bundle archive (zip or tar) into a staging folder, safely.

Every member is checked before a byte of it is written: no absolute path, no ``..``, no
backslash or NUL in a name, no symbolic or hard link, no device or pipe, no name twice; the
bytes really written (not the sizes the archive declares) are counted against a limit, and so
are the members, so a zip bomb stops at the limit. Files are created with ``O_EXCL`` and
``O_NOFOLLOW`` inside a folder this module made, so nothing outside it can be written.
"""

from __future__ import annotations

import logging
import lzma
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from fleet.bundle_errors import BundleRefused

log = logging.getLogger(__name__)

# Written by fleet.bundles beside the bundle's own files; an archive may not bring its own.
DEPLOYMENT_RECORD = ".deployment.json"
_CHUNK = 1 << 20
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class ExtractLimits:
    """What one bundle may unpack to: total bytes written and number of members."""

    max_bytes: int = 1 << 30
    max_members: int = 20_000


class _Budget:
    """Bytes and members left; refuses the archive as soon as either runs out."""

    def __init__(
        self, archive: Path, limits: ExtractLimits, on_member: Callable[[str], None] | None
    ) -> None:
        self.archive = archive
        self.on_member = on_member
        self.limits = limits
        self.bytes_left = limits.max_bytes
        self.members_left = limits.max_members

    def member(self, name: str) -> None:
        if self.on_member is not None:
            self.on_member(f"unpacking {name}")
        self.members_left -= 1
        if self.members_left < 0:
            raise BundleRefused(
                f"{self.archive.name}: more than {self.limits.max_members} members "
                f"(at {name!r}); refused as a possible archive bomb"
            )

    def spend(self, name: str, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise BundleRefused(
                f"{self.archive.name}: unpacks to more than {self.limits.max_bytes} bytes "
                f"(at {name!r}); refused as a possible archive bomb"
            )


def extract_bundle(
    archive: Path,
    destination: Path,
    limits: ExtractLimits,
    *,
    on_member: Callable[[str], None] | None = None,
) -> int:
    """Unpack ``archive`` (zip, or tar plain or compressed) into the new folder ``destination``.

    Returns the bytes written. Raises :class:`BundleRefused` naming the member and the rule it
    broke, or when the archive is damaged; ``OSError`` when the disk fails (full, read-only).
    The caller removes ``destination`` on any error. ``on_member`` hears "unpacking NAME"
    before each member is written.
    """
    destination.mkdir(mode=0o755)
    budget = _Budget(archive, limits, on_member)
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, destination, budget)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, destination, budget)
        else:
            raise BundleRefused(f"{archive.name}: neither a zip nor a tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError) as exc:
        raise BundleRefused(f"{archive.name}: damaged archive ({exc})") from None
    except NotImplementedError as exc:  # zipfile: a compression method it does not have
        raise BundleRefused(f"{archive.name}: cannot be unpacked here ({exc})") from None
    return limits.max_bytes - budget.bytes_left


def member_parts(archive: Path, name: str) -> tuple[str, ...]:
    """The path parts of a member named ``name``, or :class:`BundleRefused` when the name could
    reach outside the bundle (absolute, ``..``, a drive, a backslash, NUL) or is reserved."""
    where = f"{archive.name}: member {name!r}"
    if "\x00" in name or "\\" in name:
        raise BundleRefused(f"{where}: a NUL or backslash in the name")
    if name.startswith("/") or _DRIVE.match(name):
        raise BundleRefused(f"{where}: an absolute path")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise BundleRefused(f"{where}: '..' would leave the bundle")
    kept = tuple(part for part in parts if part != ".")
    if kept[:1] == (DEPLOYMENT_RECORD,):
        raise BundleRefused(f"{where}: a name the kiosk keeps for itself")
    return kept


def _extract_zip(archive: Path, destination: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as packed:
        for info in packed.infolist():
            budget.member(info.filename)
            parts = member_parts(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BundleRefused(f"{archive.name}: member {info.filename!r}: a symbolic link")
            # zips made without Unix attributes carry no file type: a plain file
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise BundleRefused(f"{archive.name}: member {info.filename!r}: a special file")
            if info.flag_bits & 0x1:
                raise BundleRefused(f"{archive.name}: member {info.filename!r}: encrypted")
            if info.is_dir() or not parts:
                _make_folder(destination, parts)
                continue
            if info.file_size > budget.bytes_left:
                budget.spend(info.filename, info.file_size)
            with packed.open(info) as source:
                _write_member(source, destination, parts, info.filename, budget)


def _extract_tar(archive: Path, destination: Path, budget: _Budget) -> None:
    with tarfile.open(archive, "r:*") as packed:
        for member in packed:
            budget.member(member.name)
            parts = member_parts(archive, member.name)
            if member.issym() or member.islnk():
                raise BundleRefused(
                    f"{archive.name}: member {member.name!r}: a link (to {member.linkname!r})"
                )
            if member.isdir() or not parts:
                _make_folder(destination, parts)
                continue
            if not member.isfile():
                raise BundleRefused(f"{archive.name}: member {member.name!r}: a special file")
            if member.size > budget.bytes_left:
                budget.spend(member.name, member.size)
            source = packed.extractfile(member)
            if source is None:
                raise BundleRefused(f"{archive.name}: member {member.name!r}: unreadable")
            with source:
                _write_member(source, destination, parts, member.name, budget)


def _make_folder(destination: Path, parts: tuple[str, ...]) -> Path:
    folder = destination.joinpath(*parts)
    try:
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BundleRefused(
            f"{'/'.join(parts)!r}: both a file and a folder in the bundle archive"
        ) from None
    return folder


def _write_member(
    source: IO[bytes], destination: Path, parts: tuple[str, ...], name: str, budget: _Budget
) -> None:
    folder = _make_folder(destination, parts[:-1])
    with _new_file(folder / parts[-1], name, budget.archive) as handle:
        while chunk := _read(source, name, budget.archive):
            budget.spend(name, len(chunk))
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())


def _read(source: IO[bytes], name: str, archive: Path) -> bytes:
    """The next chunk of a member; bz2 reports bad data as OSError, which is the archive's
    fault here, not the disk's."""
    try:
        return source.read(_CHUNK)
    except OSError as exc:
        raise BundleRefused(f"{archive.name}: member {name!r}: damaged ({exc})") from None


@contextmanager
def _new_file(path: Path, name: str, archive: Path) -> Iterator[IO[bytes]]:
    """A file that did not exist, never followed through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise BundleRefused(f"{archive.name}: member {name!r}: in the archive twice") from None
    except IsADirectoryError:
        raise BundleRefused(f"{archive.name}: member {name!r}: also a folder") from None
    with os.fdopen(fd, "wb") as handle:
        yield handle
