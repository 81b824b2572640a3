"""Style strings resolved as draw.io's stylesheet does."""

from __future__ import annotations

import pytest

from designer_import.model import ShapeKind
from designer_import.styles import build_style, parse_colour, parse_style_string, shape_kind


def test_split_on_first_equals_and_last_duplicate_wins() -> None:
    values = parse_style_string("a=1;link=x=y;a=2", is_edge=False)
    assert values["a"] == "2"
    assert values["link"] == "x=y"


def test_none_removes_a_key_even_a_default() -> None:
    values = parse_style_string("fillColor=none;endArrow=none", is_edge=True)
    assert "fillColor" not in values and "endArrow" not in values
    assert build_style(values).fill is None


def test_named_styles_apply_in_place() -> None:
    values = parse_style_string("text;align=right", is_edge=False)
    assert (values["align"], values["verticalAlign"], values["fillColor"]) == (
        "right", "top", "none",
    )  # fmt: skip
    later = parse_style_string("align=right;text", is_edge=False)
    assert later["align"] == "left"
    swim = parse_style_string("swimlane", is_edge=False)
    assert build_style(swim).start_size == 23 and build_style(swim).bold


def test_leading_semicolon_skips_the_defaults() -> None:
    assert parse_style_string(";shape=ellipse", is_edge=False) == {"shape": "ellipse"}


def test_edge_and_vertex_defaults() -> None:
    edge = build_style(parse_style_string("", is_edge=True))
    assert (edge.stroke, edge.font_size, edge.fill) == ("#000000", 11, None)
    vertex = build_style(parse_style_string("", is_edge=False))
    assert (vertex.fill, vertex.stroke, vertex.font_color) == ("#ffffff", "#000000", "#000000")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("#abc", "#aabbcc"),
        ("#A1B2C3", "#a1b2c3"),
        ("#a1b2c3ff", "#a1b2c3"),
        ("red", "#ff0000"),
        ("DarkSlateGray", "#2f4f4f"),
        ("rgb(255, 0, 10)", "#ff000a"),
        ("rgba(1,2,3,0.5)", "#010203"),
        ("none", None),
        ("", None),
        ("#ggg", None),
        ("nonsense", None),
        ("light-dark(#111111,#eeeeee)", "#111111"),
    ],
)
def test_colours(raw: str, expected: str | None) -> None:
    assert parse_colour(raw) == expected


def test_default_colour_depends_on_the_key() -> None:
    assert parse_colour("default", "fillColor") == "#ffffff"
    assert parse_colour("default", "strokeColor") == "#000000"
    assert parse_colour("default", "fontColor") == "#000000"


@pytest.mark.parametrize(
    ("bits", "flags"), [(0, (0, 0, 0, 0)), (5, (1, 0, 1, 0)), (15, (1, 1, 1, 1))]
)
def test_font_style_bitmask(bits: int, flags: tuple[int, int, int, int]) -> None:
    style = build_style(parse_style_string(f"fontStyle={bits}", is_edge=False))
    assert (style.bold, style.italic, style.underline, style.strikethrough) == tuple(
        bool(f) for f in flags
    )


def test_bad_numbers_fall_back_to_defaults() -> None:
    style = build_style(parse_style_string("fontSize=big;opacity=NaN;rotation=inf", is_edge=False))
    assert (style.font_size, style.opacity, style.rotation) == (12, 1.0, 0)


@pytest.mark.parametrize(
    ("style", "kind", "stencil"),
    [
        ("ellipse;whiteSpace=wrap", ShapeKind.ELLIPSE, None),
        ("rhombus", ShapeKind.RHOMBUS, None),
        ("triangle;direction=north", ShapeKind.TRIANGLE, None),
        ("shape=cylinder3", ShapeKind.CYLINDER, None),
        ("ellipse;shape=cloud", ShapeKind.CLOUD, None),
        ("shape=parallelogram", ShapeKind.PARALLELOGRAM, None),
        ("group", ShapeKind.GROUP, None),
        ("text;html=1", ShapeKind.TEXT, None),
        ("edgeLabel", ShapeKind.TEXT, None),
        ("shape=mxgraph.cisco.routers.router", ShapeKind.STENCIL, "mxgraph.cisco.routers.router"),
        ("shape=tape", ShapeKind.STENCIL, "tape"),
        ("rounded=1", ShapeKind.RECTANGLE, None),
    ],
)
def test_shape_kinds(style: str, kind: ShapeKind, stencil: str | None) -> None:
    values = parse_style_string(style, is_edge=False)
    assert shape_kind(values, is_edge=False, has_image=False)[::2] == (kind, stencil)


def test_label_shape_with_image() -> None:
    values = parse_style_string("label;image=x.png", is_edge=False)
    assert shape_kind(values, is_edge=False, has_image=True)[0] is ShapeKind.LABEL
    assert build_style(values).text_insets.left == 54
