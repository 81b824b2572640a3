"""Line jumps (``jumpStyle=arc|gap|sharp``) as draw.io finds them (Graph.js,
``mxGraphView.updateLineJumps``): a connector with a jump style hops over every earlier
connector (in drawing order) that crosses it, except where they meet at a bend or an end.
``kiosk.screen.edges`` draws the hops; this module only finds where they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from designer_import.model import Element, Point

#: How close (page units) a crossing may come to a segment's end and still not count.
THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class _Crossed:
    points: list[Point]
    box: tuple[float, float, float, float]


def add_line_jumps(elements: list[Element]) -> None:
    """Set ``edge.jumps`` on each shown connector with a jump style, from the shown,
    uncurved connectors drawn before it (as draw.io's view validates them)."""
    if all((e.style.get("jumpStyle") or "none") == "none" for e in elements if e.edge):
        return  # the common case: no connector of the page jumps
    earlier: list[_Crossed] = []
    for element in elements:
        path = element.edge
        if path is None or not element.visible or path.curved or len(path.points) < 2:
            continue
        box = _box(path.points)
        if (element.style.get("jumpStyle") or "none") != "none":
            crossing = [c for c in earlier if _intersects(box, c.box)]
            path.jumps = _routed(path.points, crossing)
        if element.style.get("noJump") != "1":
            earlier.append(_Crossed(path.points, box))


def _box(points: list[Point]) -> tuple[float, float, float, float]:
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    # mxGraphView.updateEdgeBounds: at least 1 wide and high
    return min(xs), min(ys), max(1.0, max(xs) - min(xs)), max(1.0, max(ys) - min(ys))


def _intersects(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """mxUtils.intersects for two boxes (x, y, width, height)."""
    tx, ty, tw, th = a
    rx, ry, rw, rh = b
    rw += rx
    rh += ry
    tw += tx
    th += ty
    return (
        (rw < rx or rw > tx)
        and (rh < ry or rh > ty)
        and (tw < tx or tw > rx)
        and (th < ty or th > ry)
    )


def _seg_dist_sq(x1: float, y1: float, x2: float, y2: float, px: float, py: float) -> float:
    """mxUtils.ptSegDistSq: squared distance of (px, py) from the segment."""
    x2 -= x1
    y2 -= y1
    px -= x1
    py -= y1
    if px * x2 + py * y2 <= 0:
        projected = 0.0
    else:
        px = x2 - px
        py = y2 - py
        dot = px * x2 + py * y2
        projected = 0.0 if dot <= 0 else dot * dot / (x2 * x2 + y2 * y2)
    return max(0.0, px * px + py * py - projected)


def _crossing(p0: Point, p1: Point, p2: Point, p3: Point) -> Point | None:
    """mxUtils.intersection of segments p0-p1 and p2-p3."""
    denom = (p3.y - p2.y) * (p1.x - p0.x) - (p3.x - p2.x) * (p1.y - p0.y)
    if denom == 0:
        return None
    ua = ((p3.x - p2.x) * (p0.y - p2.y) - (p3.y - p2.y) * (p0.x - p2.x)) / denom
    ub = ((p1.x - p0.x) * (p0.y - p2.y) - (p1.y - p0.y) * (p0.x - p2.x)) / denom
    if 0.0 <= ua <= 1.0 and 0.0 <= ub <= 1.0:
        return Point(p0.x + ua * (p1.x - p0.x), p0.y + ua * (p1.y - p0.y))
    return None


def _away(point: Point, *ends: Point) -> bool:
    return all(abs(point.x - e.x) > THRESHOLD or abs(point.y - e.y) > THRESHOLD for e in ends)


def _straight_runs(points: list[Point]) -> list[tuple[Point, Point]]:
    """The segments, with points on a straight run (within 1 unit) merged away."""
    runs: list[tuple[Point, Point]] = []
    i = 0
    while i < len(points) - 1:
        p0, p1 = points[i], points[i + 1]
        while i < len(points) - 2:
            pn = points[i + 2]
            if _seg_dist_sq(p0.x, p0.y, pn.x, pn.y, p1.x, p1.y) >= 1:
                break
            p1 = pn
            i += 1
        runs.append((p0, p1))
        i += 1
    return runs


def _routed(points: list[Point], earlier: list[_Crossed]) -> list[tuple[float, float, bool]]:
    routed: list[tuple[float, float, bool]] = []
    for p0, p1 in _straight_runs(points):
        routed.append((p0.x, p0.y, False))
        found: list[tuple[float, Point]] = []
        for other in earlier:
            for p2, p3 in _straight_runs(other.points):
                pt = _crossing(p0, p1, p2, p3)
                if pt is None or not _away(pt, p0, p1, p2, p3):
                    continue
                dist = (pt.x - p0.x) ** 2 + (pt.y - p0.y) ** 2
                # ordered from the segment's start; one jump where runs meet at a joint
                index = next((k for k, (d, _) in enumerate(found) if d > dist), None)
                if index is not None:
                    found.insert(index, (dist, pt))
                elif not found or found[-1][1] != pt:
                    found.append((dist, pt))
        routed.extend((pt.x, pt.y, True) for _, pt in found)
    last = points[-1]
    routed.append((last.x, last.y, False))
    return routed
