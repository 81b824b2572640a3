"""BPMN 2 shapes draw.io draws in code (``shapes/bpmn/mxBpmnShape2.js``): events, gateways and
tasks, painted on a ``StencilCanvas`` with the same calls. Their small icons (loop, manual,
script, ... task markers) are stencils of the shipped ``bpmn.xml``, as in draw.io.

Every event outline and symbol of draw.io's BPMN 2 library is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from designer_import.model import Style
from designer_import.stencils import find_stencil

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape

#: Outlines of an event, by the ``outline`` style value.
_OUTLINE_INSET = 2.0


def _outline(c: StencilCanvas, outline: str, w: float, h: float) -> None:
    if outline == "none":
        c.set_shadow(False)
        return
    dashed = c.state.dashed
    width = c.state.stroke_width
    if outline in ("eventNonint", "boundNonint"):
        c.set_dashed(True)
    if outline == "end":
        c.set_stroke_width(width * 3)
    c.ellipse(0, 0, w, h)
    c.fill_and_stroke()
    c.set_stroke_width(width)
    c.set_shadow(False)
    inset = _OUTLINE_INSET
    if outline in ("catching", "boundInt", "boundNonint"):
        c.ellipse(inset, inset, w - 2 * inset, h - 2 * inset)
        c.stroke()
    elif outline == "throwing":
        c.ellipse(w * 0.02 + inset, h * 0.02 + inset, w * 0.96 - 2 * inset, h * 0.96 - 2 * inset)
        c.stroke()
    c.set_dashed(dashed)


def _message(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.rect(0, 0, w, h)
    c.fill_and_stroke()
    if (style.get("fillColor") or "none") == "none" and inverse:
        c.set_stroke_color("#ffffff")
    c.begin()
    c.move_to(0, 0)
    c.line_to(w * 0.5, h * 0.5)
    c.line_to(w, 0)
    c.stroke()


_TIMER_TICKS = [
    (0.5, 0, 0.5, 0.0642),
    (0.7484, 0.0654, 0.7126, 0.1281),
    (0.93, 0.2471, 0.8673, 0.2854),
    (1, 0.5, 0.9338, 0.5),
    (0.93, 0.7509, 0.8673, 0.7126),
    (0.7484, 0.9326, 0.7126, 0.8699),
    (0.5, 0.9338, 0.5, 1),
    (0.2496, 0.9325, 0.2854, 0.8699),
    (0.068, 0.7509, 0.1307, 0.7126),
    (0, 0.5, 0.0642, 0.5),
    (0.068, 0.2471, 0.1307, 0.2854),
    (0.2496, 0.0654, 0.2854, 0.1281),
]


def _timer(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.ellipse(0, 0, w, h)
    c.fill_and_stroke()
    c.begin()
    for x1, y1, x2, y2 in _TIMER_TICKS:
        c.move_to(w * x1, h * y1)
        c.line_to(w * x2, h * y2)
    c.move_to(w * 0.5246, h * 0.0706)
    c.line_to(w * 0.5, h * 0.5)
    c.line_to(w * 0.7804, h * 0.5118)
    c.stroke()


def _polygon(c: StencilCanvas, w: float, h: float, points: list[tuple[float, float]]) -> None:
    c.begin()
    c.move_to(w * points[0][0], h * points[0][1])
    for x, y in points[1:]:
        c.line_to(w * x, h * y)
    c.close()


def _escalation(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.set_miter_limit(6)
    _polygon(c, w, h, [(0, 1), (0.5, 0), (1, 1), (0.5, 0.5)])
    c.fill() if inverse else c.fill_and_stroke()


def _conditional(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.rect(0, 0, w, h)
    c.fill_and_stroke()
    c.begin()
    for y in (0.1027, 0.3669, 0.6311, 0.8953):
        c.move_to(0, h * y)
        c.line_to(w * 0.798, h * y)
    c.stroke()


def _error(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.set_miter_limit(7)
    points = [(0, 1), (0.3287, 0.123), (0.6194, 0.6342), (1, 0), (0.6625, 0.939), (0.3717, 0.5064)]
    _polygon(c, w, h, points)
    c.fill() if inverse else c.fill_and_stroke()


def _multiple(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    _polygon(c, w, h, [(0, 0.39), (0.5, 0), (1, 0.39), (0.815, 1), (0.185, 1)])
    c.fill() if inverse else c.fill_and_stroke()


def _terminate(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.ellipse(0, 0, w, h)
    c.fill_and_stroke()


def _filled_polygon(points: list[tuple[float, float]], miter: float | None = None) -> Symbol:
    """A symbol that is one polygon (filled in the line colour on throwing/end events)."""

    def paint(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
        if miter is not None:
            c.set_miter_limit(miter)
        _polygon(c, w, h, points)
        c.fill() if inverse else c.fill_and_stroke()

    return paint


def _compensation(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.set_miter_limit(1)
    _polygon(c, w, h, [(0, 0.5), (0.5, 0), (0.5, 1)])
    c.move_to(w * 0.5, h * 0.5)
    c.line_to(w, 0)
    c.line_to(w, h)
    c.close()
    c.fill() if inverse else c.fill_and_stroke()


def _star(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    c.translate(w / 5, h / 6)
    h, w = h * 2 / 3, w * 3 / 5
    points = [
        *[(0, 1 / 4), (1 / 3, 1 / 4), (1 / 2, 0), (2 / 3, 1 / 4), (1, 1 / 4), (5 / 6, 1 / 2)],
        *[(1, 3 / 4), (2 / 3, 3 / 4), (1 / 2, 1), (1 / 3, 3 / 4), (0, 3 / 4), (1 / 6, 1 / 2)],
    ]
    _polygon(c, w, h, points)
    c.fill_and_stroke()


def _general(c: StencilCanvas, style: Style, w: float, h: float, inverse: bool) -> None:
    """The general event has no symbol."""


_LINK = [(0, 0.76), (0, 0.24), (0.63, 0.24), (0.63, 0), (1, 0.5), (0.63, 1), (0.63, 0.76)]
_CANCEL = [
    *[(0.1051, 0), (0.5, 0.3738), (0.8909, 0), (1, 0.1054), (0.623, 0.5), (1, 0.8926)],
    *[(0.8909, 1), (0.5, 0.6242), (0.1051, 1), (0, 0.8926), (0.373, 0.5), (0, 0.1054)],
]
_PARALLEL = [
    *[(0.38, 0), (0.62, 0), (0.62, 0.38), (1, 0.38), (1, 0.62), (0.62, 0.62)],
    *[(0.62, 1), (0.38, 1), (0.38, 0.62), (0, 0.62), (0, 0.38), (0.38, 0.38)],
]

Symbol = Callable[["StencilCanvas", Style, float, float, bool], None]

#: symbol -> (painter, (x, y, w, h) of the symbol as fractions of the event's box).
_SYMBOLS: dict[str, tuple[Symbol, tuple[float, float, float, float]]] = {
    "general": (_general, (0, 0, 1, 1)),
    "message": (_message, (0.15, 0.3, 0.7, 0.4)),
    "timer": (_timer, (0.11, 0.11, 0.78, 0.78)),
    "escalation": (_escalation, (0.19, 0.15, 0.62, 0.57)),
    "conditional": (_conditional, (0.3, 0.16, 0.4, 0.68)),
    "error": (_error, (0.212, 0.243, 0.58, 0.507)),
    "multiple": (_multiple, (0.2, 0.19, 0.6, 0.565)),
    "terminate": (_terminate, (0.05, 0.05, 0.9, 0.9)),
    "link": (_filled_polygon(_LINK), (0.27, 0.33, 0.46, 0.34)),
    "cancel": (_filled_polygon(_CANCEL), (0.22, 0.22, 0.56, 0.56)),
    "compensation": (_compensation, (0.28, 0.35, 0.44, 0.3)),
    "signal": (_filled_polygon([(0, 1), (0.5, 0), (1, 1)]), (0.19, 0.15, 0.62, 0.57)),
    "parallelMultiple": (_filled_polygon(_PARALLEL), (0.2, 0.2, 0.6, 0.6)),
    "star": (_star, (0, 0, 1, 1)),
}


def _event_drawing(
    c: StencilCanvas,
    style: Style,
    box: QRectF,
    outline: str,
    symbol: str,
) -> None:
    """``mxShapeBpmnEvent.strictDrawShape``: the outline, then the symbol (in the line colour
    on the fill colour, swapped for throwing and end events)."""
    c.translate(box.x(), box.y())
    w, h = box.width(), box.height()
    _outline(c, outline, w, h)
    entry = _SYMBOLS.get(symbol)
    if entry is None:
        return
    paint, (fx, fy, fw, fh) = entry
    c.translate(w * fx, h * fy)
    stroke, fill = c.state.stroke, c.state.fill
    inverse = symbol != "star" and outline in ("throwing", "end")
    if symbol == "star":
        c.state.fill, c.state.gradient = stroke, None
    elif inverse:
        c.state.stroke, c.state.fill, c.state.gradient = fill, stroke, None
    paint(c, style, w * fw, h * fh, inverse)
    c.state.stroke, c.state.fill = stroke, fill


def bpmn_event(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.bpmn.event``: an event circle (``outline``) with its ``symbol``."""
    outline = style.get("outline") or "none"
    _event_drawing(c, style, QRectF(0, 0, w, h), outline, style.get("symbol") or "general")


def _gateway_mark(c: StencilCanvas, w: float, h: float, points: list[tuple[float, float]]) -> None:
    fill = c.state.fill
    c.state.fill, c.state.gradient = c.state.stroke, None
    _polygon(c, w, h, points)
    c.fill_and_stroke()
    c.state.fill = fill


_EXCLUSIVE = [
    *[(0.105, 0), (0.5, 0.38), (0.895, 0), (1, 0.11), (0.6172, 0.5), (1, 0.89)],
    *[(0.895, 1), (0.5, 0.62), (0.105, 1), (0, 0.89), (0.3808, 0.5), (0, 0.11)],
]
_COMPLEX = [
    *[(0, 0.44), (0.36, 0.44), (0.1, 0.18), (0.18, 0.1), (0.44, 0.36), (0.44, 0)],
    *[(0.56, 0), (0.56, 0.36), (0.82, 0.1), (0.9, 0.18), (0.64, 0.44), (1, 0.44)],
    *[(1, 0.56), (0.64, 0.56), (0.9, 0.82), (0.82, 0.9), (0.56, 0.64), (0.56, 1)],
    *[(0.44, 1), (0.44, 0.64), (0.18, 0.9), (0.1, 0.82), (0.36, 0.56), (0, 0.56)],
]


def bpmn_gateway(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.bpmn.gateway2``: a diamond with its ``gwType`` mark (exclusive, parallel,
    complex) or an event inside (``gwType=event`` with an ``outline``)."""
    _polygon(c, w, h, [(0.5, 0), (1, 0.5), (0.5, 1), (0, 0.5)])
    c.fill_and_stroke()
    c.set_shadow(False)
    kind = style.get("gwType") or "event"
    outline = style.get("outline") or "none"
    half_w, half_h = w * 0.5, h * 0.5
    if kind == "event" and outline != "none":
        sw, sh = w * 0.6, h * 0.6
        box = QRectF((w - sw) * 0.5, (h - sh) * 0.5, sw, sh)
        _event_drawing(c, style, box, outline, style.get("symbol") or "standard")
    elif kind == "exclusive":
        c.translate(w * 0.31, h * 0.25)
        _gateway_mark(c, half_w * 0.76, half_h, _EXCLUSIVE)
    elif kind == "parallel":
        c.translate(w * 0.25, h * 0.25)
        _gateway_mark(c, half_w, half_h, _PARALLEL)
    elif kind == "complex":
        c.translate(w * 0.25, h * 0.25)
        _gateway_mark(c, half_w, half_h, _COMPLEX)


def _send_marker(c: StencilCanvas, x: float, y: float, w: float, h: float) -> None:
    c.translate(x, y)
    c.rect(0, 0, w, h)
    c.fill_and_stroke()
    c.set_shadow(False)
    c.begin()
    c.move_to(0, 0)
    c.line_to(w * 0.5, h * 0.5)
    c.line_to(w, 0)
    c.stroke()
    c.translate(-x, -y)


def _stencil_icon(c: StencilCanvas, style: Style, name: str, box: QRectF) -> None:
    from kiosk.screen.shapes.stencils import draw_stencil

    stencil = find_stencil(f"mxgraph.bpmn.{name}")
    if stencil is not None:
        draw_stencil(stencil, c, style, box)


#: taskMarker -> (bpmn.xml stencil, where it goes).
_TASK_ICONS = {
    "service": ("service_task", QRectF(2, 2, 16, 16)),
    "user": ("user_task", QRectF(2, 2, 16, 16)),
    "manual": ("manual_task", QRectF(3, 3, 18, 14)),
    "businessRule": ("business_rule_task", QRectF(4, 4, 18, 14)),
    "script": ("script_task", QRectF(3, 3, 19, 18)),
}


#: The marks along a task's bottom edge, in draw.io's order.
_TASK_MARKS = (
    *("isLoopStandard", "isLoopMultiParallel", "isLoopMultiSeq"),
    *("isLoopComp", "isLoopSub", "isAdHoc"),
)


def _draw_task_mark(c: StencilCanvas, style: Style, name: str, x: float, top: float) -> None:
    """One of a task's marks (``_TASK_MARKS``) in the 14-wide slot at ``x``, ``top``."""
    if name == "isLoopStandard":
        _stencil_icon(c, style, "loop", QRectF(x + 1, top + 1, 12, 12))
    elif name in ("isLoopMultiParallel", "isLoopMultiSeq"):
        c.translate(x + 1, top + 1)
        c.begin()
        for at in (2.4, 6, 9.6):
            if name == "isLoopMultiParallel":
                c.move_to(at, 0)
                c.line_to(at, 12)
            else:
                c.move_to(0, at)
                c.line_to(12, at)
        c.stroke()
        c.translate(-(x + 1), -(top + 1))
    elif name == "isLoopComp":
        _stencil_icon(c, style, "compensation", QRectF(x, top + 1, 14, 12))
    elif name == "isLoopSub":
        c.translate(x, top)
        c.rect(0, 0, 14, 14)
        c.stroke()
        c.begin()
        c.move_to(4, 7)
        c.line_to(10, 7)
        c.move_to(7, 4)
        c.line_to(7, 10)
        c.stroke()
        c.translate(-x, -top)
    else:
        stroke, fill = c.state.stroke, c.state.fill
        c.state.fill, c.state.stroke, c.state.gradient = stroke, None, None
        _stencil_icon(c, style, "ad_hoc", QRectF(x + 1, top + 4, 12, 6))
        c.state.stroke, c.state.fill = stroke, fill


def _draw_task_marker(c: StencilCanvas, style: Style) -> None:
    """The task's ``taskMarker`` icon in its top-left corner (none for ``abstract``)."""
    marker = style.get("taskMarker") or "abstract"
    if marker in ("send", "receive"):
        stroke, fill = c.state.stroke, c.state.fill
        if marker == "send":
            c.state.stroke, c.state.fill, c.state.gradient = fill, stroke, None
        _send_marker(c, 4, 4, 18, 13)
        c.state.stroke, c.state.fill = stroke, fill
    elif marker in _TASK_ICONS:
        name, box = _TASK_ICONS[marker]
        _stencil_icon(c, style, name, box)


def bpmn_task(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.bpmn.task``: the task box (``mxgraph.basic.rect``; a subprocess dashed, a call
    activity thick), its loop/sub-process marks along the bottom and its ``taskMarker`` icon
    in the top-left corner."""
    from kiosk.screen.shapes.library import basic_rect

    kind = style.get("bpmnShapeType") or "task"
    width = c.state.stroke_width
    offset_y = 14.0 + (style.number("indent", 3) if kind == "transaction" else 0.0)
    dashed = c.state.dashed
    if kind == "subprocess":
        c.set_dashed(True)
    elif kind == "call":
        c.set_stroke_width(4)
    basic_rect(c, style, w, h)
    c.set_stroke_width(width)
    c.set_dashed(dashed)
    c.set_dashed(False)
    c.set_shadow(False)
    marks = [name for name in _TASK_MARKS if style.flag(name, False)]
    x = w * 0.5 - 14 * len(marks) * 0.5
    for name in marks:
        _draw_task_mark(c, style, name, x, h - offset_y)
        x += 14
    _draw_task_marker(c, style)
    outline = style.get("outline") or "none"
    _event_drawing(c, style, QRectF(0, 0, 20, 20), outline, style.get("symbol") or "standard")


#: Lower-case lookup name -> painter.
BPMN_PAINTERS: dict[str, CodeShape] = {
    "mxgraph.bpmn.event": bpmn_event,
    "mxgraph.bpmn.gateway2": bpmn_gateway,
    "mxgraph.bpmn.task": bpmn_task,
}
