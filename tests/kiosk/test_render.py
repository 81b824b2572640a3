"""The renderer: every shape kind draws its own outline, styles show, pictures decode, and
every page of the real-world corpus renders without an error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from designer_import import DrawioError, load_experience
from designer_import.model import Element, Geometry, Gradient, Page, ShapeKind, Style
from kiosk.screen.render import PageScene, render_page
from kiosk.screen.shapes.outlines import outline
from tests.corpus import DrawioCorpus
from tests.support.drawings import FEATURES

#: Kinds whose outline is the plain box.
BOXES = {
    ShapeKind.RECTANGLE,
    ShapeKind.PROCESS,
    ShapeKind.PLUS,
    ShapeKind.SWIMLANE,
    ShapeKind.TEXT,
    ShapeKind.IMAGE,
    ShapeKind.LABEL,
    ShapeKind.GROUP,
    ShapeKind.STENCIL,
    ShapeKind.EDGE,
    ShapeKind.LINE,
}


@pytest.mark.parametrize("kind", [k for k in ShapeKind if k not in BOXES])
def test_each_shape_has_its_own_outline(kind: ShapeKind) -> None:
    path = outline(kind, Style(), 200, 100)
    box = path.boundingRect()
    # inside the box and filling most of it (draw.io's cloud leaves a margin too)
    assert 170 <= box.width() <= 200.5 and 80 <= box.height() <= 100.5
    # not the box: at least one of its corners is outside the shape
    corners = [QPointF(1, 1), QPointF(199, 1), QPointF(1, 99), QPointF(199, 99)]
    assert not all(path.contains(c) for c in corners), kind
    # but the middle of the shape is inside (the actor's middle is its neck)
    probe = QPointF(100, 80) if kind == ShapeKind.ACTOR else QPointF(100, 50)
    assert path.contains(probe), kind


def test_direction_and_flip_turn_the_outline() -> None:
    east = outline(ShapeKind.TRIANGLE, Style(), 100, 100)
    south = outline(ShapeKind.TRIANGLE, Style(direction="south"), 100, 100)
    flipped = outline(ShapeKind.TRIANGLE, Style(flip_h=True), 100, 100)
    assert east.contains(QPointF(5, 5)) and not east.contains(QPointF(95, 5))
    assert south.contains(QPointF(5, 5)) and south.contains(QPointF(95, 5))
    assert south.contains(QPointF(50, 90))
    assert not south.contains(QPointF(5, 95))
    assert flipped.contains(QPointF(95, 5)) and not flipped.contains(QPointF(5, 5))


def test_rounded_rectangle_corners_are_cut() -> None:
    sharp = outline(ShapeKind.RECTANGLE, Style(), 200, 100)
    round_ = outline(ShapeKind.RECTANGLE, Style(rounded=True, arc_size=40), 200, 100)
    assert sharp.contains(QPointF(1, 1)) and not round_.contains(QPointF(1, 1))


def element(kind: ShapeKind, x: float, style: Style, **extra: Any) -> Element:
    return Element(
        id=f"{kind.value}-{x}",
        kind=kind,
        shape=kind.value,
        geometry=Geometry(x, 100, 200, 200),
        style=style,
        **extra,
    )


def test_styles_show_in_pixels(qapp: Any) -> None:
    page = Page(
        id="p",
        name="P",
        role="page",
        width=1000,
        height=500,
        background="#000000",
        elements=[
            element(ShapeKind.RECTANGLE, 0, Style(fill="#ff0000", stroke=None)),
            element(
                ShapeKind.RECTANGLE,
                250,
                Style(fill="#0000ff", stroke=None, gradient=Gradient("#00ff00", "south")),
            ),
            element(ShapeKind.ELLIPSE, 500, Style(fill="#ffffff", stroke=None, opacity=0.5)),
            element(ShapeKind.RECTANGLE, 750, Style(fill="#ffffff", stroke=None), visible=False),
        ],
    )
    image = render_page(PageScene(page), 1000, 500)
    assert image.pixelColor(100, 200).name() == "#ff0000"
    top, bottom = image.pixelColor(350, 105), image.pixelColor(350, 295)
    assert top.blue() > 200 and top.green() < 40
    assert bottom.green() > 200 and bottom.blue() < 40
    half = image.pixelColor(600, 200)
    assert 110 < half.red() < 145  # white at 50 % over black
    assert image.pixelColor(850, 200).name() == "#000000"  # hidden
    assert image.pixelColor(5, 5).name() == "#000000"  # page background


def test_letterbox_is_the_page_colour_portrait(qapp: Any) -> None:
    experience = load_experience(FEATURES)
    attract = experience.pages[0]
    image = render_page(PageScene(attract), 1080, 1920)
    # 1920x1080 page in a portrait screen: bars above and below, same colour as the page
    assert image.pixelColor(540, 5) == QColor("#102030")
    assert image.pixelColor(540, 1915) == QColor("#102030")


def test_pictures_decode(qapp: Any) -> None:
    experience = load_experience(FEATURES)
    home = experience.page("home")
    assert home is not None
    scene = PageScene(home)
    for element_id in ("photo", "photo-b64", "logo"):
        item = scene.items_by_id[element_id]
        assert item.picture is not None and item.picture.ok, element_id  # type: ignore[attr-defined]
    # pictures that cannot be fetched offline draw as a plain box, not nothing
    assert scene.items_by_id["webpic"].picture is None  # type: ignore[attr-defined]


def test_svg_and_gif_pictures(qapp: Any, tmp_path: Path) -> None:
    from designer_import.model import ImageRef
    from kiosk.screen.render import Picture

    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10" fill="#00ff00"/></svg>'
    )
    assert Picture(ImageRef(source="x.svg", data=svg, mime="image/svg+xml")).svg is not None
    # the smallest GIF there is: one black pixel (Qt reads GIF but cannot write it)
    gif = (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01"
        b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
    picture = Picture(ImageRef(source="p.gif", data=gif, mime="image/gif"))
    assert picture.image is not None and picture.image.width() == 1
    jpeg_path = tmp_path / "p.jpg"
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(QColor("#ff00ff"))
    assert image.save(str(jpeg_path), "JPEG")
    jpeg = Picture(ImageRef(source="p.jpg", data=jpeg_path.read_bytes(), mime="image/jpeg"))
    assert jpeg.image is not None and jpeg.image.width() == 8


def test_the_corpus_renders(qapp: Any, drawio_corpus: DrawioCorpus) -> None:
    rendered = 0
    errors: list[str] = []
    for path in drawio_corpus:
        try:
            experience = load_experience(path)
        except DrawioError as exc:
            errors.append(f"{path.name}: {exc}")
            continue
        for page in experience.pages:
            scene = PageScene(page)
            image = render_page(scene, 320, 180)
            assert not image.isNull()
            # an element the renderer left out (logged, drawn without it) fails the test
            errors.extend(f"{path.name} page {page.index}: {error}" for error in scene.errors)
            rendered += 1
    assert errors == []
    # (measured: 76 pages in the curated set)
    assert rendered > drawio_corpus.at_least(full=150, curated=70)


def test_stencils_and_connectors(qapp: Any) -> None:
    from designer_import.model import EdgePath, Point
    from kiosk.screen.edges import EdgeItem
    from kiosk.screen.render import ElementItem

    stencil = Element(
        id="s",
        kind=ShapeKind.STENCIL,
        shape="mxgraph.aws4.lambda",
        geometry=Geometry(0, 0, 100, 100),
        style=Style(fill="#ff9900", stroke="#000000"),
        stencil="mxgraph.aws4.lambda",
    )
    item = ElementItem(stencil)
    # a library shape drawn as a plain box never shows its internal name
    assert item.label is None
    assert item.shape().contains(QPointF(2, 2))
    edge = Element(
        id="e",
        kind=ShapeKind.EDGE,
        shape="connector",
        geometry=Geometry(0, 0, 200, 100),
        style=Style(stroke="#000000"),
        edge=EdgePath(
            points=[Point(0, 0), Point(200, 0), Point(200, 100)],
            end_arrow="classic",
            start_arrow="oval",
        ),
    )
    connector = EdgeItem(edge)
    assert len(connector.parts) == 2  # one painted part per head
    # touched along its route (both legs), not across the corner it turns
    assert connector.shape().contains(QPointF(100, 3))
    assert connector.shape().contains(QPointF(198, 50))
    assert not connector.shape().contains(QPointF(100, 50))


def test_a_shape_that_cannot_be_drawn_is_left_out(
    qapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    page = Page(
        id="p",
        name="P",
        role="page",
        width=400,
        height=200,
        background="#000000",
        elements=[
            element(ShapeKind.RECTANGLE, 0, Style(fill="#ff0000", stroke=None)),
            element(ShapeKind.RECTANGLE, 200, Style(fill="#00ff00", stroke=None)),
        ],
    )
    scene = PageScene(page)
    broken = scene.items_by_id[page.elements[0].id]

    def fails(_painter: object) -> None:
        raise RuntimeError("bad picture data")

    broken._paint = fails  # type: ignore[attr-defined]
    image = render_page(scene, 400, 200)
    assert image.pixelColor(100, 150).name() == "#000000"  # left out
    assert image.pixelColor(300, 150).name() == "#00ff00"  # the rest is drawn
    assert "bad picture data" in caplog.text
    # and the page knows what it left out (tests and benchmarks fail on it)
    assert len(scene.errors) == 1 and "bad picture data" in scene.errors[0]
    render_page(scene, 400, 200)
    # logged once, not on every paint
    assert len([r for r in caplog.records if "cannot draw" in r.getMessage()]) == 1
