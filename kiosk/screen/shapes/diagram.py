"""Shapes of technical diagram libraries draw.io draws in code (AWS 4 icons and groups, C4,
data flow, lean mapping, electrical logic gates: ``shapes/mxAWS4.js``, ``mxC4.js``,
``mxDFD.js``, ``mxLeanMap.js``, ``mxElectrical.js``), painted on a ``StencilCanvas`` with the
same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from designer_import.model import Style
from designer_import.stencils import find_stencil

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape


def _icon(c: StencilCanvas, style: Style, key: str, box: QRectF) -> None:
    """An AWS shape's icon: the stencil named by ``key`` (``resIcon``, ``grIcon``, ...)
    painted in the line colour, without outline (as draw.io's mxAWS4.js)."""
    from kiosk.screen.shapes.stencils import draw_stencil

    stencil = find_stencil(style.get(key) or "")
    if stencil is None:
        return
    c.set_fill_color(style.get("strokeColor") or "#000000")
    c.set_stroke_color("none")
    draw_stencil(stencil, c, style, box)


def aws4_resource_icon(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.aws4.resourceIcon``: a filled square with the ``resIcon`` stencil in it."""
    c.box_path(w, h)
    c.fill()
    c.set_shadow(False)
    _icon(c, style, "resIcon", QRectF(w * 0.1, h * 0.1, w * 0.8, h * 0.8))


def aws4_product_icon(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.aws4.productIcon``: a square in the line colour, the fill (a gradient to
    ``gradientColor``) inside it and the ``prIcon`` stencil on top."""
    stroke = style.get("strokeColor") or "none"
    c.set_fill_color(stroke)
    c.box_path(w, h)
    c.fill()
    c.set_shadow(False)
    fill = style.get("fillColor") or "#ffffff"
    c.set_fill_color(fill)
    gradient = style.get("gradientColor") or fill
    direction = style.get("gradientDirection") or "south"
    c.set_gradient(fill, gradient, QRectF(0, 0, w, h), direction, 1.0, 1.0)
    c.begin()
    c.move_to(1, 1)
    c.line_to(w - 1, 1)
    c.line_to(w - 1, w - 1)
    c.line_to(1, w - 1)
    c.close()
    c.fill()
    side = w * 0.7 - 2
    _icon(c, style, "prIcon", QRectF(1 + w * 0.15, 1 + w * 0.15, side, side))


def _aws4_group(c: StencilCanvas, style: Style, w: float, h: float, *, centred: bool) -> None:
    c.box_path(w, h)
    if style.get("grStroke", "1") == "1":
        c.fill_and_stroke()
    else:
        c.fill()
    c.set_shadow(False)
    size = 25.0
    _icon(c, style, "grIcon", QRectF((w - size) * 0.5 if centred else 0, 0, size, size))


def aws4_group(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.aws4.group``: a group box with its ``grIcon`` in the top-left corner."""
    _aws4_group(c, style, w, h, centred=False)


def aws4_group_center(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.aws4.groupCenter``: a group box with its ``grIcon`` centred on top."""
    _aws4_group(c, style, w, h, centred=True)


def c4_person(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.c4.person``: a head over a rounded body."""
    head = min(w / 2, h / 3)
    r = head / 2
    c.ellipse(w * 0.5 - head * 0.5, 0, head, head)
    c.fill_and_stroke()
    c.begin()
    c.move_to(0, head * 0.8 + r)
    c.arc_to(r, r, 0, False, True, r, head * 0.8)
    c.line_to(w - r, head * 0.8)
    c.arc_to(r, r, 0, False, True, w, head * 0.8 + r)
    c.line_to(w, h - r)
    c.arc_to(r, r, 0, False, True, w - r, h)
    c.line_to(r, h)
    c.arc_to(r, r, 0, False, True, 0, h - r)
    c.close()
    c.fill_and_stroke()
    c.set_shadow(False)
    c.ellipse(w * 0.5 - head * 0.5, 0, head, head)
    c.fill_and_stroke()


def dfd_data_store_id(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.dfd.dataStoreID``: a data store open on the right, its id column marked."""
    c.begin()
    c.move_to(w, h)
    c.line_to(0, h)
    c.line_to(0, 0)
    c.line_to(w, 0)
    c.fill_and_stroke()
    c.set_shadow(False)
    s = min(30.0, w)
    c.begin()
    c.move_to(s, 0)
    c.line_to(s, h)
    c.stroke()


def lean_mapping_physical_pull(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.lean_mapping.physical_pull``: a circular arrow (mxLeanMaterialPull)."""
    c.begin()
    c.move_to(w * 0.732, h * 0.0736)
    c.arc_to(w * 0.4827, h * 0.4959, 0, True, False, w * 0.9553, h * 0.6191)
    c.stroke()
    c.begin()
    c.move_to(w * 0.9071, h * 0.6191)
    c.line_to(w * 0.9794, h * 0.4951)
    c.line_to(w, h * 0.6438)
    c.close()
    c.fill_and_stroke()


def electrical_logic_gate(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.electrical.logic_gates.logic_gate``: an AND (default), OR or XOR gate
    (``operation``) with ``numInputs`` input leads, negated by ``negating=1``."""
    try:
        inputs = max(1, int(float(style.get("numInputs") or "2")))
    except ValueError:
        inputs = 2
    spacing = h / inputs
    operation = style.get("operation") or "and"
    c.begin()
    c.move_to(w * 0.8, h * 0.5)
    c.line_to(w, h * 0.5)
    y = spacing * 0.5
    for _ in range(inputs):
        c.move_to(0, y)
        c.line_to(w * (0.2 if operation == "and" else 0.23), y)
        y += spacing
    c.stroke()
    if operation in ("or", "xor"):
        if operation == "xor":
            c.begin()
            c.move_to(w * 0.1, 0)
            c.arc_to(w * 0.6, h, 0, False, True, w * 0.1, h)
            c.stroke()
        c.begin()
        c.move_to(w * 0.4, 0)
        c.arc_to(w * 0.45, h * 0.83, 0, False, True, w * 0.8, h * 0.5)
        c.arc_to(w * 0.45, h * 0.83, 0, False, True, w * 0.4, h)
        c.line_to(w * 0.15, h)
        c.arc_to(w * 0.6, h, 0, False, False, w * 0.15, 0)
        c.close()
    else:
        c.begin()
        c.move_to(w * 0.2, 0)
        c.line_to(w * 0.5, 0)
        c.arc_to(w * 0.3, h * 0.5, 0, False, True, w * 0.5, h)
        c.line_to(w * 0.2, h)
        c.close()
    c.fill_and_stroke()
    if style.get("negating") == "1":
        if style.get("negSize"):
            size = style.number("negSize", 0.13)
            neg = min(w * size * 0.5, h * size)
        else:
            neg = min(w * 0.04, h * 0.07)
        c.ellipse(w * 0.8, h * 0.5 - neg * 0.5, neg, neg)
        c.fill_and_stroke()


#: Lower-case lookup name -> painter.
DIAGRAM_PAINTERS: dict[str, CodeShape] = {
    "mxgraph.aws4.resourceicon": aws4_resource_icon,
    "mxgraph.aws4.producticon": aws4_product_icon,
    "mxgraph.aws4.group": aws4_group,
    "mxgraph.aws4.groupcenter": aws4_group_center,
    "mxgraph.c4.person": c4_person,
    "mxgraph.dfd.datastoreid": dfd_data_store_id,
    "mxgraph.lean_mapping.physical_pull": lean_mapping_physical_pull,
    "mxgraph.electrical.logic_gates.logic_gate": electrical_logic_gate,
}
