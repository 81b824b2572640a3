"""draw.io style strings -> ``Style``, resolved as draw.io's stylesheet does.

A style is ``;``-separated. ``key=value`` sets a key (split on the first ``=``, the last
duplicate wins, ``value == "none"`` deletes the key); a bare token names a stylesheet style
whose keys are applied at that point. Unless the string starts with ``;``, the cell starts
from the default vertex or edge style. The stylesheet below is draw.io's ``default.xml``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from urllib.parse import unquote

from designer_import.model import (
    Element,
    GradientDirection,
    HorizontalAlign,
    Insets,
    ShapeKind,
    Style,
    VerticalAlign,
)
from designer_import.model import Gradient as _Gradient

_DEFAULT_VERTEX = {
    "shape": "label",
    "perimeter": "rectanglePerimeter",
    "fontSize": "12",
    "fontFamily": "Helvetica",
    "align": "center",
    "verticalAlign": "middle",
    "fillColor": "default",
    "strokeColor": "default",
    "fontColor": "default",
}
_DEFAULT_EDGE = {
    "shape": "connector",
    "labelBackgroundColor": "default",
    "endArrow": "classic",
    "fontSize": "11",
    "fontFamily": "Helvetica",
    "align": "center",
    "verticalAlign": "middle",
    "strokeColor": "default",
    "fontColor": "default",
}
_TEXT = {
    "fillColor": "none",
    "gradientColor": "none",
    "strokeColor": "none",
    "align": "left",
    "verticalAlign": "top",
}
_LABEL = {
    "fontStyle": "1",
    "align": "left",
    "verticalAlign": "middle",
    "spacing": "2",
    "spacingLeft": "52",
    "imageWidth": "42",
    "imageHeight": "42",
    "rounded": "1",
}
_IMAGE = {
    "shape": "image",
    "labelBackgroundColor": "default",
    "verticalAlign": "top",
    "verticalLabelPosition": "bottom",
}
_FANCY = {"shadow": "1", "glass": "1"}


def _colour_style(gradient: str, fill: str, stroke: str) -> dict[str, str]:
    return {"gradientColor": gradient, "fillColor": fill, "strokeColor": stroke}


_COLOURS = {
    "gray": ("#B3B3B3", "#F5F5F5", "#666666"),
    "blue": ("#7EA6E0", "#DAE8FC", "#6C8EBF"),
    "green": ("#97D077", "#D5E8D4", "#82B366"),
    "turquoise": ("#67AB9F", "#D5E8D4", "#6A9153"),
    "yellow": ("#FFD966", "#FFF2CC", "#D6B656"),
    "orange": ("#FFA500", "#FFCD28", "#D79B00"),
    "red": ("#EA6B66", "#F8CECC", "#B85450"),
    "pink": ("#B5739D", "#E6D0DE", "#996185"),
    "purple": ("#8C6C9C", "#E1D5E7", "#9673A6"),
}

#: draw.io's named styles (``styles/default.xml``).
NAMED_STYLES: dict[str, dict[str, str]] = {
    "text": _TEXT,
    "edgeLabel": {**_TEXT, "labelBackgroundColor": "default", "fontSize": "11"},
    "label": _LABEL,
    "icon": {
        **_LABEL,
        "align": "center",
        "imageAlign": "center",
        "verticalLabelPosition": "bottom",
        "verticalAlign": "top",
        "labelBackgroundColor": "default",
        "spacing": "0",
        "spacingLeft": "0",
        "spacingTop": "6",
        "fontStyle": "0",
        "imageWidth": "48",
        "imageHeight": "48",
    },
    "swimlane": {"shape": "swimlane", "fontSize": "12", "fontStyle": "1", "startSize": "23"},
    "group": {
        "verticalAlign": "top",
        "fillColor": "none",
        "strokeColor": "none",
        "gradientColor": "none",
        "pointerEvents": "0",
    },
    "ellipse": {"shape": "ellipse", "perimeter": "ellipsePerimeter"},
    "rhombus": {"shape": "rhombus", "perimeter": "rhombusPerimeter"},
    "triangle": {"shape": "triangle", "perimeter": "trianglePerimeter"},
    "line": {
        "shape": "line",
        "strokeWidth": "4",
        "labelBackgroundColor": "default",
        "verticalAlign": "top",
        "spacingTop": "8",
    },
    "image": _IMAGE,
    "roundImage": {**_IMAGE, "perimeter": "ellipsePerimeter"},
    "rhombusImage": {**_IMAGE, "perimeter": "rhombusPerimeter"},
    "arrow": {"shape": "arrow", "edgeStyle": "none", "fillColor": "default"},
    "fancy": _FANCY,
}
for _name, (_g, _f, _s) in _COLOURS.items():
    NAMED_STYLES[_name] = {**_FANCY, **_colour_style(_g, _f, _s)}
    NAMED_STYLES["plain-" + _name] = _colour_style(_g, _f, _s)

#: CSS colour names (CSS Color Module Level 4).
_CSS_COLOUR_TABLE = (
    "aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff "
    "beige:f5f5dc bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff "
    "blueviolet:8a2be2 brown:a52a2a burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00 "
    "chocolate:d2691e coral:ff7f50 cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c "
    "cyan:00ffff darkblue:00008b darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9 "
    "darkgreen:006400 darkgrey:a9a9a9 darkkhaki:bdb76b darkmagenta:8b008b "
    "darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc darkred:8b0000 "
    "darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b darkslategray:2f4f4f "
    "darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 deeppink:ff1493 "
    "deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222 "
    "floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc "
    "ghostwhite:f8f8ff gold:ffd700 goldenrod:daa520 gray:808080 green:008000 "
    "greenyellow:adff2f grey:808080 honeydew:f0fff0 hotpink:ff69b4 indianred:cd5c5c "
    "indigo:4b0082 ivory:fffff0 khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5 "
    "lawngreen:7cfc00 lemonchiffon:fffacd lightblue:add8e6 lightcoral:f08080 "
    "lightcyan:e0ffff lightgoldenrodyellow:fafad2 lightgray:d3d3d3 lightgreen:90ee90 "
    "lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a lightseagreen:20b2aa "
    "lightskyblue:87cefa lightslategray:778899 lightslategrey:778899 lightsteelblue:b0c4de "
    "lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6 magenta:ff00ff "
    "maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd mediumorchid:ba55d3 "
    "mediumpurple:9370db mediumseagreen:3cb371 mediumslateblue:7b68ee "
    "mediumspringgreen:00fa9a mediumturquoise:48d1cc mediumvioletred:c71585 "
    "midnightblue:191970 mintcream:f5fffa mistyrose:ffe4e1 moccasin:ffe4b5 "
    "navajowhite:ffdead navy:000080 oldlace:fdf5e6 olive:808000 olivedrab:6b8e23 "
    "orange:ffa500 orangered:ff4500 orchid:da70d6 palegoldenrod:eee8aa palegreen:98fb98 "
    "paleturquoise:afeeee palevioletred:db7093 papayawhip:ffefd5 peachpuff:ffdab9 "
    "peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 purple:800080 "
    "rebeccapurple:663399 red:ff0000 rosybrown:bc8f8f royalblue:4169e1 "
    "saddlebrown:8b4513 salmon:fa8072 sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee "
    "sienna:a0522d silver:c0c0c0 skyblue:87ceeb slateblue:6a5acd slategray:708090 "
    "slategrey:708090 snow:fffafa springgreen:00ff7f steelblue:4682b4 tan:d2b48c "
    "teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0 violet:ee82ee "
    "wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 yellow:ffff00 yellowgreen:9acd32"
)
CSS_COLOURS: dict[str, str] = {
    name: code for name, code in (pair.split(":", 1) for pair in _CSS_COLOUR_TABLE.split())
}

#: What ``default`` means for each colour key (draw.io's light theme).
_DEFAULT_COLOURS = {
    "fillColor": "#ffffff",
    "strokeColor": "#000000",
    "fontColor": "#000000",
    "labelBackgroundColor": "#ffffff",
    "labelBorderColor": "#000000",
    "gradientColor": "#ffffff",
    "swimlaneFillColor": "#ffffff",
}

_HEX = re.compile(r"#?([0-9a-fA-F]{3,8})")
_RGB = re.compile(r"rgba?\(\s*([\d.]+)%?\s*[, ]\s*([\d.]+)%?\s*[, ]\s*([\d.]+)%?", re.IGNORECASE)

_SHAPE_KINDS: dict[str, ShapeKind] = {
    "rectangle": ShapeKind.RECTANGLE,
    "rect": ShapeKind.RECTANGLE,
    "partialRectangle": ShapeKind.RECTANGLE,
    "table": ShapeKind.RECTANGLE,
    "tableRow": ShapeKind.RECTANGLE,
    "ellipse": ShapeKind.ELLIPSE,
    "doubleEllipse": ShapeKind.DOUBLE_ELLIPSE,
    "rhombus": ShapeKind.RHOMBUS,
    "triangle": ShapeKind.TRIANGLE,
    "hexagon": ShapeKind.HEXAGON,
    "parallelogram": ShapeKind.PARALLELOGRAM,
    "trapezoid": ShapeKind.TRAPEZOID,
    "cylinder": ShapeKind.CYLINDER,
    "cylinder2": ShapeKind.CYLINDER,
    "cylinder3": ShapeKind.CYLINDER,
    "datastore": ShapeKind.CYLINDER,
    "cloud": ShapeKind.CLOUD,
    "document": ShapeKind.DOCUMENT,
    "process": ShapeKind.PROCESS,
    "process2": ShapeKind.PROCESS,
    "step": ShapeKind.STEP,
    "card": ShapeKind.CARD,
    "note": ShapeKind.NOTE,
    "note2": ShapeKind.NOTE,
    "callout": ShapeKind.CALLOUT,
    "actor": ShapeKind.ACTOR,
    "umlActor": ShapeKind.ACTOR,
    "cross": ShapeKind.CROSS,
    "plus": ShapeKind.PLUS,
    "line": ShapeKind.LINE,
    "hline": ShapeKind.LINE,
    "arrow": ShapeKind.ARROW,
    "singleArrow": ShapeKind.ARROW,
    "doubleArrow": ShapeKind.ARROW,
    "swimlane": ShapeKind.SWIMLANE,
    "image": ShapeKind.IMAGE,
}


def parse_colour(value: str | None, key: str = "fillColor") -> str | None:
    """A draw.io colour value as ``"#rrggbb"``; None for ``none``, empty or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text or text == "none":
        return None
    if text == "default":
        return _DEFAULT_COLOURS.get(key, "#000000")
    if text.startswith("light-dark("):
        # draw.io's adaptive colours: the kiosk uses the light one.
        inner = text[len("light-dark(") :].rstrip(")")
        return parse_colour(inner.split(",", 1)[0], key)
    if text[0] == "#":
        return _hex_colour(text)
    lowered = text.lower()
    if lowered in CSS_COLOURS:
        return "#" + CSS_COLOURS[lowered]
    if lowered.startswith("rgb"):
        return _rgb_colour(text)
    return None


def _hex_colour(text: str) -> str | None:
    """``#rgb``, ``#rgba``, ``#rrggbb`` or ``#rrggbbaa`` as ``#rrggbb`` (alpha dropped)."""
    match = _HEX.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) in (3, 4):
        return "#" + "".join(c * 2 for c in digits[:3]).lower()
    if len(digits) in (6, 8):
        return "#" + digits[:6].lower()
    return None


def _rgb_colour(text: str) -> str | None:
    """CSS ``rgb(...)``/``rgba(...)`` as ``#rrggbb``, each part held within 0-255."""
    rgb = _RGB.match(text)
    if rgb is None:
        return None
    parts = []
    for raw in rgb.groups():
        try:
            parts.append(max(0, min(255, round(float(raw)))))
        except ValueError:
            return None
    return "#{:02x}{:02x}{:02x}".format(*parts)


def parse_style_string(style: str | None, *, is_edge: bool) -> dict[str, str]:
    """The key/value dict of a style string, with named styles and defaults applied."""
    text = style or ""
    if text.startswith(";"):
        values: dict[str, str] = {}
    else:
        values = dict(_DEFAULT_EDGE if is_edge else _DEFAULT_VERTEX)
    last_key: str | None = None
    for token in text.split(";"):
        if not token:
            continue
        if (
            token.startswith("base64,")
            and last_key is not None
            and values.get(last_key, "").startswith("data:")
        ):
            # A data URI with ";base64" was split by the ";" separator: join it back.
            values[last_key] = values[last_key] + ";" + token
            continue
        eq = token.find("=")
        if eq >= 0:
            key = token[:eq]
            value = token[eq + 1 :]
            if value == "none":
                values.pop(key, None)
            else:
                values[key] = value
            last_key = key
        else:
            named = NAMED_STYLES.get(token)
            if named is not None:
                values.update(named)
                values["_" + token] = "1"
            last_key = None
    return values


def _number(values: dict[str, str], key: str, default: float) -> float:
    raw = values.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    if value != value or value in (float("inf"), float("-inf")):
        return default
    # a hand-edited 1e308 would overflow whatever multiplies it (exitX * width, routes)
    return min(max(value, -1e9), 1e9)


def _flag(values: dict[str, str], key: str, default: bool = False) -> bool:
    raw = values.get(key)
    if raw is None:
        return default
    return raw.strip() not in ("0", "", "false")


#: The values ``align``-like keys may take, each typed; anything else takes the default.
_HORIZONTAL: dict[str | None, HorizontalAlign] = {
    "left": "left",
    "center": "center",
    "right": "right",
}
_VERTICAL: dict[str | None, VerticalAlign] = {"top": "top", "middle": "middle", "bottom": "bottom"}
_GRADIENT_DIRECTIONS: dict[str | None, GradientDirection] = {
    "south": "south",
    "north": "north",
    "east": "east",
    "west": "west",
    "radial": "radial",
}
_SHAPE_DIRECTIONS: dict[str | None, str] = {d: d for d in ("east", "north", "south", "west")}
# Keys most styles do not set: when a style sets none of a group, its fields take their
# defaults without a lookup each (build_style runs for every distinct style of a drawing).
_OPACITY_KEYS = frozenset({"opacity", "fillOpacity", "strokeOpacity", "textOpacity"})
_SPACING_SIDES = frozenset({"spacingTop", "spacingLeft", "spacingBottom", "spacingRight"})
_IMAGE_KEYS = frozenset(
    {"imageAspect", "imageWidth", "imageHeight", "imageAlign", "imageVerticalAlign"}
)
_RARE_FLAGS = frozenset({"dashed", "shadow", "absoluteArcSize", "flipH", "flipV", "horizontal"})


@dataclass(frozen=True, slots=True)
class _Opacities:
    whole: float = 1.0
    fill: float = 1.0
    stroke: float = 1.0
    text: float = 1.0


@dataclass(frozen=True, slots=True)
class _ImagePlace:
    aspect: bool = True
    width: float = 42.0
    height: float = 42.0
    align: HorizontalAlign = "left"
    vertical_align: VerticalAlign = "middle"


@dataclass(frozen=True, slots=True)
class _Flags:
    dashed: bool = False
    shadow: bool = False
    absolute_arc_size: bool = False
    flip_h: bool = False
    flip_v: bool = False
    horizontal: bool = True


_NO_OPACITIES = _Opacities()
_NO_IMAGE_PLACE = _ImagePlace()
_NO_FLAGS = _Flags()


def build_style(values: dict[str, str]) -> Style:
    """The typed ``Style`` for a resolved key/value dict."""
    keys = values.keys()
    font_style = int(_number(values, "fontStyle", 0.0)) if "fontStyle" in values else 0
    fill = parse_colour(values.get("fillColor"), "fillColor")
    spacing = _number(values, "spacing", 2.0)
    opacity = _NO_OPACITIES if keys.isdisjoint(_OPACITY_KEYS) else _opacities(values)
    image = _NO_IMAGE_PLACE if keys.isdisjoint(_IMAGE_KEYS) else _image_place(values)
    flags = _NO_FLAGS if keys.isdisjoint(_RARE_FLAGS) else _flags(values)
    get = values.get
    return Style(
        values={k: v for k, v in values.items() if not k.startswith("_")},
        fill=fill,
        stroke=parse_colour(get("strokeColor"), "strokeColor"),
        stroke_width=_number(values, "strokeWidth", 1.0),
        gradient=_gradient(values, fill),
        opacity=opacity.whole,
        fill_opacity=opacity.fill,
        stroke_opacity=opacity.stroke,
        text_opacity=opacity.text,
        dashed=flags.dashed,
        dash_pattern=_dash_pattern(values),
        shadow=flags.shadow,
        rounded=_flag(values, "rounded"),
        arc_size=_number(values, "arcSize", 20.0 if flags.absolute_arc_size else 15.0),
        absolute_arc_size=flags.absolute_arc_size,
        flip_h=flags.flip_h,
        flip_v=flags.flip_v,
        direction=_SHAPE_DIRECTIONS.get(get("direction"), "east"),
        font_family=get("fontFamily") or "Helvetica",
        font_size=_number(values, "fontSize", 12.0),
        font_color=parse_colour(get("fontColor"), "fontColor"),
        bold=bool(font_style & 1),
        italic=bool(font_style & 2),
        underline=bool(font_style & 4),
        strikethrough=bool(font_style & 8),
        font_source=unquote(get("fontSource") or "") or None,
        align=_HORIZONTAL.get(get("align"), "center"),
        vertical_align=_VERTICAL.get(get("verticalAlign"), "middle"),
        label_position=_HORIZONTAL.get(get("labelPosition"), "center"),
        vertical_label_position=_VERTICAL.get(get("verticalLabelPosition"), "middle"),
        spacing=spacing,
        text_insets=_text_insets(values, spacing),
        wrap=get("whiteSpace") == "wrap",
        html=get("html") == "1" or get("whiteSpace") == "wrap",
        horizontal=flags.horizontal,
        label_background=parse_colour(get("labelBackgroundColor"), "labelBackgroundColor"),
        label_border=parse_colour(get("labelBorderColor"), "labelBorderColor"),
        rotation=_number(values, "rotation", 0.0) % 360.0,
        image_aspect=image.aspect,
        image_width=image.width,
        image_height=image.height,
        image_align=image.align,
        image_vertical_align=image.vertical_align,
        start_size=_number(values, "startSize", 23.0 if get("shape") == "swimlane" else 0.0),
    )


def _opacities(values: dict[str, str]) -> _Opacities:
    """The four opacities, 0..1 from draw.io's 0..100."""
    return _Opacities(
        _clamp01(_number(values, "opacity", 100.0) / 100.0),
        _clamp01(_number(values, "fillOpacity", 100.0) / 100.0),
        _clamp01(_number(values, "strokeOpacity", 100.0) / 100.0),
        _clamp01(_number(values, "textOpacity", 100.0) / 100.0),
    )


def _image_place(values: dict[str, str]) -> _ImagePlace:
    """A label shape's picture: aspect, size and alignment."""
    return _ImagePlace(
        _flag(values, "imageAspect", True),
        _number(values, "imageWidth", 42.0),
        _number(values, "imageHeight", 42.0),
        _HORIZONTAL.get(values.get("imageAlign"), "left"),
        _VERTICAL.get(values.get("imageVerticalAlign"), "middle"),
    )


def _flags(values: dict[str, str]) -> _Flags:
    """The flags most styles leave at their defaults."""
    return _Flags(
        _flag(values, "dashed"),
        _flag(values, "shadow"),
        _flag(values, "absoluteArcSize"),
        _flag(values, "flipH"),
        _flag(values, "flipV"),
        _flag(values, "horizontal", True),
    )


def _gradient(values: dict[str, str], fill: str | None) -> _Gradient | None:
    """The fill's gradient: only on a filled shape with a readable gradient colour."""
    gradient_colour = parse_colour(values.get("gradientColor"), "gradientColor")
    if gradient_colour is None or fill is None:
        return None
    return _Gradient(
        gradient_colour, _GRADIENT_DIRECTIONS.get(values.get("gradientDirection"), "south")
    )


def _dash_pattern(values: dict[str, str]) -> list[float] | None:
    """``dashPattern``'s dash and gap lengths; None when absent, empty or unreadable."""
    if "dashPattern" not in values:
        return None
    try:
        return [float(p) for p in values["dashPattern"].split()] or None
    except ValueError:
        return None


def _text_insets(values: dict[str, str], spacing: float) -> Insets:
    """The label's insets: ``spacing`` plus each side's own spacing."""
    if values.keys().isdisjoint(_SPACING_SIDES):
        side = spacing + 0.0  # as the sum below leaves it (-0.0 becomes 0.0)
        return Insets(top=side, left=side, bottom=side, right=side)
    return Insets(
        top=spacing + _number(values, "spacingTop", 0.0),
        left=spacing + _number(values, "spacingLeft", 0.0),
        bottom=spacing + _number(values, "spacingBottom", 0.0),
        right=spacing + _number(values, "spacingRight", 0.0),
    )


def _clamp01(value: float) -> float:
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else value


def shape_kind(
    values: dict[str, str], *, is_edge: bool, has_image: bool
) -> tuple[ShapeKind, str, str | None]:
    """``(kind, shape name, stencil name or None)`` for a resolved style."""
    shape = values.get("shape", "")
    if is_edge:
        return ShapeKind.EDGE, shape or "connector", None
    if "_group" in values and shape in ("", "label", "rectangle"):
        return ShapeKind.GROUP, "group", None
    if ("_text" in values or "_edgeLabel" in values) and shape in ("", "label", "rectangle"):
        return ShapeKind.TEXT, "text", None
    if shape in ("", "label"):
        if has_image and "image" in values:
            return ShapeKind.LABEL, "label", None
        return ShapeKind.RECTANGLE, shape or "rectangle", None
    kind = _SHAPE_KINDS.get(shape)
    if kind is not None:
        return kind, shape, None
    if shape.startswith("stencil("):
        return ShapeKind.STENCIL, "stencil", "embedded stencil"
    return ShapeKind.STENCIL, shape, shape


#: Colour keys that may name another cell's colour, and the ``Style`` field each sets.
_COLOUR_FIELDS = {
    "fillColor": "fill",
    "strokeColor": "stroke",
    "fontColor": "font_color",
    "labelBackgroundColor": "label_background",
    "labelBorderColor": "label_border",
}
_COLOUR_ITEMS = tuple(_COLOUR_FIELDS.items())
_REFERENCES = frozenset({"inherit", "swimlane", "fillColor", "strokeColor"})


def resolve_colour_references(elements: list[Element]) -> None:
    """Colour values that name another colour, as draw.io's ``mxCellRenderer.resolveColor``:
    ``inherit`` takes the parent's colour for the same key, ``swimlane`` the fill colour of
    the nearest swimlane (the cell itself or an ancestor; black strokes and text, white
    fills without one), ``fillColor``/``strokeColor`` the cell's own fill or stroke. Elements
    come parents first, so a parent's colour is already resolved."""
    by_id: dict[str, Element] | None = None
    resolved: dict[tuple[int, tuple[tuple[str, str | None], ...]], Style] = {}
    for element in elements:
        values = element.style.values
        if _REFERENCES.isdisjoint(values.values()):
            continue  # the common case, checked in one pass
        changes: dict[str, str | None] = {}
        for key, name in _COLOUR_ITEMS:
            raw = values.get(key)
            if raw is None or raw not in _REFERENCES or raw == key:
                continue
            if by_id is None:
                by_id = {e.id: e for e in elements}
            if raw == "inherit":
                parent = by_id.get(element.parent_id or "")
                changes[name] = getattr(parent.style, name) if parent is not None else None
            elif raw == "swimlane":
                lane = next(
                    (
                        by_id[i]
                        for i in (element.id, *element.ancestors)
                        if i in by_id and by_id[i].kind is ShapeKind.SWIMLANE
                    ),
                    None,
                )
                if lane is not None:
                    changes[name] = lane.style.fill
                else:
                    changes[name] = "#000000" if key in ("strokeColor", "fontColor") else "#ffffff"
            else:
                changes[name] = getattr(element.style, _COLOUR_FIELDS[raw])
        if changes:
            # styles are shared between cells with the same style string: copy, not change
            # (one copy per style and outcome: table cells share both)
            outcome = (id(element.style), tuple(changes.items()))
            style = resolved.get(outcome)
            if style is None:
                style = copy.copy(element.style)
                for name, value in changes.items():
                    setattr(style, name, value)
                resolved[outcome] = style
            element.style = style
