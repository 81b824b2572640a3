"""Connector routes as draw.io computes them (mxGraphView.updateEdgeState).

draw.io routes a connector in three steps: the *fixed* ends (a connection constraint
``exitX``/``exitY``/``entryX``/``entryY`` on a shape, or a free end point), then the edge
style's route between the shapes (``mxEdgeStyle.OrthConnector`` for
``edgeStyle=orthogonalEdgeStyle``, ``ElbowConnector``/``SideToSide``/``TopToBottom`` for
``elbowEdgeStyle``, ``EntityRelation``), then the *floating* ends: where the line from the
shape towards the route's first (last) point meets the shape's perimeter (``mxPerimeter``),
straight across for orthogonal styles. This module does the same with the same numbers.

``route`` returns None for what it leaves to the caller: a connector with waypoints under an
orthogonal style (draw.io's ``SegmentConnector``), ends too close for the orthogonal router,
and connectors attached to other connectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from designer_import.model import Geometry, Point
from designer_import.perimeters import perimeter_point

# mxConstants.DIRECTION_MASK_*
WEST, NORTH, SOUTH, EAST = 1, 2, 4, 8
ALL = WEST | NORTH | SOUTH | EAST
#: mxEdgeStyle.orthBuffer and mxConstants.ENTITY_SEGMENT, DEFAULT_MARKERSIZE.
ORTH_BUFFER = 10.0
ENTITY_SEGMENT = 30.0
DEFAULT_MARKER_SIZE = 6.0

# mxEdgeStyle's route tables for OrthConnector (direction, side and terminal bits per step)
_DIR_VECTORS = [(-1, 0), (0, -1), (1, 0), (0, 1)]
_ROUTE_PATTERNS = [
    [
        [513, 2308, 2081, 2562],
        [513, 1090, 514, 2184, 2114, 2561],
        [513, 1090, 514, 2564, 2184, 2562],
        [513, 2308, 2561, 1090, 514, 2568, 2308],
    ],
    [
        [514, 1057, 513, 2308, 2081, 2562],
        [514, 2184, 2114, 2561],
        [514, 2184, 2562, 1057, 513, 2564, 2184],
        [514, 1057, 513, 2568, 2308, 2561],
    ],
    [
        [1090, 514, 1057, 513, 2308, 2081, 2562],
        [2114, 2561],
        [1090, 2562, 1057, 513, 2564, 2184],
        [1090, 514, 1057, 513, 2308, 2561, 2568],
    ],
    [
        [2081, 2562],
        [1057, 513, 1090, 514, 2184, 2114, 2561],
        [1057, 513, 1090, 514, 2184, 2562, 2564],
        [1057, 2561, 1090, 514, 2568, 2308],
    ],
]
_SIDE_MASK = 480
_CENTER_MASK = 512
_SOURCE_MASK = 1024
_TARGET_MASK = 2048

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
    perimeter name, its free point, and whether the shape is itself a connector."""

    box: Geometry | None
    perimeter: str = "rectanglePerimeter"
    free: Point | None = None
    on_edge: bool = False


def _num(values: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(values.get(key, default))
    except ValueError:
        return default
    return value if math.isfinite(value) else default


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
    if style == "orthogonalEdgeStyle":
        if waypoints or source.on_edge or target.on_edge:
            return None
        middle = orth_connector(values, source.box, target.box, p0, pe)
        if middle is None:
            return None
    elif style in ("elbowEdgeStyle", "sideToSideEdgeStyle", "topToBottomEdgeStyle"):
        # draw.io's elbow styles follow the first waypoint only (they have one handle)
        hint = waypoints[0] if waypoints else None
        vertical = style == "topToBottomEdgeStyle" or (
            style == "elbowEdgeStyle" and values.get("elbow") == "vertical"
        )
        if style == "elbowEdgeStyle":
            middle = elbow_connector(source.box, target.box, p0, pe, hint, vertical)
        elif vertical:
            middle = top_to_bottom(source.box, target.box, p0, pe, hint)
        else:
            middle = side_to_side(source.box, target.box, p0, pe, hint)
    elif style == "entityRelationEdgeStyle":
        middle = entity_relation(values, source.box, target.box, p0, pe)
    elif style in ("", "none"):
        middle = list(waypoints)
    else:
        return None
    if p0 is None and source.box is not None:
        toward = middle[0] if middle else (pe if pe is not None else _centre(target.box))
        if toward is not None:
            p0 = perimeter_point(source.box, source.perimeter, toward, orthogonal)
    if pe is None and target.box is not None:
        toward = middle[-1] if middle else (p0 if p0 is not None else _centre(source.box))
        if toward is not None:
            pe = perimeter_point(target.box, target.perimeter, toward, orthogonal)
    if p0 is None or pe is None:
        return None
    return [p0, *middle, pe]


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


def jetty_size(values: dict[str, str], source: bool) -> float:
    """mxEdgeStyle.getJettySize: how far the route leaves a shape before it turns."""
    raw = values.get("sourceJettySize" if source else "targetJettySize")
    if raw is None:
        raw = values.get("jettySize", str(ORTH_BUFFER))
    if raw == "auto":
        arrow = values.get("startArrow" if source else "endArrow", "none") or "none"
        if arrow != "none":
            size = _num(values, "startSize" if source else "endSize", DEFAULT_MARKER_SIZE)
            return max(2, math.ceil((size + ORTH_BUFFER) / ORTH_BUFFER)) * ORTH_BUFFER
        return 2 * ORTH_BUFFER
    try:
        return float(raw)
    except ValueError:
        return ORTH_BUFFER


def _reverse(constraint: int) -> int:
    """mxUtils.reversePortConstraints: west <-> east, north <-> south."""
    return (
        ((constraint & WEST) << 3)
        | ((constraint & NORTH) << 1)
        | ((constraint & SOUTH) >> 1)
        | ((constraint & EAST) >> 3)
    )


def orth_connector(
    values: dict[str, str],
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
) -> list[Point] | None:
    """mxEdgeStyle.OrthConnector: the bends between two shapes (or fixed points), or None
    when draw.io falls back to its segment connector (ends closer than the two jetties)."""
    # draw.io works on coordinates rounded to a tenth (scalePointArray, scaleCellState)
    p0, pe = _tenth(p0), _tenth(pe)
    source = _tenth_box(source)
    target = _tenth_box(target)
    source_buffer = jetty_size(values, True)
    target_buffer = jetty_size(values, False)
    if source is not None and source == target:
        target_buffer = source_buffer = max(source_buffer, target_buffer)
    total_buffer = source_buffer + target_buffer
    too_short = (
        p0 is not None
        and pe is not None
        and (pe.x - p0.x) ** 2 + (pe.y - p0.y) ** 2 < total_buffer * total_buffer
    )
    if too_short:
        return None
    if source is None:
        if p0 is None:
            return None
        source = Geometry(p0.x, p0.y, 0.0, 0.0)
        source_term = False
    else:
        source_term = True
    if target is None:
        if pe is None:
            return None
        target = Geometry(pe.x, pe.y, 0.0, 0.0)
        target_term = False
    else:
        target_term = True
    port = [ALL, ALL]
    geo = [
        (source.x, source.y, source.width, source.height),
        (target.x, target.y, target.width, target.height),
    ]
    buffer = [source_buffer, target_buffer]
    limits = [[0.0] * 9, [0.0] * 9]
    for i in range(2):
        limits[i][1] = geo[i][0] - buffer[i]
        limits[i][2] = geo[i][1] - buffer[i]
        limits[i][4] = geo[i][0] + geo[i][2] + buffer[i]
        limits[i][8] = geo[i][1] + geo[i][3] + buffer[i]
    dx = (geo[0][0] + geo[0][2] / 2) - (geo[1][0] + geo[1][2] / 2)
    dy = (geo[0][1] + geo[0][3] / 2) - (geo[1][1] + geo[1][3] / 2)
    quad = 0
    if dx < 0:
        quad = 2 if dy < 0 else 1
    elif dy <= 0:
        quad = 2 if dx == 0 else 3
    constraint = [[0.5, 0.5], [0.5, 0.5]]
    direction = [0, 0]
    terms = [p0 if source_term else None, pe if target_term else None]
    for i in range(2):
        term = terms[i]
        if term is None:
            continue
        gx, gy, gw, gh = geo[i]
        constraint[i][0] = (term.x - gx) / gw if gw else 0.5
        if abs(term.x - gx) <= 1:
            direction[i] = WEST
        elif abs(term.x - gx - gw) <= 1:
            direction[i] = EAST
        constraint[i][1] = (term.y - gy) / gh if gh else 0.5
        if abs(term.y - gy) <= 1:
            direction[i] = NORTH
        elif abs(term.y - gy - gh) <= 1:
            direction[i] = SOUTH
    top_dist = geo[0][1] - (geo[1][1] + geo[1][3])
    left_dist = geo[0][0] - (geo[1][0] + geo[1][2])
    bottom_dist = geo[1][1] - (geo[0][1] + geo[0][3])
    right_dist = geo[1][0] - (geo[0][0] + geo[0][2])
    separations = [
        0.0,
        max(left_dist - total_buffer, 0.0),
        max(top_dist - total_buffer, 0.0),
        max(right_dist - total_buffer, 0.0),
        max(bottom_dist - total_buffer, 0.0),
    ]
    hor = [WEST if left_dist >= right_dist else EAST, 0]
    vert = [NORTH if top_dist >= bottom_dist else SOUTH, 0]
    hor[1] = _reverse(hor[0])
    vert[1] = _reverse(vert[0])
    horiz_dist = max(left_dist, right_dist)
    vert_dist = max(top_dist, bottom_dist)
    order = [[0, 0], [0, 0]]
    order_set = False
    for i in range(2):
        if direction[i] != 0:
            continue
        if hor[i] & port[i] == 0:
            hor[i] = _reverse(hor[i])
        if vert[i] & port[i] == 0:
            vert[i] = _reverse(vert[i])
        order[i] = [vert[i], hor[i]]
    if vert_dist > 0 and horiz_dist > 0:
        if hor[0] & port[0] and vert[1] & port[1]:
            order = [[hor[0], vert[0]], [vert[1], hor[1]]]
            order_set = True
        elif vert[0] & port[0] and hor[1] & port[1]:
            order = [[vert[0], hor[0]], [hor[1], vert[1]]]
            order_set = True
    if vert_dist > 0 and not order_set:
        order = [[vert[0], hor[0]], [vert[1], hor[1]]]
        order_set = True
    if horiz_dist > 0 and not order_set:
        order = [[hor[0], vert[0]], [hor[1], vert[1]]]
        order_set = True
    for i in range(2):
        if direction[i] != 0:
            continue
        if order[i][0] & port[i] == 0:
            order[i][0] = order[i][1]
        pref = order[i][0] & port[i]
        pref |= (order[i][1] & port[i]) << 8
        pref |= (order[1 - i][i] & port[i]) << 16
        pref |= (order[1 - i][1 - i] & port[i]) << 24
        if pref & 0xF == 0:
            pref = pref << 8
        if pref & 0xF00 == 0:
            pref = (pref & 0xF) | pref >> 8
        if pref & 0xF0000 == 0:
            pref = (pref & 0xFFFF) | ((pref & 0xF000000) >> 8)
        direction[i] = pref & 0xF
        if port[i] in (WEST, NORTH, EAST, SOUTH):
            direction[i] = port[i]
    source_index = (3 if direction[0] == EAST else direction[0]) - quad
    target_index = (3 if direction[1] == EAST else direction[1]) - quad
    if source_index < 1:
        source_index += 4
    if target_index < 1:
        target_index += 4
    if not (1 <= source_index <= 4 and 1 <= target_index <= 4):
        return None
    pattern = _ROUTE_PATTERNS[source_index - 1][target_index - 1]
    sx, sy, sw, sh = geo[0]
    first = {
        WEST: [sx - source_buffer, sy + constraint[0][1] * sh],
        SOUTH: [sx + constraint[0][0] * sw, sy + sh + source_buffer],
        EAST: [sx + sw + source_buffer, sy + constraint[0][1] * sh],
        NORTH: [sx + constraint[0][0] * sw, sy - source_buffer],
    }.get(direction[0], [sx, sy])
    points: list[list[float]] = [first]
    current = 0
    last_orientation = 0 if direction[0] & (EAST | WEST) else 1
    initial_orientation = last_orientation
    for step in pattern:
        next_direction = step & 0xF
        direction_index = (3 if next_direction == EAST else next_direction) + quad
        if direction_index > 4:
            direction_index -= 4
        vector = _DIR_VECTORS[direction_index - 1]
        orientation = 0 if direction_index % 2 > 0 else 1
        if orientation != last_orientation:
            current += 1
            if current == len(points):
                points.append(list(points[current - 1]))
            else:
                points[current] = list(points[current - 1])
        tar = step & _TARGET_MASK > 0
        sou = step & _SOURCE_MASK > 0
        side = ((step & _SIDE_MASK) >> 5) << quad
        if side > 0xF:
            side = side >> 4
        centre = step & _CENTER_MASK > 0
        if (sou or tar) and side < 9:
            which = 0 if sou else 1
            if centre and orientation == 0:
                limit = geo[which][0] + constraint[which][0] * geo[which][2]
            elif centre:
                limit = geo[which][1] + constraint[which][1] * geo[which][3]
            else:
                limit = limits[which][side]
            axis = orientation
            delta = (limit - points[current][axis]) * vector[axis]
            if delta > 0:
                points[current][axis] += vector[axis] * delta
        elif centre:
            points[current][0] += vector[0] * abs(separations[direction_index] / 2)
            points[current][1] += vector[1] * abs(separations[direction_index] / 2)
        if current > 0 and points[current][orientation] == points[current - 1][orientation]:
            current -= 1
        else:
            last_orientation = orientation
    result: list[Point] = []
    for i in range(current + 1):
        if i == current:
            target_orientation = 0 if direction[1] & (EAST | WEST) else 1
            same = 0 if target_orientation == initial_orientation else 1
            if same != (current + 1) % 2:
                break
        point = Point(_js_round(points[i][0] * 10) / 10, _js_round(points[i][1] * 10) / 10)
        if not result or result[-1] != point:
            result.append(point)
    return result


def _tenth(point: Point | None) -> Point | None:
    if point is None:
        return None
    return Point(_js_round(point.x * 10) / 10, _js_round(point.y * 10) / 10)


def _tenth_box(box: Geometry | None) -> Geometry | None:
    if box is None:
        return None
    return Geometry(
        _js_round(box.x * 10) / 10,
        _js_round(box.y * 10) / 10,
        _js_round(box.width * 10) / 10,
        _js_round(box.height * 10) / 10,
    )


def _contains(box: Geometry, x: float, y: float) -> bool:
    return box.x <= x <= box.x + box.width and box.y <= y <= box.y + box.height


def _as_box(box: Geometry | None, fixed: Point | None) -> Geometry | None:
    if fixed is not None:
        return Geometry(fixed.x, fixed.y, 0.0, 0.0)
    return box


def elbow_connector(
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
    hint: Point | None,
    vertical_style: bool,
) -> list[Point]:
    """mxEdgeStyle.ElbowConnector: side to side, or top to bottom when the shapes share no
    vertical band (or ``elbow=vertical``)."""
    vertical = horizontal = False
    if source is not None and target is not None:
        if hint is not None:
            left = min(source.x, target.x)
            right = max(source.right, target.right)
            top = min(source.y, target.y)
            bottom = max(source.bottom, target.bottom)
            vertical = hint.y < top or hint.y > bottom
            horizontal = hint.x < left or hint.x > right
        else:
            left = max(source.x, target.x)
            right = min(source.right, target.right)
            vertical = left == right
            if not vertical:
                top = max(source.y, target.y)
                bottom = min(source.bottom, target.bottom)
                horizontal = top == bottom
    if not horizontal and (vertical or vertical_style):
        return top_to_bottom(source, target, p0, pe, hint)
    return side_to_side(source, target, p0, pe, hint)


def side_to_side(
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
    hint: Point | None,
) -> list[Point]:
    """mxEdgeStyle.SideToSide: one vertical segment between the shapes."""
    source = _as_box(source, p0)
    target = _as_box(target, pe)
    result: list[Point] = []
    if source is None or target is None:
        return result
    left = max(source.x, target.x)
    right = min(source.right, target.right)
    x = hint.x if hint is not None else _js_round(right + (left - right) / 2)
    y1 = source.y + source.height / 2
    y2 = target.y + target.height / 2
    if hint is not None:
        if source.y <= hint.y <= source.bottom:
            y1 = hint.y
        if target.y <= hint.y <= target.bottom:
            y2 = hint.y
    if not _contains(target, x, y1) and not _contains(source, x, y1):
        result.append(Point(x, y1))
    if not _contains(target, x, y2) and not _contains(source, x, y2):
        result.append(Point(x, y2))
    if len(result) == 1:
        if hint is not None:
            if not _contains(target, x, hint.y) and not _contains(source, x, hint.y):
                result.append(Point(x, hint.y))
        else:
            top = max(source.y, target.y)
            bottom = min(source.bottom, target.bottom)
            result.append(Point(x, top + (bottom - top) / 2))
    return result


def top_to_bottom(
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
    hint: Point | None,
) -> list[Point]:
    """mxEdgeStyle.TopToBottom: one horizontal segment between the shapes."""
    source = _as_box(source, p0)
    target = _as_box(target, pe)
    result: list[Point] = []
    if source is None or target is None:
        return result
    top = max(source.y, target.y)
    bottom = min(source.bottom, target.bottom)
    x = source.x + source.width / 2
    if hint is not None and source.x <= hint.x <= source.right:
        x = hint.x
    y = hint.y if hint is not None else _js_round(bottom + (top - bottom) / 2)
    if not _contains(target, x, y) and not _contains(source, x, y):
        result.append(Point(x, y))
    if hint is not None and target.x <= hint.x <= target.right:
        x = hint.x
    else:
        x = target.x + target.width / 2
    if not _contains(target, x, y) and not _contains(source, x, y):
        result.append(Point(x, y))
    if len(result) == 1:
        if hint is not None:
            if not _contains(target, hint.x, y) and not _contains(source, hint.x, y):
                result.append(Point(hint.x, y))
        else:
            left = max(source.x, target.x)
            right = min(source.right, target.right)
            result.append(Point(left + (right - left) / 2, y))
    return result


def entity_relation(
    values: dict[str, str],
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
) -> list[Point]:
    """mxEdgeStyle.EntityRelation: out of a side of each shape by ``segment``, joined by a
    vertical step when the sides face away from each other."""
    segment = _num(values, "segment", ENTITY_SEGMENT)
    result: list[Point] = []
    if source is None and p0 is None:
        return result
    source_left = False
    if source is not None and target is not None:
        source_left = (pe.x if pe is not None else target.right) < (
            p0.x if p0 is not None else source.x
        )
    target_left = True
    if source is not None and target is not None:
        target_left = (p0.x if p0 is not None else source.right) < (
            pe.x if pe is not None else target.x
        )
    src = _as_box(source, p0)
    trg = _as_box(target, pe)
    if src is None or trg is None:
        return result
    x0 = src.x if source_left else src.right
    y0 = src.y + src.height / 2
    xe = trg.x if target_left else trg.right
    ye = trg.y + trg.height / 2
    dep = Point(x0 - segment if source_left else x0 + segment, y0)
    arr = Point(xe - segment if target_left else xe + segment, ye)
    if source_left == target_left:
        x = min(x0, xe) - segment if source_left else max(x0, xe) + segment
        result.extend([Point(x, y0), Point(x, ye)])
    elif (dep.x < arr.x) == source_left:
        mid = y0 + (ye - y0) / 2
        result.extend([dep, Point(dep.x, mid), Point(arr.x, mid), arr])
    else:
        result.extend([dep, arr])
    return result


def _js_round(value: float) -> float:
    """JavaScript's Math.round (halves go up)."""
    return float(math.floor(value + 0.5))
