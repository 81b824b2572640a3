"""Connectors as draw.io draws them: the route, arrow heads and the label.

Split from ``kiosk.render`` (which builds the page scene and creates an ``EdgeItem`` for
every element with an ``edge``); this module draws with render's label and pen parts.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer_import.model import Element, Point
from kiosk.render import SHADOW_COLOR, SHADOW_OFFSET, LabelBlock, _pen, guarded_paint

#: Edges are touched within this distance of their line (page units).
EDGE_TOUCH_WIDTH = 16.0


def _arrow_head(tip: QPointF, back: QPointF, kind: str, size: float) -> tuple[QPainterPath, bool]:
    """The arrow head at ``tip`` pointing away from ``back``; (path, closed)."""
    dx, dy = tip.x() - back.x(), tip.y() - back.y()
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    px, py = -uy, ux
    s = max(size, 1.0)
    base = QPointF(tip.x() - ux * s * 1.5, tip.y() - uy * s * 1.5)
    left = QPointF(base.x() + px * s * 0.7, base.y() + py * s * 0.7)
    right = QPointF(base.x() - px * s * 0.7, base.y() - py * s * 0.7)
    path = QPainterPath()
    if kind in ("oval", "dot", "circle", "circlePlus"):
        path.addEllipse(QPointF(tip.x() - ux * s / 2, tip.y() - uy * s / 2), s / 2, s / 2)
        return path, True
    if kind in ("diamond", "diamondThin"):
        mid = QPointF(tip.x() - ux * s * 1.5, tip.y() - uy * s * 1.5)
        far = QPointF(tip.x() - ux * s * 3, tip.y() - uy * s * 3)
        path.moveTo(tip)
        path.lineTo(QPointF(mid.x() + px * s * 0.6, mid.y() + py * s * 0.6))
        path.lineTo(far)
        path.lineTo(QPointF(mid.x() - px * s * 0.6, mid.y() - py * s * 0.6))
        path.closeSubpath()
        return path, True
    if kind in ("open", "openThin", "openAsync", "async"):
        path.moveTo(left)
        path.lineTo(tip)
        path.lineTo(right)
        return path, False
    path.moveTo(tip)
    path.lineTo(left)
    if kind == "classic":
        path.lineTo(QPointF(tip.x() - ux * s, tip.y() - uy * s))
    path.lineTo(right)
    path.closeSubpath()
    return path, True


def _route(points: list[Point], curved: bool) -> QPainterPath:
    qpoints = [QPointF(p.x, p.y) for p in points]
    path = QPainterPath(qpoints[0])
    if curved and len(qpoints) > 2:
        for i in range(1, len(qpoints) - 1):
            mid = (qpoints[i] + qpoints[i + 1]) / 2 if i < len(qpoints) - 2 else qpoints[i + 1]
            path.quadTo(qpoints[i], mid)
    else:
        for point in qpoints[1:]:
            path.lineTo(point)
    return path


class EdgeItem(QGraphicsItem):
    """A connector: its route through the waypoints, arrow heads and label."""

    def __init__(self, element: Element) -> None:
        super().__init__()
        assert element.edge is not None
        self.element = element
        edge = element.edge
        style = element.style
        self.setOpacity(style.opacity)
        points = edge.points if len(edge.points) >= 2 else []
        self.route = _route(points, edge.curved) if points else QPainterPath()
        self.pen = _pen(style) or QPen(Qt.PenStyle.NoPen)
        self.pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        self.heads: list[tuple[QPainterPath, bool]] = []
        if len(points) >= 2:
            first, second = QPointF(points[0].x, points[0].y), QPointF(points[1].x, points[1].y)
            last, before = QPointF(points[-1].x, points[-1].y), QPointF(points[-2].x, points[-2].y)
            if edge.start_arrow:
                head, closed = _arrow_head(first, second, edge.start_arrow, edge.start_size)
                self.heads.append((head, closed and edge.start_fill))
            if edge.end_arrow:
                head, closed = _arrow_head(last, before, edge.end_arrow, edge.end_size)
                self.heads.append((head, closed and edge.end_fill))
        self.label: LabelBlock | None = None
        if element.label is not None and element.label.plain.strip() and element.label_anchor:
            anchor = element.label_anchor
            self.label = LabelBlock(element, QRectF(anchor.x, anchor.y, 0, 0))
        stroker = QPainterPathStroker()
        stroker.setWidth(max(EDGE_TOUCH_WIDTH, style.stroke_width))
        self._shape = stroker.createStroke(self.route)
        for head, _closed in self.heads:
            self._shape = self._shape.united(head)
        self._bounds = self._shape.boundingRect()
        if self.label is not None:
            self._bounds = self._bounds.united(self.label.bounds)
        self._bounds = self._bounds.adjusted(-4, -4, 4, 4)

    def boundingRect(self) -> QRectF:
        """Everything this item paints."""
        return self._bounds

    def shape(self) -> QPainterPath:
        """The touchable area: a band along the route plus the heads."""
        return self._shape

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Draw the route, the heads and the label."""
        guarded_paint(self, painter, self._paint)

    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.element.style.shadow:
            painter.strokePath(self.route.translated(SHADOW_OFFSET), QPen(SHADOW_COLOR, 1))
        painter.strokePath(self.route, self.pen)
        solid = QPen(self.pen)
        solid.setStyle(Qt.PenStyle.SolidLine)
        for head, filled in self.heads:
            painter.setPen(solid)
            painter.setBrush(solid.color() if filled else Qt.BrushStyle.NoBrush)
            painter.drawPath(head)
        if self.label is not None:
            self.label.paint(painter)
