"""Connectors drawn as draw.io draws them, checked at pixels of a drawing made for it
(tests/fixtures/drawio/edges-markers.drawio). Each expected pixel is worked out from
draw.io's own marker code (mxMarker, Shapes.js, mxER.js, mxArrowConnector) for a
horizontal line ending at x=350 with endSize=20 and strokeWidth=1."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage

from designer_import import load_experience
from kiosk.screen.render import PageScene, render_page
from tests.support.drawings import FIXTURES

SCALE = 2
KINDS = [
    "classic", "classicThin", "block", "blockThin", "open", "openThin", "oval", "diamond",
    "diamondThin", "circle", "ERmany", "ERmandOne", "ERzeroToMany", "dash", "box", "hollowBlock",
]  # fmt: skip


@pytest.fixture(scope="module")
def drawn(qapp: Any) -> QImage:
    page = load_experience(FIXTURES / "edges-markers.drawio").pages[0]
    scene = PageScene(page)
    assert scene.items_by_id.keys() >= set(KINDS)
    return render_page(scene, int(page.width * SCALE), int(page.height * SCALE))


def row(kind: str) -> float:
    return 40 + KINDS.index(kind) * 50


def grey(image: QImage, x: float, y: float) -> int:
    return QColor(image.pixel(round(x * SCALE), round(y * SCALE))).lightness()


def ink(image: QImage, x: float, y: float) -> bool:
    """Something dark within a pixel of (x, y) (page units)."""
    return any(
        QColor(image.pixel(round(x * SCALE) + dx, round(y * SCALE) + dy)).lightness() < 110
        for dx in (-1, 0, 1)
        for dy in (-1, 0, 1)
    )


def paper(image: QImage, x: float, y: float) -> bool:
    return grey(image, x, y) > 225


# (kind, dy from the line, x, inked?) worked out from draw.io's geometry
PIXELS = [
    # classic: notch at x=333.1; block: full triangle back to x=327.9
    ("classic", 3, 330, False),
    ("classic", 3, 340, True),
    ("block", 3, 330, True),
    # thin kinds are a third as wide as long instead of half
    ("classic", 8, 331, True),
    ("classicThin", 8, 331, False),
    ("block", 8, 332, True),
    ("blockThin", 8, 332, False),
    ("blockThin", 2, 340, True),
    # open: two strokes, hollow between them and the line
    ("open", 4, 335, False),
    ("open", 6.94, 335, True),
    ("openThin", 4.63, 335, True),
    # oval: a circle of endSize centred on the end point, at both ends here
    ("oval", 6, 350, True),
    ("oval", 6, 50, True),
    ("oval", 0, 362, False),
    # diamond: half as wide as long; diamondThin 1/3.4
    ("diamond", 8, 338.8, True),
    ("diamondThin", 8, 338.8, False),
    ("diamondThin", 4, 338.8, True),
    # circle: radius endSize + width, centred endSize + 2 widths back
    ("circle", 15, 328, True),
    ("circle", 0, 305, True),
    # ER crow's foot from the end (x=350, +-11) to the line 22 back; bars 11 and 22 back
    ("ERmany", 5.5, 339, True),
    ("ERmany", 8, 333, False),
    ("ERmandOne", 8, 339, True),
    ("ERmandOne", 8, 328, True),
    ("ERmandOne", 8, 333.5, False),
    # ERzeroToMany: a white circle (radius 10) 33 back, the crow's foot over it
    ("ERzeroToMany", 0, 317, False),
    ("ERzeroToMany", 10, 317, True),
    # dash: a slash from (339, +11) to (317, -11)
    ("dash", 5.5, 333.5, True),
    ("dash", -5.5, 333.5, False),
    # box: a filled square 22 wide ending at the end point
    ("box", 8, 335, True),
    # an unfilled block: the line stops where the head starts (x=327.9)
    ("hollowBlock", 0, 338, False),
    ("hollowBlock", 4.44, 340, True),
    ("hollowBlock", 0, 320, True),
]


@pytest.mark.parametrize(("kind", "dy", "x", "inked"), PIXELS)
def test_markers_at_draw_io_pixels(
    drawn: QImage, kind: str, dy: float, x: float, inked: bool
) -> None:
    y = row(kind) + dy
    if inked:
        assert ink(drawn, x, y), (kind, x, dy, grey(drawn, x, y))
    else:
        assert paper(drawn, x, y), (kind, x, dy, grey(drawn, x, y))


def test_rounded_corners_and_sharp_ones(drawn: QImage) -> None:
    # rounded=1: the corner at (150, 840) is cut by a quadratic arc of arcSize/2 = 10
    assert paper(drawn, 150, 840) and ink(drawn, 147, 842)
    # rounded=0: the corner is drawn
    assert ink(drawn, 300, 840)


def test_flex_arrow_is_a_filled_outline(drawn: QImage) -> None:
    y = 980
    red = QColor(drawn.pixel(200 * SCALE, y * SCALE))
    assert (red.red(), red.green(), red.blue()) == (255, 0, 0)
    # the band is width=10 wide (edge at +-5), the head 10 + 20 + 1 wide
    assert ink(drawn, 200, y + 5) and paper(drawn, 200, y + 8)
    assert QColor(drawn.pixel(340 * SCALE, (y + 12) * SCALE)).red() > 200
    assert ink(drawn, 349.5, y)


def test_link_is_two_parallel_lines(drawn: QImage) -> None:
    y = 1040
    assert ink(drawn, 200, y - 2) and ink(drawn, 200, y + 2) and paper(drawn, 200, y)


def test_dash_pattern_in_line_widths(drawn: QImage) -> None:
    # dashPattern=8 8 at strokeWidth=2: 16 on, 16 off from x=50
    y = 1100
    assert ink(drawn, 58, y) and paper(drawn, 74, y) and ink(drawn, 90, y)


def test_orthogonal_route_is_drawn_where_draw_io_draws_it(qapp: Any) -> None:
    page = load_experience(FIXTURES / "edges-routes.drawio").pages[0]
    image = render_page(PageScene(page), int(page.width * SCALE), int(page.height * SCALE))
    # "ab": right out of the source at y=65 to x=350, then down into the target's top
    assert ink(image, 250, 65) and ink(image, 350, 150)
    # no Z-bend through the middle
    assert paper(image, 220, 130) and paper(image, 250, 200)


def test_arrow_shape_is_draw_io_fixed_arrow(drawn: QImage) -> None:
    # shape=arrow (mxArrow): a 10-wide shaft, a 30-wide head 30 long, filled
    y = 1160

    def green(x: float, dy: float) -> bool:
        c = QColor(drawn.pixel(round(x * SCALE), round((y + dy) * SCALE)))
        return c.green() > 200 and c.red() < 80

    assert green(200, 3) and paper(drawn, 200, y + 7)
    assert green(322, 11) and paper(drawn, 335, y + 11)


def test_line_jump_arcs_over_an_earlier_connector(drawn: QImage) -> None:
    # jumpStyle=arc, jumpSize=20: the line stops 10 before the crossing at x=200 and arcs
    # over it (draw.io's cubic, 1.3 x 10 up) to 10 after
    y = 1300
    page = load_experience(FIXTURES / "edges-markers.drawio").pages[0]
    jumper = page.element("jumper")
    assert jumper is not None and jumper.edge is not None
    assert jumper.edge.jumps == [(50, y, False), (200, y, True), (350, y, False)]
    assert ink(drawn, 180, y) and ink(drawn, 220, y)
    assert paper(drawn, 195, y) and paper(drawn, 205, y)
    assert ink(drawn, 192.1, y - 6.2)


def test_link_doubling_back_is_a_straight_band(drawn: QImage) -> None:
    # waypoints at x=250, 200, 300 on one line: draw.io's mxArrowConnector skips the bends
    # that turn straight back, so the two lines run on, 4 apart, with no cross-over
    y = 1400
    for x in (120, 225, 275, 330):
        assert ink(drawn, x, y - 2) and ink(drawn, x, y + 2) and paper(drawn, x, y), x
