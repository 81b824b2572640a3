"""The experience model: what a draw.io file means for the kiosk, fully resolved.

``Experience -> Page -> Element``. Everything a renderer needs is resolved here, so it never
re-parses draw.io: geometry is absolute page coordinates (parents, groups, containers and
relative geometry already applied), colours are ``"#rrggbb"`` strings (``None`` means "not
painted"), style keys are typed fields, labels are plain text or HTML with placeholders
substituted, images carry their bytes, links are typed.

Coordinates are draw.io's: x to the right, y down, in diagram units (1 unit = 1 px at 100 %).
A page's ``width``/``height`` are the draw.io page size; ``Page.content_bounds`` is the box of
what is actually drawn, which a renderer scales to the screen.

Notes for renderers:

- Draw ``Page.elements`` in list order (z-order) and fit ``Page.viewport`` to the screen.
- ``Element.visible`` is the initial state. A show/hide/toggle action changes
  ``self_visible`` of the named cells; an element is shown when its own flag and every
  ancestor's (``ancestors``) are set, and for a connector, when both end shapes are shown.
- A touch follows ``Page.link_for(element_id)`` (own link, else the nearest ancestor's).
- ``rotation`` turns the element around ``geometry.center``; flips mirror inside the box.
- ``ShapeKind.STENCIL`` is drawn as a plain rectangle with the label.
- Edges: ``edge.points`` is the full absolute route; their text and edge labels' text is
  centred on ``label_anchor``.

These are plain dataclasses; the bundle's ``manifest.json`` holds them as JSON
(``designer_import.serialize``). Field names are stable: new fields are added, none renamed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

#: Version of the model as written into a bundle's manifest.json.
SCHEMA_VERSION = 1

PageRole = Literal["attract", "welcome", "page"]
GradientDirection = Literal["south", "north", "east", "west", "radial"]
HorizontalAlign = Literal["left", "center", "right"]
VerticalAlign = Literal["top", "middle", "bottom"]
ActionVerb = Literal["show", "hide", "toggle"]


class ShapeKind(StrEnum):
    """What to draw for an element. Anything a native renderer cannot draw is ``STENCIL``:
    draw it as a plain rectangle with its label (``Element.shape`` names the original)."""

    RECTANGLE = "rectangle"
    ELLIPSE = "ellipse"
    DOUBLE_ELLIPSE = "doubleEllipse"
    RHOMBUS = "rhombus"
    TRIANGLE = "triangle"
    HEXAGON = "hexagon"
    PARALLELOGRAM = "parallelogram"
    TRAPEZOID = "trapezoid"
    CYLINDER = "cylinder"
    CLOUD = "cloud"
    DOCUMENT = "document"
    PROCESS = "process"
    STEP = "step"
    CARD = "card"
    NOTE = "note"
    CALLOUT = "callout"
    ACTOR = "actor"
    CROSS = "cross"
    PLUS = "plus"
    LINE = "line"
    ARROW = "arrow"
    SWIMLANE = "swimlane"
    #: Text only: no fill, no stroke unless the style sets one.
    TEXT = "text"
    #: An image filling the geometry (``Element.image``), label around it.
    IMAGE = "image"
    #: draw.io's "label" shape: a rounded box with an image on its left and text.
    LABEL = "label"
    #: An invisible grouping box (draw.io "group"); its children are separate elements.
    GROUP = "group"
    #: A connector; see ``Element.edge``.
    EDGE = "edge"
    #: A library stencil (``shape=mxgraph.*``) or a shape this renderer does not know.
    STENCIL = "stencil"


@dataclass(slots=True)
class Point:
    """A point in absolute page coordinates."""

    x: float
    y: float


@dataclass(slots=True)
class Geometry:
    """An axis-aligned box in absolute page coordinates (before ``Element.rotation``)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        """The middle of the box (the rotation centre)."""
        return Point(self.x + self.width / 2, self.y + self.height / 2)

    @property
    def right(self) -> float:
        """The x of the right edge."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """The y of the bottom edge."""
        return self.y + self.height

    def contains(self, point: Point) -> bool:
        """True when ``point`` lies inside or on the box."""
        return self.x <= point.x <= self.right and self.y <= point.y <= self.bottom


@dataclass(slots=True)
class Insets:
    """Text insets inside the label box, already summed as draw.io does
    (``spacing`` + ``spacingTop`` etc.)."""

    top: float = 0.0
    left: float = 0.0
    bottom: float = 0.0
    right: float = 0.0


@dataclass(slots=True)
class Gradient:
    """A two-colour gradient from ``Style.fill`` to ``color``."""

    color: str
    #: Where the gradient goes to; "south" = fill colour at the top, ``color`` at the bottom.
    direction: GradientDirection = "south"


@dataclass(slots=True)
class Style:
    """A parsed draw.io style, resolved as draw.io does.

    ``values`` holds every key after named styles were expanded (stylesheet defaults first,
    then the cell's own keys, last duplicate wins, ``key=none`` removed for keys that are not
    colours). The typed fields below are what a renderer needs; for rarer keys use
    ``get``/``number``/``flag``.
    """

    values: dict[str, str] = field(default_factory=dict)
    #: Fill colour, ``None`` = not filled.
    fill: str | None = None
    #: Outline colour, ``None`` = no outline.
    stroke: str | None = None
    stroke_width: float = 1.0
    gradient: Gradient | None = None
    #: Whole-shape opacity 0..1 (draw.io's ``opacity`` is 0..100).
    opacity: float = 1.0
    fill_opacity: float = 1.0
    stroke_opacity: float = 1.0
    text_opacity: float = 1.0
    dashed: bool = False
    #: Dash lengths in multiples of the stroke width (draw.io's ``dashPattern``), or None.
    dash_pattern: list[float] | None = None
    shadow: bool = False
    rounded: bool = False
    #: Corner size: percent of the shorter side, or pixels when ``absolute_arc_size``.
    arc_size: float = 15.0
    absolute_arc_size: bool = False
    flip_h: bool = False
    flip_v: bool = False
    #: Shape direction for triangles, arrows, ...: "east" (default), "north", "south", "west".
    direction: str = "east"
    font_family: str = "Helvetica"
    font_size: float = 12.0
    font_color: str | None = "#000000"
    bold: bool = False
    italic: bool = False
    underline: bool = False
    strikethrough: bool = False
    #: URL of a web font (``fontSource``); not available offline.
    font_source: str | None = None
    align: HorizontalAlign = "center"
    vertical_align: VerticalAlign = "middle"
    #: Where the label box sits relative to the shape (outside when not "center"/"middle").
    label_position: HorizontalAlign = "center"
    vertical_label_position: VerticalAlign = "middle"
    spacing: float = 2.0
    #: Total text insets (spacing + spacingTop/Left/Bottom/Right).
    text_insets: Insets = field(default_factory=Insets)
    #: ``whiteSpace=wrap``: wrap words to the label width.
    wrap: bool = False
    #: ``html=1``: the label is HTML.
    html: bool = False
    #: ``horizontal=0`` turns the text 90 degrees anticlockwise.
    horizontal: bool = True
    label_background: str | None = None
    label_border: str | None = None
    #: Rotation in degrees, clockwise around the centre.
    rotation: float = 0.0
    #: For IMAGE/LABEL shapes: keep the image's aspect ratio.
    image_aspect: bool = True
    image_width: float = 42.0
    image_height: float = 42.0
    image_align: HorizontalAlign = "left"
    image_vertical_align: VerticalAlign = "middle"
    #: Swimlane/container title height.
    start_size: float = 0.0

    def get(self, key: str, default: str | None = None) -> str | None:
        """The raw value of ``key``, or ``default``."""
        return self.values.get(key, default)

    def number(self, key: str, default: float) -> float:
        """``key`` as a float, or ``default`` when missing or not a number."""
        raw = self.values.get(key)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            return default
        return value if value == value else default  # NaN -> default

    def flag(self, key: str, default: bool = False) -> bool:
        """``key`` as draw.io's 0/1 flag."""
        raw = self.values.get(key)
        if raw is None:
            return default
        return raw.strip() not in ("0", "", "false")


@dataclass(slots=True)
class Label:
    """An element's label, placeholders already substituted."""

    #: The label: HTML when ``is_html``, else plain text (may contain newlines).
    text: str
    is_html: bool
    #: The label as plain text (tags stripped, entities decoded), for snippets and search.
    plain: str
    #: The pictures an HTML label shows (``<img src>``), by their ``src`` as written.
    images: list[ImageRef] = field(default_factory=list)


@dataclass(slots=True)
class ImageRef:
    """An image an element shows. Exactly one of: ``data`` (embedded or read from a file next
    to the drawing; ``path`` set in the latter case) or ``unavailable`` (why not)."""

    #: The reference as written in the file (data URIs shortened to their header).
    source: str
    data: bytes | None = None
    #: MIME type, e.g. "image/png", "image/svg+xml".
    mime: str | None = None
    #: The file it was read from (next to the drawing, or in a bundle's assets).
    path: Path | None = None
    #: Why there is no image: e.g. "web image (not available offline)".
    unavailable: str | None = None
    #: Pixel size when known from the image header.
    pixel_width: int | None = None
    pixel_height: int | None = None
    #: Content-addressed file name inside a bundle's ``assets/`` (set by build/bundle load).
    asset: str | None = None

    @property
    def available(self) -> bool:
        """True when the bytes are here."""
        return self.data is not None


@dataclass(slots=True)
class NavigateLink:
    """Touching the element goes to another page (draw.io: Edit Link -> page)."""

    page_id: str


@dataclass(slots=True)
class InPageAction:
    """One step of a draw.io custom link (``data:action/json``): show, hide or toggle the
    cells named in ``cells`` (``"*"``: every cell of the first layer) and every cell that
    carries all of ``tags`` (case ignored), except those named in ``exclude``
    (``excludeCells``), as draw.io's ``Graph.getCellsForAction`` picks them."""

    action: ActionVerb
    cells: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ActionLink:
    """Touching the element runs these in-page steps in order."""

    actions: list[InPageAction]


@dataclass(slots=True)
class ExternalLink:
    """A web or mail link: a kiosk does not browse, the validator reports it and the renderer
    ignores it."""

    url: str


@dataclass(slots=True)
class RejectedLink:
    """A link that is never followed (``javascript:``, malformed action JSON, ...)."""

    url: str
    reason: str


Link = NavigateLink | ActionLink | ExternalLink | RejectedLink


@dataclass(slots=True)
class KioskAction:
    """A kiosk action from "Edit Data": ``kiosk-action=show-product`` with its other
    properties as parameters (e.g. ``{"sku": "DOG-042"}``)."""

    name: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class EdgePath:
    """A connector's resolved route."""

    #: Absolute points from the start to the end: source point, waypoints, target point.
    points: list[Point]
    source_id: str | None = None
    target_id: str | None = None
    #: Arrow heads by draw.io name ("classic", "block", "open", "oval", ...), None = none.
    start_arrow: str | None = None
    end_arrow: str | None = None
    start_size: float = 6.0
    end_size: float = 6.0
    start_fill: bool = True
    end_fill: bool = True
    #: draw.io ``edgeStyle`` ("orthogonalEdgeStyle", ...), None = straight segments.
    edge_style: str | None = None
    curved: bool = False
    #: With ``jumpStyle``: the points draw.io draws through, ``(x, y, is_jump)``, where a
    #: jump is where an earlier connector crosses this one (``designer_import.line_jumps``).
    jumps: list[tuple[float, float, bool]] = field(default_factory=list)


@dataclass(slots=True)
class Element:
    """One drawn thing on a page (vertex, edge or edge label), in z-order."""

    #: The id on the ``UserObject``/``object`` wrapper when there is one, else the mxCell's.
    id: str
    kind: ShapeKind
    #: draw.io's shape name after style resolution ("ellipse", "mxgraph.aws4.lambda", ...).
    shape: str
    geometry: Geometry
    style: Style
    #: Parent element's id; None when the parent is a layer.
    parent_id: str | None = None
    #: The layer (draw.io cell directly under the root) this element sits in.
    layer_id: str | None = None
    #: Ancestor element ids, nearest first (for link lookup and hiding subtrees).
    ancestors: list[str] = field(default_factory=list)
    #: Degrees clockwise around ``geometry.center`` (same as ``style.rotation``).
    rotation: float = 0.0
    label: Label | None = None
    #: Where a connector's (or edge label's) text is centred; None for ordinary vertices.
    label_anchor: Point | None = None
    image: ImageRef | None = None
    link: Link | None = None
    #: "Edit Data" properties, except label/tooltip/link/tags/placeholders.
    properties: dict[str, str] = field(default_factory=dict)
    #: ``kiosk-action`` from the properties, typed.
    kiosk_action: KioskAction | None = None
    tags: list[str] = field(default_factory=list)
    tooltip: str | None = None
    #: Shown when the page opens: its own flag, its layer's, every ancestor's, and no
    #: collapsed container above it.
    visible: bool = True
    #: The cell's own ``visible`` flag (what show/hide/toggle actions change).
    self_visible: bool = True
    #: A container (has children drawn inside it).
    container: bool = False
    collapsed: bool = False
    edge: EdgePath | None = None
    #: For STENCIL elements: the stencil's name (``mxgraph.*`` or an unknown shape).
    stencil: str | None = None
    #: What the importer ignored on this element (e.g. unsupported link steps), for the
    #: validator.
    load_notes: list[str] = field(default_factory=list)
    #: The label in other languages, by language code: draw.io's ``label_fr``, ``label_de``,
    #: ... (Edit Data, as its ``translate-diagram`` mode writes them), placeholders
    #: substituted like ``label``'s; ``designer_import.languages`` reads them.
    translations: dict[str, Label] = field(default_factory=dict)

    @property
    def is_edge(self) -> bool:
        """True for connectors."""
        return self.edge is not None


@dataclass(slots=True)
class Page:
    """One draw.io page = one kiosk page."""

    id: str
    name: str
    role: PageRole
    #: draw.io page size (``pageWidth``/``pageHeight``).
    width: float
    height: float
    #: Page background colour; None = transparent/white.
    background: str | None
    #: Elements in z-order (first is drawn first).
    elements: list[Element] = field(default_factory=list)
    #: The layers' ids in draw.io's order (the first is the default parent ``"*"`` means).
    layer_ids: list[str] = field(default_factory=list)
    background_image: ImageRef | None = None
    #: Where the background picture goes, in page coordinates (draw.io's ``x``/``y``/
    #: ``width``/``height`` of the page's ``backgroundImage``); None = the picture's own size
    #: at the page's origin.
    background_box: Geometry | None = None
    #: Properties and tags from the page's "Edit Data" (the root cell's wrapper).
    properties: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    #: ``math=1``: labels may contain LaTeX/AsciiMath the kiosk does not typeset.
    math: bool = False
    #: Position in the file, 0-based.
    index: int = 0
    #: draw.io's "Page View" (``page="1"``): the page frame is the screen. Without it the
    #: drawing has no frame and ``viewport`` is the content's box.
    page_view: bool = True

    @property
    def viewport(self) -> Geometry:
        """The area of the drawing to fit on the kiosk screen: the page frame at (0, 0) when
        Page View is on, else the box around the visible content."""
        if self.page_view:
            return Geometry(0.0, 0.0, self.width, self.height)
        return self.content_bounds

    @property
    def content_bounds(self) -> Geometry:
        """The box around every visible element (the page box when there is none)."""
        boxes = [e.geometry for e in self.elements if e.visible]
        if not boxes:
            return Geometry(0.0, 0.0, self.width, self.height)
        x0 = min(b.x for b in boxes)
        y0 = min(b.y for b in boxes)
        x1 = max(b.right for b in boxes)
        y1 = max(b.bottom for b in boxes)
        return Geometry(x0, y0, x1 - x0, y1 - y0)

    def element(self, element_id: str) -> Element | None:
        """The element with this id, or None."""
        for candidate in self.elements:
            if candidate.id == element_id:
                return candidate
        return None

    def subtree(self, element_id: str) -> Iterator[Element]:
        """The element and all its descendants (what hiding it hides)."""
        for candidate in self.elements:
            if candidate.id == element_id or element_id in candidate.ancestors:
                yield candidate

    def tagged(self, tag: str) -> list[Element]:
        """Elements carrying ``tag``."""
        return [e for e in self.elements if tag in e.tags]

    def link_for(self, element_id: str) -> Link | None:
        """The link a touch on this element follows: its own, else the nearest ancestor's
        (draw.io follows a group's link from any of its children)."""
        found = self.element(element_id)
        if found is None:
            return None
        if found.link is not None:
            return found.link
        for ancestor_id in found.ancestors:
            ancestor = self.element(ancestor_id)
            if ancestor is not None and ancestor.link is not None:
                return ancestor.link
        return None


@dataclass(slots=True)
class FontFile:
    """A web font a drawing names (``fontFamily`` with ``fontSource``) and, when the file or
    its folder holds it, the font file's bytes (``designer_import.fonts``)."""

    family: str
    #: The ``fontSource`` URL the artist gave ("" when it was a data URI).
    source: str = ""
    #: The font file's name (next to the drawing, or made up for a data URI); None = missing.
    file: str | None = None
    #: The font file's bytes; None when the kiosk does not have it (drawn with the fallback).
    data: bytes | None = None
    #: Where it was read from (not in a bundle's manifest).
    path: Path | None = None
    #: The file name inside a bundle's ``assets/``.
    asset: str | None = None


@dataclass(slots=True)
class Experience:
    """A whole kiosk experience: the pages of one draw.io file."""

    pages: list[Page]
    #: The file (or bundle folder) it was loaded from.
    source_path: Path
    #: sha256 hex of the source file's bytes.
    source_hash: str
    #: Variables available to every label: "filename", "pagecount", ...
    globals: dict[str, str] = field(default_factory=dict)
    #: The container format: "drawio", "mxGraphModel", "svg", "png" or "bundle".
    source_format: str = "drawio"
    #: Web fonts the pages name, with their bytes when available.
    fonts: list[FontFile] = field(default_factory=list)

    def page(self, page_id: str) -> Page | None:
        """The page with this id, or None."""
        for candidate in self.pages:
            if candidate.id == page_id:
                return candidate
        return None

    @property
    def attract_pages(self) -> list[Page]:
        """The idle-loop pages, in file order."""
        return [p for p in self.pages if p.role == "attract"]

    @property
    def welcome_page(self) -> Page | None:
        """The first page a shopper sees after the attract loop."""
        for candidate in self.pages:
            if candidate.role == "welcome":
                return candidate
        return None
