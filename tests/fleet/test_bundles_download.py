"""Downloading a bundle over HTTPS from a loopback server with the test PKI's certificate."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.bundle_download import DownloadLimits, download_bundle
from fleet.bundles import BundleRefused, BundleStore, DeploymentFailed
from localservers import TestPki
from tests.fleet.bundle_support import (
    HttpsServer,
    Signed,
    answer,
    https_server,
    send_bytes,
    signed_bundle,
)


@pytest.fixture
def server(test_pki: TestPki) -> Iterator[HttpsServer]:
    with https_server(test_pki) as served:
        yield served


@pytest.fixture
def signed(tmp_path: Path) -> Signed:
    return signed_bundle(tmp_path / "build", "spring", key=Ed25519PrivateKey.generate())


def fetch(server: HttpsServer, path: str, pki: TestPki, tmp_path: Path, expected: int,
          limits: DownloadLimits | None = None) -> Path:  # fmt: skip
    destination = tmp_path / "download.part"
    download_bundle(server.url(path), destination, expected_size=expected, limits=limits,
                    cafile=pki.ca_cert)  # fmt: skip
    return destination


def test_a_signed_bundle_is_downloaded_verified_and_staged(
    server: HttpsServer, signed: Signed, test_pki: TestPki, tmp_path: Path
) -> None:
    server.routes["/bundles/spring.zip"] = send_bytes(signed.archive.read_bytes())
    url = server.url("/bundles/spring.zip?X-Amz-Signature=s3cr3t")
    offer = dataclasses.replace(signed.offer, url=url)
    store = BundleStore(tmp_path / "data")
    heard: list[str] = []
    folder = store.prepare(offer, [signed.public], cafile=test_pki.ca_cert, progress=heard.append)
    assert folder == store.root / "spring" and (folder / "manifest.json").is_file()
    assert heard[0] == f"downloaded {signed.offer.size} of {signed.offer.size} bytes"
    assert heard[1].startswith("verified: bundle spring signed with key ")
    assert heard[-1] == f"staged: {folder}"
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".download")] == []
    assert store.activate("spring").bundle_id == "spring"


def test_only_https_is_fetched(tmp_path: Path) -> None:
    with pytest.raises(BundleRefused) as caught:
        download_bundle("http://127.0.0.1:9/b.zip?token=s3cr3t", tmp_path / "d", expected_size=1)
    assert caught.value.reason == "http://127.0.0.1:9/b.zip: only https:// downloads are accepted"
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("body", "length", "expected", "error", "reason"),
    [
        # refused from the Content-Length, before the body is read
        (5000, -1, 4000, BundleRefused, "offers 5000 bytes, more than the expected 4000"),
        # no Content-Length: the body ends when the server closes, only counting catches it
        (300_000, None, 100_000, BundleRefused, "sends more than the expected 100000 bytes"),
        (1000, None, 4000, DeploymentFailed, "the download ended after 1000 of 4000 bytes"),
    ],
)
def test_a_body_of_another_size_than_expected_is_not_kept(
    server: HttpsServer,
    test_pki: TestPki,
    tmp_path: Path,
    body: int,
    length: int | None,
    expected: int,
    error: type[Exception],
    reason: str,
) -> None:
    server.routes["/b.zip"] = send_bytes(bytes(body), length=length)
    with pytest.raises(error) as caught:
        fetch(server, "/b.zip", test_pki, tmp_path, expected)
    assert str(caught.value) == f"{server.url('/b.zip')}: {reason}"


def test_a_server_that_stops_sending_times_out(
    server: HttpsServer, test_pki: TestPki, tmp_path: Path
) -> None:
    server.routes["/stall.zip"] = answer(
        200, {"Content-Length": "4000"}, bytes(1000), hold=server.release
    )
    with pytest.raises(DeploymentFailed) as caught:
        fetch(server, "/stall.zip", test_pki, tmp_path, 4000, DownloadLimits(timeout=0.5))
    assert caught.value.reason == f"{server.url('/stall.zip')}: timed out waiting for data"


def test_a_server_with_an_untrusted_certificate_is_not_used(
    server: HttpsServer, tmp_path: Path, signed: Signed
) -> None:
    server.routes["/b.zip"] = send_bytes(b"x")
    with pytest.raises(DeploymentFailed) as caught:
        download_bundle(server.url("/b.zip"), tmp_path / "d", expected_size=1)  # system CAs
    assert caught.value.reason.startswith(
        f"{server.url('/b.zip')}: the server's certificate is not trusted ("
    )
    assert not (tmp_path / "d").exists()


def test_an_http_error_is_named(server: HttpsServer, test_pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(DeploymentFailed) as caught:
        fetch(server, "/gone.zip?X-Amz-Signature=s3cr3t", test_pki, tmp_path, 10)
    assert caught.value.reason == f"{server.url('/gone.zip')}: HTTP 404 no such bundle"


def test_a_redirect_may_not_leave_https(
    server: HttpsServer, test_pki: TestPki, tmp_path: Path
) -> None:
    server.routes["/moved.zip"] = answer(302, {"Location": "http://127.0.0.1:9/b.zip"})
    with pytest.raises(BundleRefused) as caught:
        fetch(server, "/moved.zip", test_pki, tmp_path, 10)
    assert caught.value.reason == (
        f"{server.url('/moved.zip')}: redirected to http://127.0.0.1:9/b.zip"
    )


def test_a_failed_download_leaves_nothing_behind(
    server: HttpsServer, signed: Signed, test_pki: TestPki, tmp_path: Path
) -> None:
    server.routes["/spring.zip"] = send_bytes(signed.archive.read_bytes()[:100], length=None)
    offer = dataclasses.replace(signed.offer, url=server.url("/spring.zip"))
    store = BundleStore(tmp_path / "data")
    with pytest.raises(DeploymentFailed, match="the download ended after 100 of"):
        store.prepare(offer, [signed.public], cafile=test_pki.ca_cert)
    assert sorted(p.name for p in store.root.iterdir()) == []


def test_a_download_over_its_deadline_is_abandoned(
    server: HttpsServer, test_pki: TestPki, tmp_path: Path
) -> None:
    # a server dripping data never trips the per-read timeout; the deadline stops it
    server.routes["/drip.zip"] = send_bytes(bytes(4000))
    with pytest.raises(DeploymentFailed) as caught:
        fetch(server, "/drip.zip", test_pki, tmp_path, 4000, DownloadLimits(deadline=0))
    assert caught.value.reason == f"{server.url('/drip.zip')}: not done after 0 s"
