"""draw.io's drawing canvas (``mxAbstractCanvas2D``) over Qt, for library shapes.

``path``/``rect``/``ellipse`` build a path, ``fill``/``stroke``/``fillstroke`` paint it with
the canvas state (fill and stroke colour, stroke width, dashes, joins), ``save``/``restore``
keep and bring back that state. ``StencilCanvas`` records each painted path with its brush and
pen (and each text) in drawing coordinates; ``kiosk/screen/shapes/stencils.py`` places and
paints them.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QLinearGradient, QPainterPath, QPen

from designer_import.model import Style
from kiosk.screen.render import _brush, qcolor

# SVG's miter (a bevel past the miter limit), as the browser draw.io runs in draws it; Qt's
# own MiterJoin clips a long miter instead, leaving spikes where a path turns back on itself
_JOINS = {
    "miter": Qt.PenJoinStyle.SvgMiterJoin,
    "round": Qt.PenJoinStyle.RoundJoin,
    "bevel": Qt.PenJoinStyle.BevelJoin,
}
_CAPS = {
    "flat": Qt.PenCapStyle.FlatCap,
    "butt": Qt.PenCapStyle.FlatCap,
    "round": Qt.PenCapStyle.RoundCap,
    "square": Qt.PenCapStyle.SquareCap,
}
#: draw.io's default font size for stencil text (mxConstants.DEFAULT_FONTSIZE).
DEFAULT_FONT_SIZE = 11.0
#: draw.io's rounding of ``roundrect`` when its ``arcsize`` is 0 (RECTANGLE_ROUNDING_FACTOR).
ROUNDING_FACTOR = 0.15


@dataclass
class _CanvasState:
    fill: QColor | None
    #: The style's gradient fill while the fill colour is the cell's own (setFillColor drops it).
    gradient: QBrush | None
    stroke: QColor | None
    stroke_width: float
    dashed: bool
    dash_pattern: list[float]
    join: Qt.PenJoinStyle = Qt.PenJoinStyle.SvgMiterJoin
    cap: Qt.PenCapStyle = Qt.PenCapStyle.FlatCap
    miter_limit: float = 10.0
    alpha: float = 1.0
    fill_alpha: float = 1.0
    stroke_alpha: float = 1.0
    shadow: bool = False
    font_color: QColor = field(default_factory=lambda: QColor(0, 0, 0))
    font_size: float = DEFAULT_FONT_SIZE
    font_family: str = "Helvetica"
    font_style: int = 0
    #: draw.io's canvas translation (``translate``), part of the saved state.
    dx: float = 0.0
    dy: float = 0.0


@dataclass(frozen=True, slots=True)
class PaintedPath:
    """One painted path of a drawing with its brush and pen (either may be None)."""

    path: QPainterPath
    brush: QBrush | None
    pen: QPen | None
    shadow: bool


@dataclass(frozen=True, slots=True)
class PaintedText:
    """A text of a stencil (``<text str=...>``), anchored at a point."""

    at: QPointF
    text: str
    font: QFont
    colour: QColor
    align: str
    valign: str
    rotation: float


class StencilCanvas:
    """draw.io's ``mxAbstractCanvas2D`` for one cell: path building, state stack and painting,
    recorded as ``PaintedPath``/``PaintedText`` parts in drawing coordinates."""

    def __init__(self, style: Style, box: QRectF) -> None:
        fill = qcolor(style.fill)
        if style.get("lineShape") == "1":
            # a freehand drawing (draw.io keeps it as a stencil of outlined strokes) is
            # filled with its line colour, as draw.io's own drawing of such shapes shows
            fill = qcolor(style.stroke)
        gradient = _brush(style, box) if style.gradient is not None and fill else None
        self.state = _CanvasState(
            fill=fill,
            gradient=gradient,
            stroke=qcolor(style.stroke),
            stroke_width=style.stroke_width,
            dashed=style.dashed,
            dash_pattern=list(style.dash_pattern or [3.0, 3.0]),
            fill_alpha=style.fill_opacity,
            stroke_alpha=style.stroke_opacity,
            shadow=style.shadow,
        )
        self.stack: list[_CanvasState] = []
        self.path: QPainterPath | None = None
        self.parts: list[PaintedPath | PaintedText] = []

    # state -------------------------------------------------------------------------------
    def save(self) -> None:
        """Push a copy of the state."""
        self.stack.append(copy.copy(self.state))
        self.state.dash_pattern = list(self.state.dash_pattern)

    def restore(self) -> None:
        """Bring back the last saved state (a stray restore is ignored, as draw.io does)."""
        if self.stack:
            self.state = self.stack.pop()

    def set_fill_color(self, value: str | None) -> None:
        """``fillcolor``: a colour, or ``none`` for no fill; drops the style's gradient."""
        self.state.fill = colour_value(value)
        self.state.gradient = None

    def set_gradient(
        self, colour1: str, colour2: str, box: QRectF, direction: str, alpha1: float, alpha2: float
    ) -> None:
        """A linear gradient fill over ``box`` from ``colour1`` to ``colour2`` (the
        ``direction`` is where ``colour2`` lies), each with its own alpha."""
        first, second = colour_value(colour1), colour_value(colour2)
        if first is None or second is None:
            return
        first.setAlphaF(first.alphaF() * alpha1)
        second.setAlphaF(second.alphaF() * alpha2)
        start, end = {
            "east": (box.topLeft(), box.topRight()),
            "west": (box.topRight(), box.topLeft()),
            "north": (box.bottomLeft(), box.topLeft()),
        }.get(direction, (box.topLeft(), box.bottomLeft()))
        gradient = QLinearGradient(start, end)
        gradient.setColorAt(0, first)
        gradient.setColorAt(1, second)
        self.state.fill = first
        self.state.gradient = QBrush(gradient)

    def set_stroke_color(self, value: str | None) -> None:
        """``strokecolor``: a colour, or ``none`` for no outline."""
        self.state.stroke = colour_value(value)

    def set_stroke_width(self, width: float) -> None:
        """``strokewidth``."""
        self.state.stroke_width = width

    def set_dashed(self, dashed: bool) -> None:
        """``dashed``."""
        self.state.dashed = dashed

    def set_dash_pattern(self, pattern: list[float]) -> None:
        """``dashpattern``: dash and gap lengths in stroke widths."""
        if pattern:
            self.state.dash_pattern = pattern

    def set_line_join(self, join: str | None) -> None:
        """``linejoin``: miter, round or bevel."""
        self.state.join = _JOINS.get(join or "", Qt.PenJoinStyle.SvgMiterJoin)

    def set_line_cap(self, cap: str | None) -> None:
        """``linecap``: flat, round or square."""
        self.state.cap = _CAPS.get(cap or "", Qt.PenCapStyle.FlatCap)

    def set_miter_limit(self, limit: float) -> None:
        """``miterlimit``."""
        self.state.miter_limit = limit

    def set_alpha(self, alpha: float) -> None:
        """``alpha``/``fillalpha``/``strokealpha`` (draw.io's stencils set the one alpha)."""
        self.state.alpha = max(0.0, min(1.0, alpha))

    def set_fill_alpha(self, alpha: float) -> None:
        """The fill's own opacity (draw.io's ``setFillAlpha``; the style's ``fillOpacity``)."""
        self.state.fill_alpha = max(0.0, min(1.0, alpha))

    def set_shadow(self, enabled: bool) -> None:
        """Shadow on or off for what is painted next (only if the cell has a shadow)."""
        self.state.shadow = self.state.shadow and enabled

    # paths -------------------------------------------------------------------------------
    def begin(self) -> None:
        """Start a new path."""
        self.path = QPainterPath()
        self.path.setFillRule(Qt.FillRule.WindingFill)

    def _current(self) -> QPainterPath:
        if self.path is None:
            self.begin()
        assert self.path is not None
        return self.path

    def translate(self, dx: float, dy: float) -> None:
        """Move the origin of what is drawn next (draw.io's ``translate``, cumulative)."""
        self.state.dx += dx
        self.state.dy += dy

    def move_to(self, x: float, y: float) -> None:
        """``move``."""
        self._current().moveTo(x + self.state.dx, y + self.state.dy)

    def line_to(self, x: float, y: float) -> None:
        """``line``."""
        self._current().lineTo(x + self.state.dx, y + self.state.dy)

    def quad_to(self, x1: float, y1: float, x2: float, y2: float) -> None:
        """``quad``."""
        dx, dy = self.state.dx, self.state.dy
        self._current().quadTo(x1 + dx, y1 + dy, x2 + dx, y2 + dy)

    def curve_to(self, x1: float, y1: float, x2: float, y2: float, x3: float, y3: float) -> None:
        """``curve``."""
        dx, dy = self.state.dx, self.state.dy
        self._current().cubicTo(x1 + dx, y1 + dy, x2 + dx, y2 + dy, x3 + dx, y3 + dy)

    def arc_to(
        self, rx: float, ry: float, angle: float, large: bool, sweep: bool, x: float, y: float
    ) -> None:
        """``arc``: an SVG elliptical arc from the current point to (x, y)."""
        path = self._current()
        start = path.currentPosition()
        x, y = x + self.state.dx, y + self.state.dy
        for c1, c2, end in arc_to_curves(start.x(), start.y(), rx, ry, angle, large, sweep, x, y):
            path.cubicTo(c1, c2, end)

    def close(self) -> None:
        """``close``."""
        self._current().closeSubpath()

    def box_path(self, w: float, h: float) -> None:
        """A new path round the shape's box, (0, 0) to (w, h), drawn as draw.io's code shapes
        draw it (``move``, three ``line``s, ``close``; ``rect`` makes another path)."""
        self.begin()
        self.move_to(0, 0)
        self.line_to(w, 0)
        self.line_to(w, h)
        self.line_to(0, h)
        self.close()

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        """``rect``: a new path holding the rectangle."""
        self.begin()
        self._current().addRect(QRectF(x + self.state.dx, y + self.state.dy, w, h))

    def roundrect(self, x: float, y: float, w: float, h: float, rx: float, ry: float) -> None:
        """``roundrect``: a new path holding the rounded rectangle."""
        self.begin()
        self._current().addRoundedRect(QRectF(x + self.state.dx, y + self.state.dy, w, h), rx, ry)

    def ellipse(self, x: float, y: float, w: float, h: float) -> None:
        """``ellipse``: a new path holding the ellipse."""
        self.begin()
        self._current().addEllipse(QRectF(x + self.state.dx, y + self.state.dy, w, h))

    # painting ----------------------------------------------------------------------------
    def fill(self) -> None:
        """Paint the current path's inside."""
        self._paint(fill=True, stroke=False)

    def stroke(self) -> None:
        """Paint the current path's outline."""
        self._paint(fill=False, stroke=True)

    def fill_and_stroke(self) -> None:
        """Paint the current path's inside and outline."""
        self._paint(fill=True, stroke=True)

    def _paint(self, *, fill: bool, stroke: bool) -> None:
        if self.path is None or self.path.isEmpty():
            return
        state = self.state
        brush: QBrush | None = None
        if fill and state.fill is not None:
            if state.gradient is not None:
                brush = QBrush(state.gradient)
            else:
                colour = QColor(state.fill)
                colour.setAlphaF(colour.alphaF() * state.alpha * state.fill_alpha)
                brush = QBrush(colour)
        pen: QPen | None = None
        if stroke and state.stroke is not None and state.stroke_width > 0:
            colour = QColor(state.stroke)
            colour.setAlphaF(colour.alphaF() * state.alpha * state.stroke_alpha)
            # draw.io's SVG canvas never draws an outline thinner than one unit
            pen = QPen(colour, max(1.0, state.stroke_width))
            pen.setJoinStyle(state.join)
            pen.setCapStyle(state.cap)
            pen.setMiterLimit(state.miter_limit)
            if state.dashed:
                pattern = [max(0.1, p) for p in state.dash_pattern]
                pen.setDashPattern(pattern * 2 if len(pattern) % 2 else pattern)
        if brush is None and pen is None:
            return
        self.parts.append(PaintedPath(QPainterPath(self.path), brush, pen, state.shadow))

    def text(self, x: float, y: float, text: str, align: str, valign: str, rotation: float) -> None:
        """``text``: a string anchored at (x, y)."""
        if not text:
            return
        font = QFont(self.state.font_family)
        font.setPixelSize(max(1, round(self.state.font_size)))
        font.setBold(bool(self.state.font_style & 1))
        font.setItalic(bool(self.state.font_style & 2))
        font.setUnderline(bool(self.state.font_style & 4))
        colour = QColor(self.state.font_color)
        colour.setAlphaF(colour.alphaF() * self.state.alpha)
        at = QPointF(x + self.state.dx, y + self.state.dy)
        self.parts.append(PaintedText(at, text, font, colour, align, valign, rotation))


def colour_value(value: str | None) -> QColor | None:
    """A stencil colour attribute: a QColor, or None for ``none``/empty/invalid."""
    if value is None or value.strip().lower() in ("", "none"):
        return None
    colour = QColor(value.strip())
    return colour if colour.isValid() else None


@dataclass(frozen=True, slots=True)
class _CentredArc:
    """An SVG arc in centre form: the ellipse's radii, turn and centre, the start angle and
    the angle swept."""

    rx: float
    ry: float
    cos_phi: float
    sin_phi: float
    cx: float
    cy: float
    theta1: float
    delta: float

    def point(self, t: float) -> QPointF:
        """The point at parameter ``t`` on the ellipse."""
        ex, ey = self.rx * math.cos(t), self.ry * math.sin(t)
        cos_phi, sin_phi = self.cos_phi, self.sin_phi
        return QPointF(self.cx + cos_phi * ex - sin_phi * ey, self.cy + sin_phi * ex + cos_phi * ey)


def _angle_between(ux: float, uy: float, vx: float, vy: float) -> float:
    return math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)


def _centred_arc(
    start: tuple[float, float],
    rx: float,
    ry: float,
    angle: float,
    large: bool,
    sweep: bool,
    end: tuple[float, float],
) -> _CentredArc:
    """SVG 1.1 appendix F.6.5: the endpoint arc from ``start`` to ``end`` in centre form
    (radii scaled up when too small to reach)."""
    (x0, y0), (x, y) = start, end
    phi = math.radians(angle % 360)
    cos_phi, sin_phi = math.cos(phi), math.sin(phi)
    dx2, dy2 = (x0 - x) / 2, (y0 - y) / 2
    x1p = cos_phi * dx2 + sin_phi * dy2
    y1p = -sin_phi * dx2 + cos_phi * dy2
    scale = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry)
    if scale > 1:
        rx, ry = rx * math.sqrt(scale), ry * math.sqrt(scale)
    num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p
    den = rx * rx * y1p * y1p + ry * ry * x1p * x1p
    factor = math.sqrt(max(0.0, num / den)) if den else 0.0
    if large == sweep:
        factor = -factor
    cxp, cyp = factor * rx * y1p / ry, -factor * ry * x1p / rx
    cx = cos_phi * cxp - sin_phi * cyp + (x0 + x) / 2
    cy = sin_phi * cxp + cos_phi * cyp + (y0 + y) / 2
    theta1 = _angle_between(1, 0, (x1p - cxp) / rx, (y1p - cyp) / ry)
    delta = _angle_between((x1p - cxp) / rx, (y1p - cyp) / ry, (-x1p - cxp) / rx, (-y1p - cyp) / ry)
    if not sweep and delta > 0:
        delta -= 2 * math.pi
    elif sweep and delta < 0:
        delta += 2 * math.pi
    return _CentredArc(rx, ry, cos_phi, sin_phi, cx, cy, theta1, delta)


def arc_to_curves(
    x0: float,
    y0: float,
    rx: float,
    ry: float,
    angle: float,
    large: bool,
    sweep: bool,
    x: float,
    y: float,
) -> list[tuple[QPointF, QPointF, QPointF]]:
    """An SVG elliptical arc as cubic Bézier segments (control, control, end), each at most a
    quarter turn (SVG 1.1 appendix F.6.5, as ``mxUtils.arcToCurves``)."""
    if (x0, y0) == (x, y):
        return []
    rx, ry = abs(rx), abs(ry)
    if rx == 0 or ry == 0:
        end = QPointF(x, y)
        return [(QPointF(x0, y0), end, end)]
    arc = _centred_arc((x0, y0), rx, ry, angle, large, sweep, (x, y))
    segments = max(1, math.ceil(abs(arc.delta) / (math.pi / 2) - 1e-9))
    step = arc.delta / segments
    k = 4 / 3 * math.tan(step / 4)
    out: list[tuple[QPointF, QPointF, QPointF]] = []
    t = arc.theta1
    for i in range(segments):
        t2 = t + step
        # control points: start + k * derivative, end - k * derivative
        a = arc.point(t)
        b = arc.point(t2)
        d1 = _tangent(arc.rx, arc.ry, t, arc.cos_phi, arc.sin_phi)
        d2 = _tangent(arc.rx, arc.ry, t2, arc.cos_phi, arc.sin_phi)
        end = QPointF(x, y) if i == segments - 1 else b
        out.append((a + d1 * k, b - d2 * k, end))
        t = t2
    return out


def _tangent(rx: float, ry: float, t: float, cos_phi: float, sin_phi: float) -> QPointF:
    ex, ey = -rx * math.sin(t), ry * math.cos(t)
    return QPointF(cos_phi * ex - sin_phi * ey, sin_phi * ex + cos_phi * ey)
