"""Where a connector meets a shape's outline, as draw.io's ``mxPerimeter`` computes it
(rectangle, ellipse, rhombus, and Shapes.js's centre and orthogonal perimeters; other
perimeters are taken as the rectangle).

``orthogonal`` is draw.io's flag for orthogonal edge styles: the point is then straight
across from the point the connector comes from, where that lies beside the shape.
"""

from __future__ import annotations

import math

from designer_import.model import Geometry, Point


def perimeter_point(box: Geometry, perimeter: str, toward: Point, orthogonal: bool) -> Point:
    """Where a connector towards ``toward`` meets the shape's outline (see the module
    docstring for the perimeters known)."""
    if box.width <= 0 and box.height <= 0:
        return Point(box.x, box.y)
    if perimeter.startswith("center"):
        # draw.io's waypoint shapes: connectors meet at the centre (Shapes.js)
        return Point(box.x + box.width / 2, box.y + box.height / 2)
    if perimeter.startswith("orthogonal"):
        return _rectangle(box, toward, True)
    if perimeter.startswith("ellipse"):
        return _ellipse(box, toward, orthogonal)
    if perimeter.startswith("rhombus"):
        return _rhombus(box, toward, orthogonal)
    return _rectangle(box, toward, orthogonal)


def _rectangle(box: Geometry, next_: Point, orthogonal: bool) -> Point:
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    alpha = math.atan2(next_.y - cy, next_.x - cx)
    beta = math.pi / 2 - alpha
    t = math.atan2(box.height, box.width)
    if alpha < -math.pi + t or alpha > math.pi - t:
        x, y = box.x, cy - box.width * math.tan(alpha) / 2
    elif alpha < -t:
        x, y = cx - box.height * math.tan(beta) / 2, box.y
    elif alpha < t:
        x, y = box.x + box.width, cy + box.width * math.tan(alpha) / 2
    else:
        x, y = cx + box.height * math.tan(beta) / 2, box.y + box.height
    if orthogonal:
        if box.x <= next_.x <= box.x + box.width:
            x = next_.x
        elif box.y <= next_.y <= box.y + box.height:
            y = next_.y
        if next_.x < box.x:
            x = box.x
        elif next_.x > box.x + box.width:
            x = box.x + box.width
        if next_.y < box.y:
            y = box.y
        elif next_.y > box.y + box.height:
            y = box.y + box.height
    return Point(x, y)


def _ellipse(box: Geometry, next_: Point, orthogonal: bool) -> Point:
    a, b = box.width / 2, box.height / 2
    cx, cy = box.x + a, box.y + b
    px, py = next_.x, next_.y
    dx, dy = int(px - cx), int(py - cy)  # parseInt, as draw.io
    if dx == 0 and dy != 0:
        return Point(cx, cy + b * dy / abs(dy))
    if dx == 0 and dy == 0:
        return Point(px, py)
    if orthogonal:
        if box.y <= py <= box.y + box.height and b > 0:
            ty = py - cy
            tx = math.sqrt(max(0.0, a * a * (1 - ty * ty / (b * b))))
            return Point(cx - tx if px <= box.x else cx + tx, py)
        if box.x <= px <= box.x + box.width and a > 0:
            tx = px - cx
            ty = math.sqrt(max(0.0, b * b * (1 - tx * tx / (a * a))))
            return Point(px, cy - ty if py <= box.y else cy + ty)
    d = dy / dx
    h = cy - d * cx
    e = a * a * d * d + b * b
    if e == 0:  # a flat ellipse met along its own line: its centre
        return Point(cx, cy)
    f = -2 * cx * e
    g = a * a * d * d * cx * cx + b * b * cx * cx - a * a * b * b
    det = math.sqrt(max(0.0, f * f - 4 * e * g))
    x1, x2 = (-f + det) / (2 * e), (-f - det) / (2 * e)
    y1, y2 = d * x1 + h, d * x2 + h
    if math.hypot(x1 - px, y1 - py) < math.hypot(x2 - px, y2 - py):
        return Point(x1, y1)
    return Point(x2, y2)


def _rhombus(box: Geometry, next_: Point, orthogonal: bool) -> Point:
    x, y, w, h = box.x, box.y, box.width, box.height
    cx, cy = x + w / 2, y + h / 2
    px, py = next_.x, next_.y
    if cx == px:
        return Point(cx, y) if cy > py else Point(cx, y + h)
    if cy == py:
        return Point(x, cy) if cx > px else Point(x + w, cy)
    tx, ty = cx, cy
    if orthogonal:
        if x <= px <= x + w:
            tx = px
        elif y <= py <= y + h:
            ty = py
    if px < cx:
        corner = (cx, y, x, cy) if py < cy else (cx, y + h, x, cy)
    else:
        corner = (cx, y, x + w, cy) if py < cy else (cx, y + h, x + w, cy)
    hit = _intersection(px, py, tx, ty, *corner)
    return hit if hit is not None else Point(cx, cy)


def _intersection(
    x0: float, y0: float, x1: float, y1: float, x2: float, y2: float, x3: float, y3: float
) -> Point | None:
    """mxUtils.intersection: where segment 0-1 crosses segment 2-3, or None."""
    denom = (y3 - y2) * (x1 - x0) - (x3 - x2) * (y1 - y0)
    if denom == 0:
        return None
    ua = ((x3 - x2) * (y0 - y2) - (y3 - y2) * (x0 - x2)) / denom
    ub = ((x1 - x0) * (y0 - y2) - (y1 - y0) * (x0 - x2)) / denom
    if 0.0 <= ua <= 1.0 and 0.0 <= ub <= 1.0:
        return Point(x0 + ua * (x1 - x0), y0 + ua * (y1 - y0))
    return None
