"""draw.io's own (non-library) shapes drawn in code in ``Shapes.js`` that the basic outlines
of ``kiosk/screen/shapes/outlines.py`` do not cover, painted on a ``StencilCanvas`` with the
same calls as their ``paintVertexShape``: ``waypoint``, ``crossbar``, ``dimension``,
``endState``, ``startState``, ``curlyBracket``, ``offPageConnector``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from designer_import.model import Style

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape


def waypoint(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``waypoint`` (WaypointShape): a dot in the line colour, ``size`` (6) across at the
    default line width, in the middle of the box; the box itself is not drawn."""
    s = max(0.0, style.number("size", 6.0) - 2) + 2 * style.stroke_width
    c.set_fill_color(style.stroke)
    c.begin()
    c.ellipse((w - s) / 2, (h - s) / 2, s, s)
    c.fill()


def crossbar(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``crossbar`` (CrossbarShape): a bar across the middle between two end ticks."""
    c.begin()
    c.move_to(0, 0)
    c.line_to(0, h)
    c.move_to(w, 0)
    c.line_to(w, h)
    c.move_to(0, h / 2)
    c.line_to(w, h / 2)
    c.stroke()


def dimension(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``dimension`` (DimensionShape): end ticks and a line with an open arrow head at each
    end, 5 units above the bottom."""
    al = 10.0
    cy = h - al / 2
    c.begin()
    c.move_to(0, 0)
    c.line_to(0, h)
    c.move_to(0, cy)
    c.line_to(al, cy - al / 2)
    c.move_to(0, cy)
    c.line_to(al, cy + al / 2)
    c.move_to(0, cy)
    c.line_to(w, cy)
    c.move_to(w, 0)
    c.line_to(w, h)
    c.move_to(w, cy)
    c.line_to(w - al, cy - al / 2)
    c.move_to(w, cy)
    c.line_to(w - al, cy + al / 2)
    c.stroke()


def _state(c: StencilCanvas, w: float, h: float, *, outer: bool) -> None:
    inset = min(4.0, w / 5, h / 5)
    if w > 0 and h > 0:
        c.begin()
        c.ellipse(inset, inset, w - 2 * inset, h - 2 * inset)
        c.fill_and_stroke()
    c.set_shadow(False)
    if outer:
        c.begin()
        c.ellipse(0, 0, w, h)
        c.stroke()


def end_state(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``endState`` (StateShape): a filled circle inside a ring."""
    _state(c, w, h, outer=True)


def start_state(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``startState`` (StartStateShape): the filled circle alone."""
    _state(c, w, h, outer=False)


def _polyline(
    c: StencilCanvas, points: list[tuple[float, float]], rounded: bool, arc: float
) -> None:
    """An open line through ``points``, its corners cut by ``arc`` and curved when
    ``rounded`` (draw.io's ``mxShape.addPoints``)."""
    c.begin()
    c.move_to(*points[0])
    for (x0, y0), (x, y), (x1, y1) in zip(points, points[1:], points[2:], strict=False):
        d0, d1 = math.hypot(x - x0, y - y0), math.hypot(x1 - x, y1 - y)
        if not rounded or d0 == 0 or d1 == 0:
            c.line_to(x, y)
            continue
        a0, a1 = min(arc, d0 / 2), min(arc, d1 / 2)
        c.line_to(x - (x - x0) / d0 * a0, y - (y - y0) / d0 * a0)
        c.quad_to(x, y, x + (x1 - x) / d1 * a1, y + (y1 - y) / d1 * a1)
    c.line_to(*points[-1])
    c.stroke()


def _polygon(
    c: StencilCanvas, points: list[tuple[float, float]], rounded: bool, arc: float
) -> None:
    """A closed outline through ``points``, corners cut by ``arc`` and curved when
    ``rounded`` (draw.io's ``mxShape.addPoints`` with ``close``), filled and stroked."""
    n = len(points)
    c.begin()
    if not rounded:
        c.move_to(*points[0])
        for x, y in points[1:]:
            c.line_to(x, y)
    else:
        for i in range(n):
            (x0, y0), (x, y), (x1, y1) = points[i - 1], points[i], points[(i + 1) % n]
            d0, d1 = math.hypot(x - x0, y - y0), math.hypot(x1 - x, y1 - y)
            a0, a1 = min(arc, d0 / 2), min(arc, d1 / 2)
            start = (x - (x - x0) / d0 * a0, y - (y - y0) / d0 * a0) if d0 else (x, y)
            end = (x + (x1 - x) / d1 * a1, y + (y1 - y) / d1 * a1) if d1 else (x, y)
            if i == 0:
                c.move_to(*start)
            else:
                c.line_to(*start)
            c.quad_to(x, y, *end)
    c.close()
    c.fill_and_stroke()


def off_page_connector(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``offPageConnector`` (OffPageConnectorShape): a box whose bottom comes to a point
    ``size`` (3/8) of the height deep."""
    s = h * max(0.0, min(1.0, style.number("size", 3 / 8)))
    points = [(0.0, 0.0), (w, 0.0), (w, h - s), (w / 2, h), (0.0, h - s)]
    _polygon(c, points, style.rounded, style.number("arcSize", 20.0) / 2)


def curly_bracket(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``curlyBracket`` (CurlyBracketShape): a bracket opening right, its point at the left
    ``size`` (0.5) of the width in, corners rounded by half the ``arcSize`` (20) when
    ``rounded``; never filled."""
    s = w * max(0.0, min(1.0, style.number("size", 0.5)))
    arc = style.number("arcSize", 20.0) / 2
    points = [(w, 0.0), (s, 0.0), (s, h / 2), (0.0, h / 2), (s, h / 2), (s, h), (w, h)]
    _polyline(c, points, style.rounded, arc)


#: Lower-case shape name -> painter (merged into ``library_shapes.CODE_SHAPE_PAINTERS``).
CORE_PAINTERS: dict[str, CodeShape] = {
    "waypoint": waypoint,
    "crossbar": crossbar,
    "dimension": dimension,
    "endstate": end_state,
    "startstate": start_state,
    "curlybracket": curly_bracket,
    "offpageconnector": off_page_connector,
}
