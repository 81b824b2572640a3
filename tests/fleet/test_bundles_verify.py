"""verify_bundle: size, sha256 and the Ed25519 signature, each refusal one line naming it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from designer_import.signed_bundle import key_id
from fleet.bundles import BundleOffer, BundleRefused, DeploymentFailed, verify_bundle
from tests.fleet.bundle_support import Signed, sign, signed_bundle


@pytest.fixture
def signed(tmp_path: Path) -> Signed:
    return signed_bundle(tmp_path / "build", "spring-1")


def refusal(signed: Signed, offer: BundleOffer, trusted: list | None = None) -> str:
    with pytest.raises(BundleRefused) as caught:
        verify_bundle(signed.archive, offer, [signed.public] if trusted is None else trusted)
    reason = caught.value.reason
    assert "\n" not in reason
    return reason


def test_a_bundle_signed_by_a_trusted_key_is_accepted(signed: Signed) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    assert verify_bundle(signed.archive, signed.offer, [other, signed.public]) == key_id(
        signed.public
    )


def test_a_bundle_of_another_size_is_refused(signed: Signed) -> None:
    with signed.archive.open("ab") as archive:
        archive.write(b"x")
    size = signed.offer.size
    assert refusal(signed, signed.offer) == (
        f"bundle spring-1: {size + 1} bytes, the job expects {size}"
    )


def test_a_bundle_with_other_bytes_is_refused_by_its_sha256(signed: Signed) -> None:
    data = bytearray(signed.archive.read_bytes())
    data[-1] ^= 0xFF
    signed.archive.write_bytes(bytes(data))
    reason = refusal(signed, signed.offer)
    assert reason.startswith("bundle spring-1: sha256 ")
    assert reason.endswith(f"does not match the job's {signed.offer.sha256}")


def test_an_unsigned_bundle_is_refused(signed: Signed) -> None:
    unsigned = dataclasses.replace(signed.offer, signature=None)
    assert refusal(signed, unsigned) == (
        "bundle spring-1: not signed; only bundles signed by the retailer are deployed"
    )


def test_a_signature_made_for_another_bundle_is_refused(signed: Signed) -> None:
    # a genuine signature of the same bytes, but for another id: replaying it must not work
    other = sign(signed.archive, "autumn-1", signed.key)
    offer = dataclasses.replace(signed.offer, signature=other.offer.signature)
    reason = refusal(signed, offer)
    assert reason.startswith("bundle spring-1: the signature is for bundle autumn-1 (")
    assert reason.endswith("not this one")


def test_a_bundle_signed_by_an_untrusted_key_is_refused(signed: Signed) -> None:
    trusted = Ed25519PrivateKey.generate().public_key()
    assert refusal(signed, signed.offer, [trusted]) == (
        f"bundle spring-1: signed with key {key_id(signed.public)}, which this kiosk does not "
        f"trust (trusted: {key_id(trusted)})"
    )


def test_no_trusted_key_refuses_every_bundle(signed: Signed) -> None:
    assert refusal(signed, signed.offer, []) == (
        "bundle spring-1: this kiosk trusts no bundle signing key (fleet config)"
    )


def test_a_forged_signature_is_refused(signed: Signed) -> None:
    # a signature that claims the trusted key's id but was made with another key
    assert signed.offer.signature is not None
    forger = Ed25519PrivateKey.generate()
    forged = sign(signed.archive, "spring-1", forger).offer.signature
    assert forged is not None
    claimed = dataclasses.replace(forged, key_id=signed.offer.signature.key_id)
    assert refusal(signed, dataclasses.replace(signed.offer, signature=claimed)) == (
        f"bundle spring-1: the signature does not verify with key {key_id(signed.public)} "
        "(altered, or not signed with that key)"
    )


def test_a_job_cannot_change_size_hash_and_signature_together(signed: Signed) -> None:
    # an attacker who controls the job and the file but not the key: the signed fields match
    # their own archive, the signature bytes are the retailer's for another archive
    assert signed.offer.signature is not None
    tampered = signed.archive.with_name("tampered.zip")
    tampered.write_bytes(signed.archive.read_bytes() + b"tail")
    mine = sign(tampered, "spring-1", Ed25519PrivateKey.generate()).offer
    assert mine.signature is not None
    stolen = dataclasses.replace(
        mine.signature,
        key_id=signed.offer.signature.key_id,
        signature=signed.offer.signature.signature,
    )
    offer = dataclasses.replace(mine, signature=stolen)
    with pytest.raises(BundleRefused, match="the signature does not verify with key"):
        verify_bundle(tampered, offer, [signed.public])


def test_a_job_document_is_read_strictly() -> None:
    good = {"bundle_id": "b-1", "url": "https://x/b.zip", "size": 10, "sha256": "a" * 64}
    assert BundleOffer.from_json(good, "job 7").signature is None
    bad = {
        "size": ({**good, "size": 0}, "job 7: size must be a positive number of bytes, not 0"),
        "sha256": ({**good, "sha256": "x"}, "job 7: sha256 must be 64 hex digits, not 'x'"),
        "bundle_id": ({**good, "bundle_id": "../b"}, "bundle id '../b': use 1-80 letters"),
        "signature": ({**good, "signature": {"format": "?"}}, "job 7: signature: not a version 1"),
    }
    for name, (document, message) in bad.items():
        with pytest.raises(BundleRefused) as caught:
            BundleOffer.from_json(document, "job 7")
        assert caught.value.reason.startswith(message), name


def test_an_archive_that_cannot_be_read_is_the_kiosk_s_failure(signed: Signed) -> None:
    signed.archive.unlink()
    with pytest.raises(DeploymentFailed) as caught:
        verify_bundle(signed.archive, signed.offer, [signed.public])
    assert caught.value.reason == f"{signed.archive}: cannot read (No such file or directory)"
