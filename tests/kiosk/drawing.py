"""Small hand-made drawings rendered at 1 px per unit, for pixel tests of the renderer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from designer_import import load_experience
from kiosk.screen.fonts import load_web_fonts
from kiosk.screen.render import PageScene, render_page


def cell(cell_id: str, style: str, x: float, y: float, w: float, h: float, **extra: str) -> str:
    """One vertex (``parent`` and ``value`` may be given in ``extra``)."""
    parent = extra.pop("parent", "1")
    value = extra.pop("value", "")
    return (
        f'<mxCell id="{cell_id}" value="{value}" style="{style}" vertex="1" parent="{parent}">'
        f'<mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" as="geometry"/></mxCell>'
    )


def draw(
    tmp_path: Path,
    cells: str,
    width: int = 200,
    height: int = 100,
    name: str = "d.drawio",
    background: str = "#ffffff",
) -> QImage:
    """The page (its frame ``width`` x ``height`` at (0, 0)) drawn at 1 px per unit, checked
    to have drawn without an error."""
    path = tmp_path / name
    path.write_text(
        f'<mxfile><diagram id="p" name="p"><mxGraphModel page="1" pageWidth="{width}" '
        f'pageHeight="{height}" background="{background}"><root><mxCell id="0"/>'
        f'<mxCell id="1" parent="0"/>{cells}'
        "</root></mxGraphModel></diagram></mxfile>",
        encoding="utf-8",
    )
    experience = load_experience(path)
    load_web_fonts(experience)
    scene = PageScene(experience.pages[0])
    image = render_page(scene, width, height)
    assert scene.errors == []
    return image


def colour(image: QImage, x: int, y: int) -> str:
    """``#rrggbb`` of one pixel."""
    return image.pixelColor(x, y).name()


def dark(image: QImage, x: int, y: int, limit: int = 100) -> bool:
    """True when the pixel is dark (an outline or text)."""
    c = image.pixelColor(x, y)
    return max(c.red(), c.green(), c.blue()) < limit
