"""The page's background picture at the size and place draw.io gives it; a background page
(another page as background) is a finding, not silently left out."""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtGui import QImage

from designer_import import load_experience, validate
from kiosk.screen.render import PageScene, render_page
from tests.kiosk.drawing import colour
from tests.kiosk.test_render_shapes import png_uri


def _page(path: Path, background: dict[str, object]) -> Path:
    setting = html.escape(json.dumps(background), quote=True)
    path.write_text(
        '<mxfile><diagram id="p" name="p"><mxGraphModel page="1" pageWidth="200" '
        f'pageHeight="100" backgroundImage="{setting}"><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/></root></mxGraphModel></diagram>'
        '<diagram id="q" name="q"><mxGraphModel><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/></root></mxGraphModel></diagram></mxfile>',
        encoding="utf-8",
    )
    return path


def _draw(path: Path) -> QImage:
    scene = PageScene(load_experience(path).pages[0])
    return render_page(scene, 200, 100)


def test_background_picture_size_and_position(qapp: object, tmp_path: Path) -> None:
    red = png_uri(10, 10, "#ff0000")
    placed = {"src": red, "x": 50, "y": 20, "width": 40, "height": 30}
    image = _draw(_page(tmp_path / "placed.drawio", placed))
    assert colour(image, 52, 22) == "#ff0000" and colour(image, 88, 48) == "#ff0000"
    assert colour(image, 30, 35) == "#ffffff" and colour(image, 70, 10) == "#ffffff"
    assert colour(image, 70, 60) == "#ffffff" and colour(image, 120, 35) == "#ffffff"
    # no size given: the picture's own size at the page's origin
    own = _draw(_page(tmp_path / "own.drawio", {"src": png_uri(20, 10, "#ff0000")}))
    assert colour(own, 5, 5) == "#ff0000" and colour(own, 18, 8) == "#ff0000"
    assert colour(own, 25, 5) == "#ffffff" and colour(own, 5, 15) == "#ffffff"


def test_a_background_page_is_a_finding(tmp_path: Path) -> None:
    path = _page(tmp_path / "bg.drawio", {"src": "data:page/id,q"})
    [finding] = [f for f in validate(load_experience(path)) if f.code == "background-page"]
    assert finding.page == "p" and "does not draw" in finding.message
