"""Connector routes as draw.io computes them. The expected bends come from running
draw.io's own ``mxEdgeStyle`` (mxgraph's JavaScript, under node) on the same shapes; the
ends are mxPerimeter's points towards the first and last bend."""

from __future__ import annotations

import pytest

from designer_import import load_experience
from designer_import.edge_styles import segment_connector
from designer_import.model import Geometry, Point
from designer_import.perimeters import perimeter_point
from designer_import.routing import orth_connector
from tests.support.drawings import FIXTURES

# edge id -> points of tests/fixtures/drawio/edges-routes.drawio as draw.io routes them
ROUTES = {
    # orthogonal, no waypoints: out of the right side, one bend above the target (an L)
    "ab": [(140, 65), (350, 65), (350, 200)],
    # exitX=0.5;exitY=1 and jettySize=auto: down 20, across, up into the target's left side
    "cd": [(90, 350), (90, 370), (220, 370), (220, 340), (300, 340)],
    # from an ellipse: its perimeter straight across from the bend
    "fg": [(120, 490), (350, 490), (350, 560)],
    # elbowEdgeStyle with elbow=vertical: top to bottom, bend half-way between the shapes
    "hi": [(90, 710), (90, 735), (350, 735), (350, 760)],
    # entityRelationEdgeStyle: 30 out of each facing side, joined straight
    "jk": [(140, 900), (170, 900), (270, 930), (300, 930)],
    # orthogonal through a waypoint (SegmentConnector): down to it, across, up, into the side
    "lm": [(90, 1030), (90, 1130), (200, 1130), (200, 1085), (300, 1085)],
    # from a waypoint shape (centerPerimeter): its centre is a fixed end, as in Graph.js
    "wn": [(111, 1186), (111, 993), (104, 993), (104, 1240), (347, 1240)],
    # perimeter spacing: the source's own 4 plus the connector's 6 out, the target's 10 out
    "pq": [(150, 1350), (290, 1350)],
}


@pytest.mark.parametrize("edge_id", sorted(ROUTES))
def test_routes_as_draw_io(edge_id: str) -> None:
    page = load_experience(FIXTURES / "edges-routes.drawio").pages[0]
    element = page.element(edge_id)
    assert element is not None and element.edge is not None
    got = [(round(p.x, 1), round(p.y, 1)) for p in element.edge.points]
    assert got == ROUTES[edge_id]


def test_orth_connector_cases_from_draw_io() -> None:
    # (source, target, draw.io's OrthConnector result) for the four quadrants and a
    # target straight below
    cases = [
        ((0, 0, 100, 50), (300, 200, 100, 50), [(350, 25)]),
        ((300, 200, 100, 50), (0, 0, 100, 50), [(50, 225)]),
        ((0, 200, 100, 50), (300, 0, 100, 50), [(350, 225)]),
        ((0, 0, 100, 50), (0, 200, 100, 50), []),
    ]
    for source, target, expected in cases:
        got = orth_connector({}, Geometry(*source), Geometry(*target), None, None)
        assert got is not None
        assert [(p.x, p.y) for p in got] == expected, (source, target)


def test_perimeters() -> None:
    box = Geometry(0, 0, 100, 50)
    # the ray from the centre for a straight connector, straight across for an orthogonal one
    assert perimeter_point(box, "rectanglePerimeter", Point(300, 25), False) == Point(100, 25)
    assert perimeter_point(box, "rectanglePerimeter", Point(80, 200), True) == Point(80, 50)
    ellipse = perimeter_point(box, "ellipsePerimeter", Point(100, 50), False)
    assert abs((ellipse.x - 50) ** 2 / 50**2 + (ellipse.y - 25) ** 2 / 25**2 - 1) < 1e-9
    assert perimeter_point(box, "rhombusPerimeter", Point(50, -100), False) == Point(50, 0)
    # waypoint shapes meet connectors at their centre; orthogonalPerimeter is always straight
    assert perimeter_point(box, "centerPerimeter", Point(300, 25), False) == Point(50, 25)
    assert perimeter_point(box, "orthogonalPerimeter", Point(80, 200), False) == Point(80, 50)
    # an ellipse of no height met along its own line (draw.io divides by zero): its centre
    flat = Geometry(0, 0, 100, 0)
    assert perimeter_point(flat, "ellipsePerimeter", Point(300, 0), False) == Point(50, 0)


def test_labels_sit_along_the_route_as_in_draw_io() -> None:
    # mxGraphView.getPoint: x in -1..1 along the whole route, y across it, then the offset
    page = load_experience(FIXTURES / "edges-routes.drawio").pages[0]
    label = page.element("ab-label")  # x=0.2, y=10, offset (5, -3) on the L route "ab"
    assert label is not None and label.label_anchor == Point(352, 52)
    elbow = page.element("hi")  # its own text, half-way along down-across-down
    assert elbow is not None and elbow.label_anchor == Point(220, 735)


def test_segment_route_with_a_waypoint_on_its_fixed_end() -> None:
    # the only waypoint is the fixed start itself (as in the corpus' family tree): draw.io
    # drops it and goes straight across, then down (its SegmentConnector under node)
    got = segment_connector(
        Geometry(0, 0, 100, 50), Geometry(300, 200, 100, 50), Point(100, 25), None, [Point(100, 25)]
    )
    assert got == [Point(350, 25)]
