"""draw.io's own (non-library) shapes drawn in code in ``Shapes.js`` that the basic outlines of
``kiosk/shapes.py`` do not cover, painted on a ``StencilCanvas`` with the same calls as their
``paintVertexShape``: ``waypoint``, ``crossbar``, ``dimension``, ``endState``, ``startState``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from designer_import.model import Style

if TYPE_CHECKING:
    from kiosk.stencil_canvas import StencilCanvas
    from kiosk.stencils import CodeShape


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


#: Lower-case shape name -> painter (merged into ``library_shapes.CODE_SHAPE_PAINTERS``).
CORE_PAINTERS: dict[str, CodeShape] = {
    "waypoint": waypoint,
    "crossbar": crossbar,
    "dimension": dimension,
    "endstate": end_state,
    "startstate": start_state,
}
