"""Can every shopper read it: text size on the kiosk's screen and text contrast (WCAG 2).

Plain checks on the model for the validator: a label whose font is smaller than
``MIN_TEXT_PX`` once the page is fitted to the kiosk's screen, and a label whose colour
against what is behind it (the label's background, else the shape's fill, else the page's
background, else white) has a contrast ratio under ``MIN_CONTRAST`` by WCAG 2's formula
(relative luminance of sRGB colours). Only the shape's own colours are known here: colours
inside formatted (HTML) text and pictures under a label are not looked at.

Large text mode (the kiosk's ``kiosk-action=large-text``): a page named ``NAME@a11y`` is the
artist's large-text page for page ``NAME``; without one, :func:`large_text` enlarges a page's
text and makes it black or white.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from designer_import.model import Element, Experience, Page, ShapeKind

#: Text smaller than this many screen pixels is hard to read at a kiosk.
MIN_TEXT_PX = 12.0
#: WCAG 2 AA's minimum contrast ratio for text.
MIN_CONTRAST = 4.5
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
#: Shapes whose fill is not behind their label.
_NO_FILL_BEHIND = frozenset({ShapeKind.TEXT, ShapeKind.EDGE, ShapeKind.LINE, ShapeKind.IMAGE})


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of a ``#rrggbb`` colour (0 black .. 1 white)."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two ``#rrggbb`` colours (1 .. 21)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def behind_label(page: Page, element: Element, below: Sequence[Element]) -> str | None:
    """The colour the label is drawn on: its label background, the shape's fill, else the
    fill of the topmost shape of ``below`` (drawn before it) under its middle, else the
    page's background (white when none); None when a picture is there (not looked at)."""
    style = element.style
    if style.label_background:
        return style.label_background
    if style.fill and element.kind not in _NO_FILL_BEHIND:
        return style.fill
    middle = element.label_anchor or element.geometry.center
    for other in reversed(below):
        if not other.visible or other.is_edge or not other.geometry.contains(middle):
            continue
        if other.kind == ShapeKind.IMAGE or other.image is not None:
            return None
        if other.style.fill and other.kind not in _NO_FILL_BEHIND:
            return other.style.fill
    if page.background_image is not None:
        return None
    return page.background or "#ffffff"


def screen_scale(page: Page, target: tuple[int, int]) -> float:
    """Screen pixels per drawing unit when ``page`` is fitted to a ``target`` screen."""
    box = page.viewport
    if box.width <= 0 or box.height <= 0:
        return 1.0
    return min(target[0] / box.width, target[1] / box.height)


@dataclass(frozen=True, slots=True)
class ReadabilityProblem:
    """One label that is hard to read: ``code`` is ``small-text`` or ``low-contrast``."""

    code: str
    element: Element
    message: str
    fix: str


def readability_problems(page: Page, target: tuple[int, int]) -> list[ReadabilityProblem]:
    """The labels of ``page`` too small or too faint on a ``target`` (width, height)
    screen, in drawing order."""
    scale = screen_scale(page, target)
    problems: list[ReadabilityProblem] = []
    for index, element in enumerate(page.elements):
        label = element.label
        if label is None or not label.plain.strip() or not element.visible:
            continue
        size = element.style.font_size * scale
        if size < MIN_TEXT_PX:
            problems.append(
                ReadabilityProblem(
                    "small-text",
                    element,
                    f"text is {size:.1f} px high at {target[0]}x{target[1]} "
                    f"(minimum {MIN_TEXT_PX:.0f} px)",
                    "make the font bigger (Text: font size)",
                )
            )
        ink = element.style.font_color
        paper = behind_label(page, element, page.elements[:index])
        if ink is None or paper is None or not (_HEX.fullmatch(ink) and _HEX.fullmatch(paper)):
            continue
        ratio = contrast_ratio(ink, paper)
        if ratio < MIN_CONTRAST:
            problems.append(
                ReadabilityProblem(
                    "low-contrast",
                    element,
                    f"text {ink} on {paper} has a contrast of {ratio:.2f}:1 "
                    f"(WCAG minimum {MIN_CONTRAST}:1)",
                    "darken the text or lighten what is behind it (or the other way round)",
                )
            )
    return problems


#: A page named ``NAME@a11y`` replaces the page named ``NAME`` in large text mode.
A11Y_SUFFIX = "@a11y"
#: Large text mode without an alternate page: text this many times bigger.
LARGE_TEXT_FACTOR = 1.5


def a11y_page(experience: Experience, page: Page) -> Page | None:
    """The artist's large-text page for ``page`` (named ``page``'s name + ``@a11y``, case
    ignored), or None."""
    wanted = (page.name + A11Y_SUFFIX).strip().lower()
    for candidate in experience.pages:
        if candidate.name.strip().lower() == wanted:
            return candidate
    return None


def is_a11y_page(experience: Experience, page: Page) -> bool:
    """``page`` is another page's large-text page (shown instead of it, not linked to)."""
    name = page.name.strip().lower()
    if not name.endswith(A11Y_SUFFIX):
        return False
    base = name[: -len(A11Y_SUFFIX)]
    return any(other.name.strip().lower() == base for other in experience.pages)


def large_text(page: Page) -> Page:
    """``page`` with its text ``LARGE_TEXT_FACTOR`` times bigger and in black or white,
    whichever stands out more from what is behind it (high contrast)."""
    elements = []
    for index, element in enumerate(page.elements):
        if element.label is None:
            elements.append(element)
            continue
        style = replace(element.style, font_size=element.style.font_size * LARGE_TEXT_FACTOR)
        paper = behind_label(page, element, page.elements[:index])
        if paper is not None and _HEX.fullmatch(paper) and style.font_color is not None:
            dark = contrast_ratio("#000000", paper) >= contrast_ratio("#ffffff", paper)
            style.font_color = "#000000" if dark else "#ffffff"
        elements.append(replace(element, style=style))
    return replace(page, elements=elements)
