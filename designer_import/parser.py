"""One page's ``<mxGraphModel>`` -> ``Page``: cells, geometry, styles, labels, images, links.

Geometry follows draw.io's view: a child's geometry is relative to its parent's top-left
(groups and containers alike); ``relative="1"`` children of a vertex are placed at a fraction
of its size, children of an edge along its route; layers (children of the root cell) place
nothing. Elements come out in draw order: depth first, parent before children, siblings in
file order.
"""

from __future__ import annotations

import html
import itertools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from typing import cast

from lxml import etree

from designer_import.errors import DrawioError, importer_fault
from designer_import.images import ImageResolver
from designer_import.languages import translation_language
from designer_import.line_jumps import add_line_jumps
from designer_import.links import parse_link
from designer_import.model import (
    EdgePath,
    Element,
    Geometry,
    ImageRef,
    KioskAction,
    Label,
    Link,
    Page,
    Point,
    ShapeKind,
    Style,
)
from designer_import.routing import End, route
from designer_import.styles import (
    build_style,
    parse_colour,
    parse_style_string,
    resolve_colour_references,
    shape_kind,
)

log = logging.getLogger(__name__)

#: Far beyond any drawing (draw.io's canvas is a few 10,000 px): a value like 1e308 in a
#: hand-edited file is held here, so that arithmetic on it (x * 10, x + width) stays finite.
MAX_COORDINATE = 1e9

#: The picture of an ``<img>`` in an HTML label.
_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", re.IGNORECASE)

#: Wrapper attributes that are draw.io's own, not "Edit Data" properties.
RESERVED_ATTRIBUTES = frozenset(
    {"id", "label", "placeholders", "tooltip", "link", "linkTarget", "tags"}
)
_WRAPPERS = ("UserObject", "object")
_PLACEHOLDER = re.compile(r"%(date\{.*?\}|[^%^\{^\}^ ^\"^ \\]+)%")
_BREAK_TAGS = re.compile(r"<\s*(?:br\b[^>]*|/\s*(?:div|p|li|tr|h[1-6])\s*)>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_ORTHOGONAL = frozenset(
    {
        "orthogonalEdgeStyle",
        "elbowEdgeStyle",
        "entityRelationEdgeStyle",
        "segmentEdgeStyle",
        "sideToSideEdgeStyle",
        "topToBottomEdgeStyle",
    }
)


@dataclass(slots=True)
class _Geo:
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    relative: bool = False
    offset: Point | None = None
    #: The waypoints (a tuple: most geometries have none, and share the empty one).
    points: tuple[Point, ...] = ()
    source_point: Point | None = None
    target_point: Point | None = None


@dataclass(slots=True)
class _Cell:
    id: str
    parent: str | None
    attrs: dict[str, str]
    wrapper: dict[str, str] | None
    geo: _Geo | None
    vertex: bool
    edge: bool
    children: list[_Cell] = field(default_factory=list)
    box: Geometry | None = None
    path: EdgePath | None = None
    #: The cell's parsed style and ``Style`` (the drawing's cache entry), once asked for.
    style: tuple[dict[str, str], Style] | None = None
    busy: bool = False


@dataclass(slots=True)
class PageContext:
    """What a page's labels may refer to beyond its cells (draw.io's global variables)."""

    globals: dict[str, str]
    images: ImageResolver
    where: str
    style_cache: dict[tuple[str, bool], tuple[dict[str, str], Style]] = field(default_factory=dict)


def _f(raw: str | None, default: float = 0.0) -> float:
    """A number from the file; ``default`` when it is none. Magnitudes are held within
    ``MAX_COORDINATE`` so that sums, scales and routes of them stay finite."""
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    if -MAX_COORDINATE <= value <= MAX_COORDINATE:  # the common case; NaN fails it too
        return value
    if math.isfinite(value):
        return MAX_COORDINATE if value > 0 else -MAX_COORDINATE
    return default


def _point(element: etree._Element) -> Point:
    return Point(_f(element.get("x")), _f(element.get("y")))


def _read_geometry(element: etree._Element | None) -> _Geo | None:
    if element is None:
        return None
    geo = _Geo(
        _f(element.get("x")),
        _f(element.get("y")),
        _f(element.get("width")),
        _f(element.get("height")),
        element.get("relative") == "1",
    )
    if not len(element):
        return geo  # the common case: no points (iterating no children still costs)
    for child in element:
        role = child.get("as")
        if child.tag == "mxPoint":
            if role == "offset":
                geo.offset = _point(child)
            elif role == "sourcePoint":
                geo.source_point = _point(child)
            elif role == "targetPoint":
                geo.target_point = _point(child)
        elif child.tag == "Array" and role == "points":
            geo.points = tuple(_point(p) for p in child if p.tag == "mxPoint")
    return geo


def read_cells(model: etree._Element, where: str) -> list[_Cell]:
    """The cells of a graph model in file order, wrappers unwrapped."""
    root = model.find("root")
    if root is None:
        return []
    cells: list[_Cell] = []
    seen: set[str] = set()
    for index, node in enumerate(root):
        tag = node.tag
        if tag == "mxCell":
            inner = node
            wrapper = None
            attrs = cast(dict[str, str], dict(node.items()))
            cell_id = attrs.get("id")
        elif tag in _WRAPPERS:
            wrapper = cast(dict[str, str], dict(node.items()))
            found = node.find("mxCell")
            inner = found if found is not None else etree.Element("mxCell")
            attrs = cast(dict[str, str], dict(inner.items()))
            cell_id = wrapper.get("id") or attrs.get("id")
        else:
            continue
        if not cell_id:
            cell_id = f"_cell{index}"
        if cell_id in seen:
            # draw.io would refuse the file; keep both so nothing silently disappears.
            cell_id = f"{cell_id}#{index}"
        seen.add(cell_id)
        geometry = None
        for child in inner:
            if child.tag == "mxGeometry":
                geometry = _read_geometry(child)
                break
        cells.append(
            _Cell(
                id=cell_id,
                parent=attrs.get("parent"),
                attrs=attrs,
                wrapper=wrapper,
                geo=geometry,
                vertex=attrs.get("vertex") == "1",
                edge=attrs.get("edge") == "1",
            )
        )
    return cells


class _PageBuilder:
    def __init__(self, cells: list[_Cell], context: PageContext) -> None:
        self.context = context
        self.by_id: dict[str, _Cell] = {c.id: c for c in cells}
        self.root: _Cell | None = None
        for cell in cells:
            if self.root is None and cell.parent is None:
                self.root = cell
        layers: list[_Cell] = []
        for cell in cells:
            if cell is self.root:
                continue
            parent = self.by_id.get(cell.parent) if cell.parent else None
            if parent is None or parent is cell:
                # An orphan: draw it in the first layer rather than lose it.
                parent = layers[0] if layers else self.root
                if parent is None:
                    self.root = _Cell("_root", None, {}, None, None, False, False)
                    parent = self.root
            if parent is self.root and not (cell.vertex or cell.edge):
                layers.append(cell)
            parent.children.append(cell)
        self.layers = layers
        self.layer_ids = {layer.id for layer in layers}

    # --- geometry -------------------------------------------------------------------------

    def is_element(self, cell: _Cell | None) -> bool:
        return cell is not None and cell is not self.root and cell.id not in self.layer_ids

    def origin(self, cell: _Cell) -> Point:
        """Top-left of the coordinate system a cell's own geometry is in."""
        parent = self.by_id.get(cell.parent) if cell.parent else None
        if parent is None or not self.is_element(parent):
            return Point(0.0, 0.0)
        if parent.edge:
            return self.origin(parent)
        box = self.vertex_box(parent)
        return Point(box.x, box.y)

    def vertex_box(self, cell: _Cell) -> Geometry:
        if cell.box is not None:
            return cell.box
        if cell.busy:
            raise DrawioError(f"{self.context.where}: cell {cell.id} is its own ancestor")
        cell.busy = True
        geo = cell.geo or _Geo()
        parent = self.by_id.get(cell.parent) if cell.parent else None
        if parent is not None and self.is_element(parent) and geo.relative:
            offset = geo.offset or Point(0.0, 0.0)
            if parent.edge:
                anchor = edge_point(self.edge_path(parent), geo.x, geo.y, offset)
                box = Geometry(anchor.x, anchor.y, geo.width, geo.height)
            else:
                pbox = self.vertex_box(parent)
                box = Geometry(
                    pbox.x + geo.x * pbox.width + offset.x,
                    pbox.y + geo.y * pbox.height + offset.y,
                    geo.width,
                    geo.height,
                )
        else:
            origin = self.origin(cell)
            box = Geometry(origin.x + geo.x, origin.y + geo.y, geo.width, geo.height)
        cell.box = box
        cell.busy = False
        return box

    def terminal_box(self, terminal_id: str | None) -> tuple[Geometry | None, str | None]:
        if not terminal_id:
            return None, None
        terminal = self.by_id.get(terminal_id)
        if terminal is None or not self.is_element(terminal):
            return None, None
        if terminal.edge:
            if terminal.busy:
                return None, None
            mid = edge_point(self.edge_path(terminal), 0.0, 0.0, None)
            return Geometry(mid.x, mid.y, 0.0, 0.0), "rectanglePerimeter"
        values, _style = self.style_of(terminal)
        return self.vertex_box(terminal), values.get("perimeter", "rectanglePerimeter")

    def edge_path(self, cell: _Cell) -> EdgePath:
        if cell.path is not None:
            return cell.path
        if cell.busy:
            raise DrawioError(f"{self.context.where}: edge {cell.id} is its own ancestor")
        cell.busy = True
        values, style = self.style_of(cell)
        geo = cell.geo or _Geo()
        origin = self.origin(cell)
        waypoints = [Point(origin.x + p.x, origin.y + p.y) for p in geo.points]
        source_id = cell.attrs.get("source")
        target_id = cell.attrs.get("target")
        source_box, source_perimeter = self.terminal_box(source_id)
        target_box, target_perimeter = self.terminal_box(target_id)
        source_free = (
            Point(origin.x + geo.source_point.x, origin.y + geo.source_point.y)
            if geo.source_point
            else None
        )
        target_free = (
            Point(origin.x + geo.target_point.x, origin.y + geo.target_point.y)
            if geo.target_point
            else None
        )
        edge_style = values.get("edgeStyle")
        # draw.io's own route where designer_import.routing has it (see there)
        points = route(
            values,
            self.route_end(source_id, source_box, source_perimeter, source_free),
            self.route_end(target_id, target_box, target_perimeter, target_free),
            waypoints,
        )
        if points is None:
            points = self.fallback_route(
                values,
                origin,
                waypoints,
                (source_box, source_perimeter, source_free),
                (target_box, target_perimeter, target_free),
            )
        path = EdgePath(
            points=points,
            source_id=source_id if source_box is not None else None,
            target_id=target_id if target_box is not None else None,
            start_arrow=values.get("startArrow") or None,
            end_arrow=values.get("endArrow") or None,
            start_size=_f(values.get("startSize"), 6.0),
            end_size=_f(values.get("endSize"), 6.0),
            start_fill=values.get("startFill", "1") != "0",
            end_fill=values.get("endFill", "1") != "0",
            edge_style=edge_style if edge_style and edge_style != "none" else None,
            curved=style.flag("curved"),
        )
        cell.path = path
        cell.busy = False
        return path

    def fallback_route(
        self,
        values: dict[str, str],
        origin: Point,
        waypoints: list[Point],
        source: tuple[Geometry | None, str | None, Point | None],
        target: tuple[Geometry | None, str | None, Point | None],
    ) -> list[Point]:
        """The route of a connector ``routing.route`` leaves to the parser (one attached to
        another connector, an edge style it does not know): straight through the waypoints,
        or through orthogonal ports for an orthogonal style."""
        source_box, source_perimeter, source_free = source
        target_box, target_perimeter, target_free = target
        orthogonal = values.get("edgeStyle") in _ORTHOGONAL
        target_ref = _center(target_box) if target_box else target_free
        source_ref = _center(source_box) if source_box else source_free
        start = self.end_point(
            values,
            "exit",
            source_box,
            source_perimeter,
            source_free,
            waypoints[0] if waypoints else target_ref,
            orthogonal,
        )
        end = self.end_point(
            values,
            "entry",
            target_box,
            target_perimeter,
            target_free,
            waypoints[-1] if waypoints else (start or source_ref),
            orthogonal,
        )
        if start is None:
            start = waypoints[0] if waypoints else (end or origin)
        if end is None:
            end = waypoints[-1] if waypoints else start
        points = [start, *waypoints, end]
        if orthogonal:
            points = _orthogonalise(points)
        return points

    def route_end(
        self,
        terminal_id: str | None,
        box: Geometry | None,
        perimeter: str | None,
        free: Point | None,
    ) -> End:
        terminal = self.by_id.get(terminal_id) if terminal_id else None
        on_edge = box is not None and terminal is not None and terminal.edge
        spacing = self.style_of(terminal)[1].number("perimeterSpacing", 0.0) if terminal else 0.0
        return End(box, perimeter or "rectanglePerimeter", free, on_edge, spacing)

    def end_point(
        self,
        values: dict[str, str],
        prefix: str,
        box: Geometry | None,
        perimeter: str | None,
        free: Point | None,
        toward: Point | None,
        orthogonal: bool,
    ) -> Point | None:
        if box is None:
            return free
        if f"{prefix}X" in values and f"{prefix}Y" in values:
            fx = _f(values.get(f"{prefix}X"), 0.5)
            fy = _f(values.get(f"{prefix}Y"), 0.5)
            return Point(
                box.x + fx * box.width + _f(values.get(f"{prefix}Dx")),
                box.y + fy * box.height + _f(values.get(f"{prefix}Dy")),
            )
        if toward is None:
            return _center(box)
        if orthogonal:
            return _orthogonal_port(box, toward)
        return perimeter_point(box, perimeter or "rectanglePerimeter", toward)

    # --- styles, labels -------------------------------------------------------------------

    def style_of(self, cell: _Cell) -> tuple[dict[str, str], Style]:
        if cell.style is not None:
            return cell.style
        key = (cell.attrs.get("style", ""), cell.edge)
        cached = self.context.style_cache.get(key)
        if cached is None:
            values = parse_style_string(key[0], is_edge=cell.edge)
            cached = (values, build_style(values))
            self.context.style_cache[key] = cached
        cell.style = cached
        return cached

    def label_of(self, cell: _Cell, style: Style) -> Label | None:
        raw = cell.wrapper.get("label") if cell.wrapper is not None else cell.attrs.get("value")
        return self.label_from(cell, raw, style)

    def translations_of(self, cell: _Cell, style: Style) -> dict[str, Label]:
        """The label's translations (``label_fr``, ...) by language code; an empty one is
        a translation too (draw.io shows an empty label for it)."""
        found: dict[str, Label] = {}
        for key, raw in (cell.wrapper or {}).items():
            language = translation_language(key)
            if language is not None:
                found[language] = self.label_from(cell, raw, style) or Label("", False, "")
        return found

    def label_from(self, cell: _Cell, raw: str | None, style: Style) -> Label | None:
        if not raw:
            return None
        if cell.wrapper is not None and cell.wrapper.get("placeholders") == "1":
            raw = self.replace_placeholders(cell, raw)
        if style.html:
            images = [
                self.context.images.resolve(html.unescape(src))
                for src in dict.fromkeys(_IMG_SRC.findall(raw))
            ]
            return Label(raw, True, html_to_plain(raw), images)
        return Label(raw, False, raw)

    def replace_placeholders(self, cell: _Cell, text: str) -> str:
        def value_of(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in ("%label%", "%tooltip%"):
                return token
            start = match.start()
            if start > 0 and text[start - 1] == "%":
                return token[1:]
            name = token[1:-1]
            if name == "id":
                return cell.id
            current: _Cell | None = cell
            guard = 0
            while current is not None and guard < 10_000:
                if current.wrapper is not None and name in current.wrapper:
                    return current.wrapper[name]
                current = self.by_id.get(current.parent) if current.parent else None
                guard += 1
            return self.context.globals.get(name, token)

        return _PLACEHOLDER.sub(value_of, text)

    # --- elements -------------------------------------------------------------------------

    def build(self, page: Page) -> None:
        if self.root is None:
            # every cell has a parent: an empty page, or parents that go round in a loop
            self.refuse_parent_loops(set())
            return
        root_wrapper = self.root.wrapper or {}
        page.properties = {k: v for k, v in root_wrapper.items() if k not in RESERVED_ATTRIBUTES}
        page.tags = root_wrapper.get("tags", "").split()
        page.layer_ids = [layer.id for layer in self.layers]
        stack: list[tuple[_Cell, list[str], str | None, bool]] = []
        for layer in reversed(self.root.children):
            if layer.id in self.layer_ids:
                shown = layer.attrs.get("visible") != "0"
                stack.append((layer, [], layer.id, shown))
            else:
                stack.append((layer, [], None, True))
        elements = page.elements
        visited: set[str] = set()
        while stack:
            cell, ancestors, layer_id, parent_shown = stack.pop()
            if cell.id in visited:
                continue
            visited.add(cell.id)
            if cell.id in self.layer_ids:
                child_ancestors: list[str] = []
                child_shown = parent_shown
            else:
                try:
                    element = self.element(cell, ancestors, layer_id, parent_shown)
                except (DrawioError, RecursionError):
                    raise
                except Exception as exc:
                    raise importer_fault(f"{self.context.where}, shape {cell.id}", exc) from exc
                elements.append(element)
                child_ancestors = [cell.id, *ancestors]
                child_shown = element.visible and not element.collapsed
            for child in reversed(cell.children):
                stack.append((child, child_ancestors, layer_id, child_shown))
        self.refuse_parent_loops(visited)
        _hide_dangling_edges(elements)
        add_line_jumps(elements)

    def refuse_parent_loops(self, visited: set[str]) -> None:
        """Shapes whose parents lead back to themselves hang from no layer: rather than
        leave them out unseen, say which (draw.io never writes such a file)."""
        lost = next(
            (c for c in self.by_id.values() if c.id not in visited and c is not self.root), None
        )
        if lost is None:
            return
        loop = [lost.id]
        current = self.by_id.get(lost.parent) if lost.parent else None
        while current is not None and current.id not in loop:
            loop.append(current.id)
            current = self.by_id.get(current.parent) if current.parent else None
        raise DrawioError(
            f"{self.context.where}: shapes {' -> '.join(loop)} are each other's parents "
            "(a loop that reaches no layer)"
        )

    def element(
        self, cell: _Cell, ancestors: list[str], layer_id: str | None, parent_shown: bool
    ) -> Element:
        """The page element of one cell: its style, shape, label, place and user data."""
        values, style = self.style_of(cell)
        image = None
        image_ref = values.get("image")
        if image_ref and not cell.edge:
            image = self.context.images.resolve(image_ref)
        kind, shape, stencil = shape_kind(values, is_edge=cell.edge, has_image=image is not None)
        label = self.label_of(cell, style)
        path, geometry, label_anchor = self.placement(cell)
        self_visible = cell.attrs.get("visible") != "0"
        data = _UserData.of(cell.wrapper)
        parent_id = (
            cell.parent if cell.parent and self.is_element(self.by_id.get(cell.parent)) else None
        )
        container = (
            style.flag("container")
            or kind in (ShapeKind.SWIMLANE, ShapeKind.GROUP)
            or (bool(cell.children) and any(c.vertex for c in cell.children))
        )
        element = Element(
            id=cell.id,
            kind=kind,
            shape=shape,
            geometry=geometry,
            style=style,
            parent_id=parent_id,
            layer_id=layer_id,
            ancestors=list(ancestors),
            rotation=style.rotation,
            label=label,
            label_anchor=label_anchor,
            image=image,
            link=data.link,
            properties=data.properties,
            kiosk_action=data.kiosk_action(),
            tags=data.tags,
            tooltip=data.tooltip,
            visible=parent_shown and self_visible,
            self_visible=self_visible,
            container=container,
            collapsed=cell.attrs.get("collapsed") == "1",
            edge=path,
            stencil=stencil,
            translations=self.translations_of(cell, style),
        )
        if data.notes:
            element.load_notes.extend(data.notes)
        return element

    def placement(self, cell: _Cell) -> tuple[EdgePath | None, Geometry, Point | None]:
        """A cell's route (connectors only), its box on the page, and where its label is
        anchored when not on its box (a connector's, or a label sitting on a connector)."""
        if cell.edge:
            path = self.edge_path(cell)
            geo = cell.geo or _Geo()
            return path, _bounds(path.points), edge_point(path, geo.x, geo.y, geo.offset)
        geometry = self.vertex_box(cell)
        parent = self.by_id.get(cell.parent) if cell.parent else None
        if parent is not None and parent.edge and cell.geo and cell.geo.relative:
            anchor = Point(geometry.x + geometry.width / 2, geometry.y + geometry.height / 2)
            return None, geometry, anchor
        return None, geometry, None


@dataclass(slots=True)
class _UserData:
    """What a cell's ``UserObject``/``object`` wrapper carries (Edit Data, Edit Link)."""

    properties: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    tooltip: str | None = None
    link: Link | None = None
    #: Why parts of the link were left out, for the validator.
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, wrapper: dict[str, str] | None) -> _UserData:
        """The user data of a wrapper's attributes; empty for a bare cell."""
        if wrapper is None:
            return cls()
        data = cls(
            {
                k: v
                for k, v in wrapper.items()
                if k not in RESERVED_ATTRIBUTES and translation_language(k) is None
            },
            wrapper.get("tags", "").split(),
            wrapper.get("tooltip") or None,
        )
        if wrapper.get("link"):
            data.link, data.notes = parse_link(wrapper["link"])
        return data

    def kiosk_action(self) -> KioskAction | None:
        """The ``kiosk-action`` property as an action with the other properties as its
        parameters; None without one."""
        action_name = self.properties.get("kiosk-action", "").strip()
        if not action_name:
            return None
        params = {k: v for k, v in self.properties.items() if k != "kiosk-action"}
        return KioskAction(action_name, params)


def _hide_dangling_edges(elements: list[Element]) -> None:
    # draw.io does not draw a connector whose end shape is hidden, nor that connector's labels.
    hidden = {e.id for e in elements if not e.visible}
    for element in elements:
        if not element.visible:
            continue
        path = element.edge
        if (path is not None and (path.source_id in hidden or path.target_id in hidden)) or (
            element.ancestors and any(a in hidden for a in element.ancestors)
        ):
            element.visible = False
            hidden.add(element.id)


def build_page(
    raw_id: str, name: str, index: int, model: etree._Element, context: PageContext
) -> Page:
    """The ``Page`` for one ``<mxGraphModel>``; its role is set later by the loader."""
    width = _f(model.get("pageWidth"), 827.0) or 827.0
    height = _f(model.get("pageHeight"), 1169.0) or 1169.0
    page = Page(
        id=raw_id,
        name=name,
        role="page",
        width=width,
        height=height,
        background=parse_colour(model.get("background"), "fillColor"),
        math=model.get("math") == "1",
        index=index,
        page_view=model.get("page") != "0",
    )
    background_image = model.get("backgroundImage")
    if background_image:
        page.background_image = _background_image(background_image, context)
        page.background_box = _background_box(background_image)
    cells = read_cells(model, context.where)
    builder = _PageBuilder(cells, context)
    try:
        builder.build(page)
    except RecursionError:
        raise DrawioError(f"{context.where}: shapes are nested too deeply") from None
    resolve_colour_references(page.elements)
    return page


def _background_box(raw: str) -> Geometry | None:
    """The box of a page's ``backgroundImage`` ({"src", "width", "height", "x", "y"}); None
    when it gives no size (the picture is then drawn at its own size)."""
    try:
        spec = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(spec, dict):
        return None
    x, y, width, height = (
        _f(None if spec.get(key) is None else str(spec.get(key)))
        for key in ("x", "y", "width", "height")
    )
    if not (width > 0 and height > 0):
        return None
    return Geometry(x, y, width, height)


def _background_image(raw: str, context: PageContext) -> ImageRef | None:
    try:
        spec = json.loads(raw)
    except ValueError:
        spec = {"src": raw}
    except RecursionError:
        # reported by the validator as the page's unavailable background picture
        return ImageRef(source=raw[:64], unavailable="its setting is JSON nested too deeply")
    src = spec.get("src") if isinstance(spec, dict) else None
    if not isinstance(src, str) or not src:
        return None
    return context.images.resolve(src)


# --- pure geometry ---------------------------------------------------------------------------


def _center(box: Geometry) -> Point:
    return Point(box.x + box.width / 2, box.y + box.height / 2)


def _bounds(points: list[Point]) -> Geometry:
    xs = [p.x for p in points]
    ys = [p.y for p in points]
    return Geometry(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def perimeter_point(box: Geometry, perimeter: str, toward: Point) -> Point:
    """Where the line from the box's centre to ``toward`` leaves the shape's outline."""
    cx = box.x + box.width / 2
    cy = box.y + box.height / 2
    dx = toward.x - cx
    dy = toward.y - cy
    hw = box.width / 2
    hh = box.height / 2
    if (dx == 0 and dy == 0) or hw <= 0 or hh <= 0:
        return Point(cx, cy)
    if perimeter.startswith("ellipse"):
        t = 1.0 / math.sqrt((dx / hw) ** 2 + (dy / hh) ** 2)
    elif perimeter.startswith("rhombus"):
        t = 1.0 / (abs(dx) / hw + abs(dy) / hh)
    else:
        tx = hw / abs(dx) if dx else math.inf
        ty = hh / abs(dy) if dy else math.inf
        t = min(tx, ty)
    return Point(cx + dx * t, cy + dy * t)


def _orthogonal_port(box: Geometry, toward: Point) -> Point:
    if box.x <= toward.x <= box.right:
        return Point(toward.x, box.y if toward.y < box.y else box.bottom)
    if box.y <= toward.y <= box.bottom:
        return Point(box.x if toward.x < box.x else box.right, toward.y)
    cx = box.x + box.width / 2
    cy = box.y + box.height / 2
    if abs(toward.x - cx) * max(box.height, 1.0) >= abs(toward.y - cy) * max(box.width, 1.0):
        return Point(box.right if toward.x > cx else box.x, cy)
    return Point(cx, box.bottom if toward.y > cy else box.y)


def _orthogonalise(points: list[Point]) -> list[Point]:
    """Insert elbows so every segment is horizontal or vertical."""
    if len(points) < 2:
        return points
    out = [points[0]]
    last = len(points) - 1
    for index in range(1, len(points)):
        a = out[-1]
        b = points[index]
        if abs(a.x - b.x) > 1e-6 and abs(a.y - b.y) > 1e-6:
            if index == 1 and last == 1:
                # Two free ends: a Z with the bend in the middle of the longer direction.
                if abs(b.x - a.x) >= abs(b.y - a.y):
                    mid = (a.x + b.x) / 2
                    out.extend([Point(mid, a.y), Point(mid, b.y)])
                else:
                    mid = (a.y + b.y) / 2
                    out.extend([Point(a.x, mid), Point(b.x, mid)])
            else:
                out.append(Point(b.x, a.y))
        out.append(b)
    return out


def edge_point(path: EdgePath, gx: float, gy: float, offset: Point | None) -> Point:
    """draw.io's point along an edge: ``gx`` in -1..1 from start to end, ``gy`` pixels
    across the route, plus ``offset`` (mxGraphView.getPoint)."""
    points = path.points
    ox = offset.x if offset else 0.0
    oy = offset.y if offset else 0.0
    if len(points) < 2:
        base = points[0] if points else Point(0.0, 0.0)
        return Point(base.x + ox, base.y + oy)
    segments = [math.hypot(b.x - a.x, b.y - a.y) for a, b in itertools.pairwise(points)]
    total = sum(segments)
    dist = (gx / 2 + 0.5) * total
    length = 0.0
    index = 0
    segment = segments[0]
    while dist >= length + segment and index < len(segments) - 1:
        length += segment
        index += 1
        segment = segments[index]
    factor = 0.0 if segment == 0 else (dist - length) / segment
    p0 = points[index]
    pe = points[index + 1]
    dx = pe.x - p0.x
    dy = pe.y - p0.y
    nx = 0.0 if segment == 0 else dy / segment
    ny = 0.0 if segment == 0 else dx / segment
    return Point(p0.x + dx * factor + nx * gy + ox, p0.y + dy * factor - ny * gy + oy)


def html_to_plain(text: str) -> str:
    """An HTML label as plain text: line breaks kept, tags dropped, entities decoded."""
    if "<" not in text and "&" not in text:
        return text
    plain = _BREAK_TAGS.sub("\n", text)
    plain = _TAGS.sub("", plain)
    plain = html.unescape(plain).replace("\xa0", " ")
    lines = [line.strip() for line in plain.split("\n")]
    return "\n".join(line for line in lines if line)
