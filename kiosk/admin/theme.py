"""The admin panel's look: big type readable from a metre away, green/amber/red status."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractScrollArea, QLabel, QPushButton, QScroller, QSizePolicy

from kiosk.admin.tiles import Level

BACKGROUND = "#11181c"
PANEL = "#1c262b"
TEXT = "#f2f5f7"
MUTED = "#9fb0b9"
ACCENT = "#2f80ed"
COLOURS: dict[Level, str] = {
    "ok": "#1f9d55",  # green: nothing to do
    "warn": "#d99a00",  # amber: works, but look at it
    "bad": "#d43a2f",  # red: broken, act now
    "off": "#4a5a63",  # grey: switched off on purpose
}
WORDS: dict[Level, str] = {"ok": "OK", "warn": "CHECK", "bad": "FAULT", "off": "OFF"}

#: Pixel sizes: at 1920x1080 on a 32" screen, 30 px is about 9 mm: legible at a metre.
FONT_TITLE = 44
FONT_VALUE = 30
FONT_BODY = 24
FONT_BUTTON = 30

STYLE_SHEET = f"""
QWidget#adminOverlay, QWidget#adminOverlay QWidget {{
    background: {BACKGROUND}; color: {TEXT}; font-family: "DejaVu Sans"; font-size: {FONT_BODY}px;
}}
QPushButton {{
    background: {PANEL}; color: {TEXT}; border: 2px solid #33434b; border-radius: 14px;
    font-size: {FONT_BUTTON}px; padding: 14px 22px; min-height: 64px;
}}
QPushButton:pressed {{ background: {ACCENT}; }}
QPushButton:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QPushButton:disabled {{ color: #5c6b73; border-color: #2a353b; }}
QPushButton[danger="true"] {{ background: #5a1d19; border-color: {COLOURS["bad"]}; }}
QListWidget, QTableWidget, QPlainTextEdit {{
    background: {PANEL}; color: {TEXT}; border: 2px solid #33434b; border-radius: 10px;
    font-size: {FONT_BODY}px;
}}
QListWidget::item {{ padding: 12px; }}
QListWidget::item:selected {{ background: {ACCENT}; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; font-size: {FONT_BODY}px;
    border: none; padding: 6px; }}
QSlider::groove:horizontal {{ height: 14px; background: #33434b; border-radius: 7px; }}
QSlider::handle:horizontal {{ width: 56px; margin: -22px 0; background: {ACCENT};
    border-radius: 28px; }}
QScrollBar:vertical {{ width: 28px; }}
"""


def label(
    text: str = "",
    size: int = FONT_BODY,
    *,
    bold: bool = False,
    colour: str = TEXT,
    wrap: bool = True,
) -> QLabel:
    """A label in the panel's type scale."""
    widget = QLabel(text)
    weight = "bold" if bold else "normal"
    widget.setStyleSheet(
        f"font-size: {size}px; font-weight: {weight}; color: {colour}; background: transparent;"
    )
    widget.setWordWrap(wrap)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return widget


def button(text: str, *, danger: bool = False, checkable: bool = False) -> QPushButton:
    """A big touch button (at least 64 px high)."""
    widget = QPushButton(text)
    widget.setCheckable(checkable)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    if danger:
        widget.setProperty("danger", "true")
    return widget


def title(text: str) -> QLabel:
    """A page title."""
    return label(text, FONT_TITLE, bold=True, wrap=False)


def touch_scroll(area: QAbstractScrollArea) -> None:
    """Let a finger drag the list or text (kinetic scrolling), as phones do."""
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
