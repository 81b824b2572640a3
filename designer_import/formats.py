"""The containers draw.io saves diagrams in, down to one ``<mxGraphModel>`` per page.

- ``.drawio`` / ``.xml``: ``<mxfile>`` with one ``<diagram>`` per page; a page is compressed
  when the ``<diagram>`` holds text (base64, then raw deflate, then URI-encoding) and plain when
  it holds an ``<mxGraphModel>``. A bare ``<mxGraphModel>`` root (old files) is one page.
- ``.drawio.svg``: the mxfile is the root ``svg@content``, XML-escaped or URI-encoded.
- ``.drawio.png``: a ``tEXt`` (``zTXt``, ``iTXt``) chunk with keyword ``mxfile``, URI-encoded,
  sometimes twice.

XML is parsed with entity resolution and network access off; documents that declare entities
are refused (no XXE, no billion laughs). Every problem is a ``DrawioError`` with one line.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import logging
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from lxml import etree

from designer_import.errors import DrawioError

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Inflated pages and PNG text larger than this are refused (a deflate bomb, not a drawing).
MAX_INFLATED_BYTES = 256 * 1024 * 1024
_SVG_TAG = "{http://www.w3.org/2000/svg}svg"


@dataclass(slots=True)
class RawPage:
    """One page as found in the file: its ``<diagram>`` attributes and its graph model."""

    id: str
    name: str
    model: etree._Element


@dataclass(slots=True)
class RawDocument:
    """All pages of a file, and the container format they came from."""

    pages: list[RawPage]
    source_format: str


def make_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=True,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Parse XML bytes safely; ``where`` names the file (and part) in errors."""
    if b"<!ENTITY" in data:
        raise DrawioError(f"{where}: declares XML entities; refused for safety")
    try:
        root = etree.fromstring(data, make_parser())
    except etree.XMLSyntaxError as exc:
        raise DrawioError(f"{where}: not well-formed XML ({_first_line(exc)})") from None
    except (etree.LxmlError, ValueError) as exc:
        raise DrawioError(f"{where}: cannot parse XML ({_first_line(exc)})") from None
    if root is None:
        raise DrawioError(f"{where}: empty XML document")
    # Any: lxml's stubs leave out DTD.iterentities, which the check needs.
    dtd: Any = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise DrawioError(f"{where}: declares XML entities; refused for safety")
    return root


def read_document(data: bytes, where: str) -> RawDocument:
    """Find the pages in a file's bytes, whatever the container."""
    if data.startswith(PNG_SIGNATURE):
        text = _png_mxfile(data, where)
        root = parse_xml(text.encode("utf-8"), f"{where} (embedded diagram)")
        return _document_from_root(root, where, "png")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise DrawioError(f"{where}: the file is empty")
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not stripped.startswith(b"<") and not utf16:
        raise DrawioError(f"{where}: not a draw.io file (neither XML nor PNG)")
    root = parse_xml(data, where)
    if root.tag in ("svg", _SVG_TAG):
        content = root.get("content")
        if not content:
            raise DrawioError(
                f"{where}: an SVG without an embedded diagram "
                "(export it from draw.io with 'Include a copy of my diagram')"
            )
        inner = _svg_content(content.strip(), where)
        return _document_from_root(inner, where, "svg")
    return _document_from_root(root, where, "drawio")


def _svg_content(content: str, where: str) -> etree._Element:
    if content[:3].lower() == "%3c":
        content = _uri_decode(content, f"{where} (svg content)")
    elif not content.startswith("<"):
        # Old exports stored the mxfile compressed, like a page.
        content = _inflate_text(content, f"{where} (svg content)")
    return parse_xml(content.encode("utf-8"), f"{where} (svg content)")


def _document_from_root(root: etree._Element, where: str, fmt: str) -> RawDocument:
    if root.tag == "mxGraphModel":
        return RawDocument([RawPage("page-1", "Page-1", root)], "mxGraphModel")
    if root.tag != "mxfile":
        raise DrawioError(f"{where}: not a draw.io file (root element <{_tag(root)}>)")
    pages: list[RawPage] = []
    for index, diagram in enumerate(root.iterchildren("diagram")):
        page_id = diagram.get("id") or f"page-{index + 1}"
        name = diagram.get("name") or f"Page-{index + 1}"
        label = f'{where}: page {index + 1} "{name}"'
        model = diagram.find("mxGraphModel")
        if model is None:
            text = (diagram.text or "").strip()
            if text:
                xml = _inflate_text(text, label)
                model = parse_xml(xml.encode("utf-8"), label)
                if model.tag != "mxGraphModel":
                    raise DrawioError(f"{label}: holds <{_tag(model)}>, not a diagram")
            else:
                model = etree.Element("mxGraphModel")
        pages.append(RawPage(page_id, name, model))
    if not pages:
        raise DrawioError(f"{where}: the file has no pages (<diagram> elements)")
    return RawDocument(pages, fmt)


def _inflate_text(text: str, where: str) -> str:
    """base64 -> raw deflate -> URI-decoding, as draw.io compresses a page."""
    try:
        raw = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise DrawioError(
            f"{where}: the compressed diagram is not valid base64 (truncated?)"
        ) from None
    inflated = _inflate(raw, -15, where)
    try:
        decoded = inflated.decode("utf-8")
    except UnicodeDecodeError:
        raise DrawioError(f"{where}: the compressed diagram is not UTF-8 text") from None
    decoded = decoded.strip()
    if decoded.startswith("<"):
        return decoded
    return _uri_decode(decoded, where)


def _inflate(raw: bytes, wbits: int, where: str) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, MAX_INFLATED_BYTES)
    except zlib.error:
        if wbits == -15:
            # A few tools wrap the deflate stream in a zlib header; draw.io reads those too.
            try:
                return _inflate(raw, 15, where)
            except DrawioError:
                pass
        raise DrawioError(f"{where}: the compressed diagram is not valid deflate data") from None
    if inflater.unconsumed_tail:
        limit = MAX_INFLATED_BYTES // (1024 * 1024)
        raise DrawioError(f"{where}: the compressed diagram inflates beyond {limit} MB; refused")
    if not inflater.eof:
        raise DrawioError(f"{where}: the compressed diagram is truncated")
    return out


def _uri_decode(text: str, where: str) -> str:
    try:
        return _unquote(text)
    except UnicodeDecodeError:
        raise DrawioError(f"{where}: the URI-encoded diagram is not valid UTF-8") from None


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text, errors="strict")``, the same text, in C for the common
    case (ASCII with valid ``%XX`` escapes: every compressed draw.io page), where unquote's
    Python loop over the escapes was a third of the corpus' load time. Anything else (a
    stray ``%``, non-ASCII text) goes through unquote itself."""
    if "%" not in text:
        return text
    if not text.isascii():
        return unquote(text, errors="strict")
    escaped = text.replace("\\", "\\\\").replace("%", "\\x")
    try:
        raw = codecs.escape_decode(escaped.encode("ascii"))[0]
    except ValueError:  # a % not followed by two hex digits: unquote keeps it as it is
        return unquote(text, errors="strict")
    return raw.decode("utf-8")


def _png_mxfile(data: bytes, where: str) -> str:
    """The ``mxfile`` text chunk of a PNG, URI-decoded."""
    pos = len(PNG_SIGNATURE)
    size = len(data)
    while pos + 8 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise DrawioError(f"{where}: the PNG is truncated (chunk {kind!r} is cut short)")
        text = _png_text_chunk(kind, body, where)
        if text is not None:
            return _unwrap_png_text(text, where)
        if kind == b"IEND":
            break
        pos += 12 + length
    raise DrawioError(
        f"{where}: a PNG without an embedded diagram "
        "(export it from draw.io with 'Include a copy of my diagram')"
    )


def _png_text_chunk(kind: bytes, body: bytes, where: str) -> str | None:
    if kind not in (b"tEXt", b"zTXt", b"iTXt"):
        return None
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or keyword not in (b"mxfile", b"mxGraphModel"):
        return None
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        if not rest:
            raise DrawioError(f"{where}: the PNG's zTXt diagram chunk is empty")
        return _inflate(rest[1:], 15, where).decode("latin-1")
    # iTXt: compression flag, method, language\0, translated keyword\0, UTF-8 text.
    if len(rest) < 2:
        raise DrawioError(f"{where}: the PNG's iTXt diagram chunk is damaged")
    compressed = rest[0] == 1
    tail = rest[2:]
    parts = tail.split(b"\x00", 2)
    if len(parts) != 3:
        raise DrawioError(f"{where}: the PNG's iTXt diagram chunk is damaged")
    payload = _inflate(parts[2], 15, where) if compressed else parts[2]
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise DrawioError(f"{where}: the PNG's diagram text is not UTF-8") from None


def _unwrap_png_text(text: str, where: str) -> str:
    # draw.io URI-encodes the mxfile, and some versions encoded it twice.
    for _ in range(3):
        stripped = text.strip()
        if stripped.startswith("<"):
            return stripped
        text = _uri_decode(stripped, where)
    stripped = text.strip()
    if stripped.startswith("<"):
        return stripped
    # The oldest PNGs hold a compressed page, like a <diagram>'s text.
    return _inflate_text(stripped, where)


def _tag(element: etree._Element) -> str:
    tag = element.tag
    return tag if isinstance(tag, str) else "?"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
