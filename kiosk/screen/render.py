"""Pages of the experience model as Qt graphics scenes.

``PageScene`` holds one graphics item per drawn element, in z-order, in draw.io page
coordinates. An item's ``shape()`` is the outline as drawn (rotated, turned and flipped),
so Qt's own hit-testing answers "which shape is under this finger" exactly.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping

from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGradient,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QRadialGradient,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
    QTextOption,
    QTransform,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QStyleOptionGraphicsItem, QWidget

from designer_import.model import Element, ImageRef, Label, Page, ShapeKind, Style
from designer_import.styles import parse_colour
from kiosk.screen.fonts import qt_family
from kiosk.screen.shapes.outlines import (
    LINE_TOUCH_WIDTH,
    cylinder_depth,
    direction_transform,
    drawn_size,
    outline,
    partial_sides,
)

log = logging.getLogger(__name__)

#: draw.io's shadow: offset and colour.
SHADOW_OFFSET = QPointF(3.0, 3.0)
SHADOW_COLOR = QColor(0, 0, 0, 64)
#: ``overflow`` values that cut a label at its box.
CLIPPING = ("hidden", "fill", "width")
#: Kinds drawn without fill and outline unless the style asks for them.
UNFRAMED = {ShapeKind.TEXT, ShapeKind.GROUP, ShapeKind.IMAGE}


def qcolor(value: str | None, opacity: float = 1.0) -> QColor | None:
    """A ``#rrggbb`` string as a QColor with ``opacity`` (0..1); None stays None."""
    if not value:
        return None
    colour = QColor(value)
    if not colour.isValid():
        return None
    colour.setAlphaF(max(0.0, min(1.0, colour.alphaF() * opacity)))
    return colour


class Picture:
    """A decoded image: a raster QImage or an SVG renderer, drawn into a rectangle."""

    def __init__(self, ref: ImageRef, decoded: QImage | None = None) -> None:
        self.image: QImage | None = None
        self.svg: QSvgRenderer | None = None
        if decoded is not None and not decoded.isNull():
            self.image = decoded  # the same bytes, decoded already (on a worker)
            return
        data = ref.data or b""
        if ref.mime == "image/svg+xml" or data.lstrip()[:5] in (b"<?xml", b"<svg ", b"<svg>"):
            renderer = QSvgRenderer(data)
            if renderer.isValid():
                self.svg = renderer
        if self.svg is None:
            image = QImage.fromData(data)
            if not image.isNull():
                self.image = image

    @property
    def ok(self) -> bool:
        """True when the bytes decoded into something drawable."""
        return self.image is not None or self.svg is not None

    def natural_size(self) -> QSize:
        """The image's own size in pixels."""
        if self.image is not None:
            return self.image.size()
        if self.svg is not None:
            return self.svg.defaultSize()
        return QSize(0, 0)

    def draw(self, painter: QPainter, target: QRectF, keep_aspect: bool) -> None:
        """Draw into ``target``, letterboxed inside it when ``keep_aspect``."""
        size = self.natural_size()
        if keep_aspect and size.width() > 0 and size.height() > 0:
            scale = min(target.width() / size.width(), target.height() / size.height())
            w, h = size.width() * scale, size.height() * scale
            target = QRectF(
                target.x() + (target.width() - w) / 2, target.y() + (target.height() - h) / 2, w, h
            )
        if self.svg is not None:
            self.svg.render(painter, target)
        elif self.image is not None:
            painter.drawImage(target, self.image)


def _font(style: Style) -> QFont:
    font = QFont(qt_family(style.font_family))
    font.setPixelSize(max(1, round(style.font_size)))
    font.setBold(style.bold)
    font.setItalic(style.italic)
    font.setUnderline(style.underline)
    font.setStrikeOut(style.strikethrough)
    return font


_ALIGN = {
    "left": Qt.AlignmentFlag.AlignLeft,
    "center": Qt.AlignmentFlag.AlignHCenter,
    "right": Qt.AlignmentFlag.AlignRight,
}


_STYLE_ATTRIBUTE = re.compile(r"""(\bstyle\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_CSS_KEYWORD = re.compile(
    r"[\w-]+\s*:\s*(?:initial|inherit|unset|revert)\s*(?:!important\s*)?(?:;|$)", re.IGNORECASE
)


def without_css_keywords(html: str) -> str:
    """The label's HTML without CSS declarations whose value is a CSS-wide keyword
    (``background-color: initial`` is "no background" in a browser; Qt reads it as black),
    so that they fall back to what the label's style gives, as in draw.io."""

    def clean(match: re.Match[str]) -> str:
        return (
            match.group(1) + match.group(2) + _CSS_KEYWORD.sub("", match.group(3)) + match.group(2)
        )

    return _STYLE_ATTRIBUTE.sub(clean, html) if "style" in html else html


#: draw.io's extra space above top-aligned text and below bottom-aligned text.
BASE_SPACING_TOP = 5.0
BASE_SPACING_BOTTOM = 1.0
#: draw.io lays text out with CSS ``line-height: 1.2`` (``mxConstants.LINE_HEIGHT``).
LINE_HEIGHT = 1.2


def _css_line_height(doc: QTextDocument) -> None:
    """Space the lines ``LINE_HEIGHT`` times the font size apart, as draw.io does, instead of
    the font's own line spacing (a proportion of each line's natural height, so lines in a
    larger font keep their larger spacing)."""
    font = doc.defaultFont()
    natural = QFontMetricsF(font).height()
    if natural <= 0:
        return
    size = font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * 96 / 72
    block_format = QTextBlockFormat()
    block_format.setLineHeight(
        100.0 * LINE_HEIGHT * size / natural,
        QTextBlockFormat.LineHeightTypes.ProportionalHeight.value,
    )
    cursor = QTextCursor(doc)
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.mergeBlockFormat(block_format)


def _outer_block_margins(doc: QTextDocument) -> None:
    """Keep the first block's top margin and the last block's bottom margin (a heading's or
    a paragraph's), which Qt drops at the document's edges while the browser draw.io uses
    keeps them inside the label (its ``<h1>`` starts 0.67em down)."""
    first, last = doc.firstBlock(), doc.lastBlock()
    top, bottom = first.blockFormat().topMargin(), last.blockFormat().bottomMargin()
    if top <= 0 and bottom <= 0:
        return
    frame = doc.rootFrame()
    frame_format = frame.frameFormat()
    frame_format.setTopMargin(frame_format.topMargin() + max(0.0, top))
    frame_format.setBottomMargin(frame_format.bottomMargin() + max(0.0, bottom))
    frame.setFrameFormat(frame_format)


def _label_document(label: Label, style: Style) -> QTextDocument:
    """The label's text (plain, or HTML with its pictures) in the style's font, alignment
    and wrapping, with CSS line heights and outer margins kept as draw.io shows them."""
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(_font(style))
    option = QTextOption(_ALIGN.get(style.align, Qt.AlignmentFlag.AlignHCenter))
    option.setWrapMode(QTextOption.WrapMode.WordWrap if style.wrap else QTextOption.WrapMode.NoWrap)
    doc.setDefaultTextOption(option)
    if label.is_html:
        for picture in label.images:
            # the label's <img> pictures, looked up by their src as written
            if picture.data is not None:
                decoded = QImage.fromData(picture.data)
                if not decoded.isNull():
                    doc.addResource(
                        QTextDocument.ResourceType.ImageResource, QUrl(picture.source), decoded
                    )
        doc.setHtml(without_css_keywords(label.text))
    else:
        doc.setPlainText(label.text)
    _css_line_height(doc)
    _outer_block_margins(doc)
    return doc


def _label_box(box: QRectF, style: Style) -> QRectF:
    """The box the text is laid out in: ``box`` less the style's spacing, turned for a
    vertical label (laid out in the turned box, drawn turned 90 degrees anticlockwise)."""
    insets = style.text_insets
    if style.get("overflow") in ("fill", "width"):
        # draw.io (legacySpacing) places these labels without their spacing
        laid_out = QRectF(box)
    else:
        laid_out = box.adjusted(insets.left, insets.top, -insets.right, -insets.bottom)
    if not style.horizontal:
        c = laid_out.center()
        laid_out = QRectF(0, 0, laid_out.height(), laid_out.width())
        laid_out.moveCenter(c)
    return laid_out


class LabelBlock:
    """An element's label laid out once: plain or HTML text, font, colour, alignment,
    wrapping and insets, placed in its label box."""

    def __init__(self, element: Element, box: QRectF) -> None:
        style = element.style
        label = element.label
        assert label is not None
        self.style = style
        self.doc = _label_document(label, style)
        self.colour = qcolor(style.font_color, style.text_opacity) or QColor(0, 0, 0)
        self.box = _label_box(box, style)
        if style.wrap and self.box.width() > 0:
            self.doc.setTextWidth(self.box.width())
        else:
            self.doc.setTextWidth(self.doc.idealWidth())
        size = self.doc.size()
        self.origin = self._text_origin(size)
        self.bounds = QRectF(self.origin, size)
        #: ``overflow=hidden|fill|width``: the text is cut at its box, as draw.io cuts it.
        self.clip: QRectF | None = None
        if style.get("overflow") in CLIPPING and self.box.width() > 0 and self.box.height() > 0:
            self.clip = QRectF(self.box)
            self.bounds = self.bounds.intersected(self.clip)
        self.turn: QTransform | None = None
        if not style.horizontal:
            turn = QTransform()
            c = self.box.center()
            turn.translate(c.x(), c.y()).rotate(-90).translate(-c.x(), -c.y())
            self.bounds = turn.mapRect(self.bounds)
            self.turn = turn

    def _text_origin(self, size: QSizeF) -> QPointF:
        """Where the laid-out text of ``size`` starts in the label box, by the style's
        alignment and draw.io's base spacing."""
        style = self.style
        x = self.box.x()
        if style.align == "center":
            x += (self.box.width() - size.width()) / 2
        elif style.align == "right":
            x += self.box.width() - size.width()
        y = self.box.y()
        if style.vertical_align == "middle":
            y += (self.box.height() - size.height()) / 2
        elif style.vertical_align == "bottom":
            y += self.box.height() - size.height()
        if style.horizontal and style.get("overflow") not in ("fill", "width"):
            # draw.io's extra spacing above top-aligned and below bottom-aligned text
            # (mxText.baseSpacingTop/baseSpacingBottom as draw.io sets them)
            y += {"top": BASE_SPACING_TOP, "bottom": -BASE_SPACING_BOTTOM}.get(
                style.vertical_align, 0.0
            )
        return QPointF(x, y)

    def paint(self, painter: QPainter) -> None:
        """Draw the text (and its background/border) in item coordinates."""
        painter.save()
        if self.turn is not None:
            painter.setTransform(self.turn, True)
        if self.clip is not None:
            painter.setClipRect(self.clip, Qt.ClipOperation.IntersectClip)
        text_box = QRectF(self.origin, self.doc.size())
        # the background covers the text, not the whole width a wrapped label may take
        ink_width = min(self.doc.idealWidth(), text_box.width())
        if self.style.align == "center":
            text_box.setX(text_box.x() + (text_box.width() - ink_width) / 2)
        elif self.style.align == "right":
            text_box.setX(text_box.right() - ink_width)
        text_box.setWidth(ink_width)
        background = qcolor(self.style.label_background)
        border = qcolor(self.style.label_border)
        if background is not None or border is not None:
            painter.setPen(QPen(border) if border is not None else Qt.PenStyle.NoPen)
            painter.setBrush(background if background is not None else Qt.BrushStyle.NoBrush)
            painter.drawRect(text_box.adjusted(-2, -1, 2, 1))
        painter.translate(self.origin)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, self.colour)
        self.doc.documentLayout().draw(painter, context)
        painter.restore()


def label_box(element: Element, w: float, h: float) -> QRectF:
    """Where an element's label goes, in box coordinates (outside the shape when the
    style's label position says so)."""
    style = element.style
    if element.kind == ShapeKind.SWIMLANE and style.start_size > 0:
        # the title bar: along the top, or down the left side when the text is turned
        if not style.horizontal:
            return QRectF(0, 0, min(w, style.start_size), h)
        return QRectF(0, 0, w, min(h, style.start_size))
    dx = {"left": -w, "center": 0.0, "right": w}[style.label_position]
    dy = {"top": -h, "middle": 0.0, "bottom": h}[style.vertical_label_position]
    return QRectF(dx, dy, w, h)


def label_image_box(style: Style, w: float, h: float) -> QRectF:
    """Where the ``label`` shape (and the ``icon`` style) draws its image: ``imageWidth`` x
    ``imageHeight`` placed by ``imageAlign``/``imageVerticalAlign``, ``spacing`` + 5 from the
    sides (draw.io's ``mxLabel.getImageBounds``). The text is placed by the style's own
    insets (the ``label`` style's ``spacingLeft=52`` leaves room for the image)."""
    iw, ih = style.image_width, style.image_height
    spacing = style.spacing + 5
    x = {"center": (w - iw) / 2, "right": w - iw - spacing}.get(style.image_align, spacing)
    y = {"top": spacing, "bottom": h - ih - spacing}.get(style.image_vertical_align, (h - ih) / 2)
    return QRectF(x, y, iw, ih)


def _brush(style: Style, rect: QRectF) -> QBrush | None:
    fill = qcolor(style.fill, style.fill_opacity)
    if fill is None:
        return None
    gradient = style.gradient
    if gradient is None:
        return QBrush(fill)
    to = qcolor(gradient.color, style.fill_opacity) or fill
    grad: QGradient
    if gradient.direction == "radial":
        grad = QRadialGradient(rect.center(), max(rect.width(), rect.height()) / 2)
    else:
        start, end = {
            "south": (rect.topLeft(), rect.bottomLeft()),
            "north": (rect.bottomLeft(), rect.topLeft()),
            "east": (rect.topLeft(), rect.topRight()),
            "west": (rect.topRight(), rect.topLeft()),
        }[gradient.direction]
        grad = QLinearGradient(start, end)
    grad.setColorAt(0, fill)
    grad.setColorAt(1, to)
    return QBrush(grad)


def _pen(style: Style) -> QPen | None:
    colour = qcolor(style.stroke, style.stroke_opacity)
    if colour is None or style.stroke_width <= 0:
        return None
    pen = QPen(colour, style.stroke_width)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin if style.rounded else Qt.PenJoinStyle.MiterJoin)
    if style.dashed:
        pattern = style.dash_pattern or [3.0, 3.0]
        if len(pattern) % 2:
            pattern = pattern * 2
        pen.setDashPattern([max(0.1, p) for p in pattern])
    return pen


def table_grid(page: Page, table: Element) -> list[QLineF]:
    """A draw.io table's lines between its rows and between the first row's cells, in the
    table's box coordinates (``rowLines``/``columnLines`` turn them off)."""
    children: dict[str, list[Element]] = {}
    for element in page.elements:
        if element.parent_id is not None:
            children.setdefault(element.parent_id, []).append(element)
    box = table.geometry
    rows = sorted(children.get(table.id, []), key=lambda e: e.geometry.y)
    lines: list[QLineF] = []
    if table.style.flag("rowLines", True):
        for row in rows[1:]:
            y = row.geometry.y - box.y
            lines.append(QLineF(0, y, box.width, y))
    if rows and table.style.flag("columnLines", True):
        cells = sorted(children.get(rows[0].id, []), key=lambda e: e.geometry.x)
        for cell in cells[1:]:
            x = cell.geometry.x - box.x
            lines.append(QLineF(x, 0, x, box.height))
    return lines


def _image_frame(style: Style) -> tuple[QBrush | None, QPen | None]:
    """An image shape's background and border (``imageBackground``, ``imageBorder``)."""
    background = qcolor(parse_colour(style.get("imageBackground")), style.fill_opacity)
    border = qcolor(parse_colour(style.get("imageBorder"), "strokeColor"), style.stroke_opacity)
    pen = None
    if border is not None and style.stroke_width > 0:
        pen = QPen(border, style.stroke_width)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return (QBrush(background) if background is not None else None), pen


def guarded_paint(
    item: QGraphicsItem, painter: QPainter, paint: Callable[[QPainter], None]
) -> None:
    """Paint one item; an item whose painting fails is logged once and then left out, so
    one bad shape can never keep the whole page (or the kiosk) from drawing."""
    if getattr(item, "paint_failed", False):
        return
    painter.save()
    try:
        paint(painter)
    except Exception as exc:
        element = getattr(item, "element", None)
        element_id = getattr(element, "id", "?")
        log.exception("cannot draw element %s; left out", element_id)
        item.paint_failed = True  # type: ignore[attr-defined]
        scene = item.scene()
        if isinstance(scene, PageScene):
            scene.errors.append(f"element {element_id}: cannot draw: {exc!r}")
    finally:
        painter.restore()


class GuardedItem(QGraphicsItem):
    """A page item that paints through :func:`guarded_paint`: a subclass draws in
    ``_paint(painter)``, and a failure there leaves the item out instead of the page."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        """Draw the item (its ``_paint``), guarded."""
        guarded_paint(self, painter, self._paint)

    def _paint(self, painter: QPainter) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no _paint")


class ElementItem(GuardedItem):
    """One element of a page: its outline, fill, picture and label."""

    def __init__(self, element: Element, decoded: QImage | None = None) -> None:
        super().__init__()
        self.element = element
        geometry = element.geometry
        w, h = max(0.0, geometry.width), max(0.0, geometry.height)
        self.setPos(geometry.x, geometry.y)
        self.setOpacity(element.style.opacity)
        if element.rotation:
            turn = QTransform()
            turn.translate(w / 2, h / 2).rotate(element.rotation).translate(-w / 2, -h / 2)
            self.setTransform(turn)
        style = element.style
        self.path = outline(element.kind, style, w, h)
        self.box = QRectF(0, 0, w, h)
        framed = element.kind not in UNFRAMED
        if element.kind == ShapeKind.IMAGE:
            # draw.io's image shape paints imageBackground/imageBorder, never the fill and
            # stroke colours every vertex inherits from the default style
            self.brush, self.pen = _image_frame(style)
        else:
            self.brush = _brush(style, self.box) if framed or style.fill else None
            self.pen = _pen(style) if framed or style.stroke else None
        #: What the outline stroke follows: the outline, or only some sides of it.
        self.stroke_path = (
            direction_transform(element.kind, style, w, h).map(
                partial_sides(style, *drawn_size(element.kind, style, w, h))
            )
            if element.shape in ("partialRectangle", "tableRow")
            else self.path
        )
        #: A table's lines between rows and columns (set by the page, which knows the rows).
        self.grid_lines: list[QLineF] = []
        self.picture: Picture | None = None
        if element.image is not None and element.image.available:
            picture = Picture(element.image, decoded)
            self.picture = picture if picture.ok else None
        self.label = (
            LabelBlock(element, label_box(element, w, h))
            if element.label is not None
            and (element.label.plain.strip() or element.label.images)
            and not style.flag("noLabel")
            else None
        )
        self._bounds = self.path.boundingRect().united(self.box)
        if self.label is not None:
            self._bounds = self._bounds.united(self.label.bounds)
        margin = (self.pen.widthF() if self.pen else 0.0) + 4.0
        self._bounds = self._bounds.adjusted(-margin, -margin, margin, margin)
        self._touchable: QPainterPath | None = None

    def boundingRect(self) -> QRectF:
        """Everything this item paints."""
        return self._bounds

    def shape(self) -> QPainterPath:
        """The touchable area: the outline as drawn (a text's box for text). Made on the
        first touch and kept: every touch on the page hit-tests it, and nothing it comes
        from changes after the item is built."""
        touchable = self._touchable
        if touchable is None:
            touchable = self._touchable = self._make_shape()
        return touchable

    def _make_shape(self) -> QPainterPath:
        if self.element.kind in (ShapeKind.TEXT, ShapeKind.GROUP, ShapeKind.IMAGE):
            path = QPainterPath()
            path.addRect(self.box)
            return path
        if self.element.kind == ShapeKind.LINE:
            # a line is touched within a band along it, at least LINE_TOUCH_WIDTH wide
            stroker = QPainterPathStroker()
            stroker.setWidth(max(LINE_TOUCH_WIDTH, self.element.style.stroke_width))
            return stroker.createStroke(self.path)
        return self.path

    def _paint(self, painter: QPainter) -> None:
        """Draw shadow, fill, outline, picture, decorations and label."""
        element = self.element
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if element.kind == ShapeKind.IMAGE:
            # background, picture, then the border over the picture's edge (as draw.io)
            if self.brush is not None:
                painter.fillRect(self.box, self.brush)
            if self.picture is not None:
                self._draw_picture(painter)
            if self.pen is not None:
                painter.strokePath(self.path, self.pen)
        elif self.brush is not None or self.pen is not None:
            self._paint_shape(painter)
        if self.picture is not None and element.kind != ShapeKind.IMAGE:
            self._draw_picture(painter)
        elif element.kind == ShapeKind.IMAGE and self.picture is None and self.pen is None:
            # a picture that cannot be shown: a plain box keeps the layout readable
            painter.setPen(QPen(QColor(150, 150, 150), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(240, 240, 240))
            painter.drawRect(self.box)
        if self.label is not None:
            self.label.paint(painter)

    def _paint_shape(self, painter: QPainter) -> None:
        """The shadow, the filled parts, the outline, grid lines and decorations."""
        parts = self._filled_parts()
        if self.element.style.shadow:
            # the shadow of what is filled (a swimlane's open body casts none)
            shadowed = parts if parts or self._is_lane() else [(self.path, SHADOW_COLOR)]
            for path, _fill in shadowed:
                painter.fillPath(path.translated(SHADOW_OFFSET), SHADOW_COLOR)
        for path, fill in parts:
            painter.fillPath(path, fill)
        if self.pen is not None:
            painter.strokePath(self.stroke_path, self.pen)
            painter.setPen(self.pen)
            painter.drawLines(self.grid_lines)
            painter.save()  # the decorations turn the painter; the label must not
            self._decorate(painter)
            painter.restore()

    def _is_lane(self) -> bool:
        """A swimlane, or a table with a title row (draw.io's TableShape draws it as one)."""
        element = self.element
        return element.kind == ShapeKind.SWIMLANE or (
            element.shape == "table" and element.style.start_size > 0
        )

    def _filled_parts(self) -> list[tuple[QPainterPath, QBrush | QColor]]:
        """What is filled, with what: the outline with the fill; a swimlane (and a table
        with a title row) only its title bar with the fill colour and its body with
        ``swimlaneFillColor`` (none by default), as draw.io does."""
        style = self.element.style
        if not self._is_lane():
            return [(self.path, self.brush)] if self.brush is not None else []
        w, h = self.box.width(), self.box.height()
        start = max(0.0, style.start_size)
        if style.horizontal:
            head, body = QRectF(0, 0, w, min(h, start)), QRectF(0, min(h, start), w, h)
        else:
            head, body = QRectF(0, 0, min(w, start), h), QRectF(min(w, start), 0, w, h)
        parts: list[tuple[QPainterPath, QBrush | QColor]] = []
        body_colour = qcolor(
            parse_colour(style.get("swimlaneFillColor"), "swimlaneFillColor"), style.fill_opacity
        )
        if body_colour is not None:
            clip = QPainterPath()
            clip.addRect(body)
            parts.append((self.path.intersected(clip), body_colour))
        if self.brush is not None:
            clip = QPainterPath()
            clip.addRect(head)
            parts.append((self.path.intersected(clip), self.brush))
        return parts

    def _draw_picture(self, painter: QPainter) -> None:
        assert self.picture is not None
        style = self.element.style
        keep_aspect = style.image_aspect
        if self.element.kind == ShapeKind.LABEL:
            target = label_image_box(style, self.box.width(), self.box.height())
            keep_aspect = False  # draw.io stretches a label's image to imageWidth/Height
        else:
            target = self.box
        painter.save()
        if style.flip_h or style.flip_v:
            c = target.center()
            painter.translate(c)
            painter.scale(-1 if style.flip_h else 1, -1 if style.flip_v else 1)
            painter.translate(-c)
        self.picture.draw(painter, target, keep_aspect)
        painter.restore()

    def _decorate(self, painter: QPainter) -> None:
        """The inner lines some shapes have (cylinder rim, process bars, note fold, ...)."""
        kind, style = self.element.kind, self.element.style
        if kind == ShapeKind.SWIMLANE:
            w, h = self.box.width(), self.box.height()
        else:
            # drawn in the built box, turned and flipped like the outline
            w, h = drawn_size(kind, style, self.box.width(), self.box.height())
            painter.setTransform(
                direction_transform(kind, style, self.box.width(), self.box.height()), True
            )
        assert self.pen is not None
        painter.setPen(self.pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if kind == ShapeKind.CYLINDER:
            dy = cylinder_depth(style, h)
            rim = QPainterPath(QPointF(0, dy))
            rim.arcTo(QRectF(0, 0, w, 2 * dy), 180, 180)
            painter.drawPath(rim)
        elif kind == ShapeKind.PROCESS:
            dx = w * min(max(style.number("size", 0.1), 0.0), 0.5)
            painter.drawLine(QPointF(dx, 0), QPointF(dx, h))
            painter.drawLine(QPointF(w - dx, 0), QPointF(w - dx, h))
        elif kind == ShapeKind.DOUBLE_ELLIPSE:
            inset = min(w, h) * 0.1 if style.number("margin", 0) == 0 else style.number("margin", 0)
            painter.drawEllipse(self.box.adjusted(inset, inset, -inset, -inset))
        elif kind == ShapeKind.NOTE:
            s = max(0.0, min(style.number("size", 30.0), w, h))
            painter.drawPolyline([QPointF(w - s, 0), QPointF(w - s, s), QPointF(w, s)])
        elif kind == ShapeKind.PLUS:
            m = min(w, h) / 4
            painter.drawLine(QPointF(w / 2, h / 2 - m), QPointF(w / 2, h / 2 + m))
            painter.drawLine(QPointF(w / 2 - m, h / 2), QPointF(w / 2 + m, h / 2))
        elif (
            kind == ShapeKind.SWIMLANE and style.start_size > 0 and style.flag("swimlaneLine", True)
        ):
            if style.horizontal:
                y = min(h, style.start_size)
                painter.drawLine(QPointF(0, y), QPointF(w, y))
            else:
                x = min(w, style.start_size)
                painter.drawLine(QPointF(x, 0), QPointF(x, h))


def make_item(element: Element, decoded: QImage | None = None) -> QGraphicsItem:
    """The graphics item for one element; ``decoded`` is its picture decoded already."""
    if element.edge is not None:
        from kiosk.screen.edges import EdgeItem  # edges.py draws with this module's parts

        return EdgeItem(element)
    if element.kind == ShapeKind.STENCIL:
        from kiosk.screen.shapes.stencils import (
            StencilItem,  # stencils.py draws with this module's parts
        )

        return StencilItem(element, decoded)
    return ElementItem(element, decoded)


#: The key of a page's background picture among a scene's decoded pictures.
BACKDROP = "#backdrop"


class PageScene(QGraphicsScene):
    """One page's items; ``items_by_id`` maps element ids to their items.

    Built whole by default; ``build=False`` makes an empty scene whose items :meth:`build`
    adds a few elements at a time (the shopper screen builds the pages one touch away in
    small slices while the UI thread is idle). A scene built with ``indexed=False`` (no item
    index: its upkeep runs on timers) may be built and rendered on a worker thread, which
    has no event loop, as long as no other thread touches it meanwhile.
    """

    def __init__(
        self,
        page: Page,
        *,
        build: bool = True,
        indexed: bool = True,
        decoded: Mapping[str, QImage] | None = None,
    ) -> None:
        super().__init__()
        #: Pictures decoded already (another scene's), by element id (BACKDROP: the page's).
        self._decoded = decoded or {}
        if not indexed:
            self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.page = page
        self.background = qcolor(page.background) or QColor(255, 255, 255)
        self.setBackgroundBrush(self.background)
        viewport = page.viewport
        self.viewport_rect = QRectF(viewport.x, viewport.y, viewport.width, viewport.height)
        self.setSceneRect(self.viewport_rect)
        self.items_by_id: dict[str, QGraphicsItem] = {}
        #: Elements that could not be built or painted (each also logged), so that tests and
        #: the fidelity benchmark can see what the kiosk left out.
        self.errors: list[str] = []
        #: Where the background picture goes: its box on the page, else its own size at
        #: the page's origin (draw.io's backgroundImage x, y, width, height).
        self.backdrop_box = QRectF()
        if page.background_image is not None and page.background_image.available:
            picture = Picture(page.background_image, self._decoded.get(BACKDROP))
            if picture.ok:
                self.backdrop: Picture | None = picture
                box = page.background_box
                if box is not None:
                    self.backdrop_box = QRectF(box.x, box.y, box.width, box.height)
                else:
                    size = picture.natural_size()
                    self.backdrop_box = QRectF(0, 0, size.width(), size.height())
            else:
                self.backdrop = None
        else:
            self.backdrop = None
        self._built = 0
        self._tables_done = False
        if build:
            self.build(len(page.elements))

    @property
    def complete(self) -> bool:
        """True once every element of the page has its item (or was left out, logged)."""
        return self._tables_done

    def build(self, count: int) -> bool:
        """Add the items of the next ``count`` elements, in page order; once the last is in,
        the tables get their grid lines. True when the scene is complete."""
        elements = self.page.elements
        stop = min(len(elements), self._built + max(0, count))
        for z in range(self._built, stop):
            self._add(z, elements[z])
        self._built = stop
        if stop == len(elements) and not self._tables_done:
            for element in elements:
                table = self.items_by_id.get(element.id)
                if element.shape == "table" and isinstance(table, ElementItem):
                    table.grid_lines = table_grid(self.page, element)
            self._tables_done = True
        return self._tables_done

    def decoded_pictures(self) -> dict[str, QImage]:
        """The raster pictures this scene decoded, by element id (BACKDROP: the page's), for
        another scene of the same page to use instead of decoding them again."""
        decoded = {}
        if self.backdrop is not None and self.backdrop.image is not None:
            decoded[BACKDROP] = self.backdrop.image
        for element_id, item in self.items_by_id.items():
            picture = item.picture if isinstance(item, ElementItem) else None
            if picture is not None and picture.image is not None:
                decoded[element_id] = picture.image
        return decoded

    def _add(self, z: int, element: Element) -> None:
        try:
            item = make_item(element, self._decoded.get(element.id))
        except Exception as exc:
            log.exception("page %r: cannot draw element %s; left out", self.page.name, element.id)
            self.errors.append(f"element {element.id}: cannot build: {exc!r}")
            return
        item.setZValue(z)
        item.setVisible(element.visible)
        item.setData(0, element.id)
        self.addItem(item)
        self.items_by_id[element.id] = item

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """The page colour everywhere (letterbox included), then its background picture."""
        painter.fillRect(rect, self.background)
        if self.backdrop is not None:
            self.backdrop.draw(painter, self.backdrop_box, False)


def fit_transform(viewport: QRectF, width: int, height: int) -> QTransform:
    """Scene -> screen transform that fits ``viewport`` into width x height, aspect kept,
    centred (the rest is letterbox)."""
    if viewport.width() <= 0 or viewport.height() <= 0:
        return QTransform()
    scale = min(width / viewport.width(), height / viewport.height())
    dx = (width - viewport.width() * scale) / 2 - viewport.x() * scale
    dy = (height - viewport.height() * scale) / 2 - viewport.y() * scale
    return QTransform(scale, 0, 0, scale, dx, dy)


def drawing_rect(scene: PageScene) -> QRectF:
    """The box around everything drawn on the page (shapes, outlines, labels outside their
    shapes, arrow heads), as draw.io's viewer frames a drawing; the viewport when nothing
    is shown."""
    bounds = QRectF()
    for item in scene.items():
        if item.isVisible() and item.parentItem() is None:
            bounds = bounds.united(item.sceneBoundingRect())
    return bounds if not bounds.isEmpty() else QRectF(scene.viewport_rect)


def render_page(scene: PageScene, width: int, height: int, source: QRectF | None = None) -> QImage:
    """The page as a width x height image, letterboxed in its background colour.
    ``source`` is the part of the page to fit (default: the viewport, i.e. the page frame)."""
    area = QRectF(scene.viewport_rect) if source is None else QRectF(source)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(scene.background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    transform = fit_transform(area, width, height)
    target = transform.mapRect(area)
    scene.render(painter, target, area, Qt.AspectRatioMode.KeepAspectRatio)
    painter.end()
    return image
