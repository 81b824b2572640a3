"""Pixel tests: labels cut at their box (overflow), hidden (noLabel), and labels that show
pictures (``<img>``), embedded or next to the drawing, also from a bundle."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtGui import QImage

from designer_import import load_experience, validate
from designer_import.bundle import build_bundle
from kiosk.screen.render import PageScene, render_page
from tests.kiosk.drawing import cell, colour, dark, draw
from tests.kiosk.test_render_shapes import png_uri


def _dark_columns(image: QImage, x0: int, x1: int, y0: int, y1: int) -> list[int]:
    return [x for x in range(x0, x1) if any(dark(image, x, y) for y in range(y0, y1))]


def test_overflow_hidden_fill_and_width_cut_the_text_at_its_box(
    qapp: object, tmp_path: Path
) -> None:
    long = "WWWWWWWWWWWWWWWW"
    for overflow in ("hidden", "fill", "width"):
        style = f"text;html=1;align=left;verticalAlign=top;fontSize=20;overflow={overflow};"
        image = draw(tmp_path, cell("t", style, 10, 10, 100, 30, value=long), 300, 100)
        assert _dark_columns(image, 10, 110, 10, 40), overflow  # drawn inside its box
        assert not _dark_columns(image, 112, 300, 0, 100), overflow  # and nothing beyond
    visible = draw(tmp_path, cell("t", "text;html=1;align=left;fontSize=20;", 10, 10, 100, 30,
                                  value=long), 300, 100)  # fmt: skip
    assert _dark_columns(visible, 112, 300, 0, 100)  # without overflow it runs on
    lines = "<br>".join(["Line"] * 6)
    style = "text;html=1;align=left;verticalAlign=top;fontSize=20;overflow=hidden;"
    tall = draw(tmp_path, cell("t", style, 10, 10, 100, 30, value=html.escape(lines)), 300, 200)
    rows = [y for y in range(0, 200) if any(dark(tall, x, y) for x in range(10, 110))]
    assert rows and max(rows) <= 42


def test_no_label_hides_the_text(qapp: object, tmp_path: Path) -> None:
    style = "fillColor=#ffffff;strokeColor=none;fontSize=30;"
    shown = draw(tmp_path, cell("a", style, 10, 10, 180, 80, value="XXXX"))
    hidden = draw(tmp_path, cell("a", style + "noLabel=1;", 10, 10, 180, 80, value="XXXX"),
                  name="h.drawio")  # fmt: skip
    assert _dark_columns(shown, 0, 200, 0, 100)
    assert not _dark_columns(hidden, 0, 200, 0, 100)


def _img_label(src: str) -> str:
    return html.escape(f'<img src="{src}" width="60" height="40">')


def test_a_label_holding_only_a_picture_is_drawn(qapp: object, tmp_path: Path) -> None:
    uri = png_uri(30, 20, "#00ff00").replace("data:image/png,", "data:image/png;base64,")
    style = "text;html=1;align=center;verticalAlign=middle;"
    image = draw(tmp_path, cell("a", style, 40, 20, 120, 60, value=_img_label(uri)))
    assert colour(image, 100, 50) == "#00ff00"


def test_a_picture_file_in_a_label_is_drawn_bundled_and_checked(
    qapp: object, tmp_path: Path
) -> None:
    picture = QImage(30, 20, QImage.Format.Format_RGB32)
    picture.fill("#ff00ff")
    art = tmp_path / "art"
    art.mkdir()
    assert picture.save(str(art / "badge.png"))
    style = "text;html=1;align=center;verticalAlign=middle;"
    image = draw(art, cell("a", style, 40, 20, 120, 60, value=_img_label("badge.png")))
    assert colour(image, 100, 50) == "#ff00ff"
    # the bundle carries the picture: drawn without the artist's folder
    bundle = build_bundle(art / "d.drawio", tmp_path / "bundle")
    (art / "badge.png").unlink()
    scene = PageScene(load_experience(bundle).pages[0])
    assert colour(render_page(scene, 200, 100), 100, 50) == "#ff00ff"
    # a picture file that is not there: an error naming the shape
    missing = [f for f in validate(load_experience(art / "d.drawio")) if f.code == "missing-image"]
    assert [f.cell_id for f in missing] == ["a"] and "badge.png" in missing[0].message


def _ink_rows(image: QImage, x0: int, x1: int) -> list[int]:
    return [y for y in range(image.height()) if any(dark(image, x, y) for x in range(x0, x1))]


def _line_tops(rows: list[int]) -> list[int]:
    return [y for i, y in enumerate(rows) if i == 0 or rows[i - 1] != y - 1]


def test_lines_are_1_2_font_sizes_apart_and_top_text_sits_5_lower(
    qapp: object, tmp_path: Path
) -> None:
    style = "text;html=1;align=left;verticalAlign=top;fontSize=40;spacing=0;"
    value = html.escape("H<br>H<br>H<br>H")
    image = draw(tmp_path, cell("t", style, 10, 10, 100, 230, value=value), 200, 250)
    tops = _line_tops(_ink_rows(image, 10, 110))
    assert len(tops) == 4
    # draw.io's CSS line-height 1.2: 48 px from line to line at 40 px
    assert abs((tops[3] - tops[0]) - 3 * 48) <= 2
    # a top-aligned label starts 5 units below its spacing (draw.io's baseSpacingTop):
    # the capital's top is 5 + half the leading + the font's space above capitals (~8)
    plain = draw(tmp_path, cell("t", style, 10, 10, 100, 230, value="H"), 200, 250, name="1.drawio")
    first = _line_tops(_ink_rows(plain, 10, 110))[0]
    assert 10 + 5 + 6 <= first <= 10 + 5 + 12  # 10 + 8 without the 5


def test_css_wide_keywords_in_a_label_are_what_a_browser_makes_of_them(
    qapp: object, tmp_path: Path
) -> None:
    # background-color: initial is no background in a browser (Qt alone paints it black)
    value = html.escape('<span style="background-color: initial; font-size: 30px;">Ill</span>')
    style = "text;html=1;align=left;verticalAlign=top;"
    image = draw(tmp_path, cell("t", style, 10, 10, 180, 80, value=value))
    ink = [(x, y) for x in range(10, 190) for y in range(10, 90) if dark(image, x, y)]
    assert ink  # the text is there
    # but no dark block: few of the text's box pixels are dark
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    box = (max(xs) - min(xs) + 1) * (max(ys) - min(ys) + 1)
    assert len(ink) < box * 0.5


def test_a_heading_keeps_its_top_margin_as_in_a_browser(qapp: object, tmp_path: Path) -> None:
    # draw.io's text template: <h1> starts 0.67em (about 18 px at 26 px) below the label's top
    style = "text;html=1;align=left;verticalAlign=top;spacing=0;fontSize=13;"
    value = html.escape("<h1>Heading</h1><p>Lorem ipsum</p>")
    image = draw(tmp_path, cell("t", style, 10, 10, 180, 120, value=value), 200, 150)
    first = _line_tops(_ink_rows(image, 10, 190))[0]
    # 10 (box) + 5 (draw.io's base spacing) + ~18 (the margin) + the font's space above capitals
    assert 10 + 5 + 16 <= first <= 10 + 5 + 30
