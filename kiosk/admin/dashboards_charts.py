"""The dashboards' charts: pyqtgraph plots drawn off screen and shown on the page as pictures.

Why not the plots themselves on the page: a frame of the admin panel repaints every widget on
it, and a pyqtgraph plot's repaint runs Python (pyqtgraph's ``paintEvent``, or a Python
``paintEvent`` that copies a cached picture). Qt paints with the GIL released; each Python
call in the paint has to take it back from whichever thread holds it (the event log's
writer, the dashboards' lane unpacking a snapshot), and Python hands it over only every
``sys.getswitchinterval()`` (5 ms). Ten such calls per frame turned a 2-4 ms repaint into
8-30 ms whenever a Python thread of the kiosk was busy.

So each chart (:class:`CachedPlot`, a ``pg.PlotWidget``) is a top-level widget that is never
put on the screen (``WA_DontShowOnScreen``: Qt lays it out, resizes it and reports its
scene's changes as for a shown one), and the page shows a :class:`ChartPicture` in its place:
a plain ``QGraphicsView`` holding the chart's last drawing, which a frame copies in Qt's C++
without Python. A chart is drawn again only when its scene changed; charts that changed together
take turns (:class:`ChartTurns`), one drawing per turn of the event loop, a frame apart.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QHideEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from kiosk.admin import theme

#: Time between two charts' drawings after a refresh changed several (one 60 Hz frame).
TURN_MS = 16
#: How many drawing times a chart keeps (:attr:`CachedPlot.draw_s`).
DRAW_TIMES_KEPT = 256
_TICK_FONT = QFont("DejaVu Sans", 14)


class ChartTurns(QObject):
    """The charts of one page waiting to be drawn: one draws per turn, :data:`TURN_MS` apart.

    After a refresh several charts change at once; drawing them all in one go would hold the
    UI thread for the sum of their drawings, so no frame could start in between.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._waiting: list[CachedPlot] = []
        self._resized: set[CachedPlot] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._turn)

    @property
    def waiting(self) -> int:
        """How many charts wait for their turn."""
        return len(self._waiting)

    def ask(self, chart: CachedPlot, *, resized: bool = False) -> None:
        """Let ``chart`` draw in a coming turn (once, however often it asks). A ``resized``
        chart draws in the next turn: its picture no longer fits its place."""
        if chart not in self._waiting:
            self._waiting.append(chart)
        if resized:
            self._resized.add(chart)
        self._start()

    def drop(self, chart: CachedPlot) -> None:
        """``chart`` no longer waits (it was drawn, or it is off the page)."""
        if chart in self._waiting:
            self._waiting.remove(chart)
        self._resized.discard(chart)

    def _start(self) -> None:
        """Arm the timer for the next turn: at once when a resized chart waits."""
        if not self._waiting:
            return
        interval = 0 if self._resized else TURN_MS
        if not self._timer.isActive() or self._timer.remainingTime() > interval:
            self._timer.start(interval)

    def _turn(self) -> None:
        waiting = [c for c in self._waiting if c in self._resized] or self._waiting
        if waiting:
            waiting[0].draw()
        self._start()


class CachedPlot(pg.PlotWidget):
    """One chart of the dashboards: a plot drawn off screen into :attr:`picture` (which the
    page lays out) when its scene changed.

    The plot is shown (off screen) while its picture is on screen and hidden with it.
    :attr:`renders` counts its drawings and :attr:`draw_s` keeps how long the last ones took
    (the benchmark and the tests read both).
    """

    def __init__(self, title: str, turns: ChartTurns) -> None:
        super().__init__(background=theme.PANEL)
        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.renders = 0
        self.draw_s: deque[float] = deque(maxlen=DRAW_TIMES_KEPT)
        self._turns = turns
        self._rendering = False
        self.picture = ChartPicture(self)
        self.setTitle(title, color=theme.TEXT, size="16pt")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setTickFont(_TICK_FONT)
            axis.setTextPen(theme.MUTED)
            axis.setPen(theme.MUTED)
        # no grid: its semi-transparent lines cost more to draw than all the data (software
        # rendering on a small PC), and the tick labels carry the scale
        self.scene().changed.connect(self._changed)

    def _changed(self, _regions: Any) -> None:
        if self.isVisible():
            self._turns.ask(self)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint only into :meth:`draw`'s picture: nobody sees the plot's own window."""
        if self._rendering:
            super().paintEvent(event)

    def draw(self) -> None:
        """Draw the scene into the picture now, at the picture's size."""
        if not self.isVisible():
            self._turns.drop(self)
            return
        started = time.perf_counter()
        ratio = self.picture.devicePixelRatioF()
        size = self.size()
        scene = self.scene()
        scene.prepareForPaint()  # pyqtgraph brings ranges and axes up to date here
        # the scene reports what that changed in a later turn, a drawing too many: take the
        # report now, the picture shows those changes
        QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
        self._turns.drop(self)
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QColor(theme.PANEL))
        painter = QPainter(pixmap)
        self._rendering = True
        try:
            painter.setRenderHints(self.renderHints())
            rect = self.rect()
            self.render(painter, QRectF(rect), rect)
        finally:
            self._rendering = False
            painter.end()
        self.picture.setPixmap(pixmap)
        self.renders += 1
        self.draw_s.append(time.perf_counter() - started)

    def follow(self, picture_size: QSize, shown: bool) -> None:
        """Take the picture's size and visibility (its events call this); a shown chart of a
        new size draws in the next turn (not in the middle of the layout that resized it:
        a new picture asks the layout to run again)."""
        if not shown:
            self._turns.drop(self)
            self.hide()
            return
        self.resize(picture_size)
        if not self.isVisible():
            self.show()
        self._turns.ask(self, resized=True)


class ChartPicture(QGraphicsView):
    """Where a :class:`CachedPlot` shows on the page: its last drawing, one pixmap item in a
    view of Qt's own (no Python in its paint).

    It takes the plot's place as the plot took it: a graphics view without a frame or scroll
    bars whose scene rectangle is its own size (pyqtgraph's), so the page's layout gives it
    the room it gave the plot. It passes its size and visibility on to the plot.
    """

    def __init__(self, chart: CachedPlot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chart = chart
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # a drawing covers the whole view: neither the style sheet's background nor the
        # view's own is painted under it (two fills of the chart's area in every frame);
        # the panel colour shows only while no drawing of the view's size is there yet
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.viewport().setAutoFillBackground(False)
        self.setBackgroundBrush(QColor(theme.PANEL))
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.scene().addItem(self.item)
        self.setSceneRect(QRectF(chart.rect()))
        self.destroyed.connect(chart.deleteLater)

    def pixmap(self) -> QPixmap:
        """The picture shown."""
        return self.item.pixmap()

    def setPixmap(self, pixmap: QPixmap) -> None:
        """Show ``pixmap`` (the chart's new drawing)."""
        self.item.setPixmap(pixmap)
        self._fill_unless_covered()

    def _fill_unless_covered(self) -> None:
        covered = self.item.pixmap().deviceIndependentSize().toSize() == self.viewport().size()
        brush = QBrush(Qt.BrushStyle.NoBrush) if covered else QBrush(QColor(theme.PANEL))
        if self.backgroundBrush() != brush:
            self.setBackgroundBrush(brush)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The scene and the plot take the new size."""
        super().resizeEvent(event)
        self.setSceneRect(QRectF(0, 0, event.size().width(), event.size().height()))
        self._fill_unless_covered()
        if self.isVisible():
            self.chart.follow(event.size(), True)

    def showEvent(self, event: QShowEvent) -> None:
        """The plot is shown (off screen) and drawn."""
        super().showEvent(event)
        self.chart.follow(self.size(), True)

    def hideEvent(self, event: QHideEvent) -> None:
        """The plot is hidden: its scene's changes wait until the picture shows again."""
        super().hideEvent(event)
        self.chart.follow(self.size(), False)
