"""Mockup shapes draw.io draws in code (``shapes/mockup/mx*.js``), painted on a
``StencilCanvas`` with the same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from designer_import.model import Style

if TYPE_CHECKING:
    from kiosk.screen.shapes.canvas import StencilCanvas
    from kiosk.screen.shapes.stencils import CodeShape


def mockup_user_male(c: StencilCanvas, style: Style, w: float, h: float) -> None:
    """``mxgraph.mockup.containers.userMale`` (mxShapeMockupUserMale): a framed box holding a
    man's head and shoulders drawn in ``strokeColor2`` (default #008cff)."""
    background = style.get("fillColor") or "#ffffff"
    frame = style.get("strokeColor") or "#666666"
    inside = style.get("strokeColor2") or "#008cff"
    c.set_fill_color(background)
    c.set_stroke_color(frame)
    c.begin()
    c.move_to(0, 0)
    c.line_to(w, 0)
    c.line_to(w, h)
    c.line_to(0, h)
    c.close()
    c.fill_and_stroke()
    c.set_shadow(False)
    # head left
    c.set_stroke_color(inside)
    c.set_line_cap("round")
    c.set_line_join("round")
    c.begin()
    c.move_to(w * 0.5, h * 0.6721)
    c.curve_to(w * 0.3891, h * 0.6721, w * 0.31, h * 0.5648, w * 0.31, h * 0.3962)
    c.curve_to(w * 0.31, h * 0.3656, w * 0.3012, h * 0.3473, w * 0.3051, h * 0.3227)
    c.curve_to(w * 0.3126, h * 0.2762, w * 0.3124, h * 0.2212, w * 0.332, h * 0.1939)
    c.curve_to(w * 0.354, h * 0.1633, w * 0.4382, h * 0.12, w * 0.5, h * 0.12)
    c.stroke()
    # left ear
    c.begin()
    c.move_to(w * 0.3046, h * 0.3716)
    c.curve_to(w * 0.3046, h * 0.3716, w * 0.3046, h * 0.341, w * 0.2826, h * 0.3594)
    c.curve_to(w * 0.2606, h * 0.3778, w * 0.2661, h * 0.4452, w * 0.266, h * 0.4452)
    c.quad_to(w * 0.2715, h * 0.4942, w * 0.277, h * 0.5065)
    c.curve_to(w * 0.2825, h * 0.5187, w * 0.277, h * 0.5187, w * 0.2935, h * 0.5371)
    c.curve_to(w * 0.31, h * 0.5554, w * 0.3375, h * 0.5615, w * 0.3375, h * 0.5616)
    c.stroke()
    # left shoulder
    c.begin()
    c.move_to(w * 0.3829, h * 0.6213)
    c.curve_to(w * 0.3829, h * 0.6213, w * 0.405, h * 0.7704, w * 0.2921, h * 0.7888)
    c.curve_to(w * 0.2536, h * 0.795, w * 0.1328, h * 0.85, w * 0.1052, h * 0.8745)
    c.curve_to(w * 0.0776, h * 0.899, w * 0.0641, h * 0.9316, w * 0.0571, h * 0.9622)
    c.quad_to(w * 0.05, h, w * 0.05, h)
    c.stroke()
    # left hairline
    c.begin()
    c.move_to(w * 0.3427, h * 0.4185)
    c.curve_to(w * 0.3427, h * 0.4185, w * 0.3427, h * 0.3839, w * 0.3427, h * 0.3593)
    c.curve_to(w * 0.3427, h * 0.3348, w * 0.3663, h * 0.3103, w * 0.3718, h * 0.3041)
    c.curve_to(w * 0.3773, h * 0.298, w * 0.3822, h * 0.2673, w * 0.3877, h * 0.2551)
    c.curve_to(w * 0.3932, h * 0.2429, w * 0.4095, h * 0.2429, w * 0.4259, h * 0.2367)
    c.curve_to(w * 0.4424, h * 0.2306, w * 0.4984, h * 0.2357, w * 0.4984, h * 0.2357)
    c.stroke()
    # shirt
    c.begin()
    c.move_to(w * 0.365, h * 0.7427)
    c.curve_to(w * 0.365, h * 0.7427, w * 0.3772, h * 0.8076, w * 0.4286, h * 0.8224)
    c.curve_to(w * 0.4816, h * 0.8377, w * 0.5028, h * 0.8347, w * 0.5028, h * 0.8347)
    c.stroke()
    c.begin()
    c.move_to(w * 0.3322, h * 0.7764)
    c.curve_to(w * 0.3322, h * 0.7764, w * 0.3556, h * 0.8386, w * 0.4038, h * 0.8684)
    c.curve_to(w * 0.4533, h * 0.8991, w * 0.5029, h * 0.8929, w * 0.5029, h * 0.8929)
    c.stroke()
    c.begin()
    c.move_to(w * 0.2717, h * 0.9)
    c.line_to(w * 0.2717, h)
    c.stroke()
    c.begin()
    c.move_to(w * 0.1671, h * 0.8991)
    c.curve_to(w * 0.1671, h * 0.8991, w * 0.1726, h * 0.9114, w * 0.1836, h * 0.9481)
    c.curve_to(w * 0.1946, h * 0.9849, w * 0.2, h, w * 0.2, h)
    c.stroke()
    # head right
    c.begin()
    c.move_to(w * 0.5, h * 0.6721)
    c.curve_to(w * 0.6109, h * 0.6721, w * 0.69, h * 0.5648, w * 0.69, h * 0.3962)
    c.curve_to(w * 0.69, h * 0.3656, w * 0.6988, h * 0.3473, w * 0.6949, h * 0.3227)
    c.curve_to(w * 0.6847, h * 0.2762, w * 0.6876, h * 0.2212, w * 0.668, h * 0.1939)
    c.curve_to(w * 0.646, h * 0.1633, w * 0.5618, h * 0.12, w * 0.5, h * 0.12)
    c.stroke()
    # right ear
    c.begin()
    c.move_to(w * 0.6954, h * 0.3716)
    c.curve_to(w * 0.6954, h * 0.3716, w * 0.6954, h * 0.341, w * 0.7174, h * 0.3594)
    c.curve_to(w * 0.7394, h * 0.3778, w * 0.7339, h * 0.4452, w * 0.734, h * 0.4452)
    c.quad_to(w * 0.7285, h * 0.4942, w * 0.723, h * 0.5065)
    c.curve_to(w * 0.7175, h * 0.5187, w * 0.723, h * 0.5187, w * 0.7065, h * 0.5371)
    c.curve_to(w * 0.69, h * 0.5554, w * 0.6625, h * 0.5615, w * 0.6625, h * 0.5616)
    c.stroke()
    # right shoulder
    c.begin()
    c.move_to(w * 0.6171, h * 0.6213)
    c.curve_to(w * 0.6171, h * 0.6213, w * 0.595, h * 0.7704, w * 0.7079, h * 0.7888)
    c.curve_to(w * 0.7464, h * 0.795, w * 0.8672, h * 0.85, w * 0.8948, h * 0.8745)
    c.curve_to(w * 0.9224, h * 0.899, w * 0.9359, h * 0.9316, w * 0.9429, h * 0.9622)
    c.quad_to(w * 0.95, h, w * 0.95, h)
    c.stroke()
    # right hairline
    c.begin()
    c.move_to(w * 0.6573, h * 0.4185)
    c.curve_to(w * 0.6573, h * 0.4185, w * 0.6573, h * 0.3839, w * 0.6573, h * 0.3593)
    c.curve_to(w * 0.6573, h * 0.3348, w * 0.6337, h * 0.3103, w * 0.6282, h * 0.3041)
    c.curve_to(w * 0.6227, h * 0.298, w * 0.6178, h * 0.2673, w * 0.6123, h * 0.2551)
    c.curve_to(w * 0.6068, h * 0.2429, w * 0.5905, h * 0.2429, w * 0.5741, h * 0.2367)
    c.curve_to(w * 0.5576, h * 0.2306, w * 0.5016, h * 0.2357, w * 0.5016, h * 0.2357)
    c.stroke()
    # shirt, right
    c.begin()
    c.move_to(w * 0.635, h * 0.7427)
    c.curve_to(w * 0.635, h * 0.7427, w * 0.6228, h * 0.8076, w * 0.5714, h * 0.8224)
    c.curve_to(w * 0.5184, h * 0.8377, w * 0.4972, h * 0.8347, w * 0.4972, h * 0.8347)
    c.stroke()
    c.begin()
    c.move_to(w * 0.6678, h * 0.7764)
    c.curve_to(w * 0.6678, h * 0.7764, w * 0.6444, h * 0.8386, w * 0.5962, h * 0.8684)
    c.curve_to(w * 0.5467, h * 0.8991, w * 0.4971, h * 0.8929, w * 0.4971, h * 0.8929)
    c.stroke()
    c.begin()
    c.move_to(w * 0.7283, h * 0.9)
    c.line_to(w * 0.7283, h)
    c.stroke()
    c.begin()
    c.move_to(w * 0.8329, h * 0.8991)
    c.curve_to(w * 0.8329, h * 0.8991, w * 0.8274, h * 0.9114, w * 0.8164, h * 0.9481)
    c.curve_to(w * 0.8054, h * 0.9849, w * 0.8, h, w * 0.8, h)
    c.stroke()
    c.set_stroke_color(frame)
    c.begin()
    c.move_to(0, 0)
    c.line_to(w, 0)
    c.line_to(w, h)
    c.line_to(0, h)
    c.close()
    c.stroke()


#: Lower-case lookup name -> painter.
MOCKUP_PAINTERS: dict[str, CodeShape] = {
    "mxgraph.mockup.containers.usermale": mockup_user_male,
}
