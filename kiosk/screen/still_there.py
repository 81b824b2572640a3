"""The "Still there?" prompt over an idle session's page, counting down the seconds left.

The artist may draw it: a page named (or tagged) ``still-there`` shows as the prompt, and
a shape on it with ``kiosk-countdown`` in Edit Data gets the seconds left drawn in its box
(in its font colour) instead of its label; without such a shape a countdown ring shows at
the foot of the page. Without the page the kiosk draws its own: the page dimmed, a card
saying "Still there?" with the ring. A tap anywhere on the prompt keeps the session; the
session machine (``kiosk.models.session``) says when the prompt shows and how long is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from designer_import.model import Page
from designer_import.validate import COUNTDOWN_KEY, still_there_pages
from kiosk.models.session import SessionEnd
from kiosk.screen.fonts import qt_family
from kiosk.screen.overlay import Overlay, ShopperModels
from kiosk.screen.pageview import paint_page
from kiosk.screen.render import PageScene, fit_transform, qcolor
from settings.model import BuiltInText
from storage import JsonObject

#: The built-in prompt's words in English (``[languages.texts.XX]`` gives them in language XX;
#: an authored ``still-there`` page says them in any language, with its ``label_XX``).
TITLE = "Still there?"
HINT = "Touch the screen to keep going"
BUTTON = "I'm still here"
#: The built-in prompt's colours.
DIM = QColor(0, 0, 0, 170)
CARD = QColor("#ffffff")
INK = QColor("#1d2733")
ACCENT = QColor("#1ba1e2")
TRACK = QColor("#d9e2ea")


def draw_ring(painter: QPainter, box: QRectF, share: float, seconds: int, ink: QColor) -> None:
    """A countdown ring in ``box``: the arc left (``share`` of a full turn) and the seconds
    in its middle."""
    pen_width = max(2.0, box.width() * 0.08)
    ring = box.adjusted(pen_width / 2, pen_width / 2, -pen_width / 2, -pen_width / 2)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(TRACK, pen_width))
    painter.drawEllipse(ring)
    pen = QPen(ACCENT, pen_width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawArc(ring, 90 * 16, round(360 * 16 * max(0.0, min(1.0, share))))
    draw_text(painter, box, str(seconds), ink, box.height() * 0.42, bold=True)


def draw_text(
    painter: QPainter,
    box: QRectF,
    text: str,
    ink: QColor,
    pixels: float,
    *,
    bold: bool = False,
    family: str | None = None,
) -> None:
    """``text`` centred in ``box``, ``pixels`` high, wrapped at word boundaries (in
    ``family``, else the window's font)."""
    font = QFont(painter.font())
    if family:
        font.setFamily(family)
    font.setPixelSize(max(1, round(pixels)))
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(ink)
    flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
    painter.drawText(box, int(flags), text)


class StillTherePrompt(Overlay):
    """The prompt; :attr:`tapped` (any tap on it) is the shopper's answer."""

    def __init__(self, parent: QWidget, *, left: Callable[[], float]) -> None:
        super().__init__(parent)
        #: Seconds until the session ends (the session machine's ``prompt_left``).
        self.left = left
        self.countdown_s = 1.0
        #: One of the kiosk's texts in the shopper's language (``SessionLanguage.text``).
        self.text: Callable[[BuiltInText, str], str] = lambda _key, english: english
        #: The artist's prompt page, drawn instead of the built-in card (None: built in).
        self.scene: PageScene | None = None
        self._countdown_ids: list[str] = []
        #: The artist's page as drawn at the widget's size (the scene it was drawn from).
        self._drawn: tuple[PageScene, QPixmap] | None = None

    def open(self, page: Page | None, countdown_s: float) -> None:
        """Show the prompt (the artist's ``page`` if given) for a ``countdown_s`` countdown."""
        self.countdown_s = max(countdown_s, 0.001)
        if page is None:
            self.scene = None
            self._countdown_ids = []
        elif self.scene is None or self.scene.page is not page:
            self.scene = PageScene(page)
            self._countdown_ids = [
                e.id for e in page.elements if e.properties.get(COUNTDOWN_KEY, "").strip()
            ]
            for element_id in self._countdown_ids:
                item = self.scene.items_by_id.get(element_id)
                if item is not None:
                    item.setVisible(False)  # its box shows the seconds instead
        self.cover()

    def seconds_left(self) -> int:
        """The whole seconds the countdown shows."""
        return max(0, math.ceil(self.left() - 1e-6))

    def paintEvent(self, event: QPaintEvent) -> None:
        """The artist's page with the seconds in it, or the built-in card."""
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            if self.scene is not None:
                self._paint_page(painter, self.scene)
            else:
                self._paint_card(painter)
        finally:
            painter.end()

    def _paint_page(self, painter: QPainter, scene: PageScene) -> None:
        width, height = self.width(), self.height()
        drawn = self._drawn
        if drawn is None or drawn[0] is not scene or drawn[1].size() != self.size():
            # the page is drawn once; each second only the countdown is drawn on it
            ratio = self.devicePixelRatioF()
            picture = QPixmap(self.size() * ratio)
            picture.setDevicePixelRatio(ratio)
            canvas = QPainter(picture)
            paint_page(canvas, scene, width, height)
            canvas.end()
            drawn = self._drawn = (scene, picture)
        painter.drawPixmap(0, 0, drawn[1])
        share = self.left() / self.countdown_s
        seconds = self.seconds_left()
        boxes = []
        for element_id in self._countdown_ids:
            element = scene.page.element(element_id)
            item = scene.items_by_id.get(element_id)
            if element is None or item is None:
                continue
            box = self._on_screen(scene, item.sceneBoundingRect())
            boxes.append(box)
            ink = qcolor(element.style.font_color) or INK
            family = qt_family(element.style.font_family)
            draw_text(painter, box, str(seconds), ink, box.height() * 0.6, bold=True, family=family)
        if not boxes:
            side = min(width, height) * 0.14
            box = QRectF(width / 2 - side / 2, height - side * 1.25, side, side)
            painter.setBrush(CARD)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(box.adjusted(-6, -6, 6, 6))
            draw_ring(painter, box, share, seconds, INK)

    def _on_screen(self, scene: PageScene, rect: QRectF) -> QRectF:
        transform = fit_transform(scene.viewport_rect, self.width(), self.height())
        return transform.mapRect(rect)

    def _paint_card(self, painter: QPainter) -> None:
        width, height = self.width(), self.height()
        painter.fillRect(self.rect(), DIM)
        unit = min(height, width * 9 / 16)
        card = QRectF(0, 0, unit * 0.95, unit * 0.8)
        card.moveCenter(QPointF(width / 2, height / 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(CARD)
        painter.drawRoundedRect(card, unit * 0.04, unit * 0.04)
        left = card.left() + unit * 0.05
        inner = card.width() - unit * 0.1
        title = QRectF(left, card.top() + unit * 0.05, inner, unit * 0.12)
        draw_text(painter, title, self.text("still_there", TITLE), INK, unit * 0.085, bold=True)
        hint = QRectF(left, title.bottom(), inner, unit * 0.08)
        draw_text(painter, hint, self.text("still_there_hint", HINT), INK, unit * 0.042)
        side = unit * 0.26
        ring = QRectF(width / 2 - side / 2, hint.bottom() + unit * 0.03, side, side)
        draw_ring(painter, ring, self.left() / self.countdown_s, self.seconds_left(), INK)
        button = QRectF(0, 0, unit * 0.5, unit * 0.12)
        button.moveCenter(QPointF(width / 2, card.bottom() - unit * 0.1))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ACCENT)
        painter.drawRoundedRect(button, button.height() / 2, button.height() / 2)
        draw_text(painter, button, self.text("keep_going", BUTTON), CARD, unit * 0.045, bold=True)


class StillThere:
    """Puts the prompt up and takes it down as the session machine says, and records each
    step as a ``session.prompt`` event (UI thread). The window calls :meth:`sync` after
    each tick, touch and presence report, and :meth:`ended` for each session that ends."""

    def __init__(self, window: QWidget, models: ShopperModels) -> None:
        self.session = models.session
        self.recorder = models.recorder
        self.navigation = models.navigation
        self.language = models.language
        self.prompt = StillTherePrompt(window, left=models.session.prompt_left)
        self.prompt.text = models.language.text
        self.prompt.tapped.connect(self._tapped)
        self._shown_since: float | None = None

    def sync(self) -> None:
        """Record an answer, show a prompt the machine put up, hide one it took down, and
        redraw the countdown."""
        answer = self.session.take_answer()
        if answer is not None:
            payload: JsonObject = {"by": answer.by, "after_s": answer.after_s}
            self.recorder.session_prompt(self.navigation.page, "kept", payload)
        since = self.session.prompt_since
        if since is None:
            self._shown_since = None
            self.prompt.hide()
            return
        if since != self._shown_since:
            self._shown_since = since
            countdown = round(self.session.prompt_left(), 3)
            pages = still_there_pages(self.navigation.experience)
            self.prompt.open(self.language.page(pages[0]) if pages else None, countdown)
            payload = {"countdown_s": countdown, "authored": bool(pages)}
            self.recorder.session_prompt(self.navigation.page, "shown", payload)
        elif not self.prompt.isVisible():
            self.prompt.cover()
        self.prompt.update()

    def ended(self, ended: SessionEnd, *, by_itself: bool) -> None:
        """``ended`` is over (``by_itself``: its timeouts ended it): with the prompt up, an
        "expired" step (an "ended" one when staff, a reload or an error ended it)."""
        if ended.prompted and self._shown_since is not None:
            after_s = round(self.session.clock() - self._shown_since, 3)
            payload: JsonObject = {"reason": ended.reason, "after_s": after_s}
            step = "expired" if by_itself else "ended"
            self.recorder.session_prompt(self.navigation.page, step, payload, ended=ended)
        self._shown_since = None
        self.prompt.hide()

    def _tapped(self, _x: int, _y: int) -> None:
        """A tap on the prompt: the shopper is still there."""
        self.session.touch()
        self.sync()
