"""``kiosk preview FILE -o DIR [--size WxH] [--fit page|drawing]``: one PNG per page, drawn
by the kiosk's own renderer, so artists can check their pages without a kiosk.

``--fit page`` (the default) shows what the kiosk shows: the page frame fitted to the screen.
``--fit drawing`` frames the drawing's bounds instead, as draw.io's viewer does, so a preview
can be held against draw.io's own picture of the page."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from designer_import import load_experience
from designer_import.model import Experience

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Fit = Literal["page", "drawing"]
#: The choices of ``--fit``.
FITS: tuple[Fit, ...] = ("page", "drawing")


class PreviewError(ValueError):
    """Bad preview arguments (the message names what and where)."""


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> (1920, 1080); a clear error otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match:
        raise PreviewError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise PreviewError(f"--size {text!r}: each side must be between 16 and 8192 pixels")
    return width, height


def page_file_name(index: int, name: str) -> str:
    """``03-Dog beds`` -> ``03-Dog-beds.png``: ordered, safe on every file system."""
    safe = _UNSAFE.sub("-", name).strip("-") or "page"
    return f"{index + 1:02d}-{safe[:60]}.png"


def write_previews(
    experience: Experience, out_dir: Path, size: tuple[int, int], fit: Fit = "page"
) -> list[Path]:
    """Render every page of ``experience`` into ``out_dir``; the files written, in page
    order. ``fit`` frames the page (as the kiosk does) or the drawing (as draw.io's viewer
    does). Needs a QApplication."""
    from kiosk.screen.fonts import load_web_fonts
    from kiosk.screen.render import PageScene, drawing_rect, render_page

    if fit not in FITS:
        raise PreviewError(f"--fit {fit!r}: expected one of {', '.join(FITS)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    load_web_fonts(experience)
    written = []
    for page in experience.pages:
        scene = PageScene(page)
        image = render_page(scene, *size, drawing_rect(scene) if fit == "drawing" else None)
        path = out_dir / page_file_name(page.index, page.name)
        if not image.save(str(path)):  # PNG, from the file name
            raise PreviewError(f"cannot write {path}")
        written.append(path)
        log.info("page %r -> %s", page.name, path)
    return written


def preview(source: Path, out_dir: Path, size: tuple[int, int], fit: Fit = "page") -> list[Path]:
    """Load ``source`` (raises ``DrawioError``) and write its previews."""
    from PySide6.QtWidgets import QApplication

    experience = load_experience(source)
    _app = QApplication.instance() or QApplication(["kiosk-preview"])
    return write_previews(experience, out_dir, size, fit)
