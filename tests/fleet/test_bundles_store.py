"""BundleStore: stage, activate, roll back, and recover after a deployment killed with -9."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from designer_import.bundle import load_bundle
from fleet.bundles import BundleRefused, BundleStore, DeploymentFailed
from localservers import TestPki
from tests.fleet.bundle_support import Signed, answer, https_server, sign, signed_bundle, zip_of
from tests.storage.test_spill import _fill as fill
from tests.storage.test_spill import disk  # a small tmpfs of the test's own

__all__ = ["disk"]  # the fixture, imported for the tests here

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def store(tmp_path: Path) -> BundleStore:
    return BundleStore(tmp_path / "data")


def build(
    tmp_path: Path, bundle_id: str, key: Ed25519PrivateKey, drawing: str = "features.drawio"
) -> Signed:
    return signed_bundle(tmp_path / "build", bundle_id, drawing=drawing, key=key)


def deploy(store: BundleStore, signed: Signed) -> None:
    store.prepare(signed.offer, [signed.public], archive=signed.archive)
    store.activate(signed.offer.bundle_id)


def hidden(store: BundleStore) -> list[str]:
    """What a deployment left in the bundles folder besides bundles, the pointer and the lock."""
    return sorted(
        p.name for p in store.root.iterdir() if p.name.startswith(".") and p.name != ".lock"
    )


def test_activate_keeps_the_previous_bundle_and_rollback_returns_to_it(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey
) -> None:
    assert store.recover() is None and store.active() is None
    spring = build(tmp_path, "spring", key)
    autumn = build(tmp_path, "autumn", key, "bare-model.xml")
    deploy(store, spring)
    active = store.active()
    assert active is not None and (active.bundle_id, active.previous) == ("spring", None)
    assert active.sha256 == spring.offer.sha256  # what the shadow reports
    assert load_bundle(active.path).pages
    deploy(store, autumn)
    active = store.active()
    assert active is not None and (active.bundle_id, active.previous) == ("autumn", "spring")
    back = store.rollback()
    assert (back.bundle_id, back.previous) == ("spring", None)
    assert store.staged() == ["spring"]  # the bundle rolled back from is gone
    with pytest.raises(DeploymentFailed, match=r"^no previous bundle to roll back to$"):
        store.rollback()
    assert hidden(store) == []


def test_only_keep_bundles_stay_on_disk(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    store = BundleStore(tmp_path / "data", keep=3)
    for name in ("b1", "b2", "b3", "b4"):
        deploy(store, build(tmp_path, name, key))
    assert store.staged() == ["b2", "b3", "b4"]
    assert json.loads((store.root / "active.json").read_text())["history"] == ["b2", "b3"]


def test_a_refused_bundle_leaves_nothing_and_changes_nothing(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    stranger = build(tmp_path, "autumn", Ed25519PrivateKey.generate())
    with (
        caplog.at_level(logging.WARNING, logger="fleet.bundles"),
        pytest.raises(BundleRefused, match="which this kiosk does not trust") as caught,
    ):
        store.prepare(stranger.offer, [key.public_key()], archive=stranger.archive)
    assert caplog.messages == [f"bundle autumn not deployed: {caught.value.reason}"]
    assert store.staged() == ["spring"] and hidden(store) == []
    active = store.active()
    assert active is not None and active.bundle_id == "spring"


def test_a_signed_archive_that_is_not_a_kiosk_bundle_is_refused(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey
) -> None:
    archive = zip_of(tmp_path / "notes.zip", {"notes.txt": b"hello"})
    signed = sign(archive, "notes", key)
    with pytest.raises(BundleRefused) as caught:
        store.prepare(signed.offer, [signed.public], archive=archive)
    assert caught.value.reason == (
        "bundle notes: not a kiosk bundle (not an experience bundle (no manifest.json))"
    )
    assert store.staged() == [] and hidden(store) == []


def test_an_id_is_never_reused_for_other_content(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey
) -> None:
    first = build(tmp_path, "spring", key)
    deploy(store, first)
    # the same bundle again is taken as it is
    assert (
        store.prepare(first.offer, [first.public], archive=first.archive) == store.root / "spring"
    )
    other = signed_bundle(tmp_path / "other", "spring", drawing="bare-model.xml", key=key)
    with pytest.raises(BundleRefused, match="already has a bundle with that id and other content"):
        store.prepare(other.offer, [other.public], archive=other.archive)


def test_recovery_falls_back_from_a_damaged_active_bundle(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    deploy(store, build(tmp_path, "autumn", key, "bare-model.xml"))
    (store.root / "autumn" / "manifest.json").write_bytes(b"\x00garbage")
    with caplog.at_level(logging.ERROR, logger="fleet.bundles"):
        active = store.recover()
    assert active is not None and (active.bundle_id, active.previous) == ("spring", None)
    assert "falling back from bundle autumn to spring" in caplog.text
    assert store.staged() == ["spring"]


def test_recovery_with_no_whole_bundle_left_shows_the_configured_experience(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    (store.root / "spring" / "manifest.json").unlink()
    with caplog.at_level(logging.ERROR, logger="fleet.bundles"):
        assert store.recover() is None
    assert "no whole bundle left (['spring']); the configured experience is shown" in caplog.text
    assert not (store.root / "active.json").exists()


@pytest.mark.parametrize(
    "pointer",
    [
        b'{"active": ',
        b'{"version": 1, "active": "../../outside", "history": []}',
        b'{"version": 1, "active": "spring", "history": ["/etc"]}',
    ],
)
def test_a_damaged_pointer_is_set_aside_not_trusted(
    tmp_path: Path,
    store: BundleStore,
    key: Ed25519PrivateKey,
    caplog: pytest.LogCaptureFixture,
    pointer: bytes,
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    shutil.copytree(store.root / "spring", tmp_path / "outside")  # a whole bundle, elsewhere
    (store.root / "active.json").write_bytes(pointer)
    with caplog.at_level(logging.ERROR, logger="fleet.bundles"):
        assert store.recover() is None
    aside = [p.name for p in store.root.glob("active.json.damaged-*")]
    assert len(aside) == 1
    assert f"{store.root / 'active.json'}: " in caplog.text and aside[0] in caplog.text
    assert store.active() is None


# -- killed with -9 in the middle of a deployment ----------------------------------------------

DEPLOYER = """
import json, sys
from pathlib import Path
from designer_import.signed_bundle import load_public_key
from fleet.bundles import BundleOffer, BundleStore

data_dir, archive, offer, public, cafile, stop_at = sys.argv[1:]

def progress(line):
    if line.startswith(stop_at):
        print("AT " + line, flush=True)
        sys.stdin.read()  # wait here to be killed

store = BundleStore(Path(data_dir))
offer = BundleOffer.from_json(json.loads(offer), "test")
store.prepare(
    offer, [load_public_key(public, "key")], progress=progress,
    archive=Path(archive) if archive else None, cafile=Path(cafile) if cafile else None,
)
store.activate(offer.bundle_id, progress=progress)
print("DONE", flush=True)
"""


def kill_deployment_at(
    store: BundleStore, signed: Signed, stop_at: str, cafile: Path | None = None
) -> str:
    """Run a deployment in a child process and kill -9 it when its progress reaches
    ``stop_at``; it downloads the bundle when the offer has a url, else reads the archive."""
    public = signed.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    archive = "" if signed.offer.url else str(signed.archive)
    offer = json.dumps(signed.offer.to_json())
    args = [str(store.root.parent), archive, offer, public, str(cafile or "")]
    process = subprocess.Popen(
        [sys.executable, "-c", DEPLOYER, *args, stop_at],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the deployer said nothing in 60 s"
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("AT "), (line, process.stderr.read() if process.stderr else "")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        return line
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    ("stop_at", "active_after"),
    [
        ("verified", "spring"),
        ("unpacking assets/", "spring"),  # manifest.json written, assets half done
        ("staged", "spring"),
        ("switching", "spring"),  # the new pointer written to its temporary file
        ("active", "autumn"),  # switched, the old bundles not yet pruned
    ],
)
def test_a_deployment_killed_at_any_step_leaves_a_whole_active_bundle(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey, stop_at: str, active_after: str
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    autumn = build(tmp_path, "autumn", key, "features-compressed.drawio")  # it has assets
    line = kill_deployment_at(store, autumn, stop_at)
    assert line.startswith(f"AT {stop_at}")
    if stop_at in ("unpacking assets/", "switching"):
        assert hidden(store), "the kill was meant to leave a half-done step behind"
    active = store.recover()
    assert active is not None and active.bundle_id == active_after
    assert load_bundle(active.path).pages
    assert hidden(store) == []
    expected = ["autumn", "spring"] if active_after == "autumn" else ["spring"]
    assert store.staged() == expected
    # and the deployment can simply be run again
    deploy(store, autumn)
    active = store.active()
    assert active is not None and (active.bundle_id, active.previous) == ("autumn", "spring")


def test_an_offer_round_trips_through_json(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    from fleet.bundles import BundleOffer

    signed = build(tmp_path, "spring", key)
    offer = dataclasses.replace(signed.offer, url="https://cdn.example/spring.zip")
    assert BundleOffer.from_json(json.loads(json.dumps(offer.to_json())), "job") == offer
    with zipfile.ZipFile(signed.archive) as packed:
        assert "manifest.json" in packed.namelist()


def test_a_full_disk_fails_the_staging_and_leaves_the_active_bundle(
    disk: Path, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    store = BundleStore(disk / "data")
    deploy(store, build(tmp_path, "spring", key))
    autumn = build(tmp_path, "autumn", key, "features-compressed.drawio")
    fill(disk / "filler")
    with pytest.raises(DeploymentFailed) as caught:
        store.prepare(autumn.offer, [autumn.public], archive=autumn.archive)
    assert caught.value.reason == (
        f"{store.root}: cannot stage bundle autumn (No space left on device)"
    )
    assert store.staged() == ["spring"] and hidden(store) == []
    active = store.active()
    assert active is not None and active.bundle_id == "spring"
    (disk / "filler").unlink()
    deploy(store, autumn)
    active = store.active()
    assert active is not None and (active.bundle_id, active.previous) == ("autumn", "spring")


def test_a_deployment_killed_mid_download_leaves_a_whole_active_bundle(
    tmp_path: Path, store: BundleStore, key: Ed25519PrivateKey, test_pki: TestPki
) -> None:
    deploy(store, build(tmp_path, "spring", key))
    autumn = build(tmp_path, "autumn", key, "features-compressed.drawio")
    data = autumn.archive.read_bytes()
    with https_server(test_pki) as server:
        # half the archive, then the server holds the connection open
        half = data[: len(data) // 2]
        length = {"Content-Length": str(len(data))}
        server.routes["/autumn.zip"] = answer(200, length, half, hold=server.release)
        offer = dataclasses.replace(autumn.offer, url=server.url("/autumn.zip"))
        downloading = dataclasses.replace(autumn, offer=offer)
        line = kill_deployment_at(store, downloading, "downloaded", cafile=test_pki.ca_cert)
    received = int(line.split()[2])
    assert line == f"AT downloaded {received} of {len(data)} bytes\n" and received < len(data)
    partial = [p for p in store.root.iterdir() if p.name.startswith(".download-autumn-")]
    # what reached the file before the kill (Python buffers the rest) is left half-done
    assert len(partial) == 1 and partial[0].stat().st_size <= received
    active = store.recover()
    assert active is not None and active.bundle_id == "spring"
    assert hidden(store) == [] and store.staged() == ["spring"]
    deploy(store, autumn)
    active = store.active()
    assert active is not None and (active.bundle_id, active.previous) == ("autumn", "spring")
