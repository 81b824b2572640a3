"""Touching links: every link of a real experience leads where it says, at every aspect,
and the hit area is the shape as drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice
from PySide6.QtTest import QTest

from designer_import.model import NavigateLink
from kiosk.models.interactions import MemorySink
from kiosk.screen.window import KioskWindow
from tests.support.drawings import DEMO, FEATURES

ASPECTS = {"16:9": (1920, 1080), "4:3": (1024, 768), "9:16": (1080, 1920)}


def tap(window: KioskWindow, x: int, y: int) -> None:
    """A mouse click at window pixels (x, y)."""
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(x, y))


def experiences() -> list[Path]:
    return [FEATURES, *([DEMO] if DEMO.exists() else [])]


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("path", experiences(), ids=lambda p: p.name)
def test_every_link_leads_to_its_page(
    open_window: Callable[..., KioskWindow], path: Path, aspect: str
) -> None:
    window = open_window(path, size=ASPECTS[aspect])
    experience = window.experience
    assert window.broken is None
    expected = followed = 0
    untouchable = []
    for page in experience.pages:
        links = {
            e.id: link.page_id
            for e in page.elements
            if isinstance(link := page.link_for(e.id), NavigateLink)
            and e.visible
            and experience.page(link.page_id) is not None
        }
        expected += len(links)
        for element_id, target in links.items():
            window.navigate(page.id)
            assert window.page is not None and window.page.id == page.id
            point = window.view.touch_point(element_id)
            if point is None:
                # wholly covered by another shape: a tap on it must still lead to its
                # target (e.g. a "touch anywhere" link over a "Touch to start" button)
                assert window.view.scene is not None
                item = window.view.scene.items_by_id[element_id]
                centre = item.mapToScene(item.boundingRect().center())
                point = window.view.to_widget(centre).toPoint()
                if not window.view.rect().contains(point):
                    untouchable.append(f"{page.name}: {element_id}")
                    continue
            tap(window, point.x(), point.y())
            assert window.page.id == target, f"{page.name}: {element_id} -> {target}"
            followed += 1
    # every link was followed, none skipped
    assert untouchable == []
    assert followed == expected >= 3


@pytest.mark.parametrize("aspect", ASPECTS)
def test_hit_area_is_the_shape_at_every_aspect(
    open_window: Callable[..., KioskWindow], shop_file: Path, sink: MemorySink, aspect: str
) -> None:
    window = open_window(shop_file, size=ASPECTS[aspect])
    window.navigate("p1")
    view = window.view
    page_box = view.page_rect()
    # letterboxed: the page keeps its 16:9 shape and sits in the middle
    assert page_box.width() / page_box.height() == pytest.approx(16 / 9, rel=0.01)
    assert page_box.center().x() == pytest.approx(view.width() / 2, abs=1)
    assert page_box.center().y() == pytest.approx(view.height() / 2, abs=1)
    # the ellipse "Buy" (800..1100 x 400..700): its centre hits, its box corner does not
    centre = view.to_widget(QPointF(950, 550)).toPoint()
    corner = view.to_widget(QPointF(812, 412)).toPoint()
    assert view.hit(QPointF(centre)).element.id == "buy-1"
    assert view.hit(QPointF(corner)).element is None
    tap(window, corner.x(), corner.y())
    assert not sink.of_type("action")
    tap(window, centre.x(), centre.y())
    (action,) = sink.of_type("action")
    assert action.payload == {"action": "show-product", "sku": "DOG-1", "colour": "red"}
    touch = sink.of_type("touch")[-1]
    assert touch.element == "buy-1" and touch.payload["sku"] == "DOG-1"
    assert touch.payload["x"] == pytest.approx(950 / 1920, abs=0.01)
    assert touch.payload["y"] == pytest.approx(550 / 1080, abs=0.01)
    # the letterbox is outside the page: no element, no position
    outside = QPointF(2, 2) if aspect != "16:9" else None
    if outside is not None:
        hit = view.hit(outside)
        assert hit.element is None and hit.nx is None


def test_rotated_and_flipped_shapes_hit_as_drawn(
    open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    from tests.support.drawings import page_xml, write_drawio

    cells = (
        '<UserObject label="" link="data:page/id,two" id="tri"><mxCell style="triangle;'
        'rotation=90;" vertex="1" parent="1"><mxGeometry x="100" y="100" width="400" '
        'height="400" as="geometry"/></mxCell></UserObject>'
        '<UserObject label="" link="data:page/id,two" id="rh"><mxCell style="rhombus;" '
        'vertex="1" parent="1"><mxGeometry x="1000" y="100" width="400" height="400" '
        'as="geometry"/></mxCell></UserObject>'
    )
    path = write_drawio(
        tmp_path / "rot.drawio", [page_xml("one", "One", cells), page_xml("two", "Two", "")]
    )
    window = open_window(path)
    window.navigate("one")
    view = window.view

    def hit(x: float, y: float) -> str | None:
        found = view.hit(view.to_widget(QPointF(x, y))).element
        return found.id if found else None

    # a triangle pointing east, turned 90 degrees clockwise, points south: its top corners
    # are inside, its bottom corners are not
    assert hit(110, 110) == "tri" and hit(490, 110) == "tri"
    assert hit(110, 490) is None and hit(490, 490) is None
    assert hit(300, 480) == "tri"
    # a rhombus: the middle yes, the box corners no
    assert hit(1200, 300) == "rh"
    assert hit(1010, 110) is None and hit(1390, 490) is None


def test_touch_screen_taps_and_swipes(
    open_window: Callable[..., KioskWindow], shop_file: Path, sink: MemorySink
) -> None:
    window = open_window(shop_file)
    device = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
    for target in ("welcome", "cat", "p1"):
        window.navigate(target)
    assert window.page.id == "p1"

    def swipe(x1: int, x2: int) -> None:
        y = 300
        QTest.touchEvent(window, device).press(0, QPoint(x1, y), window).commit()
        for step in range(1, 6):
            x = x1 + (x2 - x1) * step // 6
            QTest.touchEvent(window, device).move(0, QPoint(x, y), window).commit()
        QTest.touchEvent(window, device).release(0, QPoint(x2, y), window).commit()

    swipe(1500, 500)  # finger moves left: the next product
    assert window.page.id == "p2"
    swipe(1500, 500)
    assert window.page.id == "p3"
    swipe(1500, 500)  # no product after the last one
    assert window.page.id == "p3"
    swipe(500, 1500)
    assert window.page.id == "p2"
    # a touch tap on "Back" goes back to the category
    point = window.view.touch_point("back-2")
    assert point is not None
    QTest.touchEvent(window, device).press(0, point, window).commit()
    QTest.touchEvent(window, device).release(0, point, window).commit()
    assert window.page.id == "cat"
    assert [e.payload.get("gesture") for e in sink.of_type("touch")].count("swipe") == 4


def test_back_and_home(open_window: Callable[..., KioskWindow], shop_file: Path) -> None:
    window = open_window(shop_file)
    for target in ("welcome", "cat", "p2"):
        window.navigate(target)
    point = window.view.touch_point("home-2")
    assert point is not None
    tap(window, point.x(), point.y())
    assert window.page.id == "welcome"
    back = window.view
    window.navigate("cat")
    window.navigate("p3")
    point = back.touch_point("back-3")
    tap(window, point.x(), point.y())
    assert window.page.id == "cat"


def test_touch_targets_are_where_the_shapes_are(
    open_window: Callable[..., KioskWindow], shop_file: Path
) -> None:
    window = open_window(shop_file, size=(1080, 1920))
    window.navigate("cat")
    targets = {t.element: t for t in window.touch_targets()}
    assert set(targets) == {"to-p1", "to-p2", "to-p3"}
    for element_id, target in targets.items():
        assert target.kind == "link" and target.target == element_id.removeprefix("to-")
        tap(window, target.x, target.y)
        assert window.page.id == target.target
        window.navigate("cat")
