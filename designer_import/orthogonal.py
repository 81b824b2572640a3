"""draw.io's orthogonal router, ``mxEdgeStyle.OrthConnector`` (``edgeStyle=orthogonalEdgeStyle``
without waypoints): which sides of the two shapes the connector leaves and enters by their
relative position and connection constraints, and the bends between, from draw.io's own route
tables and with its arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from designer_import.edge_styles import js_round, tenth, tenth_box
from designer_import.model import Geometry, Point

# mxConstants.DIRECTION_MASK_*
WEST, NORTH, SOUTH, EAST = 1, 2, 4, 8
ALL = WEST | NORTH | SOUTH | EAST
#: The sides each end may use (OrthConnector's portConstraint; any side here).
_PORTS = (ALL, ALL)

#: mxEdgeStyle.orthBuffer and mxConstants.DEFAULT_MARKERSIZE.
ORTH_BUFFER = 10.0
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


def _num(values: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(values.get(key, default))
    except ValueError:
        return default
    # held within +-1e9 like the parser's numbers: a hand-edited 1e308 would overflow
    return min(max(value, -1e9), 1e9) if math.isfinite(value) else default


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
        size = float(raw)
    except ValueError:
        return ORTH_BUFFER
    return min(max(size, -1e9), 1e9) if math.isfinite(size) else ORTH_BUFFER


def _reverse(constraint: int) -> int:
    """mxUtils.reversePortConstraints: west <-> east, north <-> south."""
    return (
        ((constraint & WEST) << 3)
        | ((constraint & NORTH) << 1)
        | ((constraint & SOUTH) >> 1)
        | ((constraint & EAST) >> 3)
    )


#: A box as OrthConnector reads it: x, y, width, height.
_Box = tuple[float, float, float, float]


@dataclass(slots=True)
class _Route:
    """OrthConnector's working state: both ends' boxes, jetties and sides, the quadrant of
    the target seen from the source, and the bends so far (``points[:current + 1]``)."""

    geo: tuple[_Box, _Box]
    buffer: tuple[float, float]
    #: Where each end's connection point lies on its box, as fractions of width and height.
    constraint: list[list[float]]
    #: The side (a direction mask) each end leaves or enters by; 0 while undecided.
    direction: list[int]
    quad: int
    #: Per end, the box grown by its jetty, indexed by side mask (1 west, 2 north, 4 east
    #: ... as mxEdgeStyle.limits).
    limits: list[list[float]]
    #: How far apart the boxes are beyond both jetties, indexed by direction.
    separations: list[float]
    points: list[list[float]] = field(default_factory=list)
    current: int = 0


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
    p0, pe = tenth(p0), tenth(pe)
    source = tenth_box(source)
    target = tenth_box(target)
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
    source_box = _terminal_box(source, p0)
    target_box = _terminal_box(target, pe)
    if source_box is None or target_box is None:
        return None
    # A free end (no shape) is a point whose side is never fixed by where it touches.
    terms = (p0 if source is not None else None, pe if target is not None else None)
    route = _start_route(source_box, target_box, (source_buffer, target_buffer), terms)
    _choose_sides(route, total_buffer)
    source_index = _route_index(route.direction[0], route.quad)
    target_index = _route_index(route.direction[1], route.quad)
    if not (1 <= source_index <= 4 and 1 <= target_index <= 4):
        return None
    initial_orientation = _walk(route, _ROUTE_PATTERNS[source_index - 1][target_index - 1])
    return _bends(route, initial_orientation)


def _terminal_box(shape: Geometry | None, point: Point | None) -> _Box | None:
    """An end's box: its shape's, else a zero-size box at its fixed point, else None."""
    if shape is not None:
        return (shape.x, shape.y, shape.width, shape.height)
    if point is None:
        return None
    return (point.x, point.y, 0.0, 0.0)


def _start_route(
    source: _Box, target: _Box, buffer: tuple[float, float], terms: tuple[Point | None, ...]
) -> _Route:
    """The route's state before any side is chosen: jetty limits, the quadrant, and each
    shape-bound end's connection point and the side it touches (within 1 unit)."""
    geo = (source, target)
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
    route = _Route(geo, buffer, [[0.5, 0.5], [0.5, 0.5]], [0, 0], quad, limits, [])
    for i in range(2):
        term = terms[i]
        if term is None:
            continue
        gx, gy, gw, gh = geo[i]
        route.constraint[i][0] = (term.x - gx) / gw if gw else 0.5
        if abs(term.x - gx) <= 1:
            route.direction[i] = WEST
        elif abs(term.x - gx - gw) <= 1:
            route.direction[i] = EAST
        route.constraint[i][1] = (term.y - gy) / gh if gh else 0.5
        if abs(term.y - gy) <= 1:
            route.direction[i] = NORTH
        elif abs(term.y - gy - gh) <= 1:
            route.direction[i] = SOUTH
    return route


def _choose_sides(route: _Route, total_buffer: float) -> None:
    """Pick the side of each end not fixed by its connection point, from the boxes'
    relative position (mxEdgeStyle's preferred directions); set the separations."""
    geo = route.geo
    top_dist = geo[0][1] - (geo[1][1] + geo[1][3])
    left_dist = geo[0][0] - (geo[1][0] + geo[1][2])
    bottom_dist = geo[1][1] - (geo[0][1] + geo[0][3])
    right_dist = geo[1][0] - (geo[0][0] + geo[0][2])
    route.separations = [
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
    order = _side_order(
        route.direction, hor, vert, max(left_dist, right_dist) > 0, max(top_dist, bottom_dist) > 0
    )
    for i in range(2):
        if route.direction[i] == 0:
            route.direction[i] = _preferred_side(order, i)


def _side_order(
    direction: list[int], hor: list[int], vert: list[int], apart_x: bool, apart_y: bool
) -> list[list[int]]:
    """Per end, its first and second choice of side: across the gap between the boxes
    first where they are apart (mxEdgeStyle's ``prefOrdering``)."""
    port = _PORTS
    order = [[0, 0], [0, 0]]
    for i in range(2):
        if direction[i] != 0:
            continue
        if hor[i] & port[i] == 0:
            hor[i] = _reverse(hor[i])
        if vert[i] & port[i] == 0:
            vert[i] = _reverse(vert[i])
        order[i] = [vert[i], hor[i]]
    if apart_y and apart_x:
        if hor[0] & port[0] and vert[1] & port[1]:
            return [[hor[0], vert[0]], [vert[1], hor[1]]]
        if vert[0] & port[0] and hor[1] & port[1]:
            return [[vert[0], hor[0]], [hor[1], vert[1]]]
    if apart_y:
        return [[vert[0], hor[0]], [vert[1], hor[1]]]
    if apart_x:
        return [[hor[0], vert[0]], [hor[1], vert[1]]]
    return order


def _preferred_side(order: list[list[int]], i: int) -> int:
    """The side end ``i`` takes from the choices in ``order`` and its ports."""
    port = _PORTS
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
    if port[i] in (WEST, NORTH, EAST, SOUTH):
        return port[i]
    return pref & 0xF


def _route_index(direction: int, quad: int) -> int:
    """The row (or column) of the route tables for a side, turned by the quadrant."""
    index = (3 if direction == EAST else direction) - quad
    return index + 4 if index < 1 else index


def _walk(route: _Route, pattern: list[int]) -> int:
    """Follow a route table's steps from the source's jetty, adding a bend at each change
    of orientation; returns the first leg's orientation (0 horizontal, 1 vertical)."""
    sx, sy, sw, sh = route.geo[0]
    source_buffer = route.buffer[0]
    constraint = route.constraint[0]
    first = {
        WEST: [sx - source_buffer, sy + constraint[1] * sh],
        SOUTH: [sx + constraint[0] * sw, sy + sh + source_buffer],
        EAST: [sx + sw + source_buffer, sy + constraint[1] * sh],
        NORTH: [sx + constraint[0] * sw, sy - source_buffer],
    }.get(route.direction[0], [sx, sy])
    route.points = [first]
    route.current = 0
    last_orientation = 0 if route.direction[0] & (EAST | WEST) else 1
    initial_orientation = last_orientation
    for step in pattern:
        last_orientation = _take_step(route, step, last_orientation)
    return initial_orientation


def _take_step(route: _Route, step: int, last_orientation: int) -> int:
    """One step of a route table: move the current bend towards a jetty limit, a
    connection point or half the gap; returns the orientation the route now has."""
    quad = route.quad
    points = route.points
    next_direction = step & 0xF
    direction_index = (3 if next_direction == EAST else next_direction) + quad
    if direction_index > 4:
        direction_index -= 4
    vector = _DIR_VECTORS[direction_index - 1]
    orientation = 0 if direction_index % 2 > 0 else 1
    if orientation != last_orientation:
        route.current += 1
        if route.current == len(points):
            points.append(list(points[route.current - 1]))
        else:
            points[route.current] = list(points[route.current - 1])
    current = route.current
    tar = step & _TARGET_MASK > 0
    sou = step & _SOURCE_MASK > 0
    side = ((step & _SIDE_MASK) >> 5) << quad
    if side > 0xF:
        side = side >> 4
    centre = step & _CENTER_MASK > 0
    if (sou or tar) and side < 9:
        which = 0 if sou else 1
        geo = route.geo[which]
        if centre and orientation == 0:
            limit = geo[0] + route.constraint[which][0] * geo[2]
        elif centre:
            limit = geo[1] + route.constraint[which][1] * geo[3]
        else:
            limit = route.limits[which][side]
        axis = orientation
        delta = (limit - points[current][axis]) * vector[axis]
        if delta > 0:
            points[current][axis] += vector[axis] * delta
    elif centre:
        points[current][0] += vector[0] * abs(route.separations[direction_index] / 2)
        points[current][1] += vector[1] * abs(route.separations[direction_index] / 2)
    if current > 0 and points[current][orientation] == points[current - 1][orientation]:
        route.current -= 1
        return last_orientation
    return orientation


def _bends(route: _Route, initial_orientation: int) -> list[Point]:
    """The walked bends, rounded to a tenth, without repeats; the last one dropped when
    it would make the route enter the target along the wrong axis."""
    result: list[Point] = []
    current = route.current
    points = route.points
    for i in range(current + 1):
        if i == current:
            target_orientation = 0 if route.direction[1] & (EAST | WEST) else 1
            same = 0 if target_orientation == initial_orientation else 1
            if same != (current + 1) % 2:
                break
        point = Point(js_round(points[i][0] * 10) / 10, js_round(points[i][1] * 10) / 10)
        if not result or result[-1] != point:
            result.append(point)
    return result
