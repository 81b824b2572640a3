"""Which font the kiosk draws each draw.io font family with, and the web fonts a drawing names.

draw.io's default font is Helvetica; its files also name Arial, Verdana, Times New Roman,
Courier New and web fonts (``fontSource=`` a Google Fonts URL). The kiosk draws each family
with one installed font, chosen explicitly: a metric-compatible one where it exists (Liberation
Sans/Serif/Mono have the widths of Arial/Helvetica, Times New Roman and Courier New, so labels
wrap at the same words as in draw.io), else the nearest in look and width. ``scripts/
setup-system`` installs them (Debian's ``fonts-liberation2`` and ``fonts-dejavu-core``).

A web font is used when the drawing's folder holds its file (``Family.ttf``,
``Family-Regular.otf``, ... next to the drawing or in ``fonts/`` beside it) or when
``fontSource`` is a ``data:`` URI; otherwise the validator names it and the fallback.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote_to_bytes

from designer_import.model import FontFile, Page

#: The font every unknown or missing family falls back to (draw.io's Helvetica).
DEFAULT_FONT = "Liberation Sans"
SANS, SERIF, MONO = "Liberation Sans", "Liberation Serif", "Liberation Mono"
#: Verdana and Tahoma are wide humanist sans fonts; DejaVu Sans (Bitstream Vera) is as
#: wide, the Liberation fonts are much narrower.
WIDE_SANS = "DejaVu Sans"

#: draw.io family (lower case) -> the installed family the kiosk draws it with.
FONT_SUBSTITUTES: dict[str, str] = {
    "helvetica": SANS,
    "helvetica neue": SANS,
    "arial": SANS,
    "arial black": SANS,
    "sans-serif": SANS,
    "system-ui": SANS,
    "-apple-system": SANS,
    "segoe ui": SANS,
    "trebuchet ms": SANS,
    "comic sans ms": SANS,
    "lucida grande": SANS,
    "roboto": SANS,
    "open sans": SANS,
    "verdana": WIDE_SANS,
    "tahoma": WIDE_SANS,
    "dejavu sans": WIDE_SANS,
    "times new roman": SERIF,
    "times": SERIF,
    "serif": SERIF,
    "georgia": SERIF,
    "garamond": SERIF,
    "palatino": SERIF,
    "palatino linotype": SERIF,
    "book antiqua": SERIF,
    "courier new": MONO,
    "courier": MONO,
    "monospace": MONO,
    "lucida console": MONO,
    "consolas": MONO,
}

#: Font files the kiosk can load for a web font.
FONT_EXTENSIONS = (".ttf", ".otf", ".woff", ".woff2")
_MIME_EXTENSION = {
    "font/ttf": ".ttf",
    "font/otf": ".otf",
    "font/woff": ".woff",
    "font/woff2": ".woff2",
    "application/x-font-ttf": ".ttf",
    "application/font-woff": ".woff",
}


def first_family(font_family: str) -> str:
    """The first name of a CSS family list, unquoted: ``"'Open Sans', Arial"`` -> ``Open Sans``."""
    return font_family.split(",")[0].strip().strip("'\"").strip()


def substitute(font_family: str, web_fonts: Iterable[str] = ()) -> str | None:
    """The installed family the kiosk draws ``font_family`` with: a loaded web font keeps its
    own name, a known family its mapped stand-in; None when the kiosk does not know it (the
    renderer then uses it if the system has it, else ``DEFAULT_FONT``)."""
    name = first_family(font_family)
    if name.lower() in {w.lower() for w in web_fonts}:
        return name
    return FONT_SUBSTITUTES.get(name.lower())


def fallback(font_family: str) -> str:
    """What the kiosk draws a family with when that family is not available."""
    return FONT_SUBSTITUTES.get(first_family(font_family).lower(), DEFAULT_FONT)


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _font_in_folder(family: str, folder: Path) -> Path | None:
    """``Family.ttf``, ``Family-Regular.ttf``, ``family_bold.otf`` ... in ``folder`` or its
    ``fonts/``; the regular face first."""
    key = _key(family)
    found: list[Path] = []
    for where in (folder, folder / "fonts"):
        if not where.is_dir():
            continue
        for path in sorted(where.iterdir()):
            if path.suffix.lower() in FONT_EXTENSIONS and path.is_file():
                stem = _key(path.stem)
                if stem == key or (stem.startswith(key) and stem != key):
                    found.append(path)
    found.sort(key=lambda p: (_key(p.stem) not in (key, key + "regular"), p.name))
    return found[0] if found else None


def _data_uri(source: str) -> tuple[bytes, str] | None:
    """(bytes, extension) of a ``data:font/...`` URI, None when it is not one or is broken."""
    if not source.startswith("data:") or "," not in source:
        return None
    header, payload = source[5:].split(",", 1)
    mime = header.split(";")[0].strip().lower()
    try:
        data = (
            base64.b64decode(payload, validate=False)
            if header.endswith(";base64")
            else unquote_to_bytes(payload)
        )
    except (binascii.Error, ValueError):
        return None
    return (data, _MIME_EXTENSION.get(mime, ".ttf")) if data else None


def find_web_fonts(pages: Iterable[Page], base_dir: Path | None) -> list[FontFile]:
    """One ``FontFile`` per web font family the pages name (``fontSource``), with its bytes
    when the file (data URI) or the drawing's folder holds it; ``data`` None otherwise."""
    fonts: dict[str, FontFile] = {}
    for page in pages:
        for element in page.elements:
            source = element.style.font_source
            if not source:
                continue
            family = first_family(element.style.font_family)
            if not family or family.lower() in fonts:
                continue
            font = FontFile(family=family, source=source if not source.startswith("data:") else "")
            embedded = _data_uri(source)
            if embedded is not None:
                font.data, extension = embedded
                font.file = f"{_key(family) or 'font'}{extension}"
            elif base_dir is not None:
                path = _font_in_folder(family, base_dir)
                if path is not None:
                    font.path = path
                    font.file = path.name
                    try:
                        font.data = path.read_bytes()
                    except OSError:
                        font.data = None  # the validator names it as missing
            fonts[family.lower()] = font
    return list(fonts.values())
