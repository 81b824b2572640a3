"""The list to take home on the real window: "Add to my list" keeps products for the
session, ``kiosk-action=show-list`` shows them with a QR code that OpenCV reads back from the
window's own pixels as the configured link, and ``list.shown`` records the SKUs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPointingDevice
from PySide6.QtTest import QTest

from designer_import import load_experience
from designer_import.validate import validate
from kiosk.admin import install_admin
from kiosk.admin.library import ContentLibrary
from kiosk.models.interactions import MemorySink
from kiosk.models.session import SessionState
from kiosk.models.take_home import TakeHomeList, list_url
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from settings import ConfigError, KioskConfig
from settings.loader import load_config
from storage import EventLog
from tests.kiosk.shop_screen import Shop
from tests.support.admin import Recorded
from tests.support.clock import FakeClock
from tests.support.drawings import DEMO, button, page_xml, write_drawio


def shape(cell_id: str, label: str, props: str, x: int, y: int) -> str:
    """A rounded box carrying Edit Data ``props`` (kiosk-action=..., sku=...)."""
    return (
        f'<object label="{label}" {props} id="{cell_id}"><mxCell style="rounded=1;'
        'fillColor=#dae8fc;fontSize=32;" vertex="1" parent="1"><mxGeometry '
        f'x="{x}" y="{y}" width="360" height="140" as="geometry"/></mxCell></object>'
    )


def product_page(number: int, name: str) -> str:
    """A product page (its ``sku`` on the page's Edit Data) with Add to my list and Back."""
    cells = shape(
        f"add-{number}",
        "Add to my list",
        f'kiosk-action="add-to-list" sku="DOG-{number}"',
        200,
        400,
    ) + shape(f"back-{number}", "Back", 'kiosk-action="back"', 200, 800)
    return page_xml(f"p{number}", name, cells).replace(
        '<mxCell id="0"/>', f'<object label="" sku="DOG-{number}" id="0"><mxCell/></object>'
    )


def list_drawing(path: Path) -> Path:
    """attract, a welcome page with two products and "My list", the two product pages."""
    welcome = (
        button("to-p1", "Rope toy", "data:page/id,p1", 100, 100)
        + button("to-p2", "Chew bone", "data:page/id,p2", 500, 100)
        + shape("my-list", "My list", 'kiosk-action="show-list"', 1400, 100)
        + shape(
            "list-or-p1", "Rope toy", 'kiosk-action="show-list" link="data:page/id,p1"', 1400, 500
        )
    )
    pages = [
        page_xml("attract", "attract", "", "#102030"),
        page_xml("welcome", "Welcome", welcome),
        product_page(1, "Rope toy"),
        product_page(2, "Chew bone"),
    ]
    return write_drawio(path, pages)


@pytest.fixture
def shop(
    open_window: Callable[..., KioskWindow],
    tmp_path: Path,
    clock: FakeClock,
    config: KioskConfig,
    sink: MemorySink,
) -> Shop:
    """The list drawing at 1920 x 1080, a session started on its welcome page."""
    window = open_window(list_drawing(tmp_path / "list.drawio"))
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert window.page is not None and window.page.id == "welcome"
    return Shop(window, clock, config, sink)


def decoded_qr(window: KioskWindow) -> str:
    """What OpenCV reads from a QR code in the window's pixels as a shopper sees them."""
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, stride * height)
    grey = pixels.reshape(height, stride)[:, :width].copy()
    text, _points, _code = cv2.QRCodeDetector().detectAndDecode(grey)
    return str(text)


def test_the_qr_code_on_screen_opens_the_shoppers_list(shop: Shop) -> None:
    shop.config.take_home.url_template = "https://shop.example/list?k={kiosk_id}&skus={skus}"
    shop.add(1)
    shop.add(2)
    shop.add(1)  # twice: once on the list
    shop.tap("my-list")
    screen = shop.window.take_home.screen
    assert screen.isVisible()
    assert [(i.sku, i.name) for i in screen.items] == [
        ("DOG-1", "Rope toy"),
        ("DOG-2", "Chew bone"),
    ]
    expected = "https://shop.example/list?k=kiosk-01&skus=DOG-1,DOG-2"
    assert decoded_qr(shop.window) == expected
    (shown,) = shop.sink.of_type("list.shown")
    assert shown.session_id == shop.window.session.session_id
    assert (shown.page, shown.element) == ("welcome", "my-list")
    assert shown.payload == {"skus": ["DOG-1", "DOG-2"], "count": 2, "url": expected}
    # a tap beside the button keeps it up, "Close" takes it down
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, pos=QPoint(960, 40))
    assert screen.isVisible()
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, pos=screen.close_box().center().toPoint())
    assert not screen.isVisible() and shop.window.page.id == "welcome"


def test_a_new_session_starts_with_an_empty_list(shop: Shop) -> None:
    shop.add(2)
    first = shop.window.session.session_id
    shop.tap("my-list")
    assert shop.window.take_home.screen.isVisible()
    shop.clock.advance(shop.config.kiosk.idle_timeout_s + 1)
    shop.window.tick()
    # the session ended under the list: the list screen went with it
    assert shop.window.state == SessionState.ATTRACT
    assert not shop.window.take_home.screen.isVisible()
    QTest.mouseClick(shop.window.view, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert shop.window.session.session_id not in (None, first)
    shop.tap("my-list")
    assert shop.window.take_home.screen.isVisible()
    assert shop.window.take_home.screen.items == []
    assert decoded_qr(shop.window) == ""
    empty = shop.sink.of_type("list.shown")[-1]
    assert empty.payload == {"skus": [], "count": 0, "url": None}


def test_the_list_keeps_at_most_max_items() -> None:
    kept = TakeHomeList(max_items=2)
    assert kept.add("s-1", "A") and kept.add("s-1", "B")
    assert not kept.add("s-1", "C") and not kept.add("s-1", "A")
    assert kept.skus("s-1") == ["A", "B"] and kept.skus("s-2") == []
    assert kept.add("s-2", "C") and kept.skus("s-2") == ["C"]


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("https://shop.example/list?id={list_id}", "'list_id' is not a placeholder"),
        ("https://shop.example/list?store={store_id}", "must contain {skus}"),
        ("shop.example/list?skus={skus}", "must start with https://"),
        ("https://shop.example/list?skus={skus.count}&n={skus.size}", "has no attribute 'size'"),
    ],
)
def test_a_bad_url_template_is_a_config_error(tmp_path: Path, template: str, said: str) -> None:
    written = tmp_path / "kiosk.toml"
    written.write_text(f'[take_home]\nurl_template = "{template}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(written)
    assert said in str(raised.value) and "url_template" in str(raised.value)


def test_the_validator_names_a_list_nobody_can_fill(tmp_path: Path) -> None:
    pages = [
        page_xml("attract", "attract", "", "#102030"),
        page_xml(
            "welcome", "Welcome", shape("my-list", "My list", 'kiosk-action="show-list"', 0, 0)
        ),
    ]
    alone = validate(load_experience(write_drawio(tmp_path / "alone.drawio", pages)))
    (finding,) = [f for f in alone if f.code == "show-list-without-add"]
    assert (finding.page, finding.cell_id, finding.label) == ("Welcome", "my-list", "My list")
    pages.append(
        page_xml("p1", "Rope toy", shape("add", "Add", 'kiosk-action="add-to-list"', 0, 0))
    )
    unnamed = validate(load_experience(write_drawio(tmp_path / "unnamed.drawio", pages)))
    codes = {f.code: f for f in unnamed}
    assert "show-list-without-add" not in codes
    assert codes["add-to-list-without-sku"].severity == "error"
    assert codes["add-to-list-without-sku"].cell_id == "add"


def test_the_demo_takes_a_list_home(
    open_window: Callable[..., KioskWindow], config: KioskConfig, sink: MemorySink
) -> None:
    """The worked example: the demo's "Add to my list" panel has a "My list" button."""
    window = open_window(DEMO)
    product = next(p for p in window.experience.pages if p.id.startswith("product-"))
    sku = product.properties["sku"]
    assert window.open_page(product.id)
    shop = Shop(window, FakeClock(), config, sink)
    shop.tap(f"{product.id}-add")
    my_list = product.element(f"{product.id}-my-list")
    assert my_list is not None and window.shown(product, my_list)
    shop.tap(f"{product.id}-my-list")
    assert window.take_home.screen.isVisible()
    assert decoded_qr(window) == f"https://shop.example/list?store=demo-store&skus={sku}"
    assert sink.of_type("list.shown")[0].payload["skus"] == [sku]
    # a finger on a touch screen closes it
    device = QTest.createTouchDevice(QPointingDevice.DeviceType.TouchScreen)
    close = window.take_home.screen.close_box().center().toPoint()
    QTest.touchEvent(window, device).press(0, close, window).commit()
    QTest.touchEvent(window, device).release(0, close, window).commit()
    assert not window.take_home.screen.isVisible() and window.page.id == product.id


def test_a_page_link_on_the_shape_wins_over_the_list(shop: Shop) -> None:
    shop.tap("list-or-p1")
    assert shop.window.page is not None and shop.window.page.id == "p1"
    assert not shop.window.take_home.screen.isVisible()
    assert shop.sink.of_type("list.shown") == []


def test_the_new_events_are_stored_by_the_real_event_log(shop: Shop) -> None:
    """list.shown and session.prompt pass the event log's schema v1 check into SQLite."""
    shop.add(1)
    shop.tap("my-list")
    shop.clock.advance(shop.config.kiosk.idle_timeout_s - 1)
    shop.window.tick()  # the prompt shows
    shop.clock.advance(1)
    shop.window.tick()  # ignored: the session ends
    log = EventLog(shop.config)
    log.start()
    try:
        for event in shop.sink.events:
            log.append(event)
    finally:
        log.stop()
    with sqlite3.connect(log.database) as conn:
        rows = conn.execute(
            "SELECT type, json FROM events WHERE type IN ('list.shown', 'session.prompt') "
            "ORDER BY id"
        ).fetchall()
    stored = [(kind, json.loads(text)["payload"]) for kind, text in rows]
    url = "https://shop.example/list?store=demo-store&skus=DOG-1"
    assert stored == [
        ("list.shown", {"skus": ["DOG-1"], "count": 1, "url": url}),
        (
            "session.prompt",
            {"prompt": "still-there", "step": "shown", "countdown_s": 1.0, "authored": False},
        ),
        (
            "session.prompt",
            {"prompt": "still-there", "step": "expired", "reason": "idle", "after_s": 1.0},
        ),
    ]


def test_the_link_quotes_what_the_url_cannot_carry(config: KioskConfig) -> None:
    config.kiosk.store_id = "north.1"
    config.take_home.url_template = "https://shop.example/{store_id}/list?skus={skus}"
    url = list_url(config, ["DOG 1", "A&B", "C,D"])
    assert url == "https://shop.example/north.1/list?skus=DOG%201,A%26B,C%2CD"


def test_staff_reach_the_admin_pad_over_the_list_and_the_prompt(
    shop: Shop, tasks: TaskRunner, tmp_path: Path
) -> None:
    """The corner taps that open the admin pad work on the kiosk's own screens too."""
    window = shop.window
    admin = install_admin(
        window,
        config=shop.config,
        screen=window,
        record=Recorded(),
        tasks=tasks,
        event_log=None,
        uplink=None,
        presence=None,
        exit_kiosk=lambda: None,
        started_at=0.0,
        library=ContentLibrary(tmp_path / "content"),
        clock=shop.clock,
    )
    try:
        shop.tap("my-list")
        shop.clock.advance(shop.config.kiosk.idle_timeout_s - 1)
        shop.window.tick()
        prompt = window.still_there.prompt
        assert prompt.isVisible() and window.take_home.screen.isVisible()
        corner = QPoint(prompt.width() - 10, 10)
        for _ in range(5):
            shop.clock.advance(0.3)
            QTest.mouseClick(prompt, Qt.MouseButton.LeftButton, pos=corner)
        assert admin.state == "pad"
    finally:
        admin.shutdown()
