"""Pixel tests: basic shapes drawn as draw.io draws them (images, swimlanes, tables,
partial rectangles, colour references, the label and icon styles), each on a small drawing
made for it."""

from __future__ import annotations

import base64
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage, QPainter

from tests.kiosk.drawing import cell, colour, dark, draw


def png_uri(width: int, height: int, fill: str, hole: bool = False) -> str:
    """A draw.io embedded picture (``data:image/png,BASE64``): one colour, optionally with a
    transparent middle."""
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor(fill))
    if hole:
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
        painter.fillRect(width // 4, height // 4, width // 2, height // 2, QColor(0, 0, 0, 0))
        painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return "data:image/png," + base64.b64encode(bytes(data.data())).decode("ascii")


def test_an_image_has_no_default_border_or_background(qapp: object, tmp_path: Path) -> None:
    green = png_uri(100, 60, "#00ff00")
    holed = png_uri(100, 60, "#00ff00", hole=True)
    style = "shape=image;verticalLabelPosition=bottom;verticalAlign=top;imageAspect=0;image="
    cells = cell("a", style + green, 20, 20, 100, 60) + cell("b", style + holed, 140, 20, 100, 60)
    image = draw(tmp_path, cells, 260, 100, background="#336699")
    # the picture reaches its box's edge: no black outline drawn over it
    assert colour(image, 20, 50) == "#00ff00" and colour(image, 119, 50) == "#00ff00"
    assert colour(image, 70, 20) == "#00ff00" and colour(image, 70, 79) == "#00ff00"
    # outside the box: the page, no outline either
    assert colour(image, 18, 50) == "#336699" and colour(image, 70, 18) == "#336699"
    # a transparent picture shows the page through it, not a white fill
    assert colour(image, 190, 50) == "#336699"
    assert colour(image, 145, 25) == "#00ff00"


def test_image_border_and_background(qapp: object, tmp_path: Path) -> None:
    holed = png_uri(100, 60, "#0000ff", hole=True)
    style = (
        "shape=image;imageAspect=0;imageBorder=#ff0000;imageBackground=#00ff00;"
        "strokeWidth=3;image=" + holed
    )
    image = draw(tmp_path, cell("a", style, 20, 20, 100, 60))
    assert colour(image, 70, 50) == "#00ff00"  # the background shows through the hole
    assert colour(image, 30, 25) == "#0000ff"  # the picture
    assert colour(image, 20, 50) == "#ff0000" and colour(image, 70, 80) == "#ff0000"  # border


def test_a_swimlane_fills_its_title_only_unless_it_has_a_body_colour(
    qapp: object, tmp_path: Path
) -> None:
    plain = "swimlane;startSize=20;fillColor=#ff0000;strokeColor=#000000;strokeWidth=2;"
    body = plain + "swimlaneFillColor=#00ff00;"
    image = draw(tmp_path, cell("a", plain, 10, 10, 80, 80) + cell("b", body, 110, 10, 80, 80))
    assert colour(image, 50, 20) == "#ff0000"  # title bar
    assert colour(image, 50, 60) == "#ffffff"  # body: not filled
    assert colour(image, 150, 20) == "#ff0000"
    assert colour(image, 150, 60) == "#00ff00"  # body: swimlaneFillColor
    assert dark(image, 10, 60) and dark(image, 50, 90)  # the outline goes round the body
    assert dark(image, 50, 30)  # the line under the title
    no_line = draw(tmp_path, cell("a", plain + "swimlaneLine=0;", 10, 10, 80, 80), name="n.drawio")
    assert not dark(no_line, 50, 30)


def test_partial_rectangle_strokes_only_its_sides(qapp: object, tmp_path: Path) -> None:
    style = "shape=partialRectangle;fillColor=#ffff00;strokeColor=#000000;strokeWidth=2;"
    style += "top=0;right=0;"
    image = draw(tmp_path, cell("a", style, 20, 20, 100, 60))
    assert colour(image, 70, 50) == "#ffff00"
    assert dark(image, 20, 50) and dark(image, 70, 80)  # left and bottom drawn
    assert not dark(image, 70, 20) and not dark(image, 120, 50)  # top and right not


def test_a_table_draws_lines_between_rows_and_columns(qapp: object, tmp_path: Path) -> None:
    table = "shape=table;startSize=0;container=1;fillColor=#ffffff;strokeColor=#000000;"
    table += "strokeWidth=2;"
    row = "shape=tableRow;horizontal=0;startSize=0;strokeColor=inherit;top=0;left=0;"
    row += "bottom=0;right=0;fillColor=none;"
    part = "shape=partialRectangle;strokeColor=inherit;fillColor=none;top=0;left=0;bottom=0;"
    part += "right=0;"
    cells = cell("t", table, 20, 10, 160, 80)
    for r in range(2):
        cells += cell(f"r{r}", row, 0, 40 * r, 160, 40, parent="t")
        for c in range(2):
            cells += cell(f"c{r}{c}", part, 80 * c, 0, 80, 40, parent=f"r{r}")
    image = draw(tmp_path, cells)
    assert dark(image, 60, 50) and dark(image, 150, 50)  # the line between the rows
    assert dark(image, 100, 30) and dark(image, 100, 70)  # the line between the columns
    assert dark(image, 20, 30) and dark(image, 100, 10)  # the table's outline
    assert not dark(image, 60, 30) and not dark(image, 140, 70)  # inside the cells


def test_colour_values_that_name_another_colour(qapp: object, tmp_path: Path) -> None:
    lane = "swimlane;startSize=20;fillColor=#ff0000;strokeColor=#0000ff;container=1;"
    cells = cell("lane", lane, 10, 10, 180, 80)
    # fillColor=swimlane: the lane's fill; strokeColor=inherit: the parent's stroke
    cells += cell("a", "fillColor=swimlane;strokeColor=inherit;strokeWidth=4;", 10, 30, 60, 40,
                  parent="lane")  # fmt: skip
    # fontColor=strokeColor: the cell's own stroke colour
    cells += cell("b", "fillColor=#ffffff;strokeColor=#00ff00;fontColor=strokeColor;fontSize=30;",
                  100, 30, 60, 40, parent="lane", value="II")  # fmt: skip
    image = draw(tmp_path, cells)
    assert colour(image, 50, 60) == "#ff0000"
    assert colour(image, 21, 60) == "#0000ff"
    greens = [
        image.pixelColor(x, y).name()
        for x in range(115, 155)
        for y in range(45, 75)
        if image.pixelColor(x, y).green() > 200 and image.pixelColor(x, y).red() < 60
    ]
    assert len(greens) > 20  # the text is green


def test_label_style_image_and_text_positions(qapp: object, tmp_path: Path) -> None:
    green = png_uri(20, 20, "#00ff00")
    image = draw(tmp_path, cell("a", "label;image=" + green, 10, 20, 180, 60, value="Hi"))
    # the image: 42 x 42 at spacing (2) + 5 from the left, centred vertically
    assert colour(image, 10 + 8, 50) == "#00ff00" and colour(image, 10 + 47, 50) == "#00ff00"
    assert colour(image, 10 + 5, 50) != "#00ff00"
    # the text: after spacing + spacingLeft (54), not twice that
    text = [x for x in range(60, 190) for y in range(30, 70) if dark(image, x, y)]
    assert text and 10 + 54 <= min(text) <= 10 + 60


def test_icon_style_image_centred_and_caption_below(qapp: object, tmp_path: Path) -> None:
    green = png_uri(20, 20, "#00ff00")
    image = draw(tmp_path, cell("a", "icon;image=" + green, 70, 10, 60, 60, value="Cap"),
                 height=100)  # fmt: skip
    # the 48 x 48 image in the middle of the 60 x 60 shape
    assert colour(image, 100, 40) == "#00ff00" and colour(image, 77, 40) == "#00ff00"
    assert colour(image, 74, 40) != "#00ff00"
    # the caption under the shape
    caption = [y for x in range(70, 130) for y in range(71, 100) if dark(image, x, y)]
    assert caption


def test_line_shapes_are_one_stroke_through_the_middle(qapp: object, tmp_path: Path) -> None:
    across = "line;strokeWidth=4;strokeColor=#000000;"
    down = across + "direction=south;"
    image = draw(tmp_path, cell("h", across, 20, 20, 160, 10) + cell("v", down, 150, 35, 20, 60))
    assert dark(image, 100, 25) and dark(image, 21, 25)
    # not a box: nothing along the box's (or a touch band's) edges, no fill
    assert not dark(image, 100, 20) and not dark(image, 100, 30) and not dark(image, 100, 13)
    # turned south: a vertical stroke through the middle of its box
    assert dark(image, 160, 65) and dark(image, 160, 40) and not dark(image, 154, 65)


def test_direction_turns_every_basic_shape(qapp: object, tmp_path: Path) -> None:
    # a process shape's bars run down its sides; turned south they run across top and bottom
    style = "shape=process;size=0.2;strokeWidth=2;fillColor=#ffffff;strokeColor=#000000;"
    image = draw(tmp_path, cell("p", style + "direction=south;", 20, 20, 100, 60))
    assert dark(image, 70, 32) and dark(image, 70, 68)
    assert not dark(image, 40, 50) and not dark(image, 100, 50)
    east = draw(tmp_path, cell("p", style, 20, 20, 100, 60), name="east.drawio")
    assert dark(east, 40, 50) and not dark(east, 70, 32)
    # west turns a callout half round: its pointer is on top
    callout = "shape=callout;size=20;position=0.5;base=20;fillColor=#000000;strokeColor=none;"
    west = draw(tmp_path, cell("c", callout + "direction=west;", 20, 10, 100, 80), name="w.drawio")
    assert dark(west, 66, 18) and not dark(west, 25, 18)  # pointer up top, the box below it
    assert dark(west, 25, 85)


def test_a_turned_shape_keeps_its_label_level_and_turns_its_sides(
    qapp: object, tmp_path: Path
) -> None:
    # a partial rectangle drawing only its top and left sides, turned north: in draw.io the
    # sides turn with the shape (left and bottom drawn) while the label stays level
    style = "shape=partialRectangle;fillColor=none;strokeColor=#000000;strokeWidth=2;"
    style += "bottom=0;right=0;direction=north;fontSize=20;align=left;verticalAlign=top;"
    image = draw(tmp_path, cell("p", style, 20, 20, 160, 60, value="MMMM"))
    assert dark(image, 20, 50) and dark(image, 100, 80)  # left and bottom
    assert not dark(image, 100, 20) and not dark(image, 180, 50)  # not top nor right
    # the text runs left to right along the top: wide, not tall
    ink = [(x, y) for x in range(22, 178) for y in range(22, 78) if dark(image, x, y)]
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    assert max(xs) - min(xs) > 2 * (max(ys) - min(ys))
    # the process shape's bars turn with it, its label too stays level
    process = "shape=process;size=0.2;strokeWidth=2;fillColor=none;strokeColor=#000000;"
    process += "direction=south;fontSize=20;"
    turned = draw(tmp_path, cell("q", process, 20, 10, 160, 80, value="MMMM"), name="q.drawio")
    ink = [(x, y) for x in range(30, 170) for y in range(30, 70) if dark(turned, x, y)]
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    assert max(xs) - min(xs) > 2 * (max(ys) - min(ys))


def test_draw_io_core_shapes_drawn_in_code(qapp: object, tmp_path: Path) -> None:
    line = "strokeColor=#000000;fillColor=#ffffff;strokeWidth=2;"
    cells = cell("w", "shape=waypoint;strokeColor=#ff0000;fillColor=none;", 0, 0, 40, 40)
    cells += cell("c", "shape=crossbar;" + line, 50, 10, 60, 20)
    cells += cell("d", "shape=dimension;" + line, 120, 10, 70, 30)
    cells += cell("e", "shape=endState;fillColor=#000000;strokeColor=#000000;strokeWidth=2;",
                  10, 55, 40, 40)  # fmt: skip
    image = draw(tmp_path, cells)
    # waypoint: a small dot in the line colour at the middle, no box
    assert colour(image, 20, 20) == "#ff0000"
    assert colour(image, 26, 20) == "#ffffff" and not dark(image, 1, 20)
    # crossbar: end ticks and the bar across the middle, no top or bottom line
    assert dark(image, 50, 12) and dark(image, 110, 28) and dark(image, 80, 20)
    assert not dark(image, 80, 10) and not dark(image, 80, 30)
    # dimension: ticks, the line 5 units above the bottom and its open arrow heads
    assert dark(image, 120, 15) and dark(image, 190, 15) and dark(image, 155, 35)
    assert dark(image, 125, 32) and not dark(image, 155, 12)
    # end state: a filled circle inside a ring, a gap between them
    assert dark(image, 30, 75) and dark(image, 10, 75) and not dark(image, 12, 75)


def test_a_label_background_covers_the_text_only(qapp: object, tmp_path: Path) -> None:
    # a wrapped label on a line: the line shows on both sides of the text's background
    lines = "shape=crossbar;strokeColor=#000000;strokeWidth=2;whiteSpace=wrap;html=1;"
    lines += "labelBackgroundColor=#ffffff;fontSize=12;"
    image = draw(tmp_path, cell("d", lines, 10, 30, 180, 40, value="20cm"))
    assert dark(image, 40, 50) and dark(image, 160, 50)  # the bar either side
    assert not dark(image, 100, 40)  # and the text is on its own background


def test_curly_bracket(qapp: object, tmp_path: Path) -> None:
    style = "shape=curlyBracket;rounded=1;strokeColor=#000000;fillColor=#ff0000;strokeWidth=2;"
    image = draw(tmp_path, cell("b", style, 40, 10, 40, 80))
    # the arms at top and bottom run right, the spine down the middle, the point at the left
    assert dark(image, 75, 10) and dark(image, 75, 89)
    assert dark(image, 60, 30) and dark(image, 60, 70)
    assert dark(image, 47, 50) and not dark(image, 52, 45)
    # not a box: nothing along the left edge away from the point, never filled
    assert not dark(image, 40, 20) and colour(image, 70, 30) == "#ffffff"


def test_a_table_with_a_title_row_fills_only_its_title(qapp: object, tmp_path: Path) -> None:
    # draw.io draws a table whose startSize is not 0 as a swimlane: the fill colour in the
    # title row only, the body left unfilled (no swimlaneFillColor)
    table = "shape=table;startSize=20;container=1;fillColor=#ff0000;strokeColor=#000000;"
    table += "shadow=1;"  # and its open body casts no shadow
    titled = draw(tmp_path, cell("t", table, 20, 10, 160, 80))
    assert colour(titled, 100, 20) == "#ff0000" and colour(titled, 100, 60) == "#ffffff"
    plain = draw(tmp_path, cell("t", table.replace("startSize=20", "startSize=0"), 20, 10,
                                160, 80), name="p.drawio")  # fmt: skip
    assert colour(plain, 100, 60) == "#ff0000"  # without a title row: filled all over


def test_off_page_connector(qapp: object, tmp_path: Path) -> None:
    style = "shape=offPageConnector;fillColor=#0000ff;strokeColor=none;size=0.5;"
    image = draw(tmp_path, cell("o", style, 40, 10, 120, 80))
    assert colour(image, 100, 30) == "#0000ff" and colour(image, 100, 85) == "#0000ff"
    # the bottom comes to a point: its lower corners are empty
    assert colour(image, 45, 85) == "#ffffff" and colour(image, 155, 85) == "#ffffff"
    assert colour(image, 45, 45) == "#0000ff"
