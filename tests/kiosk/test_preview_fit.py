"""``kiosk preview --fit drawing`` frames the drawing's bounds, as draw.io's viewer does;
``--fit page`` (the default) keeps the page frame the kiosk shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from kiosk.cli import main
from tests.support.drawings import write_drawio

RED = "#ff0000"


def _one_box_page(path: Path) -> Path:
    """An 800x600 page frame holding one red 100x50 box far from its top-left corner."""
    cells = (
        '<mxCell id="box" style="fillColor=#ff0000;strokeColor=none;" vertex="1" parent="1">'
        '<mxGeometry x="500" y="400" width="100" height="50" as="geometry"/></mxCell>'
    )
    page = (
        '<diagram id="p" name="box"><mxGraphModel page="1" pageWidth="800" pageHeight="600">'
        f'<root><mxCell id="0"/><mxCell id="1" parent="0"/>{cells}</root></mxGraphModel>'
        "</diagram>"
    )
    return write_drawio(path, [page])


def _red_fraction(image: QImage) -> float:
    red = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            red += image.pixelColor(x, y).name() == RED
    return red / ((image.width() + 1) // 2 * ((image.height() + 1) // 2))


def test_fit_drawing_frames_the_drawing_and_page_stays_the_default(
    qapp: object, tmp_path: Path
) -> None:
    source = _one_box_page(tmp_path / "box.drawio")
    assert main(["preview", str(source), "-o", str(tmp_path / "page"), "--size", "400x200"]) == 0
    assert (
        main(
            [
                "preview",
                str(source),
                "-o",
                str(tmp_path / "drawing"),
                "--size",
                "400x200",
                "--fit",
                "drawing",
            ]
        )
        == 0
    )
    page = QImage(str(tmp_path / "page" / "01-box.png"))
    drawing = QImage(str(tmp_path / "drawing" / "01-box.png"))
    # the page frame: 800x600 fitted into 400x200 (scale 1/3), the box small, lower right
    assert _red_fraction(page) < 0.1
    assert page.pixelColor(200, 30).name() == "#ffffff"
    # the drawing: the box fills the height, centred, with a thin margin
    assert _red_fraction(drawing) > 0.5
    assert drawing.pixelColor(200, 100).name() == RED
    assert drawing.pixelColor(200, 3).name() == "#ffffff"
    assert drawing.pixelColor(200, 14).name() == RED


def test_fit_rejects_other_values(qapp: object, tmp_path: Path) -> None:
    source = _one_box_page(tmp_path / "box.drawio")
    try:
        main(["preview", str(source), "-o", str(tmp_path / "x"), "--fit", "screen"])
    except SystemExit as exc:
        assert exc.code == 2
    else:
        raise AssertionError("--fit screen was accepted")
