"""Large text / high contrast mode on the real window: a page's ``@a11y`` page replaces it,
a page without one shows larger black-or-white text, links on the large-text page work, and
the session's end turns the mode off; the validator does not call the ``@a11y`` page
unreachable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from designer_import import load_experience, validate
from kiosk.screen.window import KioskWindow
from tests.kiosk.shop_screen import tap
from tests.support.clock import FakeClock
from tests.support.drawings import page_xml, write_drawio


def shape(cell_id: str, label: str, style: str, x: int, y: int, extra: str = "") -> str:
    return (
        f'<object label="{label}" id="{cell_id}" {extra}><mxCell style="{style}" vertex="1" '
        f'parent="1"><mxGeometry x="{x}" y="{y}" width="400" height="150" as="geometry"/>'
        "</mxCell></object>"
    )


BOX = "rounded=1;fontSize=20;fillColor=#dae8fc;fontColor=#6c8ebf;"
BACK = 'kiosk-action="back"'
HOME = 'link="data:page/id,welcome"'
BIG_BUTTON = "rounded=1;fontSize=72;fillColor=#000000;fontColor=#ffffff;"


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Attract, a welcome page with the large-text button and two products; product 1 has
    a large-text page of its own (after it in the file), product 2 has none."""
    pages = [
        page_xml("attract", "attract", shape("hello", "Touch", BOX, 800, 480, HOME)),
        page_xml(
            "welcome",
            "Welcome",
            shape("big", "Larger text", BOX, 100, 900, 'kiosk-action="large-text"')
            + shape("to-1", "Dog bed", BOX, 100, 100, 'link="data:page/id,p1"')
            + shape("to-2", "Cat tree", BOX, 600, 100, 'link="data:page/id,p2"'),
        ),
        page_xml("p1", "product-1", shape("p1-name", "Dog bed", BOX, 100, 100)
                 + shape("p1-back", "Back", BOX, 100, 900, BACK)),
        page_xml("p2", "product-2", shape("p2-name", "Cat tree", BOX, 100, 100)
                 + shape("p2-back", "Back", BOX, 100, 900, BACK)),
        page_xml(
            "p1-big",
            "product-1@a11y",
            shape("big-name", "DOG BED", "text;fontSize=96;fontColor=#000000;", 100, 100)
            + shape("big-back", "BACK", BIG_BUTTON, 100, 800, HOME),
            "#ffffff",
        ),
    ]  # fmt: skip
    return write_drawio(tmp_path / "large.drawio", pages)


def shown(window: KioskWindow, element_id: str) -> tuple[float, str | None]:
    """The font size and colour the shape on screen is drawn with."""
    assert window.view.scene is not None
    element = window.view.scene.page.element(element_id)
    assert element is not None, element_id
    return element.style.font_size, element.style.font_color


def test_large_text_pages_replace_or_enlarge_until_the_session_ends(
    open_window: Callable[..., KioskWindow], shop_file: Path, clock: FakeClock
) -> None:
    window = open_window(shop_file)
    tap(window, "hello")
    assert shown(window, "to-1") == (20.0, "#6c8ebf")
    tap(window, "big")
    assert window.large_text.on
    # the welcome page has no @a11y page: its text 1.5 times bigger, black on light blue
    assert shown(window, "to-1") == (30.0, "#000000")
    tap(window, "to-1")
    assert window.page is not None and window.page.id == "p1"  # where the shopper is
    assert window.view.scene is not None and window.view.scene.page.name == "product-1@a11y"
    tap(window, "big-back")  # the large-text page's own link works
    assert window.page is not None and window.page.id == "welcome"
    tap(window, "to-2")
    assert shown(window, "p2-name") == (30.0, "#000000")
    clock.advance(window.settings.idle_timeout_s + 1)
    window.tick()  # the session ends: the mode is off for the next shopper
    assert not window.large_text.on
    window.go_attract("test")
    tap(window, "hello")
    tap(window, "to-1")
    assert window.view.scene is not None and window.view.scene.page.name == "product-1"


def test_the_a11y_page_is_not_unreachable(shop_file: Path) -> None:
    findings = validate(load_experience(shop_file))
    assert [f.page for f in findings if f.code == "unreachable-page"] == []
