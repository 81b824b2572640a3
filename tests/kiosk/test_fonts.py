"""Labels are drawn with one explicit font per draw.io family (metric-compatible where one
exists), and a web font next to the drawing is loaded and used."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtGui import QImage

from designer_import import load_experience
from kiosk.screen.fonts import load_web_fonts
from kiosk.screen.render import PageScene, render_page

#: Installed by scripts/setup-system (Debian's fonts-liberation2).
LIBERATION = Path("/usr/share/fonts/truetype/liberation2")


def _label_page(path: Path, text: str, style: str) -> Path:
    path.write_text(
        '<mxfile><diagram id="p" name="p"><mxGraphModel page="1" pageWidth="600" '
        'pageHeight="60"><root><mxCell id="0"/><mxCell id="1" parent="0"/>'
        f'<mxCell id="t" value="{text}" style="text;align=left;verticalAlign=top;{style}" '
        'vertex="1" parent="1"><mxGeometry x="0" y="0" width="600" height="60" '
        'as="geometry"/></mxCell></root></mxGraphModel></diagram></mxfile>',
        encoding="utf-8",
    )
    return path


def _ink_width(qapp: object, path: Path) -> int:
    """Pixel columns from the first to the last one holding text."""
    experience = load_experience(path)
    load_web_fonts(experience)
    image = render_page(PageScene(experience.pages[0]), 600, 60)
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    columns = [
        x
        for x in range(gray.width())
        if any(gray.pixelColor(x, y).value() < 128 for y in range(60))
    ]
    assert columns, f"nothing drawn for {path.name}"
    return columns[-1] - columns[0] + 1


def test_each_family_is_drawn_with_its_own_font(qapp: object, tmp_path: Path) -> None:
    text = "Fresh salmon fillets, 2 for 10"

    def width(name: str, family: str) -> int:
        return _ink_width(
            qapp, _label_page(tmp_path / f"{name}.drawio", text, f"fontFamily={family};")
        )

    helvetica = width("helvetica", "Helvetica")
    # Arial and Helvetica have the same widths (Liberation Sans), as in draw.io
    assert width("arial", "Arial") == helvetica
    # a family the kiosk does not have falls back to draw.io's default, not the system's
    assert width("unknown", "Shop Handwriting Unknown") == helvetica
    assert width("comic", "Comic Sans MS") == helvetica
    # Verdana is the wide one (DejaVu Sans has its widths)
    assert width("verdana", "Verdana") > helvetica * 1.1
    # Courier New is monospaced
    mono_i = _ink_width(
        qapp, _label_page(tmp_path / "ci.drawio", "iiiiiiii", "fontFamily=Courier New;")
    )
    mono_m = _ink_width(
        qapp, _label_page(tmp_path / "cm.drawio", "mmmmmmmm", "fontFamily=Courier New;")
    )
    assert abs(mono_i - mono_m) <= 8


def test_a_web_font_next_to_the_drawing_is_used(qapp: object, tmp_path: Path) -> None:
    regular = LIBERATION / "LiberationMono-Regular.ttf"
    assert regular.is_file(), f"{regular} missing: run scripts/setup-system"
    # a monospaced face under a web font's name: its letters all take the same width
    shutil.copy(regular, tmp_path / "Shop Mono Web.ttf")
    style = "fontFamily=Shop Mono Web;fontSource=https%3A%2F%2Ffonts.example%2Fshop-mono;"
    narrow = _ink_width(qapp, _label_page(tmp_path / "i.drawio", "iiiiiiii", style))
    wide = _ink_width(qapp, _label_page(tmp_path / "m.drawio", "mmmmmmmm", style))
    assert abs(narrow - wide) <= 8
