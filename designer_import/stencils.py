"""draw.io's library shapes (stencils): which ones the kiosk can draw, and their definitions.

A cell styled ``shape=mxgraph.<library>.<name>`` is a library shape. draw.io draws it in one
of two ways, and the kiosk follows both:

- from a stencil: a small drawing in draw.io's stencil XML (``<shape>`` with ``<background>``
  and ``<foreground>``: paths, rectangles, ellipses, fill and stroke). The libraries the kiosk
  ships are in ``stencil_libraries/`` (draw.io's own files, CC-BY 4.0, see the README there),
  looked up as draw.io's ``mxStencilRegistry`` does: ``mxgraph.signs.healthcare.eye`` is the
  shape named "Eye" in ``signs/healthcare.xml``, lower-cased, spaces as underscores. A drawing
  may also embed its own stencil (``shape=stencil(...)``, compressed like a page).
- in code (draw.io's ``Shapes.js`` and ``shapes/mx*.js``): ``CODE_SHAPES`` names the ones
  the kiosk draws in code too (``kiosk/screen/shapes/library.py``).

This module is plain Python: it reads and indexes the XML; ``kiosk/screen/shapes/stencils.py``
paints it.
Each library file is read once, on first use, and kept; the validator reads only its shapes'
names (``library_names``).
"""

from __future__ import annotations

import gzip
import html
import importlib.resources
import logging
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources.abc import Traversable

from lxml import etree

from designer_import.errors import DrawioError
from designer_import.formats import _inflate_text, parse_xml

log = logging.getLogger(__name__)

#: The folder (in this package) holding the shipped stencil libraries, gzip-compressed.
LIBRARY_FOLDER = "stencil_libraries"
#: The style value of a stencil embedded in the drawing: ``stencil(<compressed XML>)``.
EMBEDDED_PREFIX = "stencil("

#: Library shapes draw.io draws in code that ``kiosk/screen/shapes/library.py`` draws the same way
#: (lower-case lookup names).
CODE_SHAPES: frozenset[str] = frozenset(
    {
        # draw.io's own shapes drawn in code (kiosk/screen/shapes/core.py)
        "waypoint",
        "crossbar",
        "dimension",
        "endstate",
        "startstate",
        "curlybracket",
        "offpageconnector",
        "mxgraph.arrows2.arrow",
        "mxgraph.arrows2.uturnarrow",
        "mxgraph.basic.rect",
        "mxgraph.basic.partconcellipse",
        "mxgraph.basic.pie",
        "mxgraph.basic.arc",
        "mxgraph.floorplan.wall",
        "mxgraph.floorplan.wallcorner",
        "mxgraph.floorplan.wallu",
        "mxgraph.floorplan.window",
        "mxgraph.floorplan.doorleft",
        "mxgraph.floorplan.doorright",
        "mxgraph.floorplan.doordouble",
        "mxgraph.floorplan.stairs",
        "mxgraph.infographic.ribbonsimple",
        "mxgraph.infographic.barcallout",
        "mxgraph.infographic.cylinder",
        "mxgraph.infographic.circularcallout2",
        "mxgraph.aws4.resourceicon",
        "mxgraph.aws4.producticon",
        "mxgraph.aws4.group",
        "mxgraph.aws4.groupcenter",
        "mxgraph.c4.person",
        "mxgraph.dfd.datastoreid",
        "mxgraph.bpmn.event",
        "mxgraph.bpmn.gateway2",
        "mxgraph.bpmn.task",
        "mxgraph.infographic.bannersinglefold",
        "mxgraph.lean_mapping.physical_pull",
        "mxgraph.electrical.logic_gates.logic_gate",
        "mxgraph.mockup.containers.usermale",
    }
)


@dataclass(frozen=True, slots=True)
class StencilStep:
    """One instruction of a stencil drawing (``move``, ``fillstroke``, ``path``, ...) with its
    attributes; a ``path`` holds its own steps."""

    op: str
    attrs: Mapping[str, str]
    steps: tuple[StencilStep, ...] = ()

    def number(self, key: str, default: float = 0.0) -> float:
        """The attribute as a number (draw.io's ``Number()``: missing or bad -> default)."""
        raw = self.attrs.get(key)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            return default


@dataclass(frozen=True, slots=True)
class Stencil:
    """One stencil: its design size, aspect and stroke-width rules and its two drawings.

    ``stroke_width`` is draw.io's ``strokewidth`` attribute: ``"inherit"`` (the cell's own
    ``strokeWidth``) or a factor of the drawing's scale (default ``"1"``)."""

    name: str
    width: float
    height: float
    aspect_fixed: bool
    stroke_width: str
    background: tuple[StencilStep, ...]
    foreground: tuple[StencilStep, ...]


def lookup_name(shape: str) -> str:
    """draw.io's registry key for a shape name: lower case, spaces as underscores."""
    return shape.strip().replace(" ", "_").lower()


def library_name(shape: str) -> str:
    """The library a ``mxgraph.*`` shape belongs to (``mxgraph.signs.healthcare``)."""
    return shape.rsplit(".", 1)[0] if shape.count(".") >= 2 else shape


def library_file(shape: str) -> str | None:
    """The stencil file draw.io reads a shape from (``signs/healthcare.xml``), as
    ``mxStencilRegistry.getBasenameForStencil`` finds it; None for non-library names."""
    parts = lookup_name(shape).split(".")
    if len(parts) < 3 or parts[0] != "mxgraph":
        return None
    return "/".join(parts[1:-1]) + ".xml"


def _steps(parent: etree._Element | None) -> tuple[StencilStep, ...]:
    if parent is None:
        return ()
    out: list[StencilStep] = []
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        steps = _steps(child) if child.tag == "path" else ()
        attrs = {str(k): str(v) for k, v in child.attrib.items()}
        out.append(StencilStep(child.tag, attrs, steps))
    return tuple(out)


def stencil_from_xml(shape: etree._Element, name: str) -> Stencil:
    """A ``<shape>`` element as a ``Stencil`` (mxStencil.parseDescription)."""

    def size(key: str) -> float:
        try:
            value = float(shape.get(key) or 100)
        except ValueError:
            value = 100.0
        return value if value > 0 else 100.0

    return Stencil(
        name=name,
        width=size("w"),
        height=size("h"),
        aspect_fixed=shape.get("aspect") == "fixed",
        stroke_width=shape.get("strokewidth") or "1",
        background=_steps(shape.find("background")),
        foreground=_steps(shape.find("foreground")),
    )


def _library_root() -> Traversable:
    return importlib.resources.files(__package__ or "designer_import") / LIBRARY_FOLDER


@cache
def shipped_library_files() -> frozenset[str]:
    """The stencil files the kiosk ships (``floorplan.xml``, ``signs/healthcare.xml``, ...)."""
    found: set[str] = set()

    def walk(node: Traversable, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".xml.gz"):
                found.add(prefix + child.name.removesuffix(".gz"))

    walk(_library_root(), "")
    return frozenset(found)


@cache
def _library(filename: str) -> dict[str, etree._Element]:
    """One shipped library file's ``<shape>`` elements by lookup name (read once)."""
    node = _library_root()
    for part in f"{filename}.gz".split("/"):
        node = node / part
    return read_library(node, filename)


def read_library(node: Traversable, filename: str) -> dict[str, etree._Element]:
    """A gzip-compressed stencil library's ``<shape>`` elements by lookup name. A damaged
    file is logged as an error naming it and yields no shapes (its shapes are then drawn as
    plain outlines and named by the validator), never an exception."""
    try:
        data = gzip.decompress(node.read_bytes())
        root = parse_xml(data, f"stencil library {filename}")
    except (OSError, EOFError, zlib.error, DrawioError) as exc:
        log.error(
            "the kiosk's stencil library %s cannot be read (%s); its shapes are "
            "drawn as plain outlines: reinstall the kiosk",
            filename,
            exc,
        )
        return {}
    shapes: dict[str, etree._Element] = {}
    sets = [root] if root.tag == "shapes" else root.findall("shapes")
    for shape_set in sets:
        prefix = (shape_set.get("name") or "").lower()
        for shape in shape_set.findall("shape"):
            name = shape.get("name")
            if name:
                shapes[f"{prefix}.{lookup_name(name)}"] = shape
    return shapes


#: A ``<shapes ...>`` or ``<shape ...>`` start tag of a stencil library, and its attributes.
_START_TAG = re.compile(rb"<(shapes?)(?=[\s/>])([^>]*)>")
#: The ``name`` attribute among a start tag's attributes.
_NAME_ATTRIBUTE = re.compile(rb"""(?:^|\s)name\s*=\s*(["'])(.*?)\1""", re.DOTALL)
#: The characters an XML parser turns into spaces in an attribute value.
_ATTRIBUTE_WHITESPACE = str.maketrans("\t\n\r", "   ")


@cache
def library_names(filename: str) -> frozenset[str]:
    """The lookup names one shipped library file holds, the keys ``read_library`` gives,
    found by scanning its start tags instead of building its tree: a validation asks only
    whether a shape is there, and parsing every library a drawing names cost the first
    validation ~0.4 s (boot time). The shapes' drawings are read when a shape is drawn.
    A file that does not inflate, or declares entities, gets ``read_library``'s answer (and
    its error message); one that inflates to XML that is not well-formed is not caught here
    (its shapes are then drawn as outlines, with ``read_library``'s error logged). The
    shipped files give the same names both ways (a test)."""
    node = _library_root()
    for part in f"{filename}.gz".split("/"):
        node = node / part
    try:
        data = gzip.decompress(node.read_bytes())
    except (OSError, EOFError, zlib.error):
        return frozenset(_library(filename))
    if b"<!ENTITY" in data:
        return frozenset(_library(filename))
    return scan_library_names(data)


def scan_library_names(data: bytes) -> frozenset[str]:
    """The ``<prefix>.<lookup name>`` keys of a library's XML, from its start tags in
    order: each ``<shapes>`` sets the prefix (its name, lower case) for the named
    ``<shape>`` tags after it."""
    names: set[str] = set()
    prefix = ""
    for match in _START_TAG.finditer(data):
        tag, attributes = match.groups()
        found = _NAME_ATTRIBUTE.search(attributes)
        raw = found.group(2).decode("utf-8") if found is not None else ""
        value = html.unescape(raw.translate(_ATTRIBUTE_WHITESPACE))
        if tag == b"shapes":
            prefix = value.lower()
        elif value:
            names.add(f"{prefix}.{lookup_name(value)}")
    return frozenset(names)


@cache
def library_stencil(shape: str) -> Stencil | None:
    """The shipped stencil for a ``mxgraph.*`` shape name, or None when no shipped library
    holds it."""
    key = lookup_name(shape)
    filename = library_file(key)
    if filename is None or filename not in shipped_library_files():
        return None
    element = _library(filename).get(key)
    return stencil_from_xml(element, key) if element is not None else None


@cache
def embedded_stencil(value: str) -> Stencil | None:
    """The stencil a drawing embeds in its style (``stencil(<base64 deflate>)``, as draw.io's
    ``Graph.decompress``); None when it cannot be read (logged once per value)."""
    shape = _embedded_shape(value)
    return stencil_from_xml(shape, "embedded stencil") if shape is not None else None


@cache
def _embedded_shape(value: str) -> etree._Element | None:
    """The ``<shape>`` of an embedded stencil, or None (logged once per value)."""
    if not value.startswith(EMBEDDED_PREFIX) or not value.endswith(")"):
        return None
    body = value[len(EMBEDDED_PREFIX) : -1]
    try:
        text = _inflate_text(body, "embedded stencil")
        root = parse_xml(text.encode("utf-8"), "embedded stencil")
    except DrawioError as exc:
        log.warning("an embedded stencil cannot be read: %s", exc)
        return None
    return root if root.tag == "shape" else root.find(".//shape")


def find_stencil(shape: str) -> Stencil | None:
    """The stencil drawing for a cell's ``shape`` style value (library or embedded)."""
    if shape.startswith(EMBEDDED_PREFIX):
        return embedded_stencil(shape)
    return library_stencil(shape)


def has_stencil(shape: str) -> bool:
    """True when ``find_stencil(shape)`` finds a drawing, without building it (the validator
    asks for every shape of a drawing; the 75,000 steps of the corpus' stencils, kept in
    ``library_stencil``'s and ``embedded_stencil``'s caches, slowed every later garbage
    collection of the import)."""
    if shape.startswith(EMBEDDED_PREFIX):
        return _embedded_shape(shape) is not None
    key = lookup_name(shape)
    filename = library_file(key)
    if filename is None or filename not in shipped_library_files():
        return False
    return key in library_names(filename)


def is_drawn(shape: str) -> bool:
    """True when the kiosk draws this ``shape`` style value as draw.io does: a shipped or
    embedded stencil, or a library shape drawn in code."""
    return lookup_name(shape) in CODE_SHAPES or has_stencil(shape)


def left_out_options(shape: str, values: Mapping[str, str]) -> list[str]:
    """The style options of a library shape drawn in code that the kiosk leaves out of its
    drawing (as ``key=value``): ``mxgraph.basic.rect``'s double or frame outline, inner fill and
    folded corners, and a BPMN transaction's double outline. Empty when it is drawn whole."""
    key = lookup_name(shape)
    out: list[str] = []
    if key in ("mxgraph.basic.rect", "mxgraph.bpmn.task"):
        outline = values.get("rectOutline", "single")
        if outline != "single":
            out.append(f"rectOutline={outline}")
        inner = values.get("fillColor2", "none")
        if inner not in ("none", ""):
            out.append(f"fillColor2={inner}")
        for corner in ("rectStyle", "topLeftStyle", "topRightStyle", "bottomRightStyle"):
            if values.get(corner) == "fold":
                out.append(f"{corner}=fold")
        if values.get("bottomLeftStyle") == "fold":
            out.append("bottomLeftStyle=fold")
    if key == "mxgraph.bpmn.task" and values.get("bpmnShapeType") == "transaction":
        out.append("bpmnShapeType=transaction")
    return out
