"""The content library behind the admin Content page: which experiences were shown, which is
active and which came before it, and new drawings imported from a folder or a USB stick.

No Qt: the page calls these on a worker thread (copying from a slow stick and validating a
big drawing take seconds). Imported files are copied into ``<data_dir>/content`` so the
stick can be pulled out; the history is a small JSON file written atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from settings import KioskConfig

log = logging.getLogger(__name__)

#: Drawings the importer reads (designer_import.load_experience), and bundle folders.
DRAWING_SUFFIXES = (".drawio", ".drawio.svg", ".drawio.png", ".xml")
#: Where USB sticks appear on Debian/Ubuntu desktops and kiosks.
USB_ROOTS = (Path("/media"), Path("/run/media"), Path("/mnt"))
#: How many folders deep a stick is searched (sticks hold a few folders, not a disk tree).
SEARCH_DEPTH = 3
HISTORY_KEEP = 50
#: Pictures copied with an imported drawing (draw.io links them by relative path).
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp")
#: At most this much of them: a stick may hold a photo library beside the drawing.
PICTURES_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class ContentEntry:
    """One experience the kiosk has shown: its file, when it was activated and by whom."""

    path: str
    activated_at: float
    role: str
    source_hash: str = ""

    @property
    def name(self) -> str:
        """The file name staff recognise."""
        return Path(self.path).name


def is_drawing(path: Path) -> bool:
    """True for a file the importer reads, or a built bundle folder."""
    if path.is_dir():
        return (path / "manifest.json").is_file()
    name = path.name.lower()
    return path.is_file() and name.endswith(DRAWING_SUFFIXES) and not name.startswith(".")


def find_drawings(folders: list[Path], depth: int = SEARCH_DEPTH) -> list[Path]:
    """Drawings and bundles under ``folders`` (not deeper than ``depth``), sorted by name."""
    found: list[Path] = []

    def walk(folder: Path, level: int) -> None:
        try:
            children = sorted(folder.iterdir())
        except OSError:
            return
        for child in children:
            if child.name.startswith("."):
                continue
            if is_drawing(child):
                found.append(child)
            elif child.is_dir() and level < depth:
                walk(child, level + 1)

    for folder in folders:
        if folder.is_dir():
            walk(folder, 1)
    return sorted(set(found), key=lambda p: (p.name.lower(), str(p)))


def usb_folders() -> list[Path]:
    """Mounted removable media (each mount point under /media, /run/media, /mnt)."""
    folders: list[Path] = []
    for root in USB_ROOTS:
        try:
            for first in sorted(root.iterdir()):
                if first.is_dir() and os.path.ismount(first):
                    folders.append(first)
                elif first.is_dir():
                    folders.extend(
                        p for p in sorted(first.iterdir()) if p.is_dir() and os.path.ismount(p)
                    )
        except OSError:
            continue
    return folders


def _pictures_beside(drawing: Path) -> list[Path]:
    """Picture files in the drawing's folder and its direct subfolders, smallest first,
    up to :data:`PICTURES_MAX_BYTES` in all."""
    found: list[tuple[int, Path]] = []
    folders = [drawing.parent]
    try:
        folders += [
            p for p in sorted(drawing.parent.iterdir()) if p.is_dir() and not p.name.startswith(".")
        ]
        for folder in folders:
            for path in sorted(folder.iterdir()):
                if (
                    path.is_file()
                    and path.suffix.lower() in PICTURE_SUFFIXES
                    and not is_drawing(path)
                ):
                    found.append((path.stat().st_size, path))
    except OSError as exc:
        log.warning("cannot list pictures beside %s: %s", drawing, exc)
    chosen, total = [], 0
    for size, path in sorted(found):
        if total + size > PICTURES_MAX_BYTES:
            log.warning(
                "pictures beside %s exceed %d MB: the rest are left out",
                drawing,
                PICTURES_MAX_BYTES // 2**20,
            )
            break
        chosen.append(path)
        total += size
    return chosen


def file_hash(path: Path) -> str:
    """sha256 hex of a file (or of a bundle's manifest)."""
    target = path / "manifest.json" if path.is_dir() else path
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ContentLibrary:
    """Imported drawings and the activation history under ``root`` (``<data_dir>/content``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self._history_file = root / "history.json"

    @classmethod
    def for_config(cls, config: KioskConfig) -> ContentLibrary:
        """The library of a kiosk: ``<data_dir>/content`` (the kiosk starts with what its
        history says is active; the Content page adds to it)."""
        data_dir = config.paths.data_dir or Path.home() / ".retail-edge-kiosk"
        return cls(Path(data_dir) / "content")

    def history(self) -> list[ContentEntry]:
        """Activations, oldest first (a missing or damaged file is an empty history)."""
        try:
            raw = json.loads(self._history_file.read_text(encoding="utf-8"))
            return [ContentEntry(**item) for item in raw]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, TypeError) as exc:
            log.warning(
                "content history %s unreadable (%s): starting a new one", self._history_file, exc
            )
            return []

    def active(self) -> ContentEntry | None:
        """The experience activated last."""
        history = self.history()
        return history[-1] if history else None

    def previous(self) -> ContentEntry | None:
        """The one before it (what roll back goes to): the last entry with another file."""
        history = self.history()
        if not history:
            return None
        current = history[-1].path
        for entry in reversed(history[:-1]):
            if entry.path != current:
                return entry
        return None

    def record(self, path: Path, role: str, source_hash: str = "") -> ContentEntry:
        """Note that ``path`` is now on screen (atomic write of the history)."""
        entry = ContentEntry(str(path), time.time(), role, source_hash)
        history = [*self.history(), entry][-HISTORY_KEEP:]
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self._history_file.with_suffix(".json.partial")
        partial.write_text(json.dumps([asdict(e) for e in history], indent=1), encoding="utf-8")
        os.replace(partial, self._history_file)
        return entry

    def ensure_started(self, current: Path | None, source_hash: str = "") -> None:
        """On first use, record the experience the kiosk started with, so there is
        something to roll back to."""
        if current is not None and not self.history():
            self.record(current, "config", source_hash)

    def import_drawing(self, source: Path) -> Path:
        """Copy a drawing (or bundle folder) from a stick into the library; the copy's path.

        Pictures next to the drawing (and one folder down) come too, so a drawing that
        links ``logo.png`` or ``images/logo.png`` still finds it. The same content imported
        twice lands in the same place.
        """
        digest = file_hash(source)[:12]
        name = source.name
        for suffix in sorted(DRAWING_SUFFIXES, key=len, reverse=True):
            if name.lower().endswith(suffix):
                stem = name[: -len(suffix)]
                break
        else:
            stem = name
        folder = self.root / "imported" / f"{stem}-{digest}"
        target = folder / name
        if target.exists():
            return target
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, partial / name)
        else:
            shutil.copyfile(source, partial / name)
            for picture in _pictures_beside(source):
                relative = picture.relative_to(source.parent)
                (partial / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(picture, partial / relative)
        os.replace(partial, folder)
        log.info("imported %s as %s", source, target)
        return target
