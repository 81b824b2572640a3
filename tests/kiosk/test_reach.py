"""Reach mode on the real window: one tap moves the page into the part of the screen below
the reach height of the config, scaled, so that every shape a shopper can touch is below
the reach line, at 16:9, 9:16 and 4:3; the session's end brings the whole screen back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from kiosk.screen.window import KioskWindow, touch_aim
from settings import ConfigError, KioskConfig
from settings.loader import load_config
from tests.kiosk.shop_screen import tap
from tests.support.clock import FakeClock
from tests.support.drawings import button, page_xml, write_drawio

SIZES = [(1920, 1080), (1080, 1920), (1024, 768)]


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    """Attract, and a welcome page with buttons in its top corners, its middle and at the
    bottom, and the reach button (kiosk-action=reach) at the bottom right."""
    reach = (
        '<object label="Reach" kiosk-action="reach" id="reach"><mxCell style="rounded=1;" '
        'vertex="1" parent="1"><mxGeometry x="1720" y="960" width="160" height="100" '
        'as="geometry"/></mxCell></object>'
    )
    links = "".join(
        button(f"to-{i}", f"Item {i}", "data:page/id,welcome", x, y)
        for i, (x, y) in enumerate([(0, 0), (1620, 0), (810, 480), (0, 960)])
    )
    pages = [
        page_xml("attract", "attract", button("hello", "Touch", "data:page/id,welcome", 800, 480)),
        page_xml("welcome", "Welcome", links + reach),
    ]
    return write_drawio(tmp_path / "reach.drawio", pages)


def target_rects(window: KioskWindow) -> dict[str, QRectF]:
    """Each shape a touch acts on, as its box shows in the window (pixels)."""
    page = window.page
    assert page is not None
    rects = {}
    for element in page.elements:
        if touch_aim(page, element) is None:
            continue
        box = element.geometry
        corners = [
            window.view.mapTo(window, window.view.to_widget(QPointF(x, y)).toPoint())
            for x, y in ((box.x, box.y), (box.right, box.bottom))
        ]
        rects[element.id] = QRectF(QPointF(corners[0]), QPointF(corners[1]))
    return rects


def reach_line(config: KioskConfig, height: int) -> float:
    """Where the reach height is on a ``height`` pixels high screen, from the config."""
    reach = config.reach
    return height * (1 - (reach.height_m - reach.screen_bottom_m) / reach.screen_height_m)


@pytest.mark.parametrize("size", SIZES, ids=["16:9", "9:16", "4:3"])
def test_every_target_is_below_the_reach_line(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    config: KioskConfig,
    clock: FakeClock,
    size: tuple[int, int],
) -> None:
    config.reach.height_m, config.reach.screen_bottom_m = 1.2, 0.75
    config.reach.screen_height_m = 0.9
    window = open_window(shop_file, size=size)
    tap(window, "hello")
    line = reach_line(config, size[1])
    before = target_rects(window)
    assert min(r.top() for r in before.values()) < line  # out of reach before
    tap(window, "reach")
    assert window.reach.on
    after = target_rects(window)
    assert after.keys() == before.keys() == {"to-0", "to-1", "to-2", "to-3", "reach"}
    for element_id, rect in after.items():
        assert rect.top() >= line - 0.5, (element_id, rect, line)
        assert rect.bottom() <= size[1] + 0.5 and rect.left() >= -0.5
        assert rect.right() <= size[0] + 0.5, (element_id, rect)
    # taps still land on their shapes (the reach button turns it off again)
    tap(window, "reach")
    assert not window.reach.on
    assert target_rects(window) == before
    tap(window, "reach")
    clock.advance(window.settings.idle_timeout_s + 1)
    window.tick()  # the session ends: the next shopper gets the whole screen
    assert not window.reach.on and window.view.geometry() == window.rect()


def test_the_kiosks_own_reach_button(
    open_window: Callable[..., KioskWindow], shop_file: Path, config: KioskConfig
) -> None:
    config.reach.button = True
    window = open_window(shop_file, size=(1920, 1080))
    button = window.reach_button
    assert button is not None and button.isVisible()
    line = reach_line(config, 1080)
    assert button.geometry().top() >= line and button.geometry().height() >= 44
    QTest.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert window.reach.on and window.session.session_id is not None
    assert window.view.geometry().top() == pytest.approx(line, abs=1)
    assert min(r.top() for r in target_rects(window).values()) >= line - 0.5


def test_a_reach_height_below_the_screen_is_a_config_error(tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text("[reach]\nheight_m = 0.8\nscreen_bottom_m = 0.9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reach.height_m = 0.8 leaves less than a tenth"):
        load_config(config_file, env={})


def test_the_kiosks_own_screens_come_down_with_the_page(
    open_window: Callable[..., KioskWindow], shop_file: Path, config: KioskConfig
) -> None:
    window = open_window(shop_file, size=(1080, 1920))
    tap(window, "hello")
    screen = window.take_home.screen
    page = window.page
    assert page is not None
    window.take_home.show(page, None)
    assert screen.geometry() == window.rect()  # the whole screen without reach mode
    window.take_home.close()
    tap(window, "reach")
    window.take_home.show(page, None)
    line = reach_line(config, 1920)
    assert screen.geometry() == window.view.geometry()
    close = screen.close_box().translated(screen.pos().x(), screen.pos().y())
    assert close.top() >= line and close.bottom() <= 1920
    assert window.still_there.prompt.geometry() == window.view.geometry()
