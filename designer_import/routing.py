"""Connector routes as draw.io computes them (mxGraphView.updateEdgeState).

draw.io routes a connector in three steps: the *fixed* ends (a connection constraint
``exitX``/``exitY``/``entryX``/``entryY`` on a shape, or a free end point), then the edge
style's route between the shapes (``mxEdgeStyle.OrthConnector`` for
``edgeStyle=orthogonalEdgeStyle``, ``ElbowConnector``/``SideToSide``/``TopToBottom`` for
``elbowEdgeStyle``, ``EntityRelation``), then the *floating* ends: where the line from the
shape towards the route's first (last) point meets the shape's perimeter (``mxPerimeter``),
straight across for orthogonal styles. Orthogonal connectors with waypoints, or with ends
closer than the two jetties, go through ``SegmentConnector`` as in draw.io. This module (with
``orthogonal``, ``edge_styles`` and ``perimeters``) does the same with the same numbers.

``route`` returns None for what it leaves to the caller: connectors attached to other
connectors, and edge styles it does not know.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from designer_import.edge_styles import (
    elbow_connector,
    entity_relation,
    segment_connector,
    side_to_side,
    top_to_bottom,
)
from designer_import.model import Geometry, Point
from designer_import.orthogonal import orth_connector
from designer_import.perimeters import perimeter_point

#: Edge styles draw.io counts as orthogonal (mxGraph.isOrthogonal).
ORTHOGONAL_STYLES = frozenset(
    {
        "orthogonalEdgeStyle",
        "elbowEdgeStyle",
        "entityRelationEdgeStyle",
        "segmentEdgeStyle",
        "sideToSideEdgeStyle",
        "topToBottomEdgeStyle",
    }
)


@dataclass(frozen=True, slots=True)
class End:
    """One end of a connector: the shape it is attached to (None = a free end), that shape's
    perimeter name, its free point, whether the shape is itself a connector, and the shape's
    own ``perimeterSpacing``."""

    box: Geometry | None
    perimeter: str = "rectanglePerimeter"
    free: Point | None = None
    on_edge: bool = False
    spacing: float = 0.0


def _num(values: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(values.get(key, default))
    except ValueError:
        return default
    # held within +-1e9 like the parser's numbers: a hand-edited 1e308 would overflow
    return min(max(value, -1e9), 1e9) if math.isfinite(value) else default


def route(
    values: dict[str, str], source: End, target: End, waypoints: list[Point]
) -> list[Point] | None:
    """The connector's points from start to end as draw.io draws them, or None when the
    caller's own routing applies (see the module docstring)."""
    style = values.get("edgeStyle", "")
    if values.get("noEdgeStyle") == "1":
        style = ""
    orthogonal = _flag(values, "orthogonal", style in ORTHOGONAL_STYLES)
    p0 = _fixed(values, "exit", source)
    pe = _fixed(values, "entry", target)
    if source.on_edge or target.on_edge:
        return None
    middle = _middle(style, values, source, target, (p0, pe), waypoints)
    if middle is None:
        return None
    if p0 is None and source.box is not None:
        toward = middle[0] if middle else (pe if pe is not None else _centre(target.box))
        if toward is not None:
            box = _spaced(source, _num(values, "sourcePerimeterSpacing", 0.0), values)
            p0 = perimeter_point(box, source.perimeter, toward, orthogonal)
    if pe is None and target.box is not None:
        toward = middle[-1] if middle else (p0 if p0 is not None else _centre(source.box))
        if toward is not None:
            box = _spaced(target, _num(values, "targetPerimeterSpacing", 0.0), values)
            pe = perimeter_point(box, target.perimeter, toward, orthogonal)
    if p0 is None or pe is None:
        return None
    return [p0, *middle, pe]


def _middle(
    style: str,
    values: dict[str, str],
    source: End,
    target: End,
    fixed: tuple[Point | None, Point | None],
    waypoints: list[Point],
) -> list[Point] | None:
    """The bends of an ``edgeStyle`` between the ends (``fixed``: their fixed points, if
    any); None for a style draw.io routes in a way not ported here."""
    p0, pe = fixed
    if style == "orthogonalEdgeStyle":
        # with waypoints (or ends closer than the jetties) draw.io falls back to segments
        routed = None if waypoints else orth_connector(values, source.box, target.box, p0, pe)
        if routed is not None:
            return routed
        return segment_connector(source.box, target.box, p0, pe, waypoints)
    if style == "segmentEdgeStyle":
        return segment_connector(source.box, target.box, p0, pe, waypoints)
    if style in ("elbowEdgeStyle", "sideToSideEdgeStyle", "topToBottomEdgeStyle"):
        # draw.io's elbow styles follow the first waypoint only (they have one handle)
        hint = waypoints[0] if waypoints else None
        vertical = style == "topToBottomEdgeStyle" or (
            style == "elbowEdgeStyle" and values.get("elbow") == "vertical"
        )
        if style == "elbowEdgeStyle":
            return elbow_connector(source.box, target.box, p0, pe, hint, vertical)
        if vertical:
            return top_to_bottom(source.box, target.box, p0, pe, hint)
        return side_to_side(source.box, target.box, p0, pe, hint)
    if style == "entityRelationEdgeStyle":
        return entity_relation(values, source.box, target.box, p0, pe)
    if style in ("", "none"):
        return list(waypoints)
    return None


def _spaced(end: End, side: float, values: dict[str, str]) -> Geometry:
    """mxGraphView.getPerimeterBounds: the shape's box grown by the connector's
    ``perimeterSpacing`` and its end's own spacing, and the shape's ``perimeterSpacing``."""
    assert end.box is not None
    border = _num(values, "perimeterSpacing", 0.0) + side + end.spacing
    box = end.box
    if border == 0:
        return box  # the common case: the box as it is, without a copy
    grown = Geometry(
        box.x - border, box.y - border, box.width + 2 * border, box.height + 2 * border
    )
    if grown.width <= 0 and grown.height <= 0:
        return box
    return grown


def _flag(values: dict[str, str], key: str, default: bool) -> bool:
    raw = values.get(key)
    if raw is None:
        return default
    return raw.strip() not in ("0", "", "false")


def _centre(box: Geometry | None) -> Point | None:
    if box is None:
        return None
    return Point(box.x + box.width / 2, box.y + box.height / 2)


def _fixed(values: dict[str, str], prefix: str, end: End) -> Point | None:
    """draw.io's fixed terminal point: the connection constraint on the shape (projected on
    its perimeter unless ``exitPerimeter=0``), or the free end's point."""
    box = end.box
    if box is None:
        return end.free
    if end.perimeter == "centerPerimeter":
        # Graph.js: a waypoint shape's centre is a fixed end, before any routing
        return Point(box.x + box.width / 2, box.y + box.height / 2)
    if f"{prefix}X" not in values or f"{prefix}Y" not in values:
        return None
    fx = _num(values, f"{prefix}X", 0.5)
    fy = _num(values, f"{prefix}Y", 0.5)
    point = Point(
        box.x + fx * box.width + _num(values, f"{prefix}Dx", 0.0),
        box.y + fy * box.height + _num(values, f"{prefix}Dy", 0.0),
    )
    if _flag(values, f"{prefix}Perimeter", True):
        point = perimeter_point(box, end.perimeter, point, False)
    return point
