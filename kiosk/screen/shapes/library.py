"""Library shapes draw.io draws in code (``shapes/mx*.js``, ``Shapes.js``), painted the same
way on a ``StencilCanvas``.

Each painter takes the canvas, the cell's style and the (direction-turned) box size, and makes
the same canvas calls as draw.io's ``paintVertexShape``. ``CODE_SHAPE_PAINTERS`` is keyed by
the lower-case lookup name; ``designer_import.stencils.CODE_SHAPES`` lists the same names for
the validator (a test keeps the two equal).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from designer_import.model import Style
from kiosk.screen.shapes.bpmn import BPMN_PAINTERS
from kiosk.screen.shapes.core import CORE_PAINTERS
from kiosk.screen.shapes.diagram import DIAGRAM_PAINTERS
from kiosk.screen.shapes.mockup import MOCKUP_PAINTERS

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape


def _num(style: Style, key: str, default: float) -> float:
    return style.number(key, default)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def arrows2_arrow(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.arrows2.arrow`` (mxShapeArrows2Arrow): a block arrow with a notched tail."""
    dy = h * 0.5 * _clamp(_num(style, "dy", 0.5), 0, 1)
    dx = _clamp(_num(style, "dx", 0.5), 0, w)
    notch = _clamp(_num(style, "notch", 0), 0, w)
    c.begin()
    c.move_to(0, dy)
    c.line_to(w - dx, dy)
    c.line_to(w - dx, 0)
    c.line_to(w, h * 0.5)
    c.line_to(w - dx, h)
    c.line_to(w - dx, h - dy)
    c.line_to(0, h - dy)
    c.line_to(notch, h * 0.5)
    c.close()
    c.fill_and_stroke()
    c.set_shadow(False)
    if style.flag("headCrossline", False):
        c.begin()
        c.move_to(w - dx, dy)
        c.line_to(w - dx, h - dy)
        c.stroke()
    if style.flag("tailCrossline", False):
        c.begin()
        c.move_to(notch, dy)
        c.line_to(notch, h - dy)
        c.stroke()


def arrows2_u_turn_arrow(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.arrows2.uTurnArrow`` (mxShapeArrows2UTurnArrow)."""
    dy = _clamp(_num(style, "dy", 11), 0, h)
    head = _clamp(_num(style, "arrowHead", 43), 0, h)
    dx = (h - head / 2 + dy) / 2
    dx2 = max(0.0, _num(style, "dx2", 25))
    c.begin()
    c.move_to(dx, 0)
    c.line_to(dx + dx2, head * 0.5)
    c.line_to(dx, head)
    c.line_to(dx, head / 2 + dy)
    c.arc_to(dx - 2 * dy, dx - 2 * dy, 0, False, False, dx, h - 2 * dy)
    c.line_to(max(w, dx), h - 2 * dy)
    c.line_to(max(w, dx), h)
    c.line_to(dx, h)
    c.arc_to(dx, dx, 0, False, True, dx, head / 2 - dy)
    c.close()
    c.fill_and_stroke()


def _corner_size(style: Style, w: float, h: float) -> float:
    size = _clamp(_num(style, "size", 10), 0, w)
    size = min(h * 0.5, w * 0.5, size)
    if not style.flag("absoluteCornerSize", True):
        size = _clamp(_num(style, "size", 10), 0, 50) * min(w, h) / 100
    return min(size, min(w, h) * 0.5)


def basic_rect(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.basic.rect`` (mxShapeBasicRect2, single outline): a rectangle whose corners
    are square, rounded, snipped or rounded inwards (``rectStyle``, ``topLeftStyle``, ...) and
    whose sides are drawn only where ``top``/``right``/``bottom``/``left`` say."""
    size = _corner_size(style, w, h)
    default = style.get("rectStyle") or "square"

    def kind(key: str) -> str:
        value = style.get(key) or "default"
        return default if value == "default" else value

    corners = [
        # (corner, start of the rounding, end of the rounding)
        (kind("topLeftStyle"), (0.0, 0.0), (0.0, size), (size, 0.0)),
        (kind("topRightStyle"), (w, 0.0), (w - size, 0.0), (w, size)),
        (kind("bottomRightStyle"), (w, h), (w, h - size), (w - size, h)),
        (kind("bottomLeftStyle"), (0.0, h), (size, h), (0.0, h - size)),
    ]
    outline: list[tuple[str, tuple[float, float], tuple[float, float], tuple[float, float]]] = (
        corners
    )

    def corner(path_start: bool, index: int) -> None:
        style_name, at, start, end = outline[index]
        if style_name in ("square", "fold") or size == 0:
            (c.move_to if path_start else c.line_to)(*at)
            return
        (c.move_to if path_start else c.line_to)(*start)
        if style_name == "rounded":
            c.arc_to(size, size, 0, False, True, *end)
        elif style_name == "invRound":
            c.arc_to(size, size, 0, False, False, *end)
        else:  # snip
            c.line_to(*end)

    c.begin()
    for i in range(4):
        corner(i == 0, i)
    c.close()
    c.fill()
    c.set_shadow(False)
    sides = [style.flag(name, True) for name in ("top", "right", "bottom", "left")]
    c.begin()
    if all(sides):
        for i in range(4):
            corner(i == 0, i)
        c.close()
    else:
        points = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
        for i, on in enumerate(sides):
            if on:
                c.move_to(*points[i])
                c.line_to(*points[(i + 1) % 4])
    c.stroke()


def _angles(style: Style, start: float, end: float) -> tuple[float, float, float, float]:
    s = _clamp(_num(style, "startAngle", start), 0, 1)
    e = _clamp(_num(style, "endAngle", end), 0, 1)
    return s, e, 2 * math.pi * s, 2 * math.pi * e


def _on_ellipse(rx: float, ry: float, angle: float, sx: float, sy: float) -> tuple[float, float]:
    return rx + math.sin(angle) * sx, ry - math.cos(angle) * sy


def basic_part_conc_ellipse(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.basic.partConcEllipse``: a ring segment from ``startAngle`` to ``endAngle``
    (fractions of a turn, clockwise from the top), ``arcWidth`` thick."""
    _s, _e, start, end = _angles(style, 0.25, 0.75)
    ring = 1 - _clamp(_num(style, "arcWidth", 0.5), 0, 1)
    rx, ry = w * 0.5, h * 0.5
    rx2, ry2 = rx * ring, ry * ring
    diff = end - start
    if diff < 0:
        diff += 2 * math.pi
    elif diff == math.pi:
        end += 0.00001
    big = diff >= math.pi
    c.begin()
    c.move_to(*_on_ellipse(rx, ry, start, rx, ry))
    c.arc_to(rx, ry, 0, big, True, *_on_ellipse(rx, ry, end, rx, ry))
    c.line_to(*_on_ellipse(rx, ry, end, rx2, ry2))
    c.arc_to(rx2, ry2, 0, big, False, *_on_ellipse(rx, ry, start, rx2, ry2))
    c.close()
    c.fill_and_stroke()


def _pie_or_arc(c: StencilCanvas, style: Style, w: float, h: float, *, pie: bool) -> None:
    s, e, start, end = _angles(style, 0.25, 0.75)
    rx, ry = w * 0.5, h * 0.5
    diff = end - start
    if diff < 0:
        diff += 2 * math.pi
    big = diff >= math.pi if pie else diff > math.pi
    c.begin()
    first = _on_ellipse(rx, ry, start, rx, ry)
    if pie:
        c.move_to(rx, ry)
        c.line_to(*first)
    else:
        c.move_to(*first)
    if s % 1 == 0 and e % 1 == 0.5:
        c.arc_to(rx, ry, 0, False, True, w, h * 0.5)
        c.arc_to(rx, ry, 0, False, True, w * 0.5, h)
    elif s % 1 == 0.5 and e % 1 == 0:
        c.arc_to(rx, ry, 0, False, True, 0, h * 0.5)
        c.arc_to(rx, ry, 0, False, True, w * 0.5, 0)
    else:
        c.arc_to(rx, ry, 0, big, True, *_on_ellipse(rx, ry, end, rx, ry))
    if pie:
        c.close()
        c.fill_and_stroke()
    else:
        c.stroke()


def basic_pie(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.basic.pie``: a pie slice from ``startAngle`` to ``endAngle``."""
    _pie_or_arc(c, style, w, h, pie=True)


def basic_arc(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.basic.arc``: an open arc of the ellipse from ``startAngle`` to ``endAngle``."""
    _pie_or_arc(c, style, w, h, pie=False)


def _wall_thickness(style: Style) -> float:
    return _num(style, "wallThickness", 10)


def floorplan_wall(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.wall``: a ``wallThickness`` thick bar across the middle."""
    t = _wall_thickness(style)
    c.rect(0, h * 0.5 - t * 0.5, w, t)
    c.fill_and_stroke()


def floorplan_wall_corner(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.wallCorner``: an L of two ``wallThickness`` thick walls."""
    t = _wall_thickness(style)
    c.begin()
    for x, y in ((0, h), (0, 0), (w, 0), (w, t), (t, t), (t, h)):
        (c.line_to if (x, y) != (0, h) else c.move_to)(x, y)
    c.close()
    c.fill_and_stroke()


def floorplan_wall_u(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.wallU``: a U of three ``wallThickness`` thick walls."""
    t = _wall_thickness(style)
    c.begin()
    c.move_to(0, h)
    for x, y in ((0, 0), (w, 0), (w, h), (w - t, h), (w - t, t), (t, t), (t, h)):
        c.line_to(x, y)
    c.close()
    c.fill_and_stroke()


def floorplan_window(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.window``: a wall-thick frame with the pane's line along it."""
    t = _wall_thickness(style)
    c.rect(0, h * 0.5 - t * 0.5, w, t)
    c.fill_and_stroke()
    c.begin()
    c.move_to(0, h * 0.5)
    c.line_to(w, h * 0.5)
    c.stroke()


def floorplan_door_left(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.doorLeft``: the door leaf and its swing, hinged on the left."""
    c.rect(0, 0, w, 5)
    c.fill_and_stroke()
    c.begin()
    c.move_to(w, 5)
    c.arc_to(w, w, 0, False, True, 0, 5 + w)
    c.line_to(0, 5)
    c.stroke()


def floorplan_door_right(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.doorRight``: the door leaf and its swing, hinged on the right."""
    c.rect(0, 0, w, 5)
    c.fill_and_stroke()
    c.begin()
    c.move_to(0, 5)
    c.arc_to(w, w, 0, False, False, w, 5 + w)
    c.line_to(w, 5)
    c.stroke()


def floorplan_door_double(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.doorDouble``: two leaves swinging from the middle."""
    half = w * 0.5
    c.rect(0, 0, w, 5)
    c.fill_and_stroke()
    c.begin()
    c.move_to(half, 0)
    c.line_to(half, 5)
    c.move_to(half, 5)
    c.arc_to(half, half, 0, False, True, 0, 5 + half)
    c.line_to(0, 5)
    c.move_to(half, 5)
    c.arc_to(half, half, 0, False, False, w, 5 + half)
    c.line_to(w, 5)
    c.stroke()


def floorplan_stairs(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.floorplan.stairs``: treads every 25 units and the walking line's arrow."""
    w = max(w, 50)
    step = 25
    c.rect(0, 0, w, h)
    c.fill_and_stroke()
    c.set_shadow(False)
    c.begin()
    x = 25
    while x < w:
        c.move_to(x, 0)
        c.line_to(x, h)
        x += step
    c.stroke()
    c.begin()
    c.move_to(0, h * 0.5)
    c.line_to(w, h * 0.5)
    c.move_to(w - step, 0)
    c.line_to(w, h * 0.5)
    c.line_to(w - step, h)
    c.stroke()


def infographic_ribbon_simple(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.infographic.ribbonSimple``: a banner notched at the tail, pointed at the head.
    (draw.io reads ``notch1`` with ``notch2``'s default, 0.5.)"""
    notch1 = _clamp(_num(style, "notch1", 0.5), 0, w)
    notch2 = _clamp(_num(style, "notch2", 0.5), 0, w)
    c.begin()
    c.move_to(0, h)
    c.line_to(notch1, h * 0.5)
    c.line_to(0, 0)
    c.line_to(w - notch2, 0)
    c.line_to(w, h * 0.5)
    c.line_to(w - notch2, h)
    c.close()
    c.fill_and_stroke()


def infographic_bar_callout(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.infographic.barCallout``: a bar with a pointer below it at ``dx``."""
    dx = _clamp(_num(style, "dx", 0.5), 0, w)
    dy = _clamp(_num(style, "dy", 0.5), 0, h)
    x1, x2 = max(dx - dy * 0.35, 0), min(dx + dy * 0.35, w)
    c.begin()
    c.move_to(0, 0)
    for x, y in ((w, 0), (w, h - dy), (x2, h - dy), (dx, h), (x1, h - dy), (0, h - dy)):
        c.line_to(x, y)
    c.close()
    c.fill_and_stroke()


def infographic_cylinder(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.infographic.cylinder``: a cylinder shaded by a dark-to-light overlay."""
    rx, ry = w * 0.5, 10.0

    def body(top_sweep: bool) -> None:
        c.begin()
        c.move_to(0, ry)
        c.arc_to(rx, ry, 0, False, top_sweep, w, ry)
        c.line_to(w, h - ry)
        c.arc_to(rx, ry, 0, False, True, 0, h - ry)
        c.close()

    body(True)
    c.fill_and_stroke()
    c.set_shadow(False)
    c.set_gradient("#000000", "#ffffff", QRectF(0, 0, w, h), "east", 0.4, 0.4)
    body(False)
    c.fill()
    body(True)
    c.stroke()


def _circle(c: StencilCanvas, cx: float, top: float, r: float) -> None:
    """The four arcs draw.io uses for a circle whose top is at (cx, top)."""
    c.move_to(cx, top)
    c.arc_to(r, r, 0, False, False, cx - r, top + r)
    c.arc_to(r, r, 0, False, False, cx, top + 2 * r)
    c.arc_to(r, r, 0, False, False, cx + r, top + r)
    c.arc_to(r, r, 0, False, False, cx, top)
    c.close()


def infographic_circular_callout2(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.infographic.circularCallout2``: a ring on a pin, drawn in the line colour,
    its inside filled with the fill colour."""
    fill, stroke = style.get("fillColor") or "none", style.get("strokeColor") or "none"
    c.set_fill_color(stroke)
    rx = max(0.0, min(w * 0.5, h * 0.4, h * 0.5 - 7))
    rmin = max(rx * 0.1, 6)
    m = w * 0.5
    c.begin()
    c.move_to(m - 2, 2.15 * rx)
    c.arc_to(rx * 0.23, rx * 0.23, 0, False, False, m - rx * 0.2, rx * 1.97)
    c.arc_to(rx, rx, 0, False, True, m - rx, rx)
    c.arc_to(rx, rx, 0, False, True, m, 0)
    c.arc_to(rx, rx, 0, False, True, m + rx, rx)
    c.arc_to(rx, rx, 0, False, True, m + rx * 0.2, rx * 1.97)
    c.arc_to(rx * 0.23, rx * 0.23, 0, False, False, m + 2, 2.15 * rx)
    big = rx * 0.04 > 4
    if big:
        c.line_to(m + 2, h - rx * 0.22)
        c.arc_to(rx * 0.05, rx * 0.05, 0, False, False, m + rx * 0.04, h - rx * 0.19)
    else:
        c.line_to(m + 2, h - 2 * rmin)
    c.arc_to(rmin, rmin, 0, False, True, m + rmin, h - rmin)
    c.arc_to(rmin, rmin, 0, False, True, m, h)
    c.arc_to(rmin, rmin, 0, False, True, m - rmin, h - rmin)
    if big:
        c.arc_to(rmin, rmin, 0, False, True, m - rx * 0.04, h - rx * 0.19)
        c.arc_to(rmin * 0.5, rmin * 0.5, 0, False, False, m - 2, h - rx * 0.22)
    else:
        c.arc_to(rmin, rmin, 0, False, True, m - 2, h - 2 * rmin)
    c.close()
    _circle(c, m, rx * 0.2, rx * 0.8)
    _circle(c, m, h - rmin * 1.75, rmin * 0.75)
    c.fill()
    c.set_fill_color(fill)
    c.set_shadow(False)
    c.begin()
    _circle(c, m, rx * 0.2, rx * 0.8)
    _circle(c, m, h - rmin * 1.75, rmin * 0.75)
    c.fill()


def infographic_banner_single_fold(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.infographic.bannerSingleFold``: a banner whose right end folds back, the fold
    shaded black at 5 % and 40 %."""
    dy = _clamp(_num(style, "dy", 0.5), 0, h * 0.5)
    dx = min(w - 2 * dy, _clamp(_num(style, "dx", 0.5), 0, w))
    dx2 = _clamp(_num(style, "dx2", 0.5), 0, w - dx - 2 * dy)
    notch = min(dx, _clamp(_num(style, "notch", 0.5), 0, w))
    tip = (w - notch, (h - dy) * 0.5 + dy)
    outline = [
        *[(dx2, 0), (w - dx, 0), (w - dx, dy), (w, dy), tip, (w, h)],
        *[(w - dx - 2 * dy, h), (w - dx - 2 * dy, h - dy), (dx2, h - dy), (0, (h - dy) * 0.5)],
    ]

    def shape(points: list[tuple[float, float]]) -> None:
        c.begin()
        c.move_to(*points[0])
        for point in points[1:]:
            c.line_to(*point)
        c.close()

    shape(outline)
    c.fill_and_stroke()
    c.set_shadow(False)
    c.set_fill_alpha(0.05)
    c.set_fill_color("#000000")
    shape([(w, dy), (w - dx, dy), (w - dx, h - dy), (w - dx - 2 * dy, h), (w, h), tip])
    c.fill()
    c.set_fill_alpha(0.4)
    shape([(w - dx, h - dy), (w - dx - 2 * dy, h - dy), (w - dx - 2 * dy, h)])
    c.fill()
    shape(outline)
    c.stroke()


#: Lower-case lookup name -> painter.
CODE_SHAPE_PAINTERS: dict[str, CodeShape] = {
    "mxgraph.arrows2.arrow": arrows2_arrow,
    "mxgraph.arrows2.uturnarrow": arrows2_u_turn_arrow,
    "mxgraph.basic.rect": basic_rect,
    "mxgraph.basic.partconcellipse": basic_part_conc_ellipse,
    "mxgraph.basic.pie": basic_pie,
    "mxgraph.basic.arc": basic_arc,
    "mxgraph.floorplan.wall": floorplan_wall,
    "mxgraph.floorplan.wallcorner": floorplan_wall_corner,
    "mxgraph.floorplan.wallu": floorplan_wall_u,
    "mxgraph.floorplan.window": floorplan_window,
    "mxgraph.floorplan.doorleft": floorplan_door_left,
    "mxgraph.floorplan.doorright": floorplan_door_right,
    "mxgraph.floorplan.doordouble": floorplan_door_double,
    "mxgraph.floorplan.stairs": floorplan_stairs,
    "mxgraph.infographic.ribbonsimple": infographic_ribbon_simple,
    "mxgraph.infographic.barcallout": infographic_bar_callout,
    "mxgraph.infographic.cylinder": infographic_cylinder,
    "mxgraph.infographic.circularcallout2": infographic_circular_callout2,
    "mxgraph.infographic.bannersinglefold": infographic_banner_single_fold,
    **DIAGRAM_PAINTERS,
    **BPMN_PAINTERS,
    **MOCKUP_PAINTERS,
    **CORE_PAINTERS,
}
