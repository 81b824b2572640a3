"""Library shapes (``shape=mxgraph.*`` and embedded ``stencil(...)``) painted as draw.io paints
them.

draw.io draws a stencil by running its XML drawing (``mxStencil.drawShape``) against a canvas
(``mxAbstractCanvas2D``): ``path``/``rect``/``ellipse`` build a path, ``fill``/``stroke``/
``fillstroke`` paint it with the canvas state (fill and stroke colour, stroke width, dashes,
joins), ``save``/``restore`` keep and bring back that state. ``StencilCanvas``
(``kiosk/screen/shapes/canvas.py``) is that canvas over Qt: it records each painted path with
its brush and pen. The shapes draw.io draws in code (``kiosk/screen/shapes/library.py`` and the
modules it gathers: ``diagram``, ``bpmn``, ``mockup``) paint on the same canvas, so both end up
as one ``StencilDrawing``.

The drawing is laid out as ``mxStencil.computeAspect`` does (stretched to the cell, or kept in
proportion and centred for ``aspect="fixed"``), turned by the style's ``direction`` and mirrored
by ``flipH``/``flipV`` about the cell's centre. The cell's own rotation is the item's.

``StencilItem`` is the graphics item of a ``ShapeKind.STENCIL`` element: the drawing, then the
picture and label as any element. A library shape the kiosk cannot draw keeps a plain outline
(the validator names it); its internal name is never shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTransform

from designer_import.model import Element, Style
from designer_import.stencils import Stencil, StencilStep, find_stencil, lookup_name
from kiosk.screen.render import SHADOW_COLOR, SHADOW_OFFSET, ElementItem
from kiosk.screen.shapes.canvas import (
    DEFAULT_FONT_SIZE,
    ROUNDING_FACTOR,
    PaintedPath,
    PaintedText,
    StencilCanvas,
    colour_value,
)


def compute_aspect(stencil: Stencil, w: float, h: float) -> tuple[float, float, float, float]:
    """(x0, y0, sx, sy): where the stencil's design box goes in a w x h box
    (``mxStencil.computeAspect``; the direction is applied afterwards by the drawing's turn)."""
    sx, sy = w / stencil.width, h / stencil.height
    x0 = y0 = 0.0
    if stencil.aspect_fixed:
        sx = sy = min(sx, sy)
        x0 = (w - stencil.width * sx) / 2
        y0 = (h - stencil.height * sy) / 2
    return x0, y0, sx, sy


#: include-shape may nest stencils; deeper than this is a loop.
MAX_INCLUDE_DEPTH = 8


def draw_stencil(
    stencil: Stencil,
    canvas: StencilCanvas,
    style: Style,
    box: QRectF,
    depth: int = 0,
) -> None:
    """Run a stencil's drawing on ``canvas`` inside ``box`` (``mxStencil.drawShape``)."""
    if box.width() <= 0 or box.height() <= 0 or depth > MAX_INCLUDE_DEPTH:
        return
    x0, y0, sx, sy = compute_aspect(stencil, box.width(), box.height())
    aspect = (box.x() + x0, box.y() + y0, sx, sy)
    if stencil.stroke_width == "inherit":
        canvas.set_stroke_width(style.stroke_width)
    else:
        canvas.set_stroke_width(_number(stencil.stroke_width, 1.0) * min(sx, sy))
    background = _StepRun(canvas, style, aspect, depth, disable_shadow=False)
    for step in stencil.background:
        _draw_step(step, background)
    foreground = _StepRun(canvas, style, aspect, depth, disable_shadow=True)
    for step in stencil.foreground:
        _draw_step(step, foreground)


def _number(raw: str | None, default: float = 0.0) -> float:
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class _StepRun:
    """What every instruction of one stencil drawing is run with: the canvas, the cell's
    style, the design box's place and scale (x0, y0, sx, sy), the include depth, and whether
    painting switches the shadow off (the foreground)."""

    canvas: StencilCanvas
    style: Style
    aspect: tuple[float, float, float, float]
    depth: int
    disable_shadow: bool

    def x(self, step: StencilStep, key: str) -> float:
        """The attribute ``key`` as an x on the canvas."""
        x0, _, sx, _ = self.aspect
        return x0 + step.number(key) * sx

    def y(self, step: StencilStep, key: str) -> float:
        """The attribute ``key`` as a y on the canvas."""
        _, y0, _, sy = self.aspect
        return y0 + step.number(key) * sy

    @property
    def sx(self) -> float:
        return self.aspect[2]

    @property
    def sy(self) -> float:
        return self.aspect[3]

    @property
    def min_scale(self) -> float:
        return min(self.aspect[2], self.aspect[3])


def _draw_step(step: StencilStep, run: _StepRun) -> None:
    """One stencil instruction (``mxStencil.drawNode``); an unknown one draws nothing."""
    painter = _STEP_PAINTERS.get(step.op)
    if painter is not None:
        painter(run, step)
    if run.disable_shadow and step.op in ("fillstroke", "fill", "stroke"):
        run.canvas.set_shadow(False)


def _path_step(run: _StepRun, step: StencilStep) -> None:
    run.canvas.begin()
    if step.attrs.get("rounded") == "1" and _draw_rounded(step, run.canvas, run.aspect):
        return
    for child in step.steps:
        _draw_step(child, run)


def _arc_step(run: _StepRun, step: StencilStep) -> None:
    n = step.number
    run.canvas.arc_to(
        n("rx") * run.sx,
        n("ry") * run.sy,
        n("x-axis-rotation"),
        n("large-arc-flag") != 0,
        n("sweep-flag") != 0,
        run.x(step, "x"),
        run.y(step, "y"),
    )


def _roundrect_step(run: _StepRun, step: StencilStep) -> None:
    n = step.number
    arc = n("arcsize") or ROUNDING_FACTOR * 100
    w, h = n("w") * run.sx, n("h") * run.sy
    r = min(w * arc / 100, h * arc / 100)
    run.canvas.roundrect(run.x(step, "x"), run.y(step, "y"), w, h, r, r)


def _text_step(run: _StepRun, step: StencilStep) -> None:
    rotation = (-90.0 if step.attrs.get("vertical") == "1" else 0.0) - step.number("rotation")
    run.canvas.text(
        run.x(step, "x"),
        run.y(step, "y"),
        step.attrs.get("str", ""),
        step.attrs.get("align") or "left",
        step.attrs.get("valign") or "top",
        rotation,
    )


def _include_step(run: _StepRun, step: StencilStep) -> None:
    included = find_stencil(step.attrs.get("name", ""))
    if included is not None:
        n = step.number
        sub = QRectF(run.x(step, "x"), run.y(step, "y"), n("w") * run.sx, n("h") * run.sy)
        draw_stencil(included, run.canvas, run.style, sub, run.depth + 1)


def _stroke_width_step(run: _StepRun, step: StencilStep) -> None:
    scale = 1.0 if step.attrs.get("fixed") == "1" else run.min_scale
    run.canvas.set_stroke_width(step.number("width") * scale)


def _dash_pattern_step(run: _StepRun, step: StencilStep) -> None:
    pattern = [_number(p) * run.min_scale for p in step.attrs.get("pattern", "").split() if p]
    run.canvas.set_dash_pattern(pattern)


def _font_color_step(run: _StepRun, step: StencilStep) -> None:
    run.canvas.state.font_color = colour_value(step.attrs.get("color")) or QColor(0, 0, 0)


def _font_style_step(run: _StepRun, step: StencilStep) -> None:
    run.canvas.state.font_style = int(step.number("style"))


def _font_family_step(run: _StepRun, step: StencilStep) -> None:
    state = run.canvas.state
    state.font_family = step.attrs.get("family") or state.font_family


def _font_size_step(run: _StepRun, step: StencilStep) -> None:
    run.canvas.state.font_size = step.number("size", DEFAULT_FONT_SIZE) * run.min_scale


def _box(run: _StepRun, step: StencilStep) -> tuple[float, float, float, float]:
    """x, y, w, h of a rect or ellipse instruction on the canvas."""
    n = step.number
    return run.x(step, "x"), run.y(step, "y"), n("w") * run.sx, n("h") * run.sy


#: Each instruction of draw.io's stencil XML -> what it does on the canvas.
_STEP_PAINTERS: dict[str, Callable[[_StepRun, StencilStep], None]] = {
    "save": lambda run, step: run.canvas.save(),
    "restore": lambda run, step: run.canvas.restore(),
    "path": _path_step,
    "close": lambda run, step: run.canvas.close(),
    "move": lambda run, step: run.canvas.move_to(run.x(step, "x"), run.y(step, "y")),
    "line": lambda run, step: run.canvas.line_to(run.x(step, "x"), run.y(step, "y")),
    "quad": lambda run, step: run.canvas.quad_to(
        run.x(step, "x1"), run.y(step, "y1"), run.x(step, "x2"), run.y(step, "y2")
    ),
    "curve": lambda run, step: run.canvas.curve_to(
        run.x(step, "x1"),
        run.y(step, "y1"),
        run.x(step, "x2"),
        run.y(step, "y2"),
        run.x(step, "x3"),
        run.y(step, "y3"),
    ),
    "arc": _arc_step,
    "rect": lambda run, step: run.canvas.rect(*_box(run, step)),
    "roundrect": _roundrect_step,
    "ellipse": lambda run, step: run.canvas.ellipse(*_box(run, step)),
    "text": _text_step,
    "include-shape": _include_step,
    "fillstroke": lambda run, step: run.canvas.fill_and_stroke(),
    "fill": lambda run, step: run.canvas.fill(),
    "stroke": lambda run, step: run.canvas.stroke(),
    "strokewidth": _stroke_width_step,
    "dashed": lambda run, step: run.canvas.set_dashed(step.attrs.get("dashed") == "1"),
    "dashpattern": _dash_pattern_step,
    "strokecolor": lambda run, step: run.canvas.set_stroke_color(step.attrs.get("color")),
    "fillcolor": lambda run, step: run.canvas.set_fill_color(step.attrs.get("color")),
    "linecap": lambda run, step: run.canvas.set_line_cap(step.attrs.get("cap")),
    "linejoin": lambda run, step: run.canvas.set_line_join(step.attrs.get("join")),
    "miterlimit": lambda run, step: run.canvas.set_miter_limit(step.number("limit", 10.0)),
    **dict.fromkeys(
        ("alpha", "fillalpha", "strokealpha"),
        lambda run, step: run.canvas.set_alpha(step.number("alpha", 1.0)),
    ),
    "fontcolor": _font_color_step,
    "fontstyle": _font_style_step,
    "fontfamily": _font_family_step,
    "fontsize": _font_size_step,
}


def _draw_rounded(
    step: StencilStep, canvas: StencilCanvas, aspect: tuple[float, float, float, float]
) -> bool:
    """A ``rounded="1"`` path of moves and lines only, its corners rounded by ``arcSize``
    (``mxShape.addPoints``); False when the path holds anything else."""
    x0, y0, sx, sy = aspect
    runs: list[list[QPointF]] = []
    for child in step.steps:
        if child.op not in ("move", "line"):
            return False
        if child.op == "move" or not runs:
            runs.append([])
        runs[-1].append(QPointF(x0 + child.number("x") * sx, y0 + child.number("y") * sy))
    arc = step.number("arcSize")
    for points in runs:
        closed = len(points) > 1 and points[0] == points[-1]
        add_points(canvas, points[:-1] if closed else points, arc, closed)
    return bool(runs)


def add_points(canvas: StencilCanvas, points: list[QPointF], arc: float, close: bool) -> None:
    """A polyline whose corners are rounded by ``arc`` (``mxShape.addPoints`` with rounded)."""
    if not points:
        return
    last = points[-1]
    pts = list(points)
    if close:
        pts.insert(0, (last + pts[0]) / 2)
    pt = pts[0]
    canvas.move_to(pt.x(), pt.y())
    i = 1
    end = len(pts) if close else len(pts) - 1
    while i < end:
        tmp = pts[i % len(pts)]
        dx, dy = pt.x() - tmp.x(), pt.y() - tmp.y()
        if dx != 0 or dy != 0:
            dist = math.hypot(dx, dy)
            cut = min(arc, dist / 2) / dist
            canvas.line_to(tmp.x() + dx * cut, tmp.y() + dy * cut)
            nxt = pts[(i + 1) % len(pts)]
            while (
                i < len(pts) - 2 and round(nxt.x() - tmp.x()) == 0 and round(nxt.y() - tmp.y()) == 0
            ):
                nxt = pts[(i + 2) % len(pts)]
                i += 1
            dx, dy = nxt.x() - tmp.x(), nxt.y() - tmp.y()
            dist = max(1.0, math.hypot(dx, dy))
            cut = min(arc, dist / 2) / dist
            x2, y2 = tmp.x() + dx * cut, tmp.y() + dy * cut
            canvas.quad_to(tmp.x(), tmp.y(), x2, y2)
            tmp = QPointF(x2, y2)
        else:
            canvas.line_to(tmp.x(), tmp.y())
        pt = tmp
        i += 1
    if close:
        canvas.close()
    else:
        canvas.line_to(last.x(), last.y())


def _same_point(a: QPointF, b: QPointF) -> bool:
    return round(a.x() - b.x()) == 0 and round(a.y() - b.y()) == 0


#: The angle draw.io turns a shape by for its ``direction`` (mxShape.getShapeRotation).
_TURNS = {"east": 0.0, "south": 90.0, "west": 180.0, "north": 270.0}

#: Paints one library shape drawn in code on a canvas of the given (turned) size.
CodeShape = Callable[[StencilCanvas, Style, float, float], None]


@dataclass(frozen=True, slots=True)
class StencilDrawing:
    """A library shape ready to paint: its parts in drawing coordinates and the turn (the
    direction and flips) that places them in the cell's box."""

    parts: tuple[PaintedPath | PaintedText, ...]
    transform: QTransform

    def bounds(self) -> QRectF:
        """What the drawing covers in box coordinates (outlines included)."""
        rect = QRectF()
        for part in self.parts:
            if isinstance(part, PaintedPath):
                margin = part.pen.widthF() if part.pen is not None else 0.0
                r = part.path.boundingRect().adjusted(-margin, -margin, margin, margin)
                rect = rect.united(self.transform.mapRect(r))
        return rect

    def paint(self, painter: QPainter) -> None:
        """Paint every part in order, each with its shadow first when it has one."""
        for part in self.parts:
            if isinstance(part, PaintedText):
                painter.save()
                painter.setTransform(self.transform, True)
                _paint_text(painter, part)
                painter.restore()
                continue
            if part.shadow:
                painter.save()
                painter.translate(SHADOW_OFFSET)
                painter.setTransform(self.transform, True)
                if part.brush is not None:
                    painter.fillPath(part.path, SHADOW_COLOR)
                elif part.pen is not None:
                    shadow_pen = QPen(part.pen)
                    shadow_pen.setColor(SHADOW_COLOR)
                    painter.strokePath(part.path, shadow_pen)
                painter.restore()
            painter.save()
            painter.setTransform(self.transform, True)
            if part.brush is not None:
                painter.fillPath(part.path, part.brush)
            if part.pen is not None:
                painter.strokePath(part.path, part.pen)
            painter.restore()


def _paint_text(painter: QPainter, part: PaintedText) -> None:
    painter.setFont(part.font)
    painter.setPen(part.colour)
    painter.translate(part.at)
    if part.rotation:
        painter.rotate(part.rotation)
    size = painter.fontMetrics().size(0, part.text)
    x = {"center": -size.width() / 2, "right": -size.width()}.get(part.align, 0.0)
    y = {"middle": -size.height() / 2, "bottom": -size.height()}.get(part.valign, 0.0)
    painter.drawText(QRectF(x, y, size.width(), size.height()), 0, part.text)


def stencil_drawing(element: Element) -> StencilDrawing | None:
    """The drawing of a library shape or embedded stencil, or None when the kiosk cannot
    draw it (the validator names it)."""
    from kiosk.screen.shapes.library import CODE_SHAPE_PAINTERS

    style = element.style
    shape = style.values.get("shape", "")
    w, h = max(0.0, element.geometry.width), max(0.0, element.geometry.height)
    direction = style.direction if style.direction in _TURNS else "east"
    turned = direction in ("north", "south")
    dw, dh = (h, w) if turned else (w, h)
    canvas = StencilCanvas(style, QRectF(0, 0, dw, dh))
    code = CODE_SHAPE_PAINTERS.get(lookup_name(shape))
    if code is not None:
        code(canvas, style, dw, dh)
    else:
        stencil = find_stencil(shape)
        if stencil is None:
            return None
        draw_stencil(stencil, canvas, style, QRectF(0, 0, dw, dh))
    turn = QTransform()
    turn.translate(w / 2, h / 2)
    turn.scale(-1.0 if style.flip_h else 1.0, -1.0 if style.flip_v else 1.0)
    turn.rotate(_TURNS[direction])
    turn.translate(-dw / 2, -dh / 2)
    return StencilDrawing(tuple(canvas.parts), turn)


class StencilItem(ElementItem):
    """A library shape: its stencil drawing (fill, outline and inner lines as draw.io paints
    them), then picture and label like any element. Without a drawing it is a plain shape,
    and no internal name is ever written on it."""

    def __init__(self, element: Element, decoded: QImage | None = None) -> None:
        super().__init__(element, decoded)
        self.drawing = stencil_drawing(element)
        if self.drawing is not None:
            # the drawing paints the cell's fill and outline itself
            self.brush = None
            self.pen = None
            self._bounds = self._bounds.united(self.drawing.bounds().adjusted(-4, -4, 4, 4))

    def _paint(self, painter: QPainter) -> None:
        if self.drawing is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self.drawing.paint(painter)
        super()._paint(painter)
