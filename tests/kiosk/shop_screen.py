"""A shopper window under test with the session tests' hand-moved clock, its config and the
events it recorded, and the taps a shopper makes on it (the "Still there?" and list to take
home tests)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kiosk.models.interactions import MemorySink
from kiosk.screen.window import KioskWindow
from settings import KioskConfig
from tests.support.clock import FakeClock


def tap(window: KioskWindow, element_id: str) -> None:
    """A tap on the shape ``element_id`` of the page ``window`` shows."""
    point = window.view.touch_point(element_id)
    assert point is not None, element_id
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


@dataclass(frozen=True)
class Shop:
    """The window, its clock, its config and its events."""

    window: KioskWindow
    clock: FakeClock
    config: KioskConfig
    sink: MemorySink

    def tap(self, element_id: str) -> None:
        """A tap on the shape ``element_id`` of the page shown."""
        tap(self.window, element_id)

    def add(self, number: int) -> None:
        """Open product ``number`` of the list drawing, add it to the list, go back."""
        self.tap(f"to-p{number}")
        assert self.window.page is not None and self.window.page.id == f"p{number}"
        self.tap(f"add-{number}")
        self.tap(f"back-{number}")
        assert self.window.page is not None and self.window.page.id == "welcome"
