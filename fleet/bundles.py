"""Signed bundles on a kiosk: verify, stage, activate, roll back, and recover after a crash.

The kiosk's data folder holds::

    bundles/
      active.json        {"version": 1, "active": "<id>", "history": ["<older id>", "<old id>"]}
      <id>/              a staged bundle: manifest.json, assets/, .deployment.json (its origin)
      .lock              held while anything below changes (one deployer at a time, any process)
      .download-*        a download under way     } a crash leaves these behind;
      .staging-*         an archive being unpacked } recover() removes them

How a deploy job uses it (``docs/fleet.md``, "Signed bundles")::

    store = BundleStore(data_dir)
    store.recover()                                    # once at start, before active()
    offer = BundleOffer.from_json(job["bundle"], "job 42")
    keys = trusted_keys(config.fleet.bundle_keys)      # the retailer's public keys
    store.prepare(offer, keys, cafile=None)            # download, verify, unpack: BundleRefused
    store.activate(offer.bundle_id)                    # at a safe moment (no shopper session)
    store.rollback()                                   # health check failed: previous bundle

``active.json`` is replaced in one rename after its new text is on disk, so at any instant it
names either the old or the new bundle, and a bundle folder is renamed into place only once
complete; a process killed at any step leaves the active bundle whole. Nothing here touches
Qt or the screen: the kiosk loads ``store.active().path`` with ``designer_import.load_bundle``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from designer_import.bundle import load_bundle, read_manifest
from designer_import.errors import DrawioError
from designer_import.signed_bundle import (
    BUNDLE_ID,
    BundleSignature,
    SigningError,
    check_bundle_id,
    file_digest,
    key_id,
    load_public_key,
    signed_message,
)
from fleet.bundle_download import DownloadLimits, download_bundle
from fleet.bundle_errors import BundleError, BundleRefused, DeploymentFailed
from fleet.bundle_extract import DEPLOYMENT_RECORD, ExtractLimits, extract_bundle

log = logging.getLogger(__name__)

BUNDLES = "bundles"
POINTER = "active.json"
POINTER_VERSION = 1
_LEFTOVER_PREFIXES = (".download-", ".staging-", f".{POINTER}.tmp-")

Progress = Callable[[str], None]


def _quiet(_line: str) -> None:
    """The progress listener of a caller that wants none."""


@dataclass(frozen=True)
class BundleOffer:
    """What a deploy job says about a bundle: its id, where to get it, its size and sha256,
    and its detached signature (None when the job carries none: such a bundle is refused)."""

    bundle_id: str
    size: int
    sha256: str
    signature: BundleSignature | None
    url: str | None = None

    def to_json(self) -> dict[str, object]:
        """The offer as a deploy job carries it (what :meth:`from_json` reads)."""
        data: dict[str, object] = {"bundle_id": self.bundle_id, "size": self.size}
        data["sha256"] = self.sha256
        if self.url is not None:
            data["url"] = self.url
        if self.signature is not None:
            data["signature"] = self.signature.to_json()
        return data

    @classmethod
    def from_json(cls, data: object, where: str) -> BundleOffer:
        """Read ``{"bundle_id", "url", "size", "sha256", "signature": {...}}`` (the signature
        as in a ``.sig`` file); ``where`` names the source (a job) in the one-line error."""
        if not isinstance(data, Mapping):
            raise BundleRefused(f"{where}: the bundle must be a JSON object")
        raw_signature = data.get("signature")
        try:
            signature = (
                None
                if raw_signature is None
                else BundleSignature.from_json(raw_signature, f"{where}: signature")
            )
            bundle_id = check_bundle_id(str(data.get("bundle_id")))
        except SigningError as exc:
            raise BundleRefused(str(exc)) from None
        size, sha256, url = data.get("size"), data.get("sha256"), data.get("url")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise BundleRefused(f"{where}: size must be a positive number of bytes, not {size!r}")
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise BundleRefused(f"{where}: sha256 must be 64 hex digits, not {sha256!r}")
        if url is not None and not isinstance(url, str):
            raise BundleRefused(f"{where}: url must be a string, not {url!r}")
        return cls(bundle_id, size, sha256.lower(), signature, url)


@dataclass(frozen=True)
class ActiveBundle:
    """The bundle on screen (``bundle_id`` in ``path``, its archive's ``sha256`` as staged)
    and what roll back would go to."""

    bundle_id: str
    path: Path
    previous: str | None
    sha256: str | None = None


def trusted_keys(encoded: Sequence[str]) -> list[Ed25519PublicKey]:
    """The keys of ``[fleet] bundle_keys`` (base64 of 32 raw bytes, or PEM)."""
    try:
        return [
            load_public_key(text, f"[fleet] bundle_keys key {index}")
            for index, text in enumerate(encoded, start=1)
        ]
    except SigningError as exc:
        raise DeploymentFailed(str(exc)) from None


def verify_bundle(archive: Path, offer: BundleOffer, trusted: Sequence[Ed25519PublicKey]) -> str:
    """Check ``archive`` against ``offer``: size, then sha256, then the signature with one of
    the ``trusted`` keys. Returns the id of the key that signed it; raises
    :class:`BundleRefused` with one line naming the check that failed."""
    name = f"bundle {offer.bundle_id}"
    try:
        size = archive.stat().st_size
        if size != offer.size:
            raise BundleRefused(f"{name}: {size} bytes, the job expects {offer.size}")
        _size, sha256 = file_digest(archive)
    except OSError as exc:
        raise DeploymentFailed(f"{archive}: cannot read ({exc.strerror or exc})") from None
    if sha256 != offer.sha256:
        raise BundleRefused(f"{name}: sha256 {sha256} does not match the job's {offer.sha256}")
    signature = offer.signature
    if signature is None:
        raise BundleRefused(f"{name}: not signed; only bundles signed by the retailer are deployed")
    if (signature.bundle_id, signature.size, signature.sha256) != (offer.bundle_id, size, sha256):
        raise BundleRefused(
            f"{name}: the signature is for bundle {signature.bundle_id} ({signature.size} bytes, "
            f"sha256 {signature.sha256}), not this one"
        )
    keys = {key_id(key): key for key in trusted}
    if not keys:
        raise BundleRefused(f"{name}: this kiosk trusts no bundle signing key (fleet config)")
    key = keys.get(signature.key_id)
    if key is None:
        raise BundleRefused(
            f"{name}: signed with key {signature.key_id}, which this kiosk does not trust "
            f"(trusted: {', '.join(sorted(keys))})"
        )
    try:
        key.verify(signature.signature, signed_message(offer.bundle_id, size, sha256))
    except InvalidSignature:
        raise BundleRefused(
            f"{name}: the signature does not verify with key {signature.key_id} "
            "(altered, or not signed with that key)"
        ) from None
    return signature.key_id


@dataclass(frozen=True)
class _Pointer:
    """The content of ``active.json``."""

    active: str
    history: tuple[str, ...]


class BundleStore:
    """The bundles of one kiosk under ``<data_dir>/bundles`` (see the module docstring).

    Methods may be called from any thread or process: each takes the folder's lock. They do
    disk and network I/O, so never call them on the UI thread.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        keep: int = 3,
        extract_limits: ExtractLimits | None = None,
        download_limits: DownloadLimits | None = None,
    ) -> None:
        if keep < 2:
            raise ValueError("keep must be at least 2: the active bundle and one to roll back to")
        self.root = Path(data_dir) / BUNDLES
        self.keep = keep
        self.extract_limits = extract_limits or ExtractLimits()
        self.download_limits = download_limits or DownloadLimits()

    # -- reading ------------------------------------------------------------------------------

    def active(self) -> ActiveBundle | None:
        """The active bundle, or None when none was ever activated (the kiosk then shows its
        configured experience). Call :meth:`recover` once at start before relying on this: it
        sets aside an unreadable ``active.json``, which here is a :class:`DeploymentFailed`."""
        pointer = self._read_pointer()
        if pointer is None:
            return None
        previous = pointer.history[-1] if pointer.history else None
        folder = self.root / pointer.active
        sha256 = _read_record(folder).get("sha256")
        return ActiveBundle(
            pointer.active, folder, previous, sha256 if isinstance(sha256, str) else None
        )

    def staged(self) -> list[str]:
        """The ids of the bundles unpacked here, in name order."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _is_bundle_name(p))

    # -- deploying ----------------------------------------------------------------------------

    def prepare(
        self,
        offer: BundleOffer,
        trusted: Sequence[Ed25519PublicKey],
        *,
        archive: Path | None = None,
        cafile: Path | None = None,
        progress: Progress = _quiet,
    ) -> Path:
        """Download (or take ``archive``), verify and stage the bundle of ``offer``; it is not
        activated. Returns its folder. Raises :class:`BundleRefused` or
        :class:`DeploymentFailed`; nothing is left behind on failure."""
        self.root.mkdir(parents=True, exist_ok=True)
        downloaded = archive is None
        try:
            if archive is None:
                archive = self._download(offer, cafile, progress)
            signer = verify_bundle(archive, offer, trusted)
            progress(f"verified: bundle {offer.bundle_id} signed with key {signer}")
            return self.stage(archive, offer, signer, progress=progress)
        except BundleError as exc:
            log.warning("bundle %s not deployed: %s", offer.bundle_id, exc.reason)
            raise
        finally:
            if downloaded and archive is not None:
                archive.unlink(missing_ok=True)

    def _download(self, offer: BundleOffer, cafile: Path | None, progress: Progress) -> Path:
        if offer.url is None:
            raise BundleRefused(f"bundle {offer.bundle_id}: the job gives no url to download")
        token = secrets.token_hex(4)
        destination = self.root / f".download-{offer.bundle_id}-{token}"
        try:
            download_bundle(
                offer.url,
                destination,
                expected_size=offer.size,
                limits=self.download_limits,
                cafile=cafile,
                progress=progress,
            )
        except BaseException:
            destination.unlink(missing_ok=True)
            raise
        return destination

    def stage(
        self, archive: Path, offer: BundleOffer, signer: str, *, progress: Progress = _quiet
    ) -> Path:
        """Unpack a verified ``archive`` into ``bundles/<id>/`` (through a staging folder
        renamed in once complete and checked as a kiosk bundle). A bundle already staged with
        the same sha256 is kept as it is; another one under the same id is refused."""
        final = self.root / offer.bundle_id
        with self._locked():
            if final.exists():
                return self._already_staged(final, offer)
            try:
                self._unpack(archive, offer, signer, progress)
            except OSError as exc:
                raise DeploymentFailed(
                    f"{self.root}: cannot stage bundle {offer.bundle_id} ({exc.strerror or exc})"
                ) from None
        log.info("bundle %s staged in %s (key %s)", offer.bundle_id, final, signer)
        progress(f"staged: {final}")
        return final

    def _unpack(self, archive: Path, offer: BundleOffer, signer: str, progress: Progress) -> None:
        """Unpack, check and record into a staging folder, then rename it into place; the
        staging folder goes on any failure."""
        staging = self.root / f".staging-{offer.bundle_id}-{secrets.token_hex(4)}"
        try:
            extract_bundle(archive, staging, self.extract_limits, on_member=progress)
            self._check_bundle(staging, offer)
            record = {
                "bundle_id": offer.bundle_id,
                "size": offer.size,
                "sha256": offer.sha256,
                "key_id": signer,
                "staged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            _write_json(staging / DEPLOYMENT_RECORD, record)
            _fsync_tree(staging)
            os.rename(staging, self.root / offer.bundle_id)
            _fsync_folder(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _already_staged(self, final: Path, offer: BundleOffer) -> Path:
        record = _read_record(final)
        if record.get("sha256") != offer.sha256:
            raise BundleRefused(
                f"bundle {offer.bundle_id}: this kiosk already has a bundle with that id and "
                f"other content (sha256 {record.get('sha256')}); give each build its own id"
            )
        log.info("bundle %s is already staged in %s", offer.bundle_id, final)
        return final

    def _check_bundle(self, folder: Path, offer: BundleOffer) -> None:
        try:
            load_bundle(folder)
        except DrawioError as exc:
            where = str(exc).replace(str(folder), "")
            raise BundleRefused(
                f"bundle {offer.bundle_id}: not a kiosk bundle ({where.lstrip('/: ')})"
            ) from None

    # -- switching ----------------------------------------------------------------------------

    def activate(self, bundle_id: str, *, progress: Progress = _quiet) -> ActiveBundle:
        """Make the staged ``bundle_id`` the active bundle, keeping the one it replaces to
        roll back to. Bundles beyond ``keep`` are removed afterwards."""
        with self._locked():
            self._require_whole(bundle_id)
            pointer = self._read_pointer()
            if pointer is not None and pointer.active == bundle_id:
                return self._active_or_fail()
            history = () if pointer is None else (*pointer.history, pointer.active)
            history = tuple(h for h in history if h != bundle_id)[-(self.keep - 1) :]
            self._switch(_Pointer(bundle_id, history), progress)
            self._prune()
        log.info("bundle %s activated (previous: %s)", bundle_id, history[-1] if history else None)
        return self._active_or_fail()

    def rollback(self, *, progress: Progress = _quiet) -> ActiveBundle:
        """Go back to the bundle active before this one; the one left is removed. Raises
        :class:`DeploymentFailed` when there is nothing to go back to."""
        with self._locked():
            pointer = self._read_pointer()
            if pointer is None or not pointer.history:
                raise DeploymentFailed("no previous bundle to roll back to")
            target = pointer.history[-1]
            self._require_whole(target)
            self._switch(_Pointer(target, pointer.history[:-1]), progress)
            self._prune()
        log.warning("rolled back from bundle %s to %s", pointer.active, target)
        return self._active_or_fail()

    def _active_or_fail(self) -> ActiveBundle:
        active = self.active()
        if active is None:
            raise DeploymentFailed(f"{self.root / POINTER}: vanished while switching")
        return active

    def _require_whole(self, bundle_id: str) -> None:
        try:
            read_manifest(self.root / check_bundle_id(bundle_id))
        except DrawioError as exc:
            raise DeploymentFailed(f"bundle {bundle_id}: not usable ({exc})") from None

    def _switch(self, pointer: _Pointer, progress: Progress) -> None:
        data = {"version": POINTER_VERSION, "active": pointer.active, "history": pointer.history}
        path = self.root / POINTER
        fd, temporary = tempfile.mkstemp(prefix=f".{POINTER}.tmp-", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)
            progress(f"switching to bundle {pointer.active}")
            os.replace(temporary, path)
            _fsync_folder(self.root)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise DeploymentFailed(f"{path}: cannot write ({exc.strerror or exc})") from None
        progress(f"active: bundle {pointer.active}")

    def _prune(self) -> None:
        pointer = self._read_pointer()
        kept = set() if pointer is None else {pointer.active, *pointer.history}
        for bundle_id in self.staged():
            if bundle_id not in kept:
                shutil.rmtree(self.root / bundle_id, ignore_errors=True)
                log.info("bundle %s removed (neither active nor kept for roll back)", bundle_id)

    # -- recovery -----------------------------------------------------------------------------

    def recover(self) -> ActiveBundle | None:
        """Bring the folder to a consistent state at start: remove what a killed deployment
        left (downloads, staging folders, temporary pointers), check the active bundle is
        whole (falling back to the newest whole bundle of its history, or to none, with the
        reason logged), and remove bundles nobody points at. Returns the active bundle."""
        if not self.root.is_dir():
            return None
        with self._locked():
            for leftover in self.root.iterdir():
                if leftover.name.startswith(_LEFTOVER_PREFIXES):
                    log.warning("removing %s, left by an interrupted deployment", leftover)
                    _remove(leftover)
            pointer = self._read_pointer_or_set_aside()
            if pointer is not None:
                self._fall_back_if_damaged(pointer)
            self._prune()
        return self.active()

    def _fall_back_if_damaged(self, pointer: _Pointer) -> None:
        candidates = [pointer.active, *reversed(pointer.history)]
        for index, bundle_id in enumerate(candidates):
            try:
                self._require_whole(bundle_id)
            except DeploymentFailed as exc:
                log.error("bundle %s cannot be shown: %s", bundle_id, exc.reason)
                continue
            if index:
                log.error("falling back from bundle %s to %s", pointer.active, bundle_id)
                kept = tuple(reversed(candidates[index + 1 :]))
                self._switch(_Pointer(bundle_id, kept), _quiet)
            return
        log.error("no whole bundle left (%s); the configured experience is shown", candidates)
        (self.root / POINTER).unlink()
        _fsync_folder(self.root)

    def _read_pointer_or_set_aside(self) -> _Pointer | None:
        try:
            return self._read_pointer()
        except DeploymentFailed as exc:
            aside = self.root / f"{POINTER}.damaged-{secrets.token_hex(4)}"
            os.replace(self.root / POINTER, aside)
            log.error("%s; kept as %s, the configured experience is shown", exc.reason, aside)
            return None

    def _read_pointer(self) -> _Pointer | None:
        path = self.root / POINTER
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DeploymentFailed(f"{path}: unreadable ({exc})") from None
        active = data.get("active") if isinstance(data, dict) else None
        history = data.get("history") if isinstance(data, dict) else None
        if (
            not isinstance(active, str)
            or not isinstance(history, list)
            or not all(isinstance(h, str) and BUNDLE_ID.fullmatch(h) for h in history)
            or not BUNDLE_ID.fullmatch(active)
        ):
            # an id that is no folder name (say "../x") must never reach a path
            raise DeploymentFailed(f"{path}: not an active-bundle pointer")
        return _Pointer(active, tuple(history))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _is_bundle_name(path: Path) -> bool:
    return not path.name.startswith(".")


def _read_record(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / DEPLOYMENT_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: Mapping[str, object]) -> None:
    with path.open("x", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """The folders of a staged bundle on disk (its files were synced as they were written)."""
    for folder, _dirs, _files in os.walk(root):
        _fsync_folder(Path(folder))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


__all__ = [
    "ActiveBundle",
    "BundleOffer",
    "BundleRefused",
    "BundleStore",
    "DeploymentFailed",
    "trusted_keys",
    "verify_bundle",
]
