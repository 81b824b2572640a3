"""Library shapes (``shape=mxgraph.*`` and embedded ``stencil(...)``) are drawn from their
definitions as draw.io draws them, and a library shape the kiosk cannot draw shows no
internal name. Pixels of tests/fixtures/drawio/stencils-library.drawio."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage

from designer_import import load_experience, validate
from designer_import.stencils import CODE_SHAPES, is_drawn, library_stencil
from kiosk.screen.render import PageScene, fit_transform, render_page
from kiosk.screen.shapes.library import CODE_SHAPE_PAINTERS
from kiosk.screen.shapes.stencils import StencilItem

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "drawio" / "stencils-library.drawio"


@pytest.fixture(scope="module")
def drawn(qapp: object) -> tuple[QImage, PageScene]:
    page = load_experience(FIXTURE).pages[0]
    scene = PageScene(page)
    image = render_page(scene, 1280, 960)
    return image, scene


def pixel(drawn: tuple[QImage, PageScene], x: float, y: float) -> QColor:
    """The rendered colour at page point (x, y)."""
    image, scene = drawn
    at = fit_transform(scene.viewport_rect, image.width(), image.height()).map(QPointF(x, y))
    return image.pixelColor(round(at.x()), round(at.y()))


def is_white(colour: QColor) -> bool:
    return colour.red() > 240 and colour.green() > 240 and colour.blue() > 240


def is_red(colour: QColor) -> bool:
    return colour.red() > 200 and colour.green() < 60 and colour.blue() < 60


def is_black(colour: QColor) -> bool:
    return colour.red() < 60 and colour.green() < 60 and colour.blue() < 60


def test_arrow_stencil_paints_its_tip_and_leaves_its_corners_empty(drawn) -> None:
    # arrows2.arrow at (20, 20) 200 x 100, dx=40, dy=0.6: shaft 40 high, head from x=180
    assert is_red(pixel(drawn, 215, 70))  # the tip
    assert is_red(pixel(drawn, 185, 32))  # the head beside the shaft
    assert is_red(pixel(drawn, 30, 70))  # the shaft
    assert is_white(pixel(drawn, 24, 24))  # above the shaft
    assert is_white(pixel(drawn, 216, 24))  # beside the tip
    assert is_white(pixel(drawn, 24, 116))


def test_direction_turns_a_library_shape(drawn) -> None:
    # the same arrow at (260, 20) 100 x 200 with direction=south points down
    assert is_red(pixel(drawn, 310, 215))
    assert is_white(pixel(drawn, 264, 24))  # beside the shaft, at the tail
    assert is_red(pixel(drawn, 310, 30))


def test_flip_mirrors_a_library_shape(drawn) -> None:
    # the arrow at (290, 400) 100 x 40 with flipH=1 points left: its head (40 long, full
    # height at its base) spans x 290..330, the shaft (y 412..428) the rest
    assert is_red(pixel(drawn, 293, 420))  # the tip
    assert is_red(pixel(drawn, 328, 403))  # the head near its base
    assert is_white(pixel(drawn, 352, 405))  # beside the shaft (the head, unflipped)
    assert is_red(pixel(drawn, 385, 420))  # the shaft's end


def test_fixed_aspect_stencil_keeps_its_proportions_centred(drawn) -> None:
    # aws4.xml's "a1 instance" (48 x 48, aspect="fixed") in a 120 x 40 box at (20, 490):
    # drawn 40 x 40 in the middle (x 60..100), the sides stay empty
    image, scene = drawn
    transform = fit_transform(scene.viewport_rect, image.width(), image.height())

    def red_in(x0: float, x1: float) -> int:
        box = transform.mapRect(QRectF(x0, 490, x1 - x0, 40))
        return sum(
            1
            for y in range(round(box.top()), round(box.bottom()))
            for x in range(round(box.left()), round(box.right()))
            if is_red(image.pixelColor(x, y))
        )

    assert red_in(61, 99) > 50
    assert red_in(20, 58) == 0
    assert red_in(102, 140) == 0


def test_wall_corner_is_an_l_of_thin_walls_not_a_solid_box(drawn) -> None:
    # wallCorner at (20, 160) 200 x 100, walls 10 thick along the top and the left
    assert is_black(pixel(drawn, 120, 165))
    assert is_black(pixel(drawn, 25, 220))
    assert is_white(pixel(drawn, 120, 220))
    assert is_white(pixel(drawn, 210, 250))


def test_wall_is_a_thin_bar_across_the_middle(drawn) -> None:
    # wall at (20, 300) 200 x 60: a 10 thick bar at y 325..335
    assert is_black(pixel(drawn, 120, 330))
    assert is_white(pixel(drawn, 120, 310))
    assert is_white(pixel(drawn, 120, 350))


def test_xml_stencil_is_drawn_from_its_definition(drawn) -> None:
    # floorplan.xml's Bathtub at (400, 20) 180 x 60: a black drain (ellipse 8 x 8 at 21, 26)
    # inside the white tub, and the tub's inner outline
    assert is_black(pixel(drawn, 425, 50))
    assert is_white(pixel(drawn, 490, 50))
    assert pixel(drawn, 490, 25).red() < 128  # the tub's inner edge (1 unit) at y = 5


def test_embedded_stencil_is_drawn(drawn) -> None:
    # a triangle embedded as stencil(...) at (400, 240) 100 x 100, filled blue
    centre = pixel(drawn, 450, 320)
    assert centre.blue() > 200 and centre.red() < 60
    assert is_white(pixel(drawn, 405, 245))
    assert is_white(pixel(drawn, 495, 245))


def test_freehand_stencil_is_filled_with_its_line_colour(drawn) -> None:
    # the same triangle with lineShape=1 (draw.io's freehand drawings): filled green, the line
    # colour, not white (as draw.io's own drawing of the rock pool's freehand lines shows)
    centre = pixel(drawn, 570, 320)
    assert centre.green() > 120 and centre.red() < 60 and centre.blue() < 60


def test_unknown_library_shape_shows_no_internal_name(drawn) -> None:
    # mxgraph.nosuchlib.widget at (400, 380) 160 x 80, no label: a plain outline, and
    # nothing written inside it (it used to read "nosuchlib.widget")
    image, scene = drawn
    transform = fit_transform(scene.viewport_rect, image.width(), image.height())
    inside = transform.mapRect(QRectF(400, 380, 160, 80)).adjusted(8, 8, -8, -8)
    dark = 0
    for y in range(round(inside.top()), round(inside.bottom())):
        for x in range(round(inside.left()), round(inside.right())):
            if not is_white(image.pixelColor(x, y)):
                dark += 1
    assert dark == 0
    item = scene.items_by_id["unknown"]
    assert isinstance(item, StencilItem) and item.drawing is None and item.label is None
    assert is_black(pixel(drawn, 400, 420))  # its outline is drawn


def test_aws_resource_icon_draws_its_icon_in_the_line_colour(drawn) -> None:
    # resourceIcon at (260, 260) 80 x 80, orange, with the Lambda stencil in white inside
    image, scene = drawn
    assert pixel(drawn, 262, 262).red() > 240 and pixel(drawn, 262, 262).blue() < 40
    transform = fit_transform(scene.viewport_rect, image.width(), image.height())
    inside = transform.mapRect(QRectF(270, 270, 60, 60))
    white = sum(
        1
        for y in range(round(inside.top()), round(inside.bottom()))
        for x in range(round(inside.left()), round(inside.right()))
        if is_white(image.pixelColor(x, y))
    )
    assert white > inside.width() * inside.height() * 0.05


def test_aws_product_icon_fills_with_its_gradient(drawn) -> None:
    # productIcon at (250, 470) 60 x 60: red at the top fading to blue at the bottom
    top, bottom = pixel(drawn, 280, 474), pixel(drawn, 280, 526)
    assert top.red() > 200 and top.blue() < 60
    assert bottom.blue() > 200 and bottom.red() < 60


def test_c4_person_is_a_head_over_a_body(drawn) -> None:
    # c4.person at (590, 100) 45 x 90: head 22.5 wide at the top centre, body below
    def green(colour: QColor) -> bool:
        return colour.green() > 120 and colour.red() < 60

    assert green(pixel(drawn, 612.5, 111))  # the head's middle
    assert is_white(pixel(drawn, 592, 102))  # beside the head
    assert green(pixel(drawn, 612.5, 160))  # the body


def test_bpmn_end_event_and_exclusive_gateway(drawn) -> None:
    # an end event with the terminate symbol at (20, 390) 60 x 60: a round, filled black dot
    assert is_black(pixel(drawn, 50, 420))
    assert is_white(pixel(drawn, 23, 393))  # a circle, not a box
    # an exclusive gateway at (100, 390) 60 x 60: a diamond with a black X in the middle
    assert is_black(pixel(drawn, 130, 420))
    assert is_white(pixel(drawn, 130, 398))  # inside the diamond, above the X
    assert is_white(pixel(drawn, 103, 393))  # outside the diamond


def test_or_gate_has_its_curved_back(drawn) -> None:
    # logic_gate operation=or at (180, 390) 100 x 60, blue: the back curves into the gate
    centre = pixel(drawn, 230, 420)
    assert centre.blue() > 200 and centre.red() < 60
    assert is_white(pixel(drawn, 199, 420))  # inside the box, behind the curved back
    assert is_white(pixel(drawn, 278, 393))  # the gate's pointed front leaves the corner


def test_mockup_user_is_drawn_in_its_second_line_colour(drawn) -> None:
    # mockup.containers.userMale at (160, 470) 80 x 80: a head and shoulders in #008cff
    image, scene = drawn
    transform = fit_transform(scene.viewport_rect, image.width(), image.height())
    box = transform.mapRect(QRectF(165, 475, 70, 70))
    blue = sum(
        1
        for y in range(round(box.top()), round(box.bottom()))
        for x in range(round(box.left()), round(box.right()))
        if image.pixelColor(x, y).blue() > 180 and image.pixelColor(x, y).red() < 120
    )
    assert blue > 40
    assert is_white(pixel(drawn, 200, 500))  # the face is not filled


def test_validator_names_only_the_library_shape_it_cannot_draw() -> None:
    findings = validate(load_experience(FIXTURE))
    stencil_findings = [f for f in findings if f.code in ("library-stencil", "unsupported-shape")]
    assert [(f.page, f.cell_id) for f in stencil_findings] == [("Stencils", "unknown")]
    message = stencil_findings[0].message
    assert '"mxgraph.nosuchlib.widget"' in message and '"mxgraph.nosuchlib"' in message


def test_code_shapes_listed_for_the_validator_are_the_ones_painted() -> None:
    assert set(CODE_SHAPE_PAINTERS) == set(CODE_SHAPES)


@pytest.mark.parametrize(
    "name",
    [
        "mxgraph.floorplan.plant",
        "mxgraph.signs.healthcare.eye",
        "mxgraph.networks.server",
        "mxgraph.aws4.lambda_function",
        "mxgraph.electrical.resistors.resistor_1",
    ],
)
def test_shipped_libraries_are_looked_up_as_draw_io_does(name: str) -> None:
    stencil = library_stencil(name)
    assert stencil is not None and stencil.foreground
    assert is_drawn(name.replace("plant", "Plant"))  # lookup ignores case, as draw.io's keys
    assert not is_drawn("mxgraph.floorplan.no_such_shape")


def test_a_path_turning_back_on_itself_has_no_miter_spike(qapp: object) -> None:
    # draw.io's stencils (bpmn.xml's manual task hand) draw lines that turn back on
    # themselves; a browser bevels such a join (SVG miter limit), it does not spike
    from PySide6.QtGui import QPainter, QTransform

    from designer_import.model import Style
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import StencilDrawing

    canvas = StencilCanvas(Style(stroke="#000000", stroke_width=4), QRectF(0, 0, 100, 40))
    canvas.begin()
    canvas.move_to(60, 20)
    canvas.line_to(30, 20)
    canvas.line_to(90, 20)
    canvas.stroke()
    image = QImage(100, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    StencilDrawing(tuple(canvas.parts), QTransform()).paint(painter)
    painter.end()
    assert is_black(image.pixelColor(40, 20))  # the line
    assert is_white(image.pixelColor(22, 20))  # no spike past the turn at x = 30
