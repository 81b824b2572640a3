"""The fonts labels are drawn with: draw.io's families mapped to installed fonts, and the web
fonts a drawing brought along loaded into Qt's font database."""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtGui import QFontDatabase

from designer_import.fonts import DEFAULT_FONT, first_family, substitute
from designer_import.model import Experience

log = logging.getLogger(__name__)

#: Web font families loaded into this process (lower case -> Qt's family name).
_loaded: dict[str, str] = {}


def load_web_fonts(experience: Experience) -> list[str]:
    """Register every web font the experience carries (``Experience.fonts`` with bytes);
    the families now available. A font file Qt cannot read is logged and drawn with the
    fallback."""
    families = []
    for font in experience.fonts:
        if font.data is None:
            continue
        key = font.family.lower()
        if key not in _loaded:
            font_id = QFontDatabase.addApplicationFontFromData(font.data)
            names = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
            if not names:
                log.warning(
                    "web font %r: %s is not a font file Qt can read; drawn with %s",
                    font.family,
                    font.file,
                    DEFAULT_FONT,
                )
                continue
            _loaded[key] = names[0]
            _installed.cache_clear()
        families.append(_loaded[key])
    return families


@cache
def _installed() -> frozenset[str]:
    return frozenset(name.lower() for name in QFontDatabase.families())


def qt_family(font_family: str) -> str:
    """The installed family a label in ``font_family`` is drawn with: a loaded web font, the
    explicit stand-in of a known draw.io family, the family itself when the system has it,
    else draw.io's default (Helvetica's stand-in)."""
    name = first_family(font_family)
    loaded = _loaded.get(name.lower())
    if loaded is not None:
        return loaded
    mapped = substitute(name)
    if mapped is not None:
        return mapped
    if name.lower() in _installed():
        return name
    return DEFAULT_FONT
