"""Original flat-style SVG artwork for the pet-store demo, drawn in code.

Every picture is a small, deterministic SVG string (no fonts, no filters, no clip paths) so
that draw.io, browsers and Qt's SVG renderer all draw it the same way. Products share one
palette and one 400 x 400 canvas with a soft floor shadow, which keeps the tiles consistent.
"""

from __future__ import annotations

import math
from collections.abc import Callable

# --- palette ---------------------------------------------------------------------------------

INK = "#1F2A44"
CREAM = "#FFF8EC"
TEAL = "#0E7C7B"
TEAL_LIGHT = "#7FD1C7"
CORAL = "#E8505B"
ORANGE = "#F28C28"
YELLOW = "#FFC845"
BLUE = "#3D8BD9"
SKY = "#BFE3F7"
GREEN = "#3BB273"
LEAF = "#2E8B57"
BROWN = "#8A5A36"
TAN = "#D9A066"
SAND = "#F2D3A2"
LAVENDER = "#8E7DBE"
PINK = "#F49AC1"
GREY = "#9AA5B1"
SILVER = "#D5DCE3"
WHITE = "#FFFFFF"
SHADOW = "#1F2A44"
DARK_CORAL_ART = "#C63A46"


def _n(value: float) -> str:
    """A number as SVG text: short and identical on every run."""
    rounded = round(value, 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0")


def _attrs(extra: dict[str, str | float]) -> str:
    parts = []
    for key, value in extra.items():
        name = key.rstrip("_").replace("_", "-")
        text = _n(value) if isinstance(value, int | float) else value
        parts.append(f' {name}="{text}"')
    return "".join(parts)


def circle(cx: float, cy: float, r: float, fill: str, **extra: str | float) -> str:
    """An SVG circle."""
    return f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="{fill}"{_attrs(extra)}/>'


def ellipse(cx: float, cy: float, rx: float, ry: float, fill: str, **extra: str | float) -> str:
    """An SVG ellipse."""
    return (
        f'<ellipse cx="{_n(cx)}" cy="{_n(cy)}" rx="{_n(rx)}" ry="{_n(ry)}" fill="{fill}"'
        f"{_attrs(extra)}/>"
    )


def rect(
    x: float, y: float, w: float, h: float, fill: str, r: float = 0, **extra: str | float
) -> str:
    """An SVG rectangle, rounded by ``r``."""
    rounding = f' rx="{_n(r)}"' if r else ""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"{rounding} fill="{fill}"'
        f"{_attrs(extra)}/>"
    )


def path(d: str, fill: str, **extra: str | float) -> str:
    """An SVG path."""
    return f'<path d="{d}" fill="{fill}"{_attrs(extra)}/>'


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float) -> str:
    """A round-capped SVG line."""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}" stroke-linecap="round"/>'
    )


def polygon(points: list[tuple[float, float]], fill: str, **extra: str | float) -> str:
    """An SVG polygon."""
    text = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    return f'<polygon points="{text}" fill="{fill}"{_attrs(extra)}/>'


def group(parts: list[str], transform: str = "", **extra: str | float) -> str:
    """An SVG group, optionally transformed."""
    how = f' transform="{transform}"' if transform else ""
    return f"<g{how}{_attrs(extra)}>{''.join(parts)}</g>"


def document(parts: list[str], width: int = 400, height: int = 400, defs: str = "") -> str:
    """A complete SVG document of the given size."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    )
    body = f"<defs>{defs}</defs>" if defs else ""
    return head + body + "".join(parts) + "</svg>"


def floor(cx: float = 200, cy: float = 368, rx: float = 150) -> str:
    """The soft shadow every product stands on."""
    return ellipse(cx, cy, rx, 14, SHADOW, opacity=0.12)


def paw(cx: float, cy: float, size: float, fill: str, **extra: str | float) -> str:
    """A paw print centred on (cx, cy), ``size`` across."""
    s = size / 100
    parts = [
        ellipse(cx, cy + 18 * s, 30 * s, 25 * s, fill),
        ellipse(cx - 34 * s, cy - 10 * s, 12 * s, 15 * s, fill),
        ellipse(cx - 13 * s, cy - 32 * s, 12 * s, 16 * s, fill),
        ellipse(cx + 13 * s, cy - 32 * s, 12 * s, 16 * s, fill),
        ellipse(cx + 34 * s, cy - 10 * s, 12 * s, 15 * s, fill),
    ]
    return f"<g{_attrs(extra)}>{''.join(parts)}</g>"


def bone(cx: float, cy: float, length: float, fill: str, angle: float = 0) -> str:
    """A cartoon bone (treat), ``length`` long, turned by ``angle`` degrees."""
    k = length / 100
    parts = [
        rect(-38 * k, -9 * k, 76 * k, 18 * k, fill),
        circle(-38 * k, -10 * k, 12 * k, fill),
        circle(-38 * k, 10 * k, 12 * k, fill),
        circle(38 * k, -10 * k, 12 * k, fill),
        circle(38 * k, 10 * k, 12 * k, fill),
    ]
    return group(parts, f"translate({_n(cx)} {_n(cy)}) rotate({_n(angle)})")


# --- animal faces (category tiles, hero pictures) --------------------------------------------


def dog_face(cx: float, cy: float, size: float) -> str:
    """A friendly dog's head, ``size`` across."""
    s = size / 200
    p: list[str] = [
        ellipse(
            cx - 78 * s, cy - 5 * s, 34 * s, 70 * s, BROWN, transform=_rot(18, cx - 78 * s, cy)
        ),
        ellipse(
            cx + 78 * s, cy - 5 * s, 34 * s, 70 * s, BROWN, transform=_rot(-18, cx + 78 * s, cy)
        ),
        ellipse(cx, cy, 82 * s, 88 * s, TAN),
        ellipse(cx + 34 * s, cy - 30 * s, 26 * s, 30 * s, SAND),
        ellipse(cx, cy + 42 * s, 50 * s, 38 * s, SAND),
        circle(cx - 30 * s, cy - 18 * s, 10 * s, INK),
        circle(cx + 30 * s, cy - 18 * s, 10 * s, INK),
        circle(cx - 27 * s, cy - 21 * s, 3.5 * s, WHITE),
        circle(cx + 33 * s, cy - 21 * s, 3.5 * s, WHITE),
        ellipse(cx, cy + 22 * s, 18 * s, 13 * s, INK),
        path(
            f"M{_n(cx - 20 * s)} {_n(cy + 44 * s)} Q{_n(cx)} {_n(cy + 58 * s)} "
            f"{_n(cx + 20 * s)} {_n(cy + 44 * s)}",
            "none",
            stroke=INK,
            stroke_width=5 * s,
            stroke_linecap="round",
        ),
        path(
            f"M{_n(cx - 12 * s)} {_n(cy + 52 * s)} Q{_n(cx - 12 * s)} {_n(cy + 82 * s)} "
            f"{_n(cx)} {_n(cy + 82 * s)} Q{_n(cx + 12 * s)} {_n(cy + 82 * s)} "
            f"{_n(cx + 12 * s)} {_n(cy + 52 * s)} Z",
            PINK,
        ),
    ]
    return group(p)


def cat_face(cx: float, cy: float, size: float, fur: str = ORANGE, light: str = SAND) -> str:
    """A cat's head, ``size`` across."""
    s = size / 200
    p: list[str] = [
        polygon(
            [(cx - 80 * s, cy - 10 * s), (cx - 70 * s, cy - 100 * s), (cx - 20 * s, cy - 60 * s)],
            fur,
        ),
        polygon(
            [(cx + 80 * s, cy - 10 * s), (cx + 70 * s, cy - 100 * s), (cx + 20 * s, cy - 60 * s)],
            fur,
        ),
        polygon(
            [(cx - 66 * s, cy - 30 * s), (cx - 64 * s, cy - 80 * s), (cx - 36 * s, cy - 56 * s)],
            PINK,
        ),
        polygon(
            [(cx + 66 * s, cy - 30 * s), (cx + 64 * s, cy - 80 * s), (cx + 36 * s, cy - 56 * s)],
            PINK,
        ),
        ellipse(cx, cy + 5 * s, 90 * s, 78 * s, fur),
        path(
            f"M{_n(cx - 12 * s)} {_n(cy - 72 * s)} L{_n(cx)} {_n(cy - 40 * s)} "
            f"L{_n(cx + 12 * s)} {_n(cy - 72 * s)} Z",
            light,
        ),
        ellipse(cx, cy + 40 * s, 46 * s, 32 * s, light),
        ellipse(cx - 34 * s, cy - 8 * s, 12 * s, 15 * s, INK),
        ellipse(cx + 34 * s, cy - 8 * s, 12 * s, 15 * s, INK),
        circle(cx - 30 * s, cy - 13 * s, 4 * s, WHITE),
        circle(cx + 38 * s, cy - 13 * s, 4 * s, WHITE),
        polygon([(cx - 9 * s, cy + 20 * s), (cx + 9 * s, cy + 20 * s), (cx, cy + 30 * s)], CORAL),
        path(
            f"M{_n(cx - 16 * s)} {_n(cy + 40 * s)} Q{_n(cx - 8 * s)} {_n(cy + 48 * s)} "
            f"{_n(cx)} {_n(cy + 32 * s)} Q{_n(cx + 8 * s)} {_n(cy + 48 * s)} "
            f"{_n(cx + 16 * s)} {_n(cy + 40 * s)}",
            "none",
            stroke=INK,
            stroke_width=4 * s,
            stroke_linecap="round",
        ),
    ]
    for side in (-1, 1):
        for dy in (-6, 8):
            p.append(
                line(
                    cx + side * 40 * s,
                    cy + (30 + dy / 2) * s,
                    cx + side * 108 * s,
                    cy + (24 + dy * 1.6) * s,
                    INK,
                    3 * s,
                )
            )
    return group(p)


def fish(cx: float, cy: float, size: float, body: str = ORANGE, fin: str = YELLOW) -> str:
    """A round cartoon fish facing left, ``size`` long."""
    s = size / 200
    p = [
        polygon([(cx + 50 * s, cy), (cx + 100 * s, cy - 45 * s), (cx + 100 * s, cy + 45 * s)], fin),
        polygon(
            [(cx - 10 * s, cy - 50 * s), (cx + 30 * s, cy - 70 * s), (cx + 40 * s, cy - 35 * s)],
            fin,
        ),
        ellipse(cx - 10 * s, cy, 70 * s, 52 * s, body),
        path(
            f"M{_n(cx + 10 * s)} {_n(cy - 44 * s)} Q{_n(cx + 30 * s)} {_n(cy)} "
            f"{_n(cx + 10 * s)} {_n(cy + 44 * s)}",
            "none",
            stroke=WHITE,
            stroke_width=8 * s,
            opacity=0.7,
        ),
        circle(cx - 45 * s, cy - 10 * s, 13 * s, WHITE),
        circle(cx - 48 * s, cy - 10 * s, 7 * s, INK),
        path(
            f"M{_n(cx - 72 * s)} {_n(cy + 12 * s)} Q{_n(cx - 64 * s)} {_n(cy + 20 * s)} "
            f"{_n(cx - 56 * s)} {_n(cy + 14 * s)}",
            "none",
            stroke=INK,
            stroke_width=4 * s,
            stroke_linecap="round",
        ),
    ]
    return group(p)


def hamster(cx: float, cy: float, size: float) -> str:
    """A round hamster sitting up, ``size`` across."""
    s = size / 200
    p = [
        circle(cx - 52 * s, cy - 62 * s, 22 * s, TAN),
        circle(cx + 52 * s, cy - 62 * s, 22 * s, TAN),
        circle(cx - 52 * s, cy - 62 * s, 11 * s, PINK),
        circle(cx + 52 * s, cy - 62 * s, 11 * s, PINK),
        ellipse(cx, cy, 86 * s, 80 * s, TAN),
        ellipse(cx, cy + 28 * s, 58 * s, 48 * s, CREAM),
        ellipse(cx - 50 * s, cy + 12 * s, 18 * s, 12 * s, PINK, opacity=0.6),
        ellipse(cx + 50 * s, cy + 12 * s, 18 * s, 12 * s, PINK, opacity=0.6),
        circle(cx - 30 * s, cy - 14 * s, 9 * s, INK),
        circle(cx + 30 * s, cy - 14 * s, 9 * s, INK),
        circle(cx - 27 * s, cy - 17 * s, 3 * s, WHITE),
        circle(cx + 33 * s, cy - 17 * s, 3 * s, WHITE),
        ellipse(cx, cy + 4 * s, 8 * s, 6 * s, CORAL),
        ellipse(cx - 20 * s, cy + 66 * s, 14 * s, 9 * s, PINK),
        ellipse(cx + 20 * s, cy + 66 * s, 14 * s, 9 * s, PINK),
    ]
    return group(p)


def bird(cx: float, cy: float, size: float, body: str = YELLOW) -> str:
    """A small round songbird facing left, ``size`` across."""
    s = size / 100
    p = [
        polygon(
            [(cx + 30 * s, cy + 5 * s), (cx + 58 * s, cy - 4 * s), (cx + 52 * s, cy + 20 * s)],
            ORANGE,
        ),
        ellipse(cx, cy, 34 * s, 28 * s, body),
        circle(cx - 18 * s, cy - 18 * s, 18 * s, body),
        ellipse(cx + 8 * s, cy + 2 * s, 18 * s, 12 * s, ORANGE, opacity=0.8),
        circle(cx - 24 * s, cy - 22 * s, 4 * s, INK),
        polygon(
            [(cx - 36 * s, cy - 20 * s), (cx - 48 * s, cy - 14 * s), (cx - 35 * s, cy - 10 * s)],
            CORAL,
        ),
    ]
    return group(p)


def _rot(angle: float, cx: float, cy: float) -> str:
    return f"rotate({_n(angle)} {_n(cx)} {_n(cy)})"


# --- products ---------------------------------------------------------------------------------


def dog_food_bag() -> str:
    """A big bag of dry dog food with a dog on the label and kibble in front."""
    p = [
        floor(),
        path("M110 80 L290 80 L312 350 Q200 368 88 350 Z", ORANGE),
        path("M110 80 L290 80 L296 130 L104 130 Z", CORAL),
        path(
            "M104 80 L120 62 L136 80 L152 62 L168 80 L184 62 L200 80 L216 62 L232 80 L248 62 "
            "L264 80 L280 62 L296 80 Z",
            CORAL,
        ),
        circle(200, 225, 82, CREAM),
        dog_face(200, 222, 128),
        rect(126, 318, 148, 22, CREAM, 11),
        rect(140, 325, 120, 8, TEAL, 4),
        path("M290 80 L312 350 Q300 352 290 353 L276 80 Z", INK, opacity=0.08),
    ]
    for cx, cy, angle in ((70, 352, 20), (330, 356, -15), (345, 332, 40)):
        p.append(bone(cx, cy, 44, BROWN, angle))
    return document(p)


def rope_chew_toy() -> str:
    """A knotted rope bone with a tennis ball."""
    p = [floor(rx=160)]
    rope = []
    for i in range(9):
        x = 110 + i * 20
        colour = CORAL if i % 2 == 0 else CREAM
        rope.append(path(f"M{x} 190 L{x + 22} 190 L{x + 30} 230 L{x + 8} 230 Z", colour))
    p.append(group(rope, _rot(-18, 200, 210)))
    for kx, ky in ((96, 250), (304, 168)):
        p.append(
            group(
                [
                    circle(kx - 14, ky - 14, 34, TEAL),
                    circle(kx + 14, ky + 14, 34, TEAL),
                    circle(kx - 10, ky - 18, 12, TEAL_LIGHT, opacity=0.6),
                    line(kx - 30, ky + 4, kx + 4, ky - 30, WHITE, 5),
                ]
            )
        )
    for tx, ty in ((60, 300), (76, 310), (320, 128), (336, 118)):
        p.append(line(tx, ty, tx - 10, ty + 24, CREAM, 6))
    p.extend(
        [
            circle(270, 300, 56, "#C6E03A"),
            path("M222 272 Q262 300 226 334", "none", stroke=WHITE, stroke_width=7),
            path("M318 268 Q278 296 314 332", "none", stroke=WHITE, stroke_width=7),
            circle(252, 280, 14, WHITE, opacity=0.35),
        ]
    )
    return document(p)


def reflective_leash() -> str:
    """A padded walking leash with a reflective stripe, a swivel clip and a collar."""
    strap = "M150 132 C250 180 80 230 150 282 C200 318 250 300 262 296"
    p = [
        floor(),
        ellipse(
            112, 100, 62, 40, "none", stroke=BLUE, stroke_width=26, transform=_rot(-24, 112, 100)
        ),
        ellipse(
            112,
            100,
            62,
            40,
            "none",
            stroke=INK,
            stroke_width=8,
            opacity=0.25,
            transform=_rot(-24, 112, 100),
        ),
        path(strap, "none", stroke=BLUE, stroke_width=26, stroke_linecap="round"),
        path(
            strap,
            "none",
            stroke=WHITE,
            stroke_width=6,
            stroke_dasharray="16 12",
            stroke_linecap="round",
        ),
        rect(136, 112, 44, 36, INK, 10, transform=_rot(30, 158, 130)),
        circle(276, 296, 14, "none", stroke=GREY, stroke_width=8),
        rect(288, 284, 46, 24, SILVER, 10),
        rect(296, 290, 30, 12, GREY, 6),
        ellipse(350, 312, 60, 34, "none", stroke=CORAL, stroke_width=22),
        circle(346, 276, 10, "none", stroke=GREY, stroke_width=6),
        bone(346, 250, 50, YELLOW, 0),
    ]
    return document(p)


def cat_tree() -> str:
    """A three-level cat tree with sisal posts, a cubby and a dangling toy."""
    p = [floor(rx=170)]

    def post(x: float, top: float, bottom: float) -> str:
        stripes = [rect(x, top, 30, bottom - top, SAND)]
        y = top + 6
        while y < bottom - 4:
            stripes.append(rect(x, y, 30, 4, TAN))
            y += 12
        return group(stripes)

    p += [
        post(112, 140, 350),
        post(258, 70, 350),
        post(190, 230, 350),
        rect(60, 336, 280, 26, LAVENDER, 12),
        rect(70, 212, 170, 50, LAVENDER, 14),
        circle(120, 237, 18, INK, opacity=0.85),
        rect(76, 130, 92, 22, LAVENDER, 10),
        rect(214, 56, 120, 24, LAVENDER, 11),
        ellipse(274, 58, 50, 12, PINK),
        line(166, 262, 166, 300, INK, 3),
        circle(166, 308, 12, CORAL),
        circle(162, 304, 4, WHITE, opacity=0.7),
        cat_face(274, 18 + 12, 70, GREY, SILVER),
    ]
    return document(p)


def feather_wand() -> str:
    """A teaser wand: a stick, a string and a bunch of bright feathers."""
    p = [
        floor(rx=140),
        line(70, 350, 230, 120, TEAL, 14),
        circle(70, 350, 12, INK),
        path("M230 120 Q300 90 290 190 Q284 240 300 260", "none", stroke=INK, stroke_width=3),
        circle(300, 262, 8, YELLOW),
    ]
    feathers = [
        (-40, CORAL),
        (-15, YELLOW),
        (10, BLUE),
        (35, GREEN),
        (60, LAVENDER),
    ]
    for angle, colour in feathers:
        p.append(
            group(
                [
                    ellipse(300, 320, 16, 54, colour),
                    line(300, 272, 300, 370, WHITE, 3),
                ],
                _rot(angle, 300, 268),
            )
        )
    p.append(paw(110, 130, 70, CORAL, opacity=0.25))
    return document(p)


def donut_bed() -> str:
    """A round plush donut bed with a sleeping cat curled up inside."""
    p = [
        floor(rx=170),
        ellipse(200, 280, 170, 78, TEAL),
        ellipse(200, 262, 150, 62, TEAL_LIGHT),
        ellipse(200, 272, 110, 38, CREAM),
        ellipse(196, 246, 82, 40, ORANGE),
        path(
            "M120 262 Q110 230 150 226",
            "none",
            stroke=ORANGE,
            stroke_width=18,
            stroke_linecap="round",
        ),
        circle(250, 232, 34, ORANGE),
        polygon([(226, 214), (228, 184), (248, 204)], ORANGE),
        polygon([(266, 204), (282, 184), (282, 214)], ORANGE),
        path("M236 236 q8 6 16 0", "none", stroke=INK, stroke_width=4, stroke_linecap="round"),
        path("M258 236 q8 6 16 0", "none", stroke=INK, stroke_width=4, stroke_linecap="round"),
        ellipse(254, 248, 5, 4, CORAL),
        path("M160 236 q20 -14 40 0", "none", stroke=SAND, stroke_width=6, stroke_linecap="round"),
    ]
    for i, x in enumerate((298, 318, 338)):
        size = 14 + i * 4
        p.append(
            path(
                f"M{x} {170 - i * 30} h{size} l-{size} {size} h{size}",
                "none",
                stroke=BLUE,
                stroke_width=5,
                stroke_linejoin="round",
                stroke_linecap="round",
            )
        )
    return document(p)


def aquarium() -> str:
    """A starter aquarium: glass tank, water, gravel, plants, fish and bubbles."""
    defs = (
        '<linearGradient id="water" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{SKY}"/><stop offset="1" stop-color="{BLUE}"/>'
        "</linearGradient>"
    )
    p = [
        floor(rx=180),
        rect(40, 330, 320, 30, INK, 8),
        rect(46, 90, 308, 244, "url(#water)", 6),
        rect(34, 70, 332, 28, INK, 8),
        rect(46, 300, 308, 34, TAN),
    ]
    for i in range(16):
        x = 56 + i * 19
        p.append(circle(x, 306 + (i % 3) * 8, 7, SAND if i % 2 else BROWN, opacity=0.9))
    for x, h, colour in ((80, 150, LEAF), (108, 110, GREEN), (300, 170, LEAF), (326, 120, GREEN)):
        p.append(
            path(
                f"M{x} 304 Q{x - 20} {304 - h / 2} {x} {304 - h} Q{x + 16} {304 - h / 2} "
                f"{x + 8} 304 Z",
                colour,
            )
        )
    p += [
        fish(176, 170, 110),
        fish(262, 240, 72, CORAL, YELLOW),
        circle(140, 140, 8, WHITE, opacity=0.7),
        circle(128, 116, 6, WHITE, opacity=0.7),
        circle(136, 100, 4, WHITE, opacity=0.7),
        rect(60, 104, 12, 180, WHITE, 6, opacity=0.25),
        rect(196, 282, 60, 22, GREY, 6),
        rect(210, 270, 20, 16, GREY, 4),
    ]
    return document(p, defs=defs)


def hamster_wheel() -> str:
    """A silent exercise wheel on a stand, with a hamster about to run."""
    p = [
        floor(rx=170),
        polygon([(190, 200), (130, 350), (150, 350), (210, 200)], GREY),
        rect(110, 340, 160, 18, INK, 9),
        circle(200, 190, 130, "none", stroke=CORAL, stroke_width=18),
        circle(200, 190, 112, "none", stroke=CORAL, stroke_width=4, opacity=0.5),
    ]
    for i in range(12):
        a = math.radians(i * 30)
        p.append(
            line(
                200 + 24 * math.cos(a),
                190 + 24 * math.sin(a),
                200 + 118 * math.cos(a),
                190 + 118 * math.sin(a),
                CORAL,
                5,
            )
        )
    p += [
        circle(200, 190, 26, YELLOW),
        circle(200, 190, 9, INK),
        hamster(314, 300, 96),
    ]
    return document(p)


def bird_cage() -> str:
    """A domed bird cage with a perch, a swing and a yellow songbird."""
    p = [
        floor(rx=150),
        rect(184, 22, 32, 20, INK, 8),
        path("M90 170 Q90 50 200 44 Q310 50 310 170 Z", SKY, opacity=0.45),
        rect(80, 320, 240, 36, TEAL, 10),
        rect(90, 306, 220, 20, TEAL_LIGHT, 6),
    ]
    for i in range(9):
        x = 100 + i * 25
        top = 170 - 108 * math.sqrt(max(0.0, 1 - ((x - 200) / 112) ** 2))
        p.append(line(x, top + 6, x, 308, GREY, 5))
    p += [
        path("M90 170 Q90 50 200 44 Q310 50 310 170", "none", stroke=GREY, stroke_width=8),
        line(90, 170, 90, 308, GREY, 8),
        line(310, 170, 310, 308, GREY, 8),
        line(90, 170, 310, 170, GREY, 5),
        line(120, 240, 280, 240, BROWN, 10),
        bird(200, 210, 90),
        line(250, 170, 250, 280, GREY, 2),
        line(290, 170, 290, 280, GREY, 2),
        line(246, 280, 294, 280, BROWN, 8),
        rect(116, 282, 44, 24, CORAL, 6),
        circle(128, 284, 5, SAND),
        circle(142, 282, 5, SAND),
    ]
    return document(p)


# --- category tiles, heroes, logo -------------------------------------------------------------


def category_dogs() -> str:
    """Category tile picture: a dog with a bone."""
    return document(
        [
            circle(200, 200, 170, CREAM),
            dog_face(200, 190, 250),
            bone(300, 330, 90, BROWN, -20),
        ]
    )


def category_cats() -> str:
    """Category tile picture: a cat with a ball of wool."""
    return document(
        [
            circle(200, 200, 170, CREAM),
            cat_face(190, 210, 250, ORANGE, SAND),
            circle(310, 320, 44, LAVENDER),
            path(
                "M280 300 Q310 320 340 300 M276 326 Q310 346 344 326",
                "none",
                stroke=WHITE,
                stroke_width=4,
                opacity=0.7,
            ),
        ]
    )


def category_small_pets() -> str:
    """Category tile picture: a hamster and a fish in a bowl."""
    return document(
        [
            circle(200, 200, 170, CREAM),
            circle(270, 150, 88, SKY),
            rect(196, 70, 148, 20, SKY, 10),
            fish(270, 160, 100),
            circle(318, 112, 8, WHITE, opacity=0.8),
            hamster(140, 270, 170),
        ]
    )


def logo() -> str:
    """The store's mark: a paw in a heart-shaped badge."""
    return document(
        [
            circle(100, 100, 96, CORAL),
            circle(100, 100, 84, "none", stroke=WHITE, stroke_width=4, opacity=0.5),
            paw(100, 104, 112, WHITE),
        ],
        200,
        200,
    )


def hero_friends() -> str:
    """Attract picture: a dog and a cat side by side, with paw prints."""
    p = [
        circle(300, 310, 260, CREAM),
        paw(90, 80, 60, WHITE, opacity=0.5),
        paw(520, 70, 48, WHITE, opacity=0.5),
        paw(545, 530, 56, WHITE, opacity=0.5),
        dog_face(220, 330, 320),
        cat_face(430, 350, 260, GREY, SILVER),
        bone(120, 540, 110, BROWN, 15),
    ]
    return document(p, 600, 600)


def hero_treats() -> str:
    """Attract picture: a dog food bag with treats raining around it."""
    p = [circle(300, 310, 260, CREAM)]
    for i, (x, y, a) in enumerate(
        (
            (90, 120, 30),
            (480, 100, -20),
            (520, 300, 60),
            (70, 380, -40),
            (140, 520, 10),
            (470, 520, -30),
        )
    ):
        p.append(bone(x, y, 80, BROWN if i % 2 else TAN, a))
    p.append(group([dog_food_bag_body()], "translate(60 40) scale(1.2)"))
    return document(p, 600, 600)


def dog_food_bag_body() -> str:
    """The dog food bag drawing without its own SVG wrapper (for compositions)."""
    svg = dog_food_bag()
    start = svg.index(">") + 1
    return svg[start : -len("</svg>")]


def hero_aquatic() -> str:
    """Attract picture: a fish bowl, a hamster and a bird on a branch."""
    p = [
        circle(300, 310, 260, CREAM),
        circle(360, 225, 120, SKY),
        rect(290, 96, 140, 24, SKY, 12),
        rect(250, 325, 230, 36, TAN, 18),
        fish(335, 210, 130),
        fish(420, 275, 80, CORAL, YELLOW),
        circle(300, 150, 9, WHITE, opacity=0.9),
        circle(286, 128, 6, WHITE, opacity=0.9),
        path("M300 330 Q320 270 300 240 Q336 272 320 330 Z", LEAF),
        hamster(190, 430, 220),
        line(340, 520, 540, 480, BROWN, 14),
        path("M500 488 q20 -40 50 -40 q-10 30 -50 40 Z", LEAF),
        bird(440, 470, 110, YELLOW),
    ]
    return document(p, 600, 600)


def store_map(aisle: int) -> str:
    """A simple floor plan with ``aisle`` (1..6) highlighted and a 'you are here' pin."""
    p = [rect(10, 10, 580, 380, WHITE, 24, stroke=INK, stroke_width=6)]
    for index in range(6):
        x = 50 + index * 88
        mine = index + 1 == aisle
        p.append(rect(x, 60, 56, 220, CORAL if mine else SILVER, 10))
        if mine:
            p.append(paw(x + 28, 170, 44, WHITE))
    p += [
        rect(40, 320, 220, 44, TEAL_LIGHT, 10),
        rect(360, 320, 200, 44, YELLOW, 10),
        circle(310, 342, 20, TEAL),
        circle(310, 342, 8, WHITE),
    ]
    aisle_x = 50 + (aisle - 1) * 88 + 28
    p.append(
        path(
            f"M310 322 L310 300 L{aisle_x} 300 L{aisle_x} 286",
            "none",
            stroke=TEAL,
            stroke_width=8,
            stroke_dasharray="14 10",
            stroke_linecap="round",
        )
    )
    return document(p, 600, 400)


#: The product pictures by key, as used by the page generator.
PRODUCT_ART: dict[str, Callable[[], str]] = {
    "dog-food": dog_food_bag,
    "chew-toy": rope_chew_toy,
    "leash": reflective_leash,
    "cat-tree": cat_tree,
    "feather-wand": feather_wand,
    "donut-bed": donut_bed,
    "aquarium": aquarium,
    "hamster-wheel": hamster_wheel,
    "bird-cage": bird_cage,
}


# --- button icons (white on a coloured button) -----------------------------------------------


def icon_bell() -> str:
    """A service bell: call a member of staff."""
    return document(
        [
            path("M20 76 Q20 34 50 34 Q80 34 80 76 Z", WHITE),
            rect(12, 76, 76, 10, WHITE, 5),
            circle(50, 26, 7, WHITE),
        ],
        100,
        100,
    )


def icon_back() -> str:
    """An arrow pointing left: the previous page."""
    return document(
        [
            path(
                "M62 18 L30 50 L62 82",
                "none",
                stroke=WHITE,
                stroke_width=14,
                stroke_linecap="round",
                stroke_linejoin="round",
            )
        ],
        100,
        100,
    )


def icon_home() -> str:
    """A little house: the welcome page."""
    return document(
        [
            polygon([(50, 12), (90, 48), (78, 48), (78, 86), (22, 86), (22, 48), (10, 48)], WHITE),
            rect(42, 60, 16, 26, INK, 3),
        ],
        100,
        100,
    )


def icon_list() -> str:
    """A list with a plus: add the product to the shopping list."""
    return document(
        [
            rect(10, 18, 50, 10, WHITE, 5),
            rect(10, 44, 50, 10, WHITE, 5),
            rect(10, 70, 30, 10, WHITE, 5),
            rect(66, 52, 30, 10, WHITE, 5),
            rect(76, 42, 10, 30, WHITE, 5),
        ],
        100,
        100,
    )


def icon_pin() -> str:
    """A map pin: where the product is in the shop."""
    return document(
        [
            path("M50 94 Q18 56 18 38 A32 32 0 0 1 82 38 Q82 56 50 94 Z", WHITE),
            circle(50, 38, 12, INK),
        ],
        100,
        100,
    )


def icon_info() -> str:
    """An 'i' in a circle: more details."""
    return document(
        [
            circle(50, 50, 42, "none", stroke=INK, stroke_width=9),
            circle(50, 30, 7, INK),
            rect(44, 44, 12, 32, INK, 5),
        ],
        100,
        100,
    )


def icon_tag() -> str:
    """A price tag: the offers."""
    return document(
        [
            path("M12 14 L52 14 L90 52 L52 90 L12 50 Z", INK),
            circle(30, 32, 8, YELLOW),
        ],
        100,
        100,
    )


def icon_bell_coloured() -> str:
    """The service bell in colour, for the call-staff confirmation."""
    return document(
        [
            circle(50, 50, 48, YELLOW),
            path("M24 70 Q24 36 50 36 Q76 36 76 70 Z", DARK_CORAL_ART),
            rect(16, 70, 68, 9, INK, 4.5),
            circle(50, 29, 6, DARK_CORAL_ART),
        ],
        100,
        100,
    )


def check_badge() -> str:
    """A white circle with a tick: added to the list."""
    return document(
        [
            circle(50, 50, 48, WHITE),
            path(
                "M28 52 L44 68 L74 34",
                "none",
                stroke=TEAL,
                stroke_width=11,
                stroke_linecap="round",
                stroke_linejoin="round",
            ),
        ],
        100,
        100,
    )
