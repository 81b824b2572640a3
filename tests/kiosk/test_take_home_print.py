"""The list to take home on paper: the list screen's Print button sends an ESC/POS slip to the
receipt printer's device file, off the UI thread. Here the device is a real file (what the
printer would get, read back: its QR raster decodes with OpenCV to the list's link) and real
faults: ``/dev/full`` (the device takes no more bytes) and a device that is not there (an
unplugged printer). The shopper sees a line about it, never an error; each try is recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kiosk.models.interactions import MemorySink
from kiosk.models.receipt import PrintFailed, print_list
from kiosk.models.take_home import ListItem
from kiosk.screen.take_home import NOT_PRINTED, PRINTED
from kiosk.screen.window import KioskWindow
from settings import KioskConfig
from tests.kiosk.test_take_home import list_drawing

URL = "https://shop.example/list?store=demo-store&skus=DOG-1,DOG-2"
GS_V_0 = b"\x1dv0"


def raster_pictures(data: bytes) -> list[np.ndarray]:
    """The raster pictures (``GS v 0 m xL xH yL yH d...``) in ESC/POS bytes, as 8-bit grey
    images (black dots 0, paper 255)."""
    pictures = []
    start = data.find(GS_V_0)
    while start >= 0:
        head = start + len(GS_V_0) + 1  # after the mode byte
        row_bytes = data[head] + 256 * data[head + 1]
        rows = data[head + 2] + 256 * data[head + 3]
        body = np.frombuffer(data, np.uint8, row_bytes * rows, head + 4)
        dots = np.unpackbits(body.reshape(rows, row_bytes), axis=1)
        pictures.append(np.where(dots == 1, 0, 255).astype(np.uint8))
        start = data.find(GS_V_0, head + 4 + row_bytes * rows)
    return pictures


def decoded(picture: np.ndarray) -> str:
    """What OpenCV reads from a QR code in ``picture`` (with a white margin around it)."""
    framed = cv2.copyMakeBorder(picture, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=255)
    text, _points, _code = cv2.QRCodeDetector().detectAndDecode(framed)
    return str(text)


@pytest.fixture
def list_shown(
    open_window: Callable[..., KioskWindow], tmp_path: Path, config: KioskConfig
) -> Callable[[Path], KioskWindow]:
    """``list_shown(printer)``: the list drawing's window with ``printer`` configured, two
    products on the list and the list screen up."""

    def show(printer: Path) -> KioskWindow:
        config.take_home.printer = printer
        window = open_window(list_drawing(tmp_path / "list.drawio"))
        QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
        session_id = window.session.session_id
        assert session_id is not None
        window.take_home.list.add(session_id, "DOG-1")
        window.take_home.list.add(session_id, "DOG-2")
        page = window.page
        assert page is not None
        window.take_home.show(page, "my-list")
        assert window.take_home.screen.url == URL
        return window

    return show


def tap_print(window: KioskWindow) -> None:
    box = window.take_home.screen.print_box()
    assert not box.isEmpty(), "a Print button shows when a printer is configured"
    QTest.mouseClick(window.take_home.screen, Qt.MouseButton.LeftButton, pos=box.center().toPoint())


def test_the_slip_carries_the_list_and_its_qr_code(
    list_shown: Callable[[Path], KioskWindow], tmp_path: Path, qtbot: QtBot, sink: MemorySink
) -> None:
    device = tmp_path / "lp0"
    device.touch()  # the printer's device file is there before the kiosk writes to it
    window = list_shown(device)
    tap_print(window)
    screen = window.take_home.screen
    qtbot.waitUntil(lambda: screen.status == PRINTED, timeout=20_000)
    slip = device.read_bytes()
    assert b"My list" in slip and b"- Rope toy (DOG-1)" in slip and b"- Chew bone (DOG-2)" in slip
    (picture,) = raster_pictures(slip)
    assert decoded(picture) == URL
    (printed,) = [e for e in sink.of_type("action") if e.payload["action"] == "print-list"]
    assert printed.payload == {"action": "print-list", "skus": ["DOG-1", "DOG-2"], "printed": True}
    assert printed.session_id == window.session.session_id


@pytest.mark.parametrize(
    ("device", "said"),
    [
        (Path("/dev/full"), "No space left on device"),
        (Path("/nonexistent-printer/lp0"), "No such file or directory"),
    ],
)
def test_a_printer_that_fails_is_said_on_screen_and_recorded(
    list_shown: Callable[[Path], KioskWindow],
    qtbot: QtBot,
    sink: MemorySink,
    device: Path,
    said: str,
) -> None:
    window = list_shown(device)
    tap_print(window)
    screen = window.take_home.screen
    qtbot.waitUntil(lambda: screen.status == NOT_PRINTED, timeout=20_000)
    (tried,) = [e for e in sink.of_type("action") if e.payload["action"] == "print-list"]
    assert tried.payload["printed"] is False
    assert tried.payload["error"] == f"printer {device}: {said}"
    # the shopper can still scan the code, and close the list
    assert screen.isVisible()
    QTest.mouseClick(screen, Qt.MouseButton.LeftButton, pos=screen.close_box().center().toPoint())
    assert not screen.isVisible()


def test_no_print_button_without_a_printer_or_a_list(
    list_shown: Callable[[Path], KioskWindow], tmp_path: Path, config: KioskConfig
) -> None:
    window = list_shown(tmp_path / "lp0")
    screen = window.take_home.screen
    screen.open([], None, printable=True)
    assert screen.print_box().isEmpty()
    config.take_home.printer = None
    page = window.page
    assert page is not None
    window.take_home.show(page, "my-list")
    assert screen.url == URL and screen.print_box().isEmpty()


def test_an_unknown_printer_model_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(PrintFailed, match=r"\[take_home\] printer_profile = 'TM-NONE'"):
        print_list(tmp_path / "lp0", [ListItem("A", "A")], URL, store="s", profile="TM-NONE")
    assert not (tmp_path / "lp0").exists()
