"""Signed bundle archives: what a fleet deploys to its kiosks.

``kiosk-import build FILE -o DIR --sign KEY`` writes, beside the bundle folder ``DIR``:

``DIR.zip``
    the folder packed as a zip archive (``manifest.json`` and ``assets/...``, stored in name
    order with fixed timestamps, so the same bundle packs to the same bytes);
``DIR.zip.sig``
    the detached signature, a small JSON file (:class:`BundleSignature`)::

        {"format": "retail-edge-kiosk.bundle-signature", "version": 1,
         "bundle_id": "spring-sale-3f2a9c1b0d4e", "size": 48213,
         "sha256": "<64 hex digits of DIR.zip>", "key_id": "<16 hex digits>",
         "signature": "<base64 of the 64-byte Ed25519 signature>"}

The signature is Ed25519 over :func:`signed_message`: the ASCII text
``retail-edge-kiosk bundle v1``, the bundle id, the size in decimal and the sha256 in hex, each
followed by a newline, so it binds the archive's bytes (their hash and length) to the id it is
deployed under. ``key_id`` is the first 16 hex digits of the SHA-256 of the raw 32-byte public
key; it names the key, it proves nothing.

Keys: ``kiosk-import keygen --out KEY`` writes the private key ``KEY`` (PKCS#8 PEM, mode 0600,
kept by the retailer) and ``KEY.pub`` (SubjectPublicKeyInfo PEM), which kiosks trust.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from designer_import.bundle import ASSETS, MANIFEST
from designer_import.errors import DrawioError
from settings.overlay import write_atomically as write_atomically  # moved to settings

SIGNATURE_FORMAT = "retail-edge-kiosk.bundle-signature"
SIGNATURE_VERSION = 1
ARCHIVE_SUFFIX = ".zip"
SIGNATURE_SUFFIX = ".sig"
PUBLIC_KEY_SUFFIX = ".pub"
# A bundle id names a folder on the kiosk (bundles/<id>/): plain characters only.
BUNDLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# 1980-01-01, the earliest time a zip entry can carry: every entry gets it.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1 << 20


class SigningError(DrawioError):
    """A key or signature file that cannot be used: one line naming the file and the problem."""


def signed_message(bundle_id: str, size: int, sha256: str) -> bytes:
    """The exact bytes an Ed25519 bundle signature covers (see the module docstring)."""
    return f"retail-edge-kiosk bundle v1\n{bundle_id}\n{size}\n{sha256}\n".encode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The short name of a public key: 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The base64 of the key's 32 raw bytes: how a kiosk's config lists a trusted key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def check_bundle_id(bundle_id: str) -> str:
    """``bundle_id`` when it can name a folder on a kiosk, else a :class:`SigningError`."""
    if not BUNDLE_ID.fullmatch(bundle_id):
        raise SigningError(
            f"bundle id {bundle_id!r}: use 1-80 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return bundle_id


@dataclass(frozen=True)
class BundleSignature:
    """The detached signature of a bundle archive (the ``.sig`` file, see the module)."""

    bundle_id: str
    size: int
    sha256: str
    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, str | int]:
        """The JSON object written to the ``.sig`` file (and carried in a deploy job)."""
        return {
            "format": SIGNATURE_FORMAT,
            "version": SIGNATURE_VERSION,
            "bundle_id": self.bundle_id,
            "size": self.size,
            "sha256": self.sha256,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> BundleSignature:
        """Read a signature object; ``where`` names its source in the error's one line."""
        if not isinstance(data, Mapping):
            raise SigningError(f"{where}: not a bundle signature (expected a JSON object)")
        if data.get("format") != SIGNATURE_FORMAT or data.get("version") != SIGNATURE_VERSION:
            raise SigningError(
                f"{where}: not a version {SIGNATURE_VERSION} bundle signature "
                f"(format {data.get('format')!r}, version {data.get('version')!r})"
            )
        fields = {name: data.get(name) for name in ("bundle_id", "sha256", "key_id", "signature")}
        for name, value in fields.items():
            if not isinstance(value, str):
                raise SigningError(f"{where}: {name} must be a string, not {value!r}")
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise SigningError(f"{where}: size must be a whole number of bytes, not {size!r}")
        if not _SHA256.fullmatch(str(fields["sha256"])):
            raise SigningError(f"{where}: sha256 must be 64 lowercase hex digits")
        try:
            signature = base64.b64decode(str(fields["signature"]), validate=True)
        except binascii.Error:
            raise SigningError(f"{where}: signature is not base64") from None
        return cls(
            bundle_id=check_bundle_id(str(fields["bundle_id"])),
            size=size,
            sha256=str(fields["sha256"]),
            key_id=str(fields["key_id"]),
            signature=signature,
        )


def file_digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def sign_archive(archive: Path, key: Ed25519PrivateKey, bundle_id: str) -> BundleSignature:
    """Sign ``archive`` as ``bundle_id`` with the retailer's private ``key``."""
    size, sha256 = file_digest(archive)
    message = signed_message(check_bundle_id(bundle_id), size, sha256)
    return BundleSignature(
        bundle_id=bundle_id,
        size=size,
        sha256=sha256,
        key_id=key_id(key.public_key()),
        signature=key.sign(message),
    )


def pack_bundle(bundle: Path, archive: Path) -> Path:
    """Pack the bundle folder ``bundle`` into the zip ``archive`` (written beside, renamed in).

    Only ``manifest.json`` and the files of ``assets/`` go in, in name order with one fixed
    timestamp, so packing the same bundle twice gives the same bytes.
    """
    members = [bundle / MANIFEST, *sorted((bundle / ASSETS).glob("*"))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        for member in members:
            if not member.is_file() or member.is_symlink():
                raise SigningError(f"{member}: not a regular file; rebuild the bundle")
            info = zipfile.ZipInfo(member.relative_to(bundle).as_posix(), date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            packed.writestr(info, member.read_bytes())
    write_atomically(archive, buffer.getvalue(), mode=0o644)
    return archive


def generate_key(private_path: Path) -> tuple[Path, Path]:
    """Make a new Ed25519 key: ``private_path`` (PKCS#8 PEM, 0600) and ``private_path.pub``.

    Refuses to overwrite either file: a lost signing key cannot be recovered.
    """
    public_path = private_path.with_name(private_path.name + PUBLIC_KEY_SUFFIX)
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path}: already exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        # created 0600 from the start: never readable by others, even briefly
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise SigningError(
            f"{exc.filename or private_path}: cannot write ({exc.strerror})"
        ) from None
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The retailer's Ed25519 signing key from an unencrypted PEM file (PKCS#8)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the signing key ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SigningError(
            f"{path}: the signing key is encrypted; decrypt it for signing "
            "(openssl pkey -in KEY -out PLAIN)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: a {type(key).__name__}, not an Ed25519 key")
    return key


def load_public_key(text: str, where: str) -> Ed25519PublicKey:
    """A trusted public key from PEM text or from the base64 of its 32 raw bytes.

    ``where`` names the source (a file, a config key) in the error's one line.
    """
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(stripped, validate=True))
    except (ValueError, UnsupportedAlgorithm, binascii.Error):
        raise SigningError(
            f"{where}: not an Ed25519 public key (PEM, or the base64 of its 32 bytes)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{where}: a {type(key).__name__}, not an Ed25519 public key")
    return key


def sign_bundle(
    bundle: Path, key: Ed25519PrivateKey, bundle_id: str | None = None
) -> BundleSignature:
    """Pack the built bundle folder into ``<bundle>.zip`` and sign it into ``<bundle>.zip.sig``.

    ``bundle_id`` defaults to the folder's name and the first 12 hex digits of the archive's
    SHA-256, so each build gets its own id.
    """
    if bundle_id is not None:
        check_bundle_id(bundle_id)
    archive = bundle.with_name(bundle.name + ARCHIVE_SUFFIX)
    try:
        pack_bundle(bundle, archive)
        if bundle_id is None:
            stem = re.sub(r"[^A-Za-z0-9._-]+", "-", bundle.name).strip("-._")[:60] or "bundle"
            bundle_id = f"{stem}-{file_digest(archive)[1][:12]}"
        signature = sign_archive(archive, key, bundle_id)
        text = json.dumps(signature.to_json(), indent=2) + "\n"
        write_atomically(signature_path(archive), text.encode("ascii"), mode=0o644)
    except OSError as exc:
        raise SigningError(
            f"{exc.filename or archive}: cannot write the signed archive ({exc.strerror or exc})"
        ) from None
    return signature


def signature_path(archive: Path) -> Path:
    """Where the detached signature of ``archive`` is kept: ``<archive>.sig``."""
    return archive.with_name(archive.name + SIGNATURE_SUFFIX)


def read_signature(path: Path) -> BundleSignature:
    """The :class:`BundleSignature` of a ``.sig`` file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the signature ({exc.strerror})") from None
    except ValueError as exc:
        raise SigningError(f"{path}: not JSON ({exc})") from None
    return BundleSignature.from_json(data, str(path))
