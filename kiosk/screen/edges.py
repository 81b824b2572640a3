"""Connectors as draw.io draws them: the route, arrow heads and the label.

``kiosk.screen.render`` builds the page scene and creates an ``EdgeItem`` for every element with an
``edge``; this module draws with render's label and pen parts. The geometry follows draw.io's
own code (mxgraph ``mxConnector``, ``mxPolyline.paintLine``/``paintCurvedLine``,
``mxShape.addPoints``, ``mxMarker`` and the markers of ``Shapes.js``/``mxER.js``,
``mxArrowConnector`` for ``flexArrow`` and ``link``): each marker moves the line's end back
so the line stops where the head starts, and heads are filled with the line colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPainterPathStroker, QPen

from designer_import.connector_limits import MARKERS
from designer_import.model import EdgePath, Element, Style
from kiosk.screen.render import SHADOW_COLOR, SHADOW_OFFSET, GuardedItem, LabelBlock, _brush, _pen

#: Edges are touched within this distance of their line (page units).
EDGE_TOUCH_WIDTH = 16.0


#: draw.io's ``mxConstants.DEFAULT_MARKERSIZE`` and ``LINE_ARCSIZE``.
DEFAULT_MARKER_SIZE = 6.0
LINE_ARC_SIZE = 20.0


@dataclass(slots=True)
class MarkerPart:
    """One painted piece of an arrow head: stroked, and filled with the line colour when
    ``filled`` (or white when ``white``, as draw.io's ER "zero" circles)."""

    path: QPainterPath
    filled: bool
    white: bool = False


@dataclass(frozen=True, slots=True)
class _Tip:
    """Where a marker is drawn: the line's end, the unit vector it arrives along, the
    marker's size, the line's width, and whether the head is filled and at the source."""

    end: QPointF
    ux: float
    uy: float
    size: float
    width: float
    filled: bool
    source: bool

    @property
    def x(self) -> float:
        return self.end.x()

    @property
    def y(self) -> float:
        return self.end.y()

    def step(self, length: float) -> tuple[float, float]:
        """The arrival direction scaled to ``length``."""
        return self.ux * length, self.uy * length


_Marked = tuple[list[MarkerPart], QPointF]


def _polyline(*points: tuple[float, float], close: bool = False) -> QPainterPath:
    drawn = QPainterPath(QPointF(*points[0]))
    for point in points[1:]:
        drawn.lineTo(QPointF(*point))
    if close:
        drawn.closeSubpath()
    return drawn


def _circle(cx: float, cy: float, radius: float) -> QPainterPath:
    drawn = QPainterPath()
    drawn.addEllipse(QPointF(cx, cy), radius, radius)
    return drawn


def _block_marker(kind: str, tip: _Tip) -> _Marked:
    """classic, classicThin, block, blockThin and doubleBlock: a (notched) triangle."""
    x, y, sw = tip.x, tip.y, tip.width
    factor = 3.0 if kind.endswith("Thin") else 2.0
    eox, eoy = tip.ux * sw * 1.118, tip.uy * sw * 1.118
    nx, ny = tip.step(tip.size + sw)
    px, py = x - eox, y - eoy
    classic = kind.startswith("classic")
    f = 0.75 if classic else 1.0
    points = [(px, py), (px - nx - ny / factor, py - ny + nx / factor)]
    if classic:
        points.append((px - nx * 3 / 4, py - ny * 3 / 4))
    points.append((px + ny / factor - nx, py - ny - nx / factor))
    parts = [MarkerPart(_polyline(*points, close=True), tip.filled)]
    stop = QPointF(x - nx * f - eox, y - ny * f - eoy)
    if kind == "doubleBlock":
        unit = (tip.ux, tip.uy)
        second, stop = marker("block", stop, unit, tip.size, sw, tip.filled, tip.source)
        parts.extend(second)
    return parts, stop


def _open_marker(kind: str, tip: _Tip) -> _Marked:
    """Draw.io's open and openThin: the two sides of a triangle."""
    x, y, sw = tip.x, tip.y, tip.width
    factor = 3.0 if kind == "openThin" else 2.0
    eox, eoy = tip.ux * sw * 1.118, tip.uy * sw * 1.118
    nx, ny = tip.step(tip.size + sw)
    px, py = x - eox, y - eoy
    drawn = _polyline(
        (px - nx - ny / factor, py - ny + nx / factor),
        (px, py),
        (px + ny / factor - nx, py - ny - nx / factor),
    )
    return [MarkerPart(drawn, False)], QPointF(x - 2 * eox, y - 2 * eoy)


def _oval_marker(kind: str, tip: _Tip) -> _Marked:
    """oval: a circle centred on the end."""
    a = tip.size / 2
    drawn = _circle(tip.x, tip.y, a)
    return [MarkerPart(drawn, tip.filled)], QPointF(tip.x - tip.ux * a, tip.y - tip.uy * a)


def _diamond_marker(kind: str, tip: _Tip) -> _Marked:
    """Draw.io's diamond and diamondThin."""
    x, y, sw = tip.x, tip.y, tip.width
    thin = kind == "diamondThin"
    swf = 0.9862 if thin else 0.7071
    eox, eoy = tip.ux * sw * swf, tip.uy * sw * swf
    nx, ny = tip.step(tip.size + sw)
    px, py = x - eox, y - eoy
    tk = 3.4 if thin else 2.0
    drawn = _polyline(
        (px, py),
        (px - nx / 2 - ny / tk, py + nx / tk - ny / 2),
        (px - nx, py - ny),
        (px - nx / 2 + ny / tk, py - ny / 2 - nx / tk),
        close=True,
    )
    return [MarkerPart(drawn, tip.filled)], QPointF(x - nx - eox, y - ny - eoy)


def _circle_marker(kind: str, tip: _Tip) -> _Marked:
    """Draw.io's circle and circlePlus (a circle with a cross in it)."""
    x, y, sw, ux, uy = tip.x, tip.y, tip.width, tip.ux, tip.uy
    s = tip.size + sw
    nx, ny = tip.step(s + sw)
    parts = [MarkerPart(_circle(x - nx, y - ny, s), tip.filled)]
    if kind == "circlePlus":
        mx, my = tip.step(tip.size + 2 * sw)
        cross = _polyline((x - ux * sw, y - uy * sw), (x - 2 * mx + ux * sw, y - 2 * my + uy * sw))
        cross.addPath(
            _polyline(
                (x - mx - my + uy * sw, y - my + mx - ux * sw),
                (x + my - mx - uy * sw, y - my - mx + ux * sw),
            )
        )
        parts.append(MarkerPart(cross, False))
    return parts, QPointF(x - ux * (2 * s + sw), y - uy * (2 * s + sw))


def _async_marker(kind: str, tip: _Tip) -> _Marked:
    """async: half a block, on the side that depends on the end."""
    x, y, sw = tip.x, tip.y, tip.width
    eox, eoy = tip.ux * sw * 1.118, tip.uy * sw * 1.118
    nx, ny = tip.step(tip.size + sw)
    px, py = x - eox, y - eoy
    side = (
        (px - nx - ny / 2, py - ny + nx / 2) if tip.source else (px + ny / 2 - nx, py - ny - nx / 2)
    )
    drawn = _polyline((px, py), side, (px - nx, py - ny), close=True)
    return [MarkerPart(drawn, tip.filled)], QPointF(x - nx - eox, y - ny - eoy)


def _open_async_marker(kind: str, tip: _Tip) -> _Marked:
    """openAsync: one side of an open head."""
    x, y = tip.x, tip.y
    nx, ny = tip.step(tip.size + tip.width)
    side = (x - nx - ny / 2, y - ny + nx / 2) if tip.source else (x + ny / 2 - nx, y - ny - nx / 2)
    return [MarkerPart(_polyline((x, y), side), False)], tip.end


def _er_step(tip: _Tip) -> tuple[float, float]:
    """The markers of Shapes.js and mxER.js are measured in (size + width + 1)."""
    return tip.step(tip.size + tip.width + 1)


def _er_bar(tip: _Tip) -> QPainterPath:
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    return _polyline(
        (x - nx / 2 - ny / 2, y - ny / 2 + nx / 2), (x - nx / 2 + ny / 2, y - ny / 2 - nx / 2)
    )


def _er_far_bar(tip: _Tip) -> QPainterPath:
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    return _polyline((x - nx - ny / 2, y - ny + nx / 2), (x - nx + ny / 2, y - ny - nx / 2))


def _er_crow(tip: _Tip) -> QPainterPath:
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    return _polyline((x + ny / 2, y - nx / 2), (x - nx, y - ny), (x - ny / 2, y + nx / 2))


def _er_slash(tip: _Tip) -> QPainterPath:
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    return _polyline(
        (x - nx / 2 - ny / 2, y - ny / 2 + nx / 2),
        (x + ny / 2 - 3 * nx / 2, y - 3 * ny / 2 - nx / 2),
    )


def _dash_marker(kind: str, tip: _Tip) -> _Marked:
    """dash: a slanted stroke across the line."""
    return [MarkerPart(_er_slash(tip), False)], tip.end


def _base_dash_marker(kind: str, tip: _Tip) -> _Marked:
    """baseDash: a stroke across the end."""
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    drawn = _polyline((x - ny / 2, y + nx / 2), (x + ny / 2, y - nx / 2))
    return [MarkerPart(drawn, False)], tip.end


def _cross_marker(kind: str, tip: _Tip) -> _Marked:
    """cross: two crossing strokes."""
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    drawn = _er_slash(tip)
    drawn.addPath(
        _polyline(
            (x - nx / 2 + ny / 2, y - ny / 2 - nx / 2),
            (x - ny / 2 - 3 * nx / 2, y - 3 * ny / 2 + nx / 2),
        )
    )
    return [MarkerPart(drawn, False)], tip.end


def _box_marker(kind: str, tip: _Tip) -> _Marked:
    """box: a square at the end."""
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    px, py = x + nx / 2, y + ny / 2
    drawn = _polyline(
        (px - nx / 2 - ny / 2, py - ny / 2 + nx / 2),
        (px - nx / 2 + ny / 2, py - ny / 2 - nx / 2),
        (px + ny / 2 - 3 * nx / 2, py - 3 * ny / 2 - nx / 2),
        (px - ny / 2 - 3 * nx / 2, py - 3 * ny / 2 + nx / 2),
        close=True,
    )
    return [MarkerPart(drawn, tip.filled)], QPointF(x - nx, y - ny)


def _half_circle_marker(kind: str, tip: _Tip) -> _Marked:
    """halfCircle: an open half circle around the end."""
    x, y = tip.x, tip.y
    nx, ny = _er_step(tip)
    ex, ey = x - nx, y - ny
    drawn = QPainterPath(QPointF(x - ny, y + nx))
    drawn.quadTo(QPointF(ex - ny, ey + nx), QPointF(ex, ey))
    drawn.quadTo(QPointF(ex + ny, ey - nx), QPointF(x + ny, y - nx))
    return [MarkerPart(drawn, False)], QPointF(ex, ey)


def _er_marker(kind: str, tip: _Tip) -> _Marked:
    """The ERone, ERmandOne, ERmany and ERoneToMany: bars and a crow's foot (mxER)."""
    if kind == "ERone":
        drawn = _er_bar(tip)
    elif kind == "ERmandOne":
        drawn = _er_bar(tip)
        drawn.addPath(_er_far_bar(tip))
    elif kind == "ERmany":
        drawn = _er_crow(tip)
    else:  # ERoneToMany
        drawn = _er_far_bar(tip)
        drawn.addPath(_er_crow(tip))
    return [MarkerPart(drawn, False)], tip.end


def _er_zero_marker(kind: str, tip: _Tip) -> _Marked:
    """ERzeroToMany and ERzeroToOne: a circle (white when filled) and a crow or a bar."""
    nx, ny = _er_step(tip)
    circle = _circle(tip.x - 1.5 * nx, tip.y - 1.5 * ny, tip.size / 2)
    lines = _er_crow(tip) if kind == "ERzeroToMany" else _er_bar(tip)
    return [MarkerPart(circle, False, white=tip.filled), MarkerPart(lines, False)], tip.end


_MARKER_PAINTERS: dict[str, Callable[[str, _Tip], _Marked]] = {
    **dict.fromkeys(("classic", "classicThin", "block", "blockThin", "doubleBlock"), _block_marker),
    **dict.fromkeys(("open", "openThin"), _open_marker),
    "oval": _oval_marker,
    **dict.fromkeys(("diamond", "diamondThin"), _diamond_marker),
    **dict.fromkeys(("circle", "circlePlus"), _circle_marker),
    "async": _async_marker,
    "openAsync": _open_async_marker,
    "dash": _dash_marker,
    "baseDash": _base_dash_marker,
    "cross": _cross_marker,
    "box": _box_marker,
    "halfCircle": _half_circle_marker,
    **dict.fromkeys(("ERone", "ERmandOne", "ERmany", "ERoneToMany"), _er_marker),
    **dict.fromkeys(("ERzeroToMany", "ERzeroToOne"), _er_zero_marker),
}


def marker(
    kind: str,
    end: QPointF,
    unit: tuple[float, float],
    size: float,
    width: float,
    filled: bool,
    source: bool,
) -> tuple[list[MarkerPart], QPointF]:
    """draw.io's marker ``kind`` at ``end`` of a line arriving along ``unit`` (pointing to
    ``end``); the parts to paint and where the line must stop instead of ``end``. An
    unknown kind paints nothing and leaves the line as it is (as draw.io)."""
    painter = _MARKER_PAINTERS.get(kind)
    if painter is None:
        return [], end
    return painter(kind, _Tip(end, unit[0], unit[1], size, width, filled, source))


def line_path(points: list[QPointF], rounded: bool, curved: bool, arc: float) -> QPainterPath:
    """The line through ``points`` as draw.io paints it: straight segments, corners rounded
    by ``arc`` (``mxShape.addPoints``), or quadratic curves through the midpoints
    (``mxPolyline.paintCurvedLine``)."""
    drawn = QPainterPath(points[0])
    n = len(points)
    if curved and n > 2:
        for i in range(1, n - 2):
            drawn.quadTo(points[i], (points[i] + points[i + 1]) / 2)
        drawn.quadTo(points[n - 2], points[n - 1])
        return drawn
    _add_points(drawn, points, rounded, arc, move=True)
    return drawn


def _add_points(
    drawn: QPainterPath, points: list[QPointF], rounded: bool, arc: float, move: bool
) -> None:
    """mxShape.addPoints: the polyline onto ``drawn``, starting with a move or a line."""
    n = len(points)
    if move:
        drawn.moveTo(points[0])
    else:
        drawn.lineTo(points[0])
    previous = points[0]
    i = 1
    while i < n - 1:
        corner = points[i]
        dx, dy = previous.x() - corner.x(), previous.y() - corner.y()
        if rounded and (dx != 0 or dy != 0):
            dist = math.hypot(dx, dy)
            cut = min(arc, dist / 2) / dist
            drawn.lineTo(QPointF(corner.x() + dx * cut, corner.y() + dy * cut))
            following = points[i + 1]
            while (
                i < n - 2
                and round(following.x() - corner.x()) == 0
                and round(following.y() - corner.y()) == 0
            ):
                following = points[i + 2]
                i += 1
            dx, dy = following.x() - corner.x(), following.y() - corner.y()
            dist = max(1.0, math.hypot(dx, dy))
            cut = min(arc, dist / 2) / dist
            after = QPointF(corner.x() + dx * cut, corner.y() + dy * cut)
            drawn.quadTo(corner, after)
            corner = after
        else:
            drawn.lineTo(corner)
        previous = corner
        i += 1
    if n > 1:
        drawn.lineTo(points[-1])


def _js_round(value: float) -> float:
    return math.floor(value + 0.5)


def _draw_hop(drawn: QPainterPath, p0: QPointF, p1: QPointF, step: QPointF, kind: str) -> bool:
    """One jump from ``p0`` over a crossing to ``p1``: a sharp step, an arc or a gap;
    whether the line goes on with a move (after a gap)."""
    sx, sy = _js_round(step.x()), _js_round(step.y())
    f = 1.0 if sx < 0 or (sx == 0 and sy <= 0) else -1.0
    if kind == "sharp":
        drawn.lineTo(p0.x() - step.y() * f, p0.y() + step.x() * f)
        drawn.lineTo(p1.x() - step.y() * f, p1.y() + step.x() * f)
        drawn.lineTo(p1)
        return False
    if kind == "arc":
        f *= 1.3
        drawn.cubicTo(
            QPointF(p0.x() - step.y() * f, p0.y() + step.x() * f),
            QPointF(p1.x() - step.y() * f, p1.y() + step.x() * f),
            p1,
        )
        return False
    drawn.moveTo(p1)
    return True


def jumping_path(
    routed: list[tuple[float, float, bool]],
    first: QPointF,
    last: QPointF,
    kind: str,
    size: float,
    rounded: bool,
    arc: float,
) -> QPainterPath:
    """The line through draw.io's routed points with a hop at each jump
    (Graph.js ``mxConnector.paintLine``): an arc, a gap or a sharp step ``size`` either side
    of the crossing; ``first``/``last`` are the ends after the arrow heads."""
    drawn = QPainterPath()
    move = True
    previous: QPointF | None = None
    step: QPointF | None = None
    length = 0.0
    run: list[QPointF] = []
    count = len(routed)
    for i, (x, y, jump) in enumerate(routed):
        point = first if i == 0 else last if i == count - 1 else QPointF(x, y)
        done = False
        if previous is not None and jump and i + 1 < count:
            nx, ny = routed[i + 1][0] - point.x(), routed[i + 1][1] - point.y()
            ahead = nx * nx + ny * ny
            if step is None:
                step = point - previous
                length = math.hypot(step.x(), step.y())
                step = step * (size / length) if length > 0 else None
            if step is not None and ahead > size * size and length > 0:
                back = previous - point
                if back.x() ** 2 + back.y() ** 2 > size * size:
                    p0, p1 = point - step, point + step
                    run.append(p0)
                    _add_points(drawn, run, rounded, arc, move)
                    move = _draw_hop(drawn, p0, p1, step, kind)
                    run = [p1]
                    done = True
        elif not jump:
            step = None
        if not done:
            run.append(point)
            previous = point
    _add_points(drawn, run, rounded, arc, move)
    return drawn


def _unit(tip: QPointF, back: QPointF) -> tuple[float, float] | None:
    dx, dy = tip.x() - back.x(), tip.y() - back.y()
    length = math.hypot(dx, dy)
    if length == 0:
        return None
    return dx / length, dy / length


def _without_reversals(points: list[QPointF]) -> list[QPointF]:
    """The polyline less the bends where it turns straight back (and empty segments), as
    mxArrowConnector skips them: a route that doubles back on itself draws as a straight
    band, not a knot."""
    if len(points) < 3:
        return points
    kept = [points[0]]
    heading = _unit(points[1], points[0])
    for i in range(1, len(points) - 1):
        ahead = _unit(points[i + 1], points[i])
        if ahead is None:
            continue
        if heading is not None and heading[0] * ahead[0] + heading[1] * ahead[1] < -0.9999:
            continue
        kept.append(points[i])
        heading = ahead
    kept.append(points[-1])
    return kept


def _offset(points: list[QPointF], distance: float) -> list[QPointF]:
    """The polyline moved sideways by ``distance`` (mitred corners)."""
    out: list[QPointF] = []
    n = len(points)
    for i in range(n):
        normals = []
        for a, b in ((i - 1, i), (i, i + 1)):
            if a >= 0 and b < n:
                unit = _unit(points[b], points[a])
                if unit is not None:
                    normals.append((-unit[1], unit[0]))
        if not normals:
            out.append(points[i])
            continue
        mx = sum(v[0] for v in normals) / len(normals)
        my = sum(v[1] for v in normals) / len(normals)
        scale = mx * mx + my * my
        if scale < 1e-6:
            mx, my, scale = normals[0][0], normals[0][1], 1.0
        out.append(
            QPointF(points[i].x() + mx / scale * distance, points[i].y() + my / scale * distance)
        )
    return out


def _arrow_outline(
    points: list[QPointF],
    body: float,
    heads: tuple[tuple[float, float] | None, tuple[float, float] | None],
    spacing: float,
) -> QPainterPath:
    """A ``flexArrow``: a band ``body`` wide along the line, with a triangular head (width,
    length) at either end where asked (``mxArrowConnector``)."""
    line = list(points)
    outline = QPainterPath()
    for index, head in ((0, heads[0]), (-1, heads[1])):
        if head is None:
            continue
        tip = line[index]
        neighbour = line[1] if index == 0 else line[-2]
        unit = _unit(tip, neighbour)
        if unit is None:
            continue
        width, length = head
        ux, uy = unit
        tip_at = QPointF(tip.x() - ux * spacing, tip.y() - uy * spacing)
        base = QPointF(tip_at.x() - ux * length, tip_at.y() - uy * length)
        triangle = QPainterPath(tip_at)
        triangle.lineTo(QPointF(base.x() - uy * width / 2, base.y() + ux * width / 2))
        triangle.lineTo(QPointF(base.x() + uy * width / 2, base.y() - ux * width / 2))
        triangle.closeSubpath()
        outline = outline.united(triangle)
        line[index] = QPointF(base.x() + ux * 0.5, base.y() + uy * 0.5)  # overlap the seam
    left, right = _offset(line, body / 2), _offset(line, -body / 2)
    band = QPainterPath(left[0])
    for point in left[1:]:
        band.lineTo(point)
    for point in reversed(right):
        band.lineTo(point)
    band.closeSubpath()
    return outline.united(band).simplified()


def _fixed_arrow(start: QPointF, end: QPointF) -> QPainterPath:
    """``shape=arrow`` (mxArrow): a 10-wide shaft and a 30-wide, 30-long head from the
    first point straight to the last, whatever the waypoints (draw.io's ARROW_WIDTH and
    ARROW_SIZE of 30)."""
    drawn = QPainterPath()
    unit = _unit(end, start)
    if unit is None:
        return drawn
    ux, uy = unit
    length = math.hypot(end.x() - start.x(), end.y() - start.y())
    shaft = length - 30.0
    lx, ly = 30.0 * uy / 3, -30.0 * ux / 3
    x0, y0 = start.x() - lx / 2, start.y() - ly / 2
    x1, y1 = x0 + lx, y0 + ly
    x2, y2 = x1 + shaft * ux, y1 + shaft * uy
    x3, y3 = x2 + lx, y2 + ly
    x4, y4 = x3 - 3 * lx, y3 - 3 * ly
    drawn.moveTo(x0, y0)
    for x, y in ((x1, y1), (x2, y2), (x3, y3), (end.x(), end.y()), (x4, y4), (x4 + lx, y4 + ly)):
        drawn.lineTo(x, y)
    drawn.closeSubpath()
    return drawn


def _flex_arrow(points: list[QPointF], edge: EdgePath, style: Style) -> QPainterPath:
    """``shape=flexArrow``: the band and the heads asked for, from the style's widths."""
    sw = style.stroke_width
    body = style.number("width", 10.0) + max(0.0, sw - 1)
    heads = (
        (body + style.number("startWidth", 20.0) + sw, 3 * edge.start_size + sw)
        if edge.start_arrow and edge.start_arrow != "none"
        else None,
        (body + style.number("endWidth", 20.0) + sw, 3 * edge.end_size + sw)
        if edge.end_arrow and edge.end_arrow != "none"
        else None,
    )
    return _arrow_outline(points, body, heads, sw / 2)


def _link_route(points: list[QPointF], style: Style) -> QPainterPath:
    """``shape=link``: two parallel lines ``width`` apart."""
    body = style.number("width", 4.0) + max(0.0, style.stroke_width - 1)
    route = QPainterPath()
    for side in (_offset(points, body / 2), _offset(points, -body / 2)):
        route.addPath(line_path(side, style.rounded, False, 0.0))
    return route


class EdgeItem(GuardedItem):
    """A connector: its line through the route's points, arrow heads and label, or for
    ``shape=flexArrow`` and ``shape=arrow`` a filled arrow outline and for ``shape=link``
    two parallel lines."""

    def __init__(self, element: Element) -> None:
        super().__init__()
        assert element.edge is not None
        self.element = element
        style = element.style
        self.setOpacity(style.opacity)
        self.pen = _pen(style) or QPen(Qt.PenStyle.NoPen)
        self.pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        self.pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        self.pen.setMiterLimit(10.0)
        self.parts: list[MarkerPart] = []
        self.outline: QPainterPath | None = None  # flexArrow: filled and stroked
        self.brush: QBrush | None = None
        self.route = self._route(element, element.edge)
        self.label: LabelBlock | None = None
        if element.label is not None and element.label.plain.strip() and element.label_anchor:
            anchor = element.label_anchor
            self.label = LabelBlock(element, QRectF(anchor.x, anchor.y, 0, 0))
        self._shape = self._touch_area(style.stroke_width)
        self._bounds = self._shape.boundingRect()
        if self.label is not None:
            self._bounds = self._bounds.united(self.label.bounds)
        self._bounds = self._bounds.adjusted(-4, -4, 4, 4)

    def _route(self, element: Element, edge: EdgePath) -> QPainterPath:
        """The path the connector's line (or band) follows; sets ``outline``, ``brush`` and
        ``parts`` on the way."""
        style = element.style
        points = [QPointF(p.x, p.y) for p in edge.points] if len(edge.points) >= 2 else []
        if element.shape in ("flexArrow", "link"):
            points = _without_reversals(points)
        if not points:
            return QPainterPath()
        if element.shape == "flexArrow":
            self.outline = _flex_arrow(points, edge, style)
        elif element.shape == "arrow":
            self.outline = _fixed_arrow(points[0], points[-1])
        elif element.shape == "link":
            return _link_route(points, style)
        else:
            return self._line_route(points, edge, style)
        self.brush = _brush(style, self.outline.boundingRect())
        return QPainterPath(self.outline)

    def _line_route(self, points: list[QPointF], edge: EdgePath, style: Style) -> QPainterPath:
        """A plain connector: its heads into ``parts`` and the line between them."""
        sw = style.stroke_width
        for index, kind, size, fill in (
            (0, edge.start_arrow, edge.start_size, edge.start_fill),
            (-1, edge.end_arrow, edge.end_size, edge.end_fill),
        ):
            if kind not in MARKERS:
                continue  # draw.io draws no head for a name it does not know
            tip = points[index]
            unit = _unit(tip, points[1] if index == 0 else points[-2])
            if unit is None:
                continue
            parts, stop = marker(kind, tip, unit, size, sw, fill, index == 0)
            self.parts.extend(parts)
            points[index] = stop
        arc = style.number("arcSize", LINE_ARC_SIZE) / 2
        if edge.jumps and not edge.curved:
            size = (int(style.number("jumpSize", 6.0)) - 2) / 2 + sw
            kind = style.get("jumpStyle") or "none"
            return jumping_path(edge.jumps, points[0], points[-1], kind, size, style.rounded, arc)
        return line_path(points, style.rounded, edge.curved, arc)

    def _touch_area(self, stroke_width: float) -> QPainterPath:
        """A band along the route, united with the outline and the heads."""
        stroker = QPainterPathStroker()
        stroker.setWidth(max(EDGE_TOUCH_WIDTH, stroke_width))
        area = stroker.createStroke(self.route)
        if self.outline is not None:
            area = area.united(self.outline)
        for part in self.parts:
            area = area.united(part.path)
        return area

    def boundingRect(self) -> QRectF:
        """Everything this item paints."""
        return self._bounds

    def shape(self) -> QPainterPath:
        """The touchable area: a band along the route plus the heads."""
        return self._shape

    def _paint(self, painter: QPainter) -> None:
        """Draw the route, the heads and the label."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.element.style.shadow:
            painter.strokePath(self.route.translated(SHADOW_OFFSET), QPen(SHADOW_COLOR, 1))
        if self.outline is not None:
            if self.brush is not None:
                painter.fillPath(self.outline, self.brush)
            painter.strokePath(self.outline, self.pen)
        else:
            painter.strokePath(self.route, self.pen)
        # heads: solid, filled with the line's colour (mxConnector.paintEdgeShape)
        solid = QPen(self.pen)
        solid.setStyle(Qt.PenStyle.SolidLine)
        for part in self.parts:
            painter.setPen(solid)
            if part.white:
                painter.setBrush(QColor(255, 255, 255))
            elif part.filled:
                painter.setBrush(solid.color())
            else:
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(part.path)
        if self.label is not None:
            self.label.paint(painter)
