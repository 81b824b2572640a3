"""A screen drawn by the kiosk over the shopper's page (the "Still there?" prompt, the list
to take home): a child of the shopper window that covers it whole, follows its size and
takes every tap while it shows."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QWidget

from kiosk.models.interactions import EventRecorder
from kiosk.models.languages import SessionLanguage
from kiosk.models.navigation import Navigation
from kiosk.models.session import SessionMachine


@dataclass(frozen=True, slots=True)
class ShopperModels:
    """The shopper window's models that the kiosk's own screens read and record through."""

    session: SessionMachine
    recorder: EventRecorder
    navigation: Navigation
    #: The shopper's language: the kiosk's own texts in it (``language.text``).
    language: SessionLanguage


class Overlay(QWidget):
    """Hidden until :meth:`cover`; covers its parent, tracks its resizes, and turns a press
    and release into :attr:`tapped` (with the release point, widget pixels)."""

    #: A tap on the overlay (x, y in widget pixels).
    tapped = Signal(int, int)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.hide()
        parent.installEventFilter(self)
        self.setGeometry(parent.rect())
        self._pressed = False
        #: The child of the parent whose place the overlay covers (None: all of the parent).
        self._area: QWidget | None = None

    def follow(self, area: QWidget) -> None:
        """Cover ``area`` (a child of the parent: the page's view, which reach mode moves
        into the screen's lower part) instead of the whole parent."""
        self._area = area
        area.installEventFilter(self)
        self._fit()

    def _fit(self) -> None:
        parent = self.parentWidget()
        if self._area is not None:
            self.setGeometry(self._area.geometry())
        elif parent is not None:
            self.setGeometry(parent.rect())

    def cover(self) -> None:
        """Show over the whole parent (or the area it follows), above its other children."""
        self._fit()
        self.show()
        self.raise_()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's size (and the area's place and size)."""
        moved = event.type() in (QEvent.Type.Resize, QEvent.Type.Move)
        if moved and watched in (self.parentWidget(), self._area):
            self._fit()
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A finger (or the mouse) goes down on the overlay."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = True
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A finger (or the mouse) lifts: a tap where it lifted."""
        if event.button() == Qt.MouseButton.LeftButton and self._pressed:
            self._pressed = False
            point = event.position().toPoint()
            self.tapped.emit(point.x(), point.y())
        event.accept()
