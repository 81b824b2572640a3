"""Experience bundles: the folder a kiosk loads.

```
BUNDLE/
  manifest.json        {"schema_version", "generator", "source": {name, sha256, format},
                        "findings": [...], "experience": <the model>}
  assets/<sha256>.<ext> every embedded or nearby image, named by the hash of its bytes
```

A bundle is written into a temporary folder next to its destination and renamed into place,
so a kiosk never sees a half-written bundle.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from designer_import.errors import DrawioError
from designer_import.images import MIME_EXTENSION
from designer_import.loader import load_experience
from designer_import.model import SCHEMA_VERSION, Experience, ImageRef
from designer_import.serialize import JsonValue, experience_from_json, to_json
from designer_import.validate import Finding, validate

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ASSETS = "assets"
GENERATOR = "kiosk-import"


def iter_images(experience: Experience) -> Iterator[ImageRef]:
    """Every image reference of the experience (shared references once per use)."""
    for page in experience.pages:
        if page.background_image is not None:
            yield page.background_image
        for element in page.elements:
            if element.image is not None:
                yield element.image
            if element.label is not None:
                yield from element.label.images


def build_bundle(
    path: str | Path,
    out_dir: str | Path,
    *,
    target: tuple[int, int] = (1920, 1080),
    experience: Experience | None = None,
    findings: list[Finding] | None = None,
) -> Path:
    """Load ``path``, write its bundle to ``out_dir`` (replacing an older bundle there) and
    return ``out_dir``. Pass ``experience``/``findings`` when already loaded."""
    source = Path(path)
    destination = Path(out_dir)
    if experience is None:
        experience = load_experience(source)
    if findings is None:
        findings = validate(experience, target)
    if destination.exists() and not _replaceable(destination):
        raise DrawioError(
            f"{destination}: exists and is not an experience bundle; refusing to replace it"
        )
    parent = destination.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.tmp-", dir=parent))
    except OSError as exc:
        raise DrawioError(f"{destination}: cannot create ({exc.strerror or exc})") from None
    try:
        # mkdtemp makes the folder private; a kiosk may run as another user.
        staging.chmod(0o755)
        _write(staging, source, experience, findings)
        _swap_into_place(staging, destination)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DrawioError(
            f"{destination}: cannot write the bundle ({exc.strerror or exc})"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("bundle %s built from %s (%d pages)", destination, source, len(experience.pages))
    return destination


def _replaceable(destination: Path) -> bool:
    if not destination.is_dir():
        return False
    return (destination / MANIFEST).is_file() or not any(destination.iterdir())


def _write(staging: Path, source: Path, experience: Experience, findings: list[Finding]) -> None:
    assets = staging / ASSETS
    assets.mkdir()
    written: set[str] = set()
    for image in iter_images(experience):
        if image.data is None:
            continue
        digest = hashlib.sha256(image.data).hexdigest()
        name = digest + MIME_EXTENSION.get(image.mime or "", ".bin")
        image.asset = name
        if name not in written:
            (assets / name).write_bytes(image.data)
            written.add(name)
    for font in experience.fonts:
        if font.data is None:
            continue
        suffix = Path(font.file or "font.ttf").suffix.lower() or ".ttf"
        name = hashlib.sha256(font.data).hexdigest() + suffix
        font.asset = name
        if name not in written:
            (assets / name).write_bytes(font.data)
            written.add(name)
    manifest: dict[str, JsonValue] = {
        "schema_version": SCHEMA_VERSION,
        "generator": GENERATOR,
        "source": {
            "name": source.name,
            "sha256": experience.source_hash,
            "format": experience.source_format,
        },
        "findings": [to_json(f) for f in findings],
        "experience": to_json(experience),
    }
    target = staging / MANIFEST
    with target.open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, ensure_ascii=False, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())


def _swap_into_place(staging: Path, destination: Path) -> None:
    if not destination.exists():
        os.rename(staging, destination)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old-", dir=destination.parent))
    os.rmdir(retired)
    os.rename(destination, retired)
    try:
        os.rename(staging, destination)
    except OSError:
        os.rename(retired, destination)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def read_manifest(bundle: Path) -> dict[str, JsonValue]:
    """The parsed ``manifest.json`` of a bundle, schema version checked."""
    path = bundle / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DrawioError(f"{bundle}: not an experience bundle (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise DrawioError(f"{path}: unreadable ({exc})") from None
    if not isinstance(manifest, dict):
        raise DrawioError(f"{path}: not a bundle manifest")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DrawioError(
            f"{path}: schema version {version!r}, this kiosk reads {SCHEMA_VERSION}; "
            "rebuild the bundle with this version of kiosk-import"
        )
    return manifest


def load_bundle(bundle: str | Path) -> Experience:
    """The ``Experience`` of a built bundle, image bytes read and checked from ``assets/``."""
    folder = Path(bundle)
    manifest = read_manifest(folder)
    experience = experience_from_json(manifest.get("experience"))
    experience.source_path = folder
    experience.source_format = "bundle"
    cache: dict[str, bytes] = {}
    for image in iter_images(experience):
        if image.asset is None:
            continue
        image.data = _read_asset(folder, image.asset, cache)
        image.path = folder / ASSETS / image.asset
    for font in experience.fonts:
        if font.asset is None:
            continue
        font.data = _read_asset(folder, font.asset, cache)
        font.path = folder / ASSETS / font.asset
    return experience


def _read_asset(folder: Path, name: str, cache: dict[str, bytes]) -> bytes:
    """The bytes of ``assets/name``, checked against the hash its name carries."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise DrawioError(f"{folder}: bad asset name {name!r} in {MANIFEST}")
    asset_path = folder / ASSETS / name
    if name not in cache:
        try:
            data = asset_path.read_bytes()
        except OSError:
            raise DrawioError(f"{asset_path}: missing from the bundle") from None
        if hashlib.sha256(data).hexdigest() != name.split(".", 1)[0]:
            raise DrawioError(f"{asset_path}: damaged (its hash does not match its name)")
        cache[name] = data
    return cache[name]
