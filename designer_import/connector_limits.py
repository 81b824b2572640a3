"""What the kiosk draws differently from draw.io on a connector, for the validator.

The kiosk draws connectors as draw.io does (routes: ``designer_import.routing``; heads,
corners, ``flexArrow`` and ``link``: ``kiosk.screen.edges``), except what ``connector_limits``
names, one finding per difference, each with what the artist can do about it.
"""

from __future__ import annotations

from collections.abc import Mapping

from designer_import.model import Element, Page

#: The arrow heads the kiosk draws (draw.io's mxMarker, Shapes.js and mxER.js markers).
MARKERS = frozenset(
    {
        "classic",
        "classicThin",
        "block",
        "blockThin",
        "open",
        "openThin",
        "oval",
        "diamond",
        "diamondThin",
        "dash",
        "cross",
        "circle",
        "circlePlus",
        "async",
        "openAsync",
        "halfCircle",
        "box",
        "baseDash",
        "doubleBlock",
        "ERone",
        "ERmany",
        "ERmandOne",
        "ERoneToMany",
        "ERzeroToOne",
        "ERzeroToMany",
    }
)
#: Heads drawn from their names only: the draw.io release the kiosk follows has no code
#: for them to compare with.
UNCHECKED_MARKERS = frozenset({"baseDash", "doubleBlock"})
#: Edge styles routed as draw.io routes them.
ROUTED_STYLES = frozenset(
    {
        "",
        "none",
        "orthogonalEdgeStyle",
        "segmentEdgeStyle",
        "elbowEdgeStyle",
        "sideToSideEdgeStyle",
        "topToBottomEdgeStyle",
        "entityRelationEdgeStyle",
    }
)


def connector_limits(
    element: Element, page: Page, by_id: Mapping[str, Element] | None = None
) -> list[tuple[str, str, str]]:
    """``(code, message, fix)`` for each way the kiosk draws this connector of ``page``
    differently from draw.io; empty for anything that is not a connector. ``by_id``: the
    page's elements by id (the first of each id, as ``Page.element`` finds it), when the
    caller checks many connectors of the page."""
    edge = element.edge
    if edge is None:
        return []
    find = by_id.get if by_id is not None else page.element
    ends = [find(i) for i in (edge.source_id, edge.target_id) if i]
    on_connector = any(end is not None and end.edge is not None for end in ends)
    found: list[tuple[str, str, str]] = []
    route_limit = _route_limit(element, on_connector)
    if route_limit is not None:
        found.append(route_limit)
    if element.shape == "flexArrow" and element.style.rounded:
        found.append(
            (
                "connector-rounded-arrow",
                "a rounded flexArrow is drawn with sharp corners",
                "untick Rounded, or use a straight flexArrow",
            )
        )
    if element.shape not in ("flexArrow", "link"):
        for end, kind in (("start", edge.start_arrow), ("end", edge.end_arrow)):
            arrow_limit = _arrow_limit(end, kind)
            if arrow_limit is not None:
                found.append(arrow_limit)
    return found


def _route_limit(element: Element, on_connector: bool) -> tuple[str, str, str] | None:
    """connector-style: an edge style not routed as draw.io routes it; otherwise
    connector-on-connector: a routed style whose end is another connector."""
    style = element.style
    edge_style = style.get("edgeStyle") or ""
    if edge_style not in ROUTED_STYLES and style.get("noEdgeStyle") != "1":
        return (
            "connector-style",
            f'connector style "{edge_style}" is not routed as in draw.io: the kiosk draws '
            "straight lines through its waypoints",
            "use the orthogonal, elbow, entity-relation or straight style",
        )
    if on_connector and edge_style not in ("", "none"):
        return (
            "connector-on-connector",
            "a connector attached to another connector is bent half-way between its "
            "ends, not routed as in draw.io",
            "attach it to a shape, or add waypoints (drag its handles) so the route is fixed",
        )
    return None


def _arrow_limit(end: str, kind: str | None) -> tuple[str, str, str] | None:
    """connector-arrow: the ``end`` ("start" or "end") arrow head ``kind`` when draw.io has
    no such head, or the kiosk draws it from its name only."""
    if not kind or kind == "none":
        return None
    if kind not in MARKERS:
        return (
            "connector-arrow",
            f'{end} arrow "{kind}" is not one draw.io draws: no head is drawn',
            "pick an arrow head from draw.io's list",
        )
    if kind in UNCHECKED_MARKERS:
        return (
            "connector-arrow",
            f'{end} arrow "{kind}" is drawn from its name and may differ from draw.io\'s drawing',
            "check it on the kiosk preview, or pick block or dash",
        )
    return None
