"""The outlines of draw.io's basic shapes as Qt painter paths.

Each function takes the element's box size and returns the outline in box coordinates
((0, 0) is the top-left corner), following draw.io's own shape code so that what is drawn,
and so what a touch hits, matches what the artist drew.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QPolygonF, QTransform

from designer_import.model import ShapeKind, Style

#: draw.io draws "line" shapes this thick for touching purposes at least (page units).
LINE_TOUCH_WIDTH = 24.0


def polygon(points: list[tuple[float, float]]) -> QPainterPath:
    """A closed path through ``points``."""
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in points]))
    path.closeSubpath()
    return path


def corner_radius(style: Style, w: float, h: float) -> float:
    """draw.io's corner radius for a rounded rectangle of this size."""
    if style.absolute_arc_size:
        return min(w / 2, h / 2, style.arc_size / 2)
    factor = style.arc_size / 100
    return min(w * factor, h * factor)


def _rectangle(style: Style, w: float, h: float) -> QPainterPath:
    path = QPainterPath()
    if style.rounded:
        r = corner_radius(style, w, h)
        path.addRoundedRect(QRectF(0, 0, w, h), r, r)
    else:
        path.addRect(QRectF(0, 0, w, h))
    return path


def _ellipse(_style: Style, w: float, h: float) -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(QRectF(0, 0, w, h))
    return path


def _rhombus(_style: Style, w: float, h: float) -> QPainterPath:
    return polygon([(w / 2, 0), (w, h / 2), (w / 2, h), (0, h / 2)])


def _triangle(_style: Style, w: float, h: float) -> QPainterPath:
    return polygon([(0, 0), (w, h / 2), (0, h)])


def _hexagon(style: Style, w: float, h: float) -> QPainterPath:
    s = (
        w * style.number("size", 0.25)
        if style.number("size", 0.25) < 1
        else style.number("size", 0)
    )
    s = max(0.0, min(s, w / 2))
    return polygon([(s, 0), (w - s, 0), (w, h / 2), (w - s, h), (s, h), (0, h / 2)])


def _parallelogram(style: Style, w: float, h: float) -> QPainterPath:
    size = style.number("size", 0.2)
    dx = max(0.0, min(w * size if size < 1 else size, w / 2))
    return polygon([(0, h), (dx, 0), (w, 0), (w - dx, h)])


def _trapezoid(style: Style, w: float, h: float) -> QPainterPath:
    size = style.number("size", 0.2)
    dx = max(0.0, min(w * size if size < 1 else size, w / 2))
    return polygon([(0, h), (dx, 0), (w - dx, 0), (w, h)])


def cylinder_depth(style: Style, h: float) -> float:
    """Height of the cylinder's top ellipse half."""
    return max(0.0, min(style.number("size", 15.0), h / 2))


def _cylinder(style: Style, w: float, h: float) -> QPainterPath:
    dy = cylinder_depth(style, h)
    path = QPainterPath(QPointF(0, dy))
    path.arcTo(QRectF(0, 0, w, 2 * dy), 180, -180)
    path.lineTo(w, h - dy)
    path.arcTo(QRectF(0, h - 2 * dy, w, 2 * dy), 0, -180)
    path.closeSubpath()
    return path


def _cloud(_style: Style, w: float, h: float) -> QPainterPath:
    path = QPainterPath(QPointF(0.25 * w, 0.25 * h))
    curves = [
        (0.05 * w, 0.25 * h, 0, 0.5 * h, 0.16 * w, 0.55 * h),
        (0, 0.66 * h, 0.18 * w, 0.9 * h, 0.31 * w, 0.8 * h),
        (0.4 * w, h, 0.7 * w, h, 0.8 * w, 0.8 * h),
        (w, 0.8 * h, w, 0.6 * h, 0.875 * w, 0.5 * h),
        (w, 0.3 * h, 0.8 * w, 0.1 * h, 0.625 * w, 0.2 * h),
        (0.5 * w, 0.05 * h, 0.3 * w, 0.05 * h, 0.25 * w, 0.25 * h),
    ]
    for x1, y1, x2, y2, x3, y3 in curves:
        path.cubicTo(x1, y1, x2, y2, x3, y3)
    path.closeSubpath()
    return path


def _document(style: Style, w: float, h: float) -> QPainterPath:
    dy = h * style.number("size", 0.3)
    fy = 1.4
    path = QPainterPath(QPointF(0, 0))
    path.lineTo(w, 0)
    path.lineTo(w, h - dy / 2)
    path.quadTo(3 * w / 4, h - dy * fy, w / 2, h - dy / 2)
    path.quadTo(w / 4, h - dy * (1 - fy), 0, h - dy / 2)
    path.closeSubpath()
    return path


def _step(style: Style, w: float, h: float) -> QPainterPath:
    size = style.number("size", 0.2)
    s = max(0.0, min(w * size if size < 1 else size, w))
    return polygon([(0, 0), (w - s, 0), (w, h / 2), (w - s, h), (0, h), (s, h / 2)])


def _card(style: Style, w: float, h: float) -> QPainterPath:
    s = max(0.0, min(style.number("size", 30.0), w, h))
    return polygon([(s, 0), (w, 0), (w, h), (0, h), (0, s)])


def _note(style: Style, w: float, h: float) -> QPainterPath:
    s = max(0.0, min(style.number("size", 30.0), w, h))
    return polygon([(0, 0), (w - s, 0), (w, s), (w, h), (0, h)])


def _callout(style: Style, w: float, h: float) -> QPainterPath:
    s = max(0.0, min(style.number("size", 30.0), h))
    base = style.number("base", 20.0)
    dx = w * style.number("position", 0.5)
    dx2 = w * style.number("position2", 0.5)
    return polygon(
        [
            (0, 0),
            (w, 0),
            (w, h - s),
            (min(w, dx + base), h - s),
            (dx2, h),
            (max(0.0, dx), h - s),
            (0, h - s),
        ]
    )


def _actor(_style: Style, w: float, h: float) -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(QRectF(w / 4, 0, w / 2, h / 4))
    body = QPainterPath(QPointF(0, h))
    body.cubicTo(0, 3 * h / 5, 0, 2 * h / 5, w / 2, 2 * h / 5)
    body.cubicTo(w / 2 - w * 0.1, 2 * h / 5, w / 2 - w * 0.1, 2 * h / 5 - h * 0.1, w / 2, h * 0.28)
    body.lineTo(w / 2, h * 0.28)
    body.cubicTo(w / 2 + w * 0.1, 2 * h / 5 - h * 0.1, w / 2 + w * 0.1, 2 * h / 5, w / 2, 2 * h / 5)
    body.cubicTo(w, 2 * h / 5, w, 3 * h / 5, w, h)
    body.closeSubpath()
    return path.united(body)


def _cross(style: Style, w: float, h: float) -> QPainterPath:
    size = max(0.0, min(style.number("size", 0.2), 1.0))
    m = min(w, h) * size
    x0, x1 = (w - m) / 2, (w + m) / 2
    y0, y1 = (h - m) / 2, (h + m) / 2
    return polygon(
        [
            *[(x0, 0), (x1, 0), (x1, y0), (w, y0), (w, y1), (x1, y1)],
            *[(x1, h), (x0, h), (x0, y1), (0, y1), (0, y0), (x0, y0)],
        ]
    )


def _line(_style: Style, w: float, h: float) -> QPainterPath:
    # draw.io's line shape: one stroke through the middle of the box (vertical when the
    # direction turns it), never a filled box
    path = QPainterPath(QPointF(0, h / 2))
    path.lineTo(w, h / 2)
    return path


def _arrow(style: Style, w: float, h: float) -> QPainterPath:
    aw = h * max(0.0, min(style.number("arrowWidth", 0.3), 1.0))
    head = w * max(0.0, min(style.number("arrowSize", 0.2), 1.0))
    top, bottom = (h - aw) / 2, (h + aw) / 2
    return polygon(
        [
            (0, top),
            (w - head, top),
            (w - head, 0),
            (w, h / 2),
            (w - head, h),
            (w - head, bottom),
            (0, bottom),
        ]
    )


def partial_sides(style: Style, w: float, h: float) -> QPainterPath:
    """The sides of a ``partialRectangle`` that are stroked (``top``/``right``/``bottom``/
    ``left``, each on unless set to 0), as open lines."""
    path = QPainterPath()
    sides = [
        ("top", (0.0, 0.0), (w, 0.0)),
        ("right", (w, 0.0), (w, h)),
        ("bottom", (w, h), (0.0, h)),
        ("left", (0.0, h), (0.0, 0.0)),
    ]
    for key, (x0, y0), (x1, y1) in sides:
        if style.flag(key, True):
            path.moveTo(x0, y0)
            path.lineTo(x1, y1)
    return path


ShapeBuilder = Callable[[Style, float, float], QPainterPath]

BUILDERS: dict[ShapeKind, ShapeBuilder] = {
    ShapeKind.RECTANGLE: _rectangle,
    ShapeKind.ELLIPSE: _ellipse,
    ShapeKind.DOUBLE_ELLIPSE: _ellipse,
    ShapeKind.RHOMBUS: _rhombus,
    ShapeKind.TRIANGLE: _triangle,
    ShapeKind.HEXAGON: _hexagon,
    ShapeKind.PARALLELOGRAM: _parallelogram,
    ShapeKind.TRAPEZOID: _trapezoid,
    ShapeKind.CYLINDER: _cylinder,
    ShapeKind.CLOUD: _cloud,
    ShapeKind.DOCUMENT: _document,
    ShapeKind.PROCESS: _rectangle,
    ShapeKind.STEP: _step,
    ShapeKind.CARD: _card,
    ShapeKind.NOTE: _note,
    ShapeKind.CALLOUT: _callout,
    ShapeKind.ACTOR: _actor,
    ShapeKind.CROSS: _cross,
    ShapeKind.PLUS: _rectangle,
    ShapeKind.LINE: _line,
    ShapeKind.ARROW: _arrow,
    ShapeKind.SWIMLANE: _rectangle,
    ShapeKind.TEXT: _rectangle,
    ShapeKind.IMAGE: _rectangle,
    ShapeKind.LABEL: _rectangle,
    ShapeKind.GROUP: _rectangle,
    ShapeKind.STENCIL: _rectangle,
}

#: Shapes that turn by ``direction`` themselves (library stencils, kiosk/screen/shapes/stencils.py).
UNDIRECTED = {ShapeKind.STENCIL, ShapeKind.EDGE}


def drawn_size(kind: ShapeKind, style: Style, w: float, h: float) -> tuple[float, float]:
    """The box a shape is built in: ``direction`` north or south builds it in the turned
    box (height x width), as draw.io's ``mxShape.isPaintBoundsInverted``."""
    if kind not in UNDIRECTED and style.direction in ("north", "south"):
        return h, w
    return w, h


def direction_transform(kind: ShapeKind, style: Style, w: float, h: float) -> QTransform:
    """From the built box (``drawn_size``) into the element's box: turned by ``direction``
    (south 90, west 180, north 270 degrees clockwise around the centre, as draw.io turns
    every basic shape pointing east by default), then mirrored by the flips."""
    bw, bh = drawn_size(kind, style, w, h)
    turn = QTransform()
    angle = {"south": 90, "west": 180, "north": 270}.get(style.direction, 0)
    if kind not in UNDIRECTED and angle:
        turn.translate(w / 2, h / 2).rotate(angle).translate(-bw / 2, -bh / 2)
    if style.flip_h or style.flip_v:
        sx, sy = (-1 if style.flip_h else 1), (-1 if style.flip_v else 1)
        turn = turn * QTransform(sx, 0, 0, sy, w if style.flip_h else 0, h if style.flip_v else 0)
    return turn


def outline(kind: ShapeKind, style: Style, w: float, h: float) -> QPainterPath:
    """The shape's outline in box coordinates, turned by ``direction`` and mirrored by the
    flips (rotation is the item's, not the path's)."""
    builder = BUILDERS.get(kind, _rectangle)
    bw, bh = drawn_size(kind, style, w, h)
    return direction_transform(kind, style, w, h).map(builder(style, bw, bh))
