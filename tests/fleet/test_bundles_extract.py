"""Unpacking a bundle archive: every unsafe member refused by name, nothing written outside."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from fleet.bundle_extract import ExtractLimits, extract_bundle
from fleet.bundles import BundleRefused
from tests.fleet.bundle_support import tar_member, tar_of, zip_of

LIMITS = ExtractLimits(max_bytes=1 << 20, max_members=50)
MANIFEST = {"manifest.json": b"{}"}


def refused(archive: Path, tmp_path: Path, limits: ExtractLimits = LIMITS) -> str:
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(BundleRefused) as caught:
        extract_bundle(archive, tmp_path / "sandbox" / "out", limits)
    # nothing appeared outside the folder being unpacked
    after = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    outside = after - set(before) - {Path("sandbox")}
    assert all(p.parts[:2] == ("sandbox", "out") for p in outside), sorted(outside)
    assert "\n" not in caught.value.reason
    shutil.rmtree(tmp_path / "sandbox" / "out")  # as BundleStore.stage does on failure
    return caught.value.reason


@pytest.fixture(autouse=True)
def sandbox(tmp_path: Path) -> Path:
    (tmp_path / "sandbox").mkdir()
    return tmp_path / "sandbox"


def test_a_zip_and_a_tar_unpack_their_files(tmp_path: Path) -> None:
    members = {"manifest.json": b"{}", "assets/a.png": b"png", "./assets/b.ttf": b"ttf"}
    zipped = zip_of(tmp_path / "b.zip", members)
    assert extract_bundle(zipped, tmp_path / "z", LIMITS) == 8
    infos = [tar_member(name) for name in members]
    tarred = tar_of(tmp_path / "b.tar.gz", infos, members)
    assert extract_bundle(tarred, tmp_path / "t", LIMITS) == 8
    for out in (tmp_path / "z", tmp_path / "t"):
        assert (out / "assets" / "a.png").read_bytes() == b"png"
        assert (out / "assets" / "b.ttf").read_bytes() == b"ttf"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/evil", "member '/etc/evil': an absolute path"),
        ("C:/evil", "member 'C:/evil': an absolute path"),
        ("../evil", "member '../evil': '..' would leave the bundle"),
        ("assets/../../evil", "member 'assets/../../evil': '..' would leave the bundle"),
        ("assets\\..\\evil", "member 'assets\\\\..\\\\evil': a NUL or backslash in the name"),
        (".deployment.json", "member '.deployment.json': a name the kiosk keeps for itself"),
    ],
)
def test_names_that_could_leave_the_bundle_are_refused(
    tmp_path: Path, name: str, reason: str
) -> None:
    archive = zip_of(tmp_path / "b.zip", {**MANIFEST, name: b"x"})
    assert refused(archive, tmp_path) == f"b.zip: {reason}"
    tarred = tar_of(tmp_path / "b.tgz", [tar_member("manifest.json"), tar_member(name)],
                    {**MANIFEST, name: b"x"})  # fmt: skip
    assert refused(tarred, tmp_path) == f"b.tgz: {reason}"


def test_a_symbolic_link_in_a_zip_is_refused(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "b.zip", MANIFEST, links={"assets/passwd": "/etc/passwd"})
    assert refused(archive, tmp_path) == "b.zip: member 'assets/passwd': a symbolic link"


@pytest.mark.parametrize(
    ("kind", "what"), [(tarfile.SYMTYPE, "symbolic"), (tarfile.LNKTYPE, "hard")]
)
def test_links_in_a_tar_are_refused(tmp_path: Path, kind: bytes, what: str) -> None:
    link = tar_member("assets/passwd", kind, linkname="/etc/passwd")
    archive = tar_of(tmp_path / "b.tgz", [tar_member("manifest.json"), link], MANIFEST)
    assert refused(archive, tmp_path) == (
        "b.tgz: member 'assets/passwd': a link (to '/etc/passwd')"
    ), what


def test_devices_and_pipes_are_refused(tmp_path: Path) -> None:
    for kind in (tarfile.CHRTYPE, tarfile.FIFOTYPE):
        archive = tar_of(tmp_path / "b.tgz", [tar_member("dev", kind)], {})
        assert refused(archive, tmp_path) == "b.tgz: member 'dev': a special file"


def test_a_zip_bomb_stops_at_the_byte_limit(tmp_path: Path) -> None:
    # 8 MiB of zeros packs to a few KiB; the limit is 1 MiB
    archive = zip_of(tmp_path / "bomb.zip", {**MANIFEST, "assets/zeros": bytes(8 << 20)})
    assert archive.stat().st_size < 64 << 10
    reason = refused(archive, tmp_path)
    assert reason == (
        "bomb.zip: unpacks to more than 1048576 bytes (at 'assets/zeros'); "
        "refused as a possible archive bomb"
    )


def test_the_bytes_written_are_counted_not_the_sizes_declared(tmp_path: Path) -> None:
    # many members each under the limit, together over it: only the running count sees it
    members = {f"assets/{n}": bytes(300 << 10) for n in range(5)}
    archive = zip_of(tmp_path / "many.zip", {**MANIFEST, **members})
    assert "unpacks to more than 1048576 bytes" in refused(archive, tmp_path)
    tarred = tar_of(tmp_path / "many.tgz", [tar_member(n) for n in members], members)
    assert "unpacks to more than 1048576 bytes" in refused(tarred, tmp_path)


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    members = {f"assets/{n}": b"" for n in range(51)}
    archive = zip_of(tmp_path / "b.zip", members)
    assert refused(archive, tmp_path) == (
        "b.zip: more than 50 members (at 'assets/50'); refused as a possible archive bomb"
    )


def test_a_member_twice_is_refused(tmp_path: Path) -> None:
    archive = tar_of(tmp_path / "b.tgz", [tar_member("a"), tar_member("a")], {"a": b"x"})
    assert refused(archive, tmp_path) == "b.tgz: member 'a': in the archive twice"


def test_a_damaged_or_foreign_file_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "b.zip"
    text.write_bytes(b"<html>not found</html>")
    assert refused(text, tmp_path) == "b.zip: neither a zip nor a tar archive"
    good = zip_of(tmp_path / "c.zip", {**MANIFEST, "assets/a": os.urandom(4096)})
    data = bytearray(good.read_bytes())
    data[200:260] = bytes(60)  # inside the compressed bytes of assets/a
    good.write_bytes(bytes(data))
    assert refused(good, tmp_path).startswith("c.zip: damaged archive (")


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "b.zip", MANIFEST)
    data = bytearray(archive.read_bytes())
    # bit 0 of the general purpose flags, in the local and the central header: encrypted
    data[6] |= 1
    data[data.index(b"PK\x01\x02") + 8] |= 1
    archive.write_bytes(bytes(data))
    assert refused(archive, tmp_path) == "b.zip: member 'manifest.json': encrypted"


def test_a_compression_method_the_kiosk_lacks_is_refused(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "b.zip", MANIFEST)
    data = bytearray(archive.read_bytes())
    # compression method 99 (WinZip AES), in the local and the central header
    data[8:10] = (99).to_bytes(2, "little")
    central = data.index(b"PK\x01\x02")
    data[central + 10 : central + 12] = (99).to_bytes(2, "little")
    archive.write_bytes(bytes(data))
    assert refused(archive, tmp_path).startswith("b.zip: cannot be unpacked here (")


def test_damaged_bzip2_data_is_the_archive_s_fault(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as packed:
        packed.writestr("assets/a", os.urandom(4096))
    data = bytearray(buffer.getvalue())
    start = data.index(b"BZh")  # the member's compressed bytes
    data[start + 40 : start + 100] = bytes(60)
    archive = tmp_path / "b.zip"
    archive.write_bytes(bytes(data))
    assert refused(archive, tmp_path).startswith("b.zip: member 'assets/a': damaged (")
