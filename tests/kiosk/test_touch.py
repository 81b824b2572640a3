"""Touch matches what is drawn: a caption outside its shape is part of the shape, and
show/hide/toggle picks cells as draw.io's viewer does (all listed tags, case ignored,
``"*"`` and ``excludeCells``). Taps go through the real shopper window."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from kiosk.screen.window import KioskWindow
from tests.support.drawings import FIXTURES, action_button, page_xml, tagged, write_drawio

LOGO = base64.b64encode((FIXTURES / "logo.png").read_bytes()).decode("ascii")


def tap_page(window: KioskWindow, x: float, y: float) -> None:
    """A mouse tap at page coordinates (x, y) of the page shown."""
    point = window.view.to_widget(QPointF(x, y)).toPoint()
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


def shown(window: KioskWindow, element_id: str) -> bool:
    assert window.view.scene is not None
    return window.view.scene.items_by_id[element_id].isVisible()


def wait_fade(qtbot: object, window: KioskWindow) -> None:
    qtbot.waitUntil(lambda: not window.view.fading, timeout=2000)  # type: ignore[attr-defined]


def test_a_caption_under_a_photo_is_part_of_the_photo(
    qtbot: object, open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    # draw.io's image style: the caption sits under the picture, outside its box
    photo = (
        '<UserObject label="Chew toy" link="data:page/id,toy" id="photo">'
        f'<mxCell style="shape=image;image=data:image/png,{LOGO};verticalLabelPosition=bottom;'
        'verticalAlign=top;labelBackgroundColor=none;fontSize=40;" vertex="1" parent="1">'
        '<mxGeometry x="800" y="300" width="300" height="300" as="geometry"/></mxCell>'
        "</UserObject>"
    )
    path = write_drawio(
        tmp_path / "caption.drawio",
        [page_xml("home", "Home", photo), page_xml("toy", "Toy", "")],
    )
    window = open_window(path)
    window.navigate("home")
    # below the picture's box, on the text, not on the picture
    item = window.view.scene.items_by_id["photo"]  # type: ignore[union-attr]
    caption = item.mapRectToScene(item.label.bounds)  # type: ignore[attr-defined]
    assert caption.top() >= 600 and caption.center().x() == 950
    # beside the text, still under the picture: nothing there
    tap_page(window, caption.right() + 40, caption.center().y())
    assert window.page.id == "home"
    tap_page(window, caption.center().x(), caption.center().y())
    assert window.page.id == "toy"


def tap_element(window: KioskWindow, element_id: str) -> None:
    point = window.view.touch_point(element_id)
    assert isinstance(point, QPoint), element_id
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


def test_tags_must_all_match_and_case_is_ignored(
    qtbot: object, open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    cells = "".join(
        [
            tagged("both", "Dog Food", 100),
            tagged("dog-only", "dog", 300),
            tagged("food-only", "food", 500),
            tagged("both-and-more", "food sale DOG", 700),
            action_button("hide-dog-food", '{"actions":[{"hide":{"tags":["dog","FOOD"]}}]}', 100),
        ]
    )
    path = write_drawio(tmp_path / "tags.drawio", [page_xml("home", "Home", cells)])
    window = open_window(path)
    window.navigate("home")
    tap_element(window, "hide-dog-food")
    wait_fade(qtbot, window)
    assert not shown(window, "both") and not shown(window, "both-and-more")
    assert shown(window, "dog-only") and shown(window, "food-only")


def test_star_and_exclude_cells(
    qtbot: object, open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    cells = "".join(
        [
            tagged("a", "x", 100),
            tagged("b", "x", 300),
            tagged("c", "", 500),
            action_button(
                "hide-all",
                '{"actions":[{"hide":{"cells":["*"],"excludeCells":["hide-all","show-all","b"]}}]}',
                100,
            ),
            action_button(
                "show-all",
                '{"actions":[{"show":{"cells":["*"]}}]}',
                400,
            ),
            action_button(
                "toggle-x-but-a",
                '{"actions":[{"toggle":{"tags":["X"],"excludeCells":["a"]}}]}',
                700,
            ),
        ]
    )
    path = write_drawio(tmp_path / "star.drawio", [page_xml("home", "Home", cells)])
    window = open_window(path)
    window.navigate("home")
    tap_element(window, "hide-all")
    wait_fade(qtbot, window)
    assert not shown(window, "a") and shown(window, "b") and not shown(window, "c")
    assert not shown(window, "toggle-x-but-a") and shown(window, "hide-all")
    tap_element(window, "show-all")
    wait_fade(qtbot, window)
    assert all(shown(window, i) for i in ("a", "b", "c", "toggle-x-but-a"))
    tap_element(window, "toggle-x-but-a")
    wait_fade(qtbot, window)
    assert shown(window, "a") and not shown(window, "b") and shown(window, "c")


def test_a_step_runs_toggle_then_show_then_hide(
    qtbot: object, open_window: Callable[..., KioskWindow], tmp_path: Path
) -> None:
    # written hide-first, but draw.io runs toggle, show, hide: "a" ends hidden
    cells = tagged("a", "", 100) + action_button(
        "go", '{"actions":[{"hide":{"cells":["a"]},"show":{"cells":["a"]}}]}', 100
    )
    path = write_drawio(tmp_path / "order.drawio", [page_xml("home", "Home", cells)])
    window = open_window(path)
    window.navigate("home")
    tap_element(window, "go")
    wait_fade(qtbot, window)
    assert not shown(window, "a")
