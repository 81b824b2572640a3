"""Mockup shapes draw.io draws in code (``shapes/mockup/mx*.js``), painted on a
``StencilCanvas`` with the same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from designer_import.model import Style

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape


#: One stroke: (canvas call, (x, y, ...)) after a ``begin``, as fractions of the width and height.
_Stroke = tuple[tuple[str, tuple[float, ...]], ...]

#: The left half of mxShapeMockupUserMale's strokes in ``strokeColor2``; the right half is
#: their mirror image (:func:`_mirrored`).
_USER_MALE_LEFT: tuple[_Stroke, ...] = (
    # head left
    (
        ("move_to", (0.5, 0.6721)),
        ("curve_to", (0.3891, 0.6721, 0.31, 0.5648, 0.31, 0.3962)),
        ("curve_to", (0.31, 0.3656, 0.3012, 0.3473, 0.3051, 0.3227)),
        ("curve_to", (0.3126, 0.2762, 0.3124, 0.2212, 0.332, 0.1939)),
        ("curve_to", (0.354, 0.1633, 0.4382, 0.12, 0.5, 0.12)),
    ),
    # left ear
    (
        ("move_to", (0.3046, 0.3716)),
        ("curve_to", (0.3046, 0.3716, 0.3046, 0.341, 0.2826, 0.3594)),
        ("curve_to", (0.2606, 0.3778, 0.2661, 0.4452, 0.266, 0.4452)),
        ("quad_to", (0.2715, 0.4942, 0.277, 0.5065)),
        ("curve_to", (0.2825, 0.5187, 0.277, 0.5187, 0.2935, 0.5371)),
        ("curve_to", (0.31, 0.5554, 0.3375, 0.5615, 0.3375, 0.5616)),
    ),
    # left shoulder
    (
        ("move_to", (0.3829, 0.6213)),
        ("curve_to", (0.3829, 0.6213, 0.405, 0.7704, 0.2921, 0.7888)),
        ("curve_to", (0.2536, 0.795, 0.1328, 0.85, 0.1052, 0.8745)),
        ("curve_to", (0.0776, 0.899, 0.0641, 0.9316, 0.0571, 0.9622)),
        ("quad_to", (0.05, 1.0, 0.05, 1.0)),
    ),
    # left hairline
    (
        ("move_to", (0.3427, 0.4185)),
        ("curve_to", (0.3427, 0.4185, 0.3427, 0.3839, 0.3427, 0.3593)),
        ("curve_to", (0.3427, 0.3348, 0.3663, 0.3103, 0.3718, 0.3041)),
        ("curve_to", (0.3773, 0.298, 0.3822, 0.2673, 0.3877, 0.2551)),
        ("curve_to", (0.3932, 0.2429, 0.4095, 0.2429, 0.4259, 0.2367)),
        ("curve_to", (0.4424, 0.2306, 0.4984, 0.2357, 0.4984, 0.2357)),
    ),
    # shirt
    (
        ("move_to", (0.365, 0.7427)),
        ("curve_to", (0.365, 0.7427, 0.3772, 0.8076, 0.4286, 0.8224)),
        ("curve_to", (0.4816, 0.8377, 0.5028, 0.8347, 0.5028, 0.8347)),
    ),
    (
        ("move_to", (0.3322, 0.7764)),
        ("curve_to", (0.3322, 0.7764, 0.3556, 0.8386, 0.4038, 0.8684)),
        ("curve_to", (0.4533, 0.8991, 0.5029, 0.8929, 0.5029, 0.8929)),
    ),
    (
        ("move_to", (0.2717, 0.9)),
        ("line_to", (0.2717, 1.0)),
    ),
    (
        ("move_to", (0.1671, 0.8991)),
        ("curve_to", (0.1671, 0.8991, 0.1726, 0.9114, 0.1836, 0.9481)),
        ("curve_to", (0.1946, 0.9849, 0.2, 1.0, 0.2, 1.0)),
    ),
)

#: Where draw.io's right half is not the left one mirrored, by (stroke, call, coordinate):
#: the right side of the crown has its first control point at 0.6847 (the mirror is 0.6874).
_USER_MALE_RIGHT_AS_DRAWN: dict[tuple[int, int, int], float] = {(0, 3, 0): 0.6847}


def _mirrored(
    strokes: tuple[_Stroke, ...], as_drawn: dict[tuple[int, int, int], float]
) -> tuple[_Stroke, ...]:
    """``strokes`` mirrored left to right (x becomes 1 - x, to draw.io's four decimals), with
    the coordinates ``as_drawn`` names taken from it instead."""
    return tuple(
        tuple(
            (
                call,
                tuple(
                    as_drawn.get((s, k, i), round(1 - f, 4) if i % 2 == 0 else f)
                    for i, f in enumerate(fractions)
                ),
            )
            for k, (call, fractions) in enumerate(stroke)
        )
        for s, stroke in enumerate(strokes)
    )


#: All of mxShapeMockupUserMale's strokes in ``strokeColor2``, in draw.io's order.
_USER_MALE_STROKES: tuple[_Stroke, ...] = _USER_MALE_LEFT + _mirrored(
    _USER_MALE_LEFT, _USER_MALE_RIGHT_AS_DRAWN
)


def mockup_user_male(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.mockup.containers.userMale`` (mxShapeMockupUserMale): a framed box holding a
    man's head and shoulders drawn in ``strokeColor2`` (default #008cff)."""
    background = style.get("fillColor") or "#ffffff"
    frame = style.get("strokeColor") or "#666666"
    inside = style.get("strokeColor2") or "#008cff"
    c.set_fill_color(background)
    c.set_stroke_color(frame)
    c.box_path(w, h)
    c.fill_and_stroke()
    c.set_shadow(False)
    c.set_stroke_color(inside)
    c.set_line_cap("round")
    c.set_line_join("round")
    for stroke in _USER_MALE_STROKES:
        c.begin()
        for call, fractions in stroke:
            getattr(c, call)(*(f * (w if i % 2 == 0 else h) for i, f in enumerate(fractions)))
        c.stroke()
    c.set_stroke_color(frame)
    c.box_path(w, h)
    c.stroke()


#: Lower-case lookup name -> painter.
MOCKUP_PAINTERS: dict[str, CodeShape] = {
    "mxgraph.mockup.containers.usermale": mockup_user_male,
}
