"""The list to take home: the products the shopper put on their list and a QR code of the
link that opens it on their phone (``[take_home] url_template``), drawn by the kiosk over
the page whose ``kiosk-action=show-list`` shape was tapped.

The QR code is made here, offline, with ``segno`` and drawn module by module at a whole
number of pixels per module (a phone's camera reads sharp edges best). A tap on "Close"
closes the list; any other tap on it only counts as the shopper being there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from designer_import.model import Element, KioskAction, Page
from kiosk.models.receipt import print_list
from kiosk.models.take_home import ADD_TO_LIST, SHOW_LIST, ListItem, TakeHomeList, list_url
from kiosk.screen.overlay import Overlay, ShopperModels
from kiosk.screen.still_there import draw_text
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from settings.model import BuiltInText

log = logging.getLogger(__name__)

#: The list screen's words.
TITLE = "My list"
SCAN = "Scan with your phone to take your list home"
EMPTY = "Your list is empty"
EMPTY_HINT = 'Tap "Add to my list" on a product to keep it here'
CLOSE = "Close"
PRINT = "Print"
PRINTING = "Printing your list..."
PRINTED = "Take your list from the printer below"
NOT_PRINTED = "The printer is not working: scan the code instead"
#: The task runner's lane for the receipt printer: one slip at a time.
PRINT_LANE = "receipt-printer"
#: Its colours.
PAPER = QColor("#f7f9fb")
INK = QColor("#1d2733")
MUTED = QColor("#5b6b7a")
ACCENT = QColor("#1ba1e2")
WHITE = QColor("#ffffff")
#: Modules of white around the code (the QR standard's quiet zone).
QUIET_ZONE = 4


def qr_image(url: str) -> QImage:
    """The QR code of ``url`` (error correction M), one pixel per module, with its quiet
    zone: black on white."""
    # with the first list shown, not with the window: segno (and the urllib it loads)
    # costs the kiosk's start about 0.1 s before its first page (issue 17)
    import segno

    code = segno.make_qr(url, error="m")
    rows = code.matrix
    side = len(rows) + 2 * QUIET_ZONE
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(WHITE)
    dark = QColor(0, 0, 0).rgb()
    for y, row in enumerate(rows):
        for x, module in enumerate(row):
            if module & 1:
                image.setPixel(x + QUIET_ZONE, y + QUIET_ZONE, dark)
    return image


class ListScreen(Overlay):
    """The list and its QR code; :attr:`Overlay.tapped` reports every tap on it (the
    window closes it when the tap is on :meth:`close_box`)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.items: list[ListItem] = []
        #: The link the QR code carries (None for an empty list: no code).
        self.url: str | None = None
        #: A "Print" button shows (a printer is configured and the list has items).
        self.printable = False
        #: A line about the printed slip ("Printing your list...", ...), empty: none.
        self.status = ""
        self._code: QImage | None = None
        #: One of the kiosk's texts in the shopper's language (``SessionLanguage.text``).
        self.text: Callable[[BuiltInText, str], str] = lambda _key, english: english

    def open(self, items: list[ListItem], url: str | None, *, printable: bool = False) -> None:
        """Show ``items`` and the QR code of ``url`` (``printable``: with a Print button)."""
        self.items = list(items)
        self.url = url
        self.printable = printable and url is not None
        self.status = ""
        self._code = qr_image(url) if url else None
        self.cover()

    def set_status(self, text: str) -> None:
        """Say how the printed slip is getting on."""
        self.status = text
        self.update()

    def _unit(self) -> float:
        return min(float(self.height()), self.width() * 9 / 16)

    def close_box(self) -> QRectF:
        """Where the "Close" button is (widget pixels)."""
        unit = self._unit()
        return QRectF(unit * 0.06, self.height() - unit * 0.2, unit * 0.32, unit * 0.13)

    def print_box(self) -> QRectF:
        """Where the "Print" button is (widget pixels; empty when there is none)."""
        if not self.printable:
            return QRectF()
        close = self.close_box()
        return close.translated(close.width() + self._unit() * 0.03, 0)

    def code_box(self) -> QRectF:
        """Where the QR code is drawn (widget pixels; empty when there is none)."""
        if self._code is None:
            return QRectF()
        unit = self._unit()
        room = min(self.width() * 0.42, self.height() - unit * 0.3)
        scale = max(1, int(room // self._code.width()))
        side = float(self._code.width() * scale)
        centre = QPointF(self.width() * 0.72, self.height() / 2 - unit * 0.03)
        box = QRectF(0, 0, side, side)
        box.moveCenter(centre)
        return QRectF(round(box.x()), round(box.y()), side, side)

    def paintEvent(self, event: QPaintEvent) -> None:
        """The title, the items, the code and the Close button."""
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.fillRect(self.rect(), PAPER)
            self._paint_list(painter)
            self._paint_code(painter)
            self._paint_buttons(painter)
        finally:
            painter.end()

    def _paint_buttons(self, painter: QPainter) -> None:
        box = self.close_box()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ACCENT)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        draw_text(painter, box, self.text("close", CLOSE), WHITE, box.height() * 0.42, bold=True)
        if self.printable:
            box = self.print_box()
            painter.setPen(QPen(ACCENT, max(2.0, box.height() * 0.04)))
            painter.setBrush(WHITE)
            painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
            label = self.text("print", PRINT)
            draw_text(painter, box, label, ACCENT, box.height() * 0.42, bold=True)
        if self.status:
            unit = self._unit()
            line = QRectF(box.left(), box.top() - unit * 0.09, self.width() * 0.45, unit * 0.07)
            line.moveLeft(self.close_box().left())
            draw_left(painter, line, self.status, INK, unit * 0.035, bold=True)

    def _paint_list(self, painter: QPainter) -> None:
        unit = self._unit()
        left = unit * 0.06
        column = self.width() * (0.46 if self._code is not None else 0.88)
        title = QRectF(left, unit * 0.05, column, unit * 0.12)
        painter.setPen(INK)
        draw_left(painter, title, self.text("my_list", TITLE), INK, unit * 0.08, bold=True)
        if not self.items:
            box = QRectF(left, self.height() / 2 - unit * 0.12, self.width() - 2 * left, unit * 0.1)
            draw_text(painter, box, self.text("empty", EMPTY), INK, unit * 0.065, bold=True)
            hint = self.text("empty_hint", EMPTY_HINT)
            draw_text(painter, box.translated(0, unit * 0.11), hint, MUTED, unit * 0.04)
            return
        line = unit * 0.075
        room = int((self.close_box().top() - title.bottom() - unit * 0.13) // line)
        shown = self.items if len(self.items) <= room else self.items[: max(0, room - 1)]
        y = title.bottom() + unit * 0.03
        for item in shown:
            draw_left(painter, QRectF(left, y, column, line), f"•  {item.name}", INK, line * 0.5)
            y += line
        if len(shown) < len(self.items):
            more = f"and {len(self.items) - len(shown)} more"
            draw_left(painter, QRectF(left, y, column, line), more, MUTED, line * 0.45)

    def _paint_code(self, painter: QPainter) -> None:
        if self._code is None:
            return
        box = self.code_box()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(box, self._code)
        unit = self._unit()
        caption = QRectF(
            box.left() - unit * 0.1,
            box.bottom() + unit * 0.02,
            box.width() + unit * 0.2,
            unit * 0.1,
        )
        draw_text(painter, caption, self.text("scan", SCAN), MUTED, unit * 0.035)


def draw_left(
    painter: QPainter, box: QRectF, text: str, ink: QColor, pixels: float, *, bold: bool = False
) -> None:
    """``text`` on one line at the left of ``box``, cut with an ellipsis when too long."""
    font = painter.font()
    font.setPixelSize(max(1, round(pixels)))
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(ink)
    shown = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(box.width()))
    flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(box, int(flags), shown)


class TakeHome:
    """Carries out ``add-to-list`` and ``show-list`` for the shopper window and shows the
    list screen over it (UI thread); ``list.shown`` records each showing."""

    def __init__(
        self, window: QWidget, models: ShopperModels, *, config: KioskConfig, tasks: TaskRunner
    ) -> None:
        self.config = config
        self.models = models
        self.tasks = tasks
        self.list = TakeHomeList(config.take_home.max_items)
        self.screen = ListScreen(window)
        self.screen.text = models.language.text
        self.screen.tapped.connect(self._tapped)
        #: The page the list shows over (for the print's event).
        self._page: Page | None = None
        self._printing = False

    def act(self, page: Page, element: Element, action: KioskAction, *, linked: bool) -> bool:
        """Carry out ``action`` if it is the list's; True when the list screen opened
        (``linked``: the shape links to a page, which wins over showing the list)."""
        if action.name == ADD_TO_LIST:
            sku = action.params.get("sku", "").strip()
            session_id = self.models.session.session_id
            if not sku or session_id is None:
                log.warning("page %r: add-to-list on %s names no sku", page.name, element.id)
                return False
            self.list.add(session_id, sku)
            return False
        if action.name == SHOW_LIST and not linked:
            self.show(page, element.id)
            return True
        return False

    def show(self, page: Page, element: str | None) -> None:
        """Show this session's list over ``page``, and record it."""
        session_id = self.models.session.session_id
        items = self.list.items(session_id, self.models.navigation.experience)
        skus = [item.sku for item in items]
        url = list_url(self.config, skus) if skus else None
        printable = self.config.take_home.printer is not None
        self.screen.open(items, url, printable=printable)
        self._page = page
        self.models.recorder.list_shown(page, element, skus, url)

    def close(self) -> None:
        """Take the list screen down (another page shows, the session ended)."""
        self.screen.hide()

    def _tapped(self, x: int, y: int) -> None:
        """A tap on the list screen: the shopper is there; on "Close" it closes."""
        self.models.session.touch()
        if self.screen.close_box().contains(QPointF(x, y)):
            self.close()
        elif self.screen.print_box().contains(QPointF(x, y)):
            self.print_list()

    def print_list(self) -> None:
        """Print the list shown on the receipt printer, off the UI thread; the screen says
        how it went and an ``action`` event ``print-list`` records it."""
        device, url, page = self.config.take_home.printer, self.screen.url, self._page
        if device is None or url is None or page is None or self._printing:
            return
        items = list(self.screen.items)
        skus = [item.sku for item in items]
        session_id = self.models.session.session_id
        store, profile = self.config.kiosk.store_id, self.config.take_home.printer_profile
        self._printing = True
        self.screen.set_status(self.models.language.text("printing", PRINTING))

        def printed(_result: None) -> None:
            self._printing = False
            self.screen.set_status(self.models.language.text("printed", PRINTED))
            self.models.recorder.list_printed(page, skus, None, session_id=session_id)

        def failed(error: Exception) -> None:
            self._printing = False
            log.warning("the list to take home was not printed: %s", error)
            self.screen.set_status(self.models.language.text("not_printed", NOT_PRINTED))
            self.models.recorder.list_printed(page, skus, str(error), session_id=session_id)

        self.tasks.run(
            lambda: print_list(device, items, url, store=store, profile=profile),
            name="print the list to take home",
            lane=PRINT_LANE,
        ).on_success(printed).on_failure(failed)
