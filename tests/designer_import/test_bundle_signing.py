"""kiosk-import keygen and build --sign: the signed archive a fleet deploys."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature

from designer_import.cli import main
from designer_import.signed_bundle import (
    BundleSignature,
    SigningError,
    file_digest,
    load_public_key,
    pack_bundle,
    read_signature,
    signed_message,
)


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "retailer.key"
    path.parent.mkdir()
    assert main(["keygen", "--out", str(path)]) == 0
    return path


def build_signed(fixtures: Path, out: Path, key: Path, *extra: str) -> int:
    return main(
        ["build", str(fixtures / "features.drawio"), "-o", str(out), "--sign", str(key), *extra]
    )


def test_keygen_writes_a_private_key_only_its_owner_reads(key: Path) -> None:
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = key.with_name("retailer.key.pub")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    load_public_key(public.read_text(), str(public))


def test_keygen_never_overwrites_a_key(key: Path, capsys) -> None:
    before = key.read_bytes()
    assert main(["keygen", "--out", str(key)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"kiosk-import: {key}: already exists; refusing to overwrite a key"]
    assert key.read_bytes() == before


def test_build_sign_writes_an_archive_and_a_signature_that_verifies(
    fixtures: Path, tmp_path: Path, key: Path, capsys
) -> None:
    out = tmp_path / "spring"
    assert build_signed(fixtures, out, key) == 0
    archive = tmp_path / "spring.zip"
    signature = read_signature(tmp_path / "spring.zip.sig")
    size, sha256 = file_digest(archive)
    assert (signature.size, signature.sha256) == (size, sha256)
    assert signature.bundle_id == f"spring-{sha256[:12]}"
    assert f"as bundle {signature.bundle_id}" in capsys.readouterr().out
    public = load_public_key(key.with_name("retailer.key.pub").read_text(), "pub")
    public.verify(signature.signature, signed_message(signature.bundle_id, size, sha256))
    # the signature covers the id: the same bytes under another id do not verify
    with pytest.raises(InvalidSignature):
        public.verify(signature.signature, signed_message("other", size, sha256))
    with zipfile.ZipFile(archive) as packed:
        names = packed.namelist()
    assert names[0] == "manifest.json"
    assert all(n == "manifest.json" or n.startswith("assets/") for n in names)
    assert {f"assets/{p.name}" for p in (out / "assets").iterdir()} == set(names[1:])


def test_the_same_bundle_packs_to_the_same_bytes(fixtures: Path, tmp_path: Path, key: Path) -> None:
    assert build_signed(fixtures, tmp_path / "a", key, "--bundle-id", "spring-1") == 0
    again = pack_bundle(tmp_path / "a", tmp_path / "again.zip")
    assert again.read_bytes() == (tmp_path / "a.zip").read_bytes()
    assert read_signature(tmp_path / "a.zip.sig").bundle_id == "spring-1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bundle-id", "../up"], "bundle id '../up': use 1-80 letters"),
        (["--bundle-id", "a b"], "bundle id 'a b': use 1-80 letters"),
    ],
)
def test_build_refuses_a_bad_bundle_id_before_building(
    fixtures: Path, tmp_path: Path, key: Path, capsys, extra: list[str], message: str
) -> None:
    assert build_signed(fixtures, tmp_path / "b", key, *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "b").exists()


def test_build_refuses_a_key_that_is_not_a_private_ed25519_key(
    fixtures: Path, tmp_path: Path, key: Path, capsys
) -> None:
    public = key.with_name("retailer.key.pub")
    assert build_signed(fixtures, tmp_path / "b", public) == 2
    assert capsys.readouterr().err.strip() == f"kiosk-import: {public}: not a PEM private key"
    assert not (tmp_path / "b").exists()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = tmp_path / "ec.key"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert build_signed(fixtures, tmp_path / "b", other) == 2
    assert "not an Ed25519 key" in capsys.readouterr().err
    encrypted = tmp_path / "encrypted.key"
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    encrypted.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    assert build_signed(fixtures, tmp_path / "b", encrypted) == 2
    assert "the signing key is encrypted" in capsys.readouterr().err


def test_a_signature_file_is_read_strictly(tmp_path: Path, fixtures: Path, key: Path) -> None:
    assert build_signed(fixtures, tmp_path / "s", key) == 0
    good = json.loads((tmp_path / "s.zip.sig").read_text())
    BundleSignature.from_json(good, "s.zip.sig")
    cases = {
        "format": ("elsewhere", "not a version 1 bundle signature"),
        "size": (-1, "size must be a whole number"),
        "sha256": ("ABC", "sha256 must be 64 lowercase hex digits"),
        "signature": ("***", "signature is not base64"),
        "bundle_id": ("../x", "bundle id '../x'"),
    }
    for field, (value, message) in cases.items():
        with pytest.raises(SigningError) as caught:
            BundleSignature.from_json({**good, field: value}, "s.zip.sig")
        assert message in str(caught.value), field
        assert str(caught.value).startswith("s.zip.sig: ") or field == "bundle_id"
