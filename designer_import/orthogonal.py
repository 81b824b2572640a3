"""draw.io's orthogonal router, ``mxEdgeStyle.OrthConnector`` (``edgeStyle=orthogonalEdgeStyle``
without waypoints): which sides of the two shapes the connector leaves and enters by their
relative position and connection constraints, and the bends between, from draw.io's own route
tables and with its arithmetic.
"""

from __future__ import annotations

import math

from designer_import.edge_styles import js_round, tenth, tenth_box
from designer_import.model import Geometry, Point

# mxConstants.DIRECTION_MASK_*
WEST, NORTH, SOUTH, EAST = 1, 2, 4, 8
ALL = WEST | NORTH | SOUTH | EAST

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
        point = Point(js_round(points[i][0] * 10) / 10, js_round(points[i][1] * 10) / 10)
        if not result or result[-1] != point:
            result.append(point)
    return result
