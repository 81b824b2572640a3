"""draw.io's simpler edge styles (mxEdgeStyle): ``SegmentConnector`` (orthogonal segments
through waypoints), ``ElbowConnector`` with ``SideToSide``/``TopToBottom``, and
``EntityRelation``, with the same arithmetic (coordinates rounded to a tenth as draw.io does).
Each returns the bends between the two ends; the ends themselves are ``designer_import.routing``'s.
"""

from __future__ import annotations

import math

from designer_import.model import Geometry, Point

#: mxConstants.ENTITY_SEGMENT.
ENTITY_SEGMENT = 30.0


def _num(values: dict[str, str], key: str, default: float) -> float:
    try:
        value = float(values.get(key, default))
    except ValueError:
        return default
    # held within +-1e9 like the parser's numbers: a hand-edited 1e308 would overflow
    return min(max(value, -1e9), 1e9) if math.isfinite(value) else default


def js_round(value: float) -> float:
    """JavaScript's Math.round (halves go up); infinities and NaN stay as they are."""
    if not math.isfinite(value):
        return value
    return float(math.floor(value + 0.5))


def tenth(point: Point | None) -> Point | None:
    """A point rounded to a tenth, as draw.io's scalePointArray leaves it."""
    if point is None:
        return None
    return Point(js_round(point.x * 10) / 10, js_round(point.y * 10) / 10)


def tenth_box(box: Geometry | None) -> Geometry | None:
    """A box rounded to a tenth, as draw.io's scaleCellState leaves it."""
    if box is None:
        return None
    return Geometry(
        js_round(box.x * 10) / 10,
        js_round(box.y * 10) / 10,
        js_round(box.width * 10) / 10,
        js_round(box.height * 10) / 10,
    )


def box_contains(box: Geometry, x: float, y: float) -> bool:
    """True when (x, y) is inside ``box`` or on its outline."""
    return box.x <= x <= box.x + box.width and box.y <= y <= box.y + box.height


def as_box(box: Geometry | None, fixed: Point | None) -> Geometry | None:
    """An end's box: a zero-size box at its fixed point, else its shape's box."""
    if fixed is not None:
        return Geometry(fixed.x, fixed.y, 0.0, 0.0)
    return box


#: SegmentConnector's tolerance: points this close count as the same line.
_SEGMENT_TOLERANCE = 1.0


class _SegmentPath:
    """SegmentConnector's result so far: the fixed start (or None), then each bend rounded
    to a tenth, skipping one within the tolerance of the last."""

    __slots__ = ("last", "points")

    def __init__(self, p0: Point | None) -> None:
        self.points: list[Point | None] = [p0]
        self.last = p0

    def push(self, x: float, y: float) -> None:
        """Add a bend at (x, y) unless it is within the tolerance of the last one."""
        point = Point(js_round(x * 10) / 10, js_round(y * 10) / 10)
        before = self.last
        tol = _SEGMENT_TOLERANCE
        if before is None or abs(before.x - point.x) >= tol or abs(before.y - point.y) >= 1:
            self.points.append(point)
            self.last = point


def segment_connector(
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
    hints: list[Point],
) -> list[Point]:
    """mxEdgeStyle.SegmentConnector: horizontal and vertical segments through the
    waypoints (the orthogonal style's route when the connector has waypoints)."""
    p0, pe = tenth(p0), tenth(pe)
    source, target = tenth_box(source), tenth_box(target)
    path = _SegmentPath(p0)
    if p0 is None and source is not None:
        px, py = source.x + source.width / 2, source.y + source.height / 2
    elif p0 is not None:
        px, py = p0.x, p0.y
    else:
        px = py = math.nan
    end_fixed = pe
    hint: Point | None
    if hints:
        marks = _snap_marks(hints, px, py, pe)
        horizontal, rest = _first_orientation(marks, source, target, p0, pe)
        horizontal, hint = _through_marks(path, marks[0], rest, horizontal, (px, py), source, p0)
    else:
        hint = None if math.isnan(px) else Point(px, py)
        horizontal = True
        end_fixed = None  # draw.io's end tolerance check only runs with waypoints
    _to_end(path, hint, horizontal, target, pe)
    points = _trim_inside(path.points, source, target, p0, pe)
    return _snap_last_to_end(points, end_fixed)


def _snap_marks(hints: list[Point], px: float, py: float, pe: Point | None) -> list[Point]:
    """The waypoints, the first lined up with the start and the last with a fixed end
    where they are within the tolerance."""
    tol = _SEGMENT_TOLERANCE
    marks = [Point(h.x, h.y) for h in hints]
    if not math.isnan(px):
        first = marks[0]
        marks[0] = Point(
            px if abs(first.x - px) < tol else first.x,
            py if abs(first.y - py) < tol else first.y,
        )
    if pe is not None:
        final = marks[-1]
        marks[-1] = Point(
            pe.x if abs(final.x - pe.x) < tol else final.x,
            pe.y if abs(final.y - pe.y) < tol else final.y,
        )
    return marks


def _first_orientation(
    marks: list[Point],
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
) -> tuple[bool, list[Point]]:
    """Whether the route leaves the source horizontally, from the channels the first (then
    the last) waypoint shares with its end; the waypoints, less a first one that sits on a
    fixed start."""
    horizontal = True
    term = None if p0 is not None else source
    term_point = p0
    current = marks[0]
    for i in range(2):
        fixed_vert = term_point is not None and term_point.x == current.x
        fixed_hoz = term_point is not None and term_point.y == current.y
        in_hoz = term is not None and term.y <= current.y <= term.y + term.height
        in_vert = term is not None and term.x <= current.x <= term.x + term.width
        hoz_chan = fixed_hoz or (term_point is None and in_hoz)
        vert_chan = fixed_vert or (term_point is None and in_vert)
        if not (i == 0 and ((hoz_chan and vert_chan) or (fixed_vert and fixed_hoz))):
            if term_point is not None and not fixed_hoz and not fixed_vert and (in_hoz or in_vert):
                return not in_hoz, marks
            if vert_chan or hoz_chan:
                horizontal = hoz_chan
                if i == 1:
                    horizontal = hoz_chan if len(marks) % 2 == 0 else vert_chan
                return horizontal, marks
        term = target
        term_point = pe
        if term_point is not None:
            term = None
        if marks:  # draw.io reads past the end of an emptied list here: undefined
            current = marks[-1]
        if fixed_vert and fixed_hoz:
            marks = marks[1:]
    return horizontal, marks


def _through_marks(
    path: _SegmentPath,
    hint: Point,
    marks: list[Point],
    horizontal: bool,
    start: tuple[float, float],
    source: Geometry | None,
    p0: Point | None,
) -> tuple[bool, Point]:
    """Bends from the start to the line of the first waypoint ``hint``, then one per
    waypoint in ``marks``, turning at each; returns the last leg's orientation and waypoint."""
    px, py = start
    if horizontal and (
        (p0 is not None and p0.y != hint.y)
        or (p0 is None and source is not None and not source.y <= hint.y <= source.bottom)
    ):
        path.push(px, hint.y)
    elif not horizontal and (
        (p0 is not None and p0.x != hint.x)
        or (p0 is None and source is not None and not source.x <= hint.x <= source.right)
    ):
        path.push(hint.x, py)
    if horizontal:
        py = hint.y
    else:
        px = hint.x
    for mark in marks:
        horizontal = not horizontal
        hint = mark
        if horizontal:
            py = hint.y
        else:
            px = hint.x
        path.push(px, py)
    return horizontal, hint


def _to_end(
    path: _SegmentPath,
    hint: Point | None,
    horizontal: bool,
    target: Geometry | None,
    pe: Point | None,
) -> None:
    """The bend from the last waypoint's line onto the end's line, when they differ."""
    end = pe
    if end is None and target is not None:
        end = Point(target.x + target.width / 2, target.y + target.height / 2)
    if end is None or hint is None:
        return
    if horizontal and (
        (pe is not None and pe.y != hint.y)
        or (pe is None and target is not None and not target.y <= hint.y <= target.bottom)
    ):
        path.push(end.x, hint.y)
    elif not horizontal and (
        (pe is not None and pe.x != hint.x)
        or (pe is None and target is not None and not target.x <= hint.x <= target.right)
    ):
        path.push(hint.x, end.y)


def _trim_inside(
    points: list[Point | None],
    source: Geometry | None,
    target: Geometry | None,
    p0: Point | None,
    pe: Point | None,
) -> list[Point | None]:
    """Drop the bends inside a floating end's shape (the perimeter is found from outside)."""
    if p0 is None and source is not None:
        while (
            len(points) > 1
            and (inner := points[1]) is not None
            and box_contains(source, inner.x, inner.y)
        ):
            del points[1]
    if pe is None and target is not None:
        while (
            len(points) > 1
            and (inner := points[-1]) is not None
            and box_contains(target, inner.x, inner.y)
        ):
            del points[-1]
    return points


def _snap_last_to_end(points: list[Point | None], end_fixed: Point | None) -> list[Point]:
    """Drop a last bend on the fixed end and line the one before up with it; the bends
    without the start."""
    tol = _SEGMENT_TOLERANCE
    tail = points[-1]
    near_end = (
        end_fixed is not None
        and tail is not None
        and len(points) > 1
        and abs(end_fixed.x - tail.x) <= tol
        and abs(end_fixed.y - tail.y) <= tol
    )
    if near_end and end_fixed is not None:
        del points[-1]
        tail = points[-1]
        if tail is not None and len(points) > 1:
            points[-1] = Point(
                end_fixed.x if abs(tail.x - end_fixed.x) < tol else tail.x,
                end_fixed.y if abs(tail.y - end_fixed.y) < tol else tail.y,
            )
    return [p for p in points[1:] if p is not None]


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
    source = as_box(source, p0)
    target = as_box(target, pe)
    result: list[Point] = []
    if source is None or target is None:
        return result
    left = max(source.x, target.x)
    right = min(source.right, target.right)
    x = hint.x if hint is not None else js_round(right + (left - right) / 2)
    y1 = source.y + source.height / 2
    y2 = target.y + target.height / 2
    if hint is not None:
        if source.y <= hint.y <= source.bottom:
            y1 = hint.y
        if target.y <= hint.y <= target.bottom:
            y2 = hint.y
    if not box_contains(target, x, y1) and not box_contains(source, x, y1):
        result.append(Point(x, y1))
    if not box_contains(target, x, y2) and not box_contains(source, x, y2):
        result.append(Point(x, y2))
    if len(result) == 1:
        if hint is not None:
            if not box_contains(target, x, hint.y) and not box_contains(source, x, hint.y):
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
    source = as_box(source, p0)
    target = as_box(target, pe)
    result: list[Point] = []
    if source is None or target is None:
        return result
    top = max(source.y, target.y)
    bottom = min(source.bottom, target.bottom)
    x = source.x + source.width / 2
    if hint is not None and source.x <= hint.x <= source.right:
        x = hint.x
    y = hint.y if hint is not None else js_round(bottom + (top - bottom) / 2)
    if not box_contains(target, x, y) and not box_contains(source, x, y):
        result.append(Point(x, y))
    if hint is not None and target.x <= hint.x <= target.right:
        x = hint.x
    else:
        x = target.x + target.width / 2
    if not box_contains(target, x, y) and not box_contains(source, x, y):
        result.append(Point(x, y))
    if len(result) == 1:
        if hint is not None:
            if not box_contains(target, hint.x, y) and not box_contains(source, hint.x, y):
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
    src = as_box(source, p0)
    trg = as_box(target, pe)
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
