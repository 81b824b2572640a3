"""The large touch PIN pad that stands between shoppers and the admin panel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.admin import theme
from kiosk.admin.pins import PIN_MAX_DIGITS, PIN_MIN_DIGITS

KEY_SIZE = 120


class PinPad(QWidget):
    """Digits 0-9, delete, OK and cancel; the PIN shows as dots.

    ``submitted(pin)`` when OK is pressed with 4-8 digits, ``cancelled()`` on cancel. The
    controller decides what a PIN means and calls :meth:`show_message`, :meth:`show_locked`
    and :meth:`set_enabled_keys`.
    """

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pin = ""
        self.title = theme.label("Staff only", theme.FONT_TITLE, bold=True, wrap=False)
        self.dots = theme.label("", 64, bold=True, wrap=False)
        self.dots.setMinimumHeight(90)
        self.message = theme.label("Enter your PIN", theme.FONT_VALUE)
        self.message.setMinimumWidth(3 * KEY_SIZE + 60)
        for widget in (self.title, self.dots, self.message):
            widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(18)
        layout_keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        for index, key in enumerate(layout_keys):
            button = theme.button(key)
            button.setFixedSize(KEY_SIZE, KEY_SIZE)
            button.setStyleSheet(f"font-size: 44px; border-radius: {KEY_SIZE // 2}px;")
            button.clicked.connect(lambda _checked=False, k=key: self.press(k))
            grid.addWidget(button, index // 3, index % 3)
            self.keys[key] = button
        self.cancel_button = theme.button("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(self.title)
        column.addWidget(self.dots)
        column.addWidget(self.message)
        column.addLayout(grid)
        column.addSpacing(20)
        column.addWidget(self.cancel_button)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column)
        outer.addStretch(1)
        self._render()

    def press(self, key: str) -> None:
        """A key was touched: a digit, ⌫ (delete) or OK."""
        if key == "⌫":
            self._pin = self._pin[:-1]
        elif key == "OK":
            if len(self._pin) >= PIN_MIN_DIGITS:
                pin, self._pin = self._pin, ""
                self._render()
                self.submitted.emit(pin)
                return
            self.message.setText(f"A PIN has {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
        elif key.isdigit() and len(self._pin) < PIN_MAX_DIGITS:
            self._pin += key
        self._render()

    def enter(self, pin: str) -> None:
        """Type ``pin`` and press OK (what a finger does)."""
        for digit in pin:
            self.press(digit)
        self.press("OK")

    def clear(self) -> None:
        """Forget the digits typed."""
        self._pin = ""
        self._render()

    def show_message(self, text: str, level: str = "") -> None:
        """A line under the dots; ``level`` "bad"/"warn" colours it."""
        colour = {"bad": theme.COLOURS["bad"], "warn": theme.COLOURS["warn"]}.get(level, theme.TEXT)
        self.message.setText(text)
        self.message.setStyleSheet(
            f"font-size: {theme.FONT_VALUE}px; color: {colour}; background: transparent;"
        )

    def set_keys_enabled(self, enabled: bool) -> None:
        """Lock or unlock the digit keys (cancel always works)."""
        for button in self.keys.values():
            button.setEnabled(enabled)

    def _cancel(self) -> None:
        self.clear()
        self.cancelled.emit()

    def _render(self) -> None:
        self.dots.setText("● " * len(self._pin) + "○ " * max(0, PIN_MIN_DIGITS - len(self._pin)))
