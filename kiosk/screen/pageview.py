"""The widget that shows one page at a time, full screen, and says what a finger touched.

Pages are letterboxed into the widget (aspect kept, bars in the page's background colour).
Each page is rendered once into a screen-sized pixmap, so switching pages or repainting
costs one pixmap blit; the graphics items stay for hit testing. The pages one touch away are
made ready before they are asked for (:meth:`PageView.render_ahead`): their picture is
rendered into a ``QImage`` at an idle turn of the UI thread (a scene of its own; never on a
worker: Qt's shared connection locks and PySide's GIL deadlocked it there) and their items
for hit testing are built a few elements per idle turn, so that a first visit is a blit too. That
work starts only once the page just shown is painted. The pictures kept are at most the page
shown, the pages one touch away and the page just left (``PICTURES_KEPT``): their memory
follows the screen's size, not a fixed budget.

An in-page fade (show/hide/toggle) is a cross-fade from the page as it was to the page as it
is now: one render when the action runs, then two blits per frame. Blending two images is
exactly fading the changed shapes in or out, whatever lies above or below them.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import (
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QPoint,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QTouchEvent,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem, QWidget
from shiboken6 import Shiboken

from designer_import.model import Element, Page, ShapeKind
from kiosk.models.navigation import CACHE_AHEAD
from kiosk.screen.edges import EdgeItem
from kiosk.screen.render import ElementItem, PageScene, fit_transform
from kiosk.tasks import TaskRunner

log = logging.getLogger(__name__)

#: Page scenes kept (items, decoded pictures), least recently shown dropped first.
CACHE_SCENES = 64
#: Rendered pages kept at most (each a screen-sized pixmap: ~8 MB at 1920x1080, ~33 MB at
#: 4K): the page shown, the pages one touch away (at most CACHE_AHEAD) and the page just
#: left; beyond that the pages out of reach go first.
PICTURES_KEPT = CACHE_AHEAD + 2
#: A drag longer than this share of the width, mostly sideways, is a swipe.
SWIPE_SHARE = 0.12
#: A press that moves less than this many pixels is a tap.
TAP_SLOP_PX = 24
#: Length of the fade for show/hide/toggle actions.
ACTION_FADE_MS = 180
#: Elements whose items are built per idle turn of the UI thread for a page rendered ahead
#: (about a millisecond: a touch arriving meanwhile waits no longer than that).
AHEAD_SLICE_ELEMENTS = 4
#: The event that starts the rendering ahead, posted at low priority: after the paint the
#: page switch asked for (Qt posts its paint requests at low priority too, first come first
#: served), so that a touch's new page is on the screen before any of that work.
AHEAD_EVENT = QEvent.Type(QEvent.registerEventType())


@dataclass(frozen=True)
class Hit:
    """What a touch landed on: the element (None = the page itself) and where, as a share
    of the page's width and height (0..1, None when outside the page)."""

    element: Element | None
    nx: float | None
    ny: float | None


def passes_touch(element: Element) -> bool:
    """Elements a finger goes through to what lies below: unfilled text, connectors,
    invisible group boxes (so a caption over a button does not swallow its touches)."""
    if element.edge is not None or element.kind == ShapeKind.GROUP:
        return True
    return element.kind == ShapeKind.TEXT and element.style.fill is None


#: The items whose label box is touchable too (a tuple: ``isinstance`` checks it faster
#: than a union made anew on each touch).
LABELLED = (ElementItem, EdgeItem)


def touches(item: QGraphicsItem, at: QPointF) -> bool:
    """Whether a touch at ``at`` (page coordinates) lands on the item: its outline as drawn
    or its label's text box, wherever the label sits (a caption under a photo counts, as
    in draw.io, where a click on a label is a click on its shape)."""
    local = item.mapFromScene(at)
    if item.shape().contains(local):
        return True
    label = item.label if isinstance(item, LABELLED) else None
    return label is not None and label.bounds.contains(local)


def paint_page(painter: QPainter, scene: PageScene, width: int, height: int) -> None:
    """``scene`` fitted into width x height (logical pixels), letterboxed in the page colour:
    what the view shows. On any thread, for a scene no other thread touches meanwhile."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    transform = fit_transform(scene.viewport_rect, width, height)
    target = transform.mapRect(scene.viewport_rect)
    painter.fillRect(QRectF(0, 0, width, height), scene.background)
    scene.render(painter, target, scene.viewport_rect, Qt.AspectRatioMode.KeepAspectRatio)


@dataclass(frozen=True, slots=True)
class PageAhead:
    """A page rendered ahead: its picture, and the raster pictures its elements decoded (by
    element id) for the scene the view builds of the page not to decode them again."""

    image: QImage
    decoded: dict[str, QImage]


def render_page_ahead(page: Page, size: QSize, ratio: float, shown: dict[str, bool]) -> PageAhead:
    """The page as the view will show it at ``size`` (device pixel ``ratio``), with the
    elements of ``shown`` shown or hidden as given: built and painted in a scene of its own.

    UI thread only, at idle turns (:meth:`PageView._render_pending`). It ran on a worker
    once and deadlocked the kiosk: a label's QTextDocument connects signals on first
    layout, which takes one of Qt's shared connection locks while PySide keeps the GIL,
    and the UI thread, holding such a lock in a disconnect, waited for the GIL to ask Python
    about an override (seen in CI: tests/kiosk/test_boot_order.py, py-spy dump)."""
    scene = PageScene(page, indexed=False)
    for element_id, visible in shown.items():
        item = scene.items_by_id.get(element_id)
        if item is not None:
            item.setVisible(visible)
    image = QImage(size * ratio, QImage.Format.Format_RGB32)
    _paint_onto(image, scene, size, ratio)
    return PageAhead(image, scene.decoded_pictures())


def _paint_onto(canvas: QImage | QPixmap, scene: PageScene, size: QSize, ratio: float) -> None:
    """``scene`` as the view shows it at ``size``, onto a canvas of size x ``ratio`` device
    pixels (so that a high-density screen gets sharp pages)."""
    canvas.setDevicePixelRatio(ratio)
    canvas.fill(scene.background)
    painter = QPainter(canvas)
    paint_page(painter, scene, size.width(), size.height())
    painter.end()


@dataclass(frozen=True, slots=True)
class _AheadJob:
    """A page whose picture is rendered ahead, and what must still hold for it to be kept:
    the view's size and epoch, the page's change count and its scene at the start."""

    page: Page
    size: QSize
    epoch: int
    changes: int
    scene: PageScene | None


def _visibility(scene: PageScene) -> dict[str, bool]:
    """The elements of ``scene`` shown or hidden unlike the page file says (in-page actions)."""
    changed = {}
    for element in scene.page.elements:
        item = scene.items_by_id.get(element.id)
        if item is not None and item.isVisible() != element.visible:
            changed[element.id] = item.isVisible()
    return changed


class PageView(QWidget):
    """Shows a ``PageScene`` scaled to fit; reports taps and swipes in page terms."""

    #: A tap: the ``Hit`` (element, normalised x/y).
    tapped = Signal(object)
    #: A swipe: +1 = to the next page (finger moved left), -1 = to the previous one.
    swiped = Signal(int)

    def __init__(self, parent: QWidget | None = None, *, tasks: TaskRunner) -> None:
        super().__init__(parent)
        self._tasks = tasks
        # rendering ahead: pages whose picture is to be rendered, the one rendered next (and
        # its device pixel ratio and shown elements),
        # pages whose items are to be built here, the scene being built; the epoch moves on
        # when every kept picture goes stale (a new experience, a resize), a page's change
        # count when one of its elements is shown or hidden
        self._pictures_ahead: list[Page] = []
        self._rendering: _AheadJob | None = None
        self._render_args: tuple[float, dict[str, bool]] | None = None
        self._scenes_ahead: list[Page] = []
        self._decoded_ahead: dict[str, tuple[Page, dict[str, QImage]]] = {}
        self._building: PageScene | None = None
        self._slice_queued = False
        self._ahead_posted = False
        # ids of the pages one touch away (the last render_ahead): their pictures go last
        self._reach: frozenset[str] = frozenset()
        self._epoch = 0
        self._changes: dict[str, int] = {}
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.scene: PageScene | None = None
        self._scenes: OrderedDict[str, PageScene] = OrderedDict()
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        # the in-page cross-fade: the page before the action, after it (rendered on first
        # paint), and how far the fade has gone (0..1)
        self._before: QPixmap | None = None
        self._after: QPixmap | None = None
        self._fade_progress = 1.0
        self._fade = QVariantAnimation(self)
        self._fade.setStartValue(0.0)
        self._fade.setEndValue(1.0)
        self._fade.setDuration(ACTION_FADE_MS)
        self._fade.valueChanged.connect(self._fade_step)
        self._fade.finished.connect(self._fade_done)
        self._press: QPointF | None = None
        self._press_at = 0.0
        self._touching = False
        # the page being replaced while a transition runs, and how far it has gone (0..1)
        self._old: QPixmap | None = None
        self._progress = 1.0
        self._slide = 0
        self._transition = QVariantAnimation(self)
        self._transition.setStartValue(0.0)
        self._transition.setEndValue(1.0)
        self._transition.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._transition.valueChanged.connect(self._step)
        self._transition.finished.connect(self._transition_done)
        self.swipe_enabled = True
        # widget pixels -> page: the inverse of the fit for one viewport and widget size
        self._to_page: tuple[tuple[float, ...], QTransform] | None = None

    # --- pages -----------------------------------------------------------------------------

    def scene_for(self, page: Page) -> PageScene:
        """The page's scene, built on first use and kept (least recently used go first)."""
        scene = self._scenes.get(page.id)
        if scene is None or scene.page is not page:
            building, self._building = self._building, None
            if building is not None and building.page is page:
                building.build(len(page.elements))  # the rest of it, now
                scene = building
            else:
                scene = PageScene(page, decoded=self._decoded_for(page))
            self._adopt(scene)
        self._scenes.move_to_end(page.id)
        return scene

    def _adopt(self, scene: PageScene) -> None:
        page_id = scene.page.id
        old = self._scenes.get(page_id)
        self._scenes[page_id] = scene
        if old is not None and old.page is not scene.page:
            self._pixmaps.pop(page_id, None)
        while len(self._scenes) > CACHE_SCENES:
            old_id, _ = self._scenes.popitem(last=False)
            self._pixmaps.pop(old_id, None)

    def forget_pages(self) -> None:
        """Drop every cached scene and pixmap and what was to be rendered ahead (a new
        experience was loaded)."""
        self._stop_fades()
        self._scenes.clear()
        self._pixmaps.clear()
        self._forget_ahead()
        self.scene = None

    def _forget_ahead(self) -> None:
        self._epoch += 1
        self._reach = frozenset()
        self._pictures_ahead.clear()
        self._scenes_ahead.clear()
        self._decoded_ahead.clear()
        self._building = None

    # --- rendering ahead -------------------------------------------------------------------

    def render_ahead(self, pages: Iterable[Page]) -> None:
        """Make ``pages`` (nearest first: every page one touch away) ready to show before
        they are asked for: each picture rendered at an idle turn, each page's items built here
        a few elements per idle turn, starting after the paint already asked for. Replaces
        what was queued before; a page already kept costs nothing. When pictures must make
        room, those of pages neither shown nor in ``pages`` go first."""
        wanted = list(pages)
        self._reach = frozenset(page.id for page in wanted)
        # pictures decoded for pages no longer one touch away are let go (a photograph
        # decoded is tens of megabytes)
        for page_id in [p for p in self._decoded_ahead if p not in self._reach]:
            del self._decoded_ahead[page_id]
        self._pictures_ahead = list(wanted)
        # a page whose picture is rendered gets its items after it, with the pictures the
        # render decoded (a large photograph is not decoded again on the UI thread)
        self._scenes_ahead = [page for page in wanted if not self._needs_picture(page)]
        if not self._ahead_posted:
            self._ahead_posted = True
            QCoreApplication.postEvent(
                self, QEvent(AHEAD_EVENT), Qt.EventPriority.LowEventPriority.value
            )

    def _begin_ahead(self) -> None:
        self._ahead_posted = False
        self._start_next_picture()
        self._queue_slice()

    def is_ready(self, page: Page) -> bool:
        """Whether showing ``page`` now is a blit: its items built and its picture kept."""
        scene = self._scenes.get(page.id)
        return scene is not None and scene.page is page and page.id in self._pixmaps

    @property
    def ahead_pending(self) -> bool:
        """True while pages are still being rendered or built ahead (tests wait for it)."""
        return (
            self._ahead_posted
            or self._rendering is not None
            or self._building is not None
            or any(self._needs_picture(page) for page in self._pictures_ahead)
            or any(self._needs_scene(page) for page in self._scenes_ahead)
        )

    def _needs_picture(self, page: Page) -> bool:
        if self.width() <= 0 or self.height() <= 0 or page.id in self._pixmaps:
            return False
        scene = self._scenes.get(page.id)
        return scene is None or scene.page is page

    def _needs_scene(self, page: Page) -> bool:
        scene = self._scenes.get(page.id)
        return scene is None or scene.page is not page

    def _start_next_picture(self) -> None:
        if self._rendering is not None:
            return
        while self._pictures_ahead:
            page = self._pictures_ahead.pop(0)
            if self._needs_picture(page):
                break
        else:
            return
        scene = self._scenes.get(page.id)
        shown = {} if scene is None else _visibility(scene)
        job = _AheadJob(page, self.size(), self._epoch, self._changes.get(page.id, 0), scene)
        self._rendering = job
        self._render_args = (self.devicePixelRatioF(), shown)
        # an idle turn of the UI thread (never a worker: see render_page_ahead)
        QTimer.singleShot(0, self, self._render_pending)

    def _render_pending(self) -> None:
        """Render the picture :meth:`_start_next_picture` chose (UI thread, one idle turn)."""
        job = self._rendering
        if job is None or self._render_args is None:
            return
        ratio, shown = self._render_args
        self._render_args = None
        try:
            ahead = render_page_ahead(job.page, job.size, ratio, shown)
        except Exception:
            log.exception("rendering page %s ahead failed: it renders when shown", job.page.id)
            self._render_ahead_failed(job)
            return
        self._rendered_ahead(job, ahead)

    def _rendered_ahead(self, job: _AheadJob, ahead: PageAhead) -> None:
        if not Shiboken.isValid(self):
            return  # the view was closed before its turn came
        self._rendering = None
        if self._still_as_rendered(job) and job.page.id in self._reach:
            self._keep(job.page.id, QPixmap.fromImage(ahead.image))
        if job.epoch == self._epoch and self._needs_scene(job.page):
            self._decoded_ahead[job.page.id] = (job.page, ahead.decoded)
            self._scenes_ahead.append(job.page)
            self._queue_slice()
        self._start_next_picture()

    def _decoded_for(self, page: Page) -> dict[str, QImage] | None:
        """The pictures decoded while rendering ahead for ``page``, handed over once."""
        found = self._decoded_ahead.pop(page.id, None)
        return found[1] if found is not None and found[0] is page else None

    def _still_as_rendered(self, job: _AheadJob) -> bool:
        """Whether the page still looks as it was rendered ahead: same experience and size,
        no element shown or hidden since, and its scene the one it started from (or, when
        it had none, one built from the page file since)."""
        page_id = job.page.id
        if (
            job.epoch != self._epoch
            or job.size != self.size()
            or job.changes != self._changes.get(page_id, 0)
            or page_id in self._pixmaps
        ):
            return False
        scene = self._scenes.get(page_id)
        if scene is None or scene is job.scene:
            return True
        return job.scene is None and scene.page is job.page

    def _render_ahead_failed(self, job: _AheadJob) -> None:
        # logged with its traceback by the task runner; the page renders when shown
        if Shiboken.isValid(self):
            self._rendering = None
            if job.epoch == self._epoch:
                self._scenes_ahead.append(job.page)
                self._queue_slice()
            self._start_next_picture()

    def _queue_slice(self) -> None:
        if not self._slice_queued and (self._building is not None or self._scenes_ahead):
            self._slice_queued = True
            QTimer.singleShot(0, self, self._build_slice)

    def _build_slice(self) -> None:
        """One idle turn's share of building the pages ahead: a few elements' items."""
        self._slice_queued = False
        if self._building is None:
            while self._scenes_ahead:
                page = self._scenes_ahead.pop(0)
                if self._needs_scene(page):
                    self._building = PageScene(page, build=False, decoded=self._decoded_for(page))
                    break
        building = self._building
        if building is not None and building.build(AHEAD_SLICE_ELEMENTS):
            self._building = None
            if self._needs_scene(building.page):
                self._adopt(building)
        self._queue_slice()

    def show_page(self, page: Page, transition: str = "off", duration_ms: int = 0) -> None:
        """Show ``page``; ``transition`` is "fade", "slide" or "off" (``duration_ms`` at most
        250 ms is the caller's business; 0 is instant)."""
        old = self.current_pixmap() if self.scene is not None else None
        self._stop_fades()
        self._transition.stop()
        self.scene = self.scene_for(page)
        if transition != "off" and duration_ms > 0 and old is not None:
            self._old = old
            self._slide = 1 if transition == "slide" else 0
            self._progress = 0.0
            self._transition.setDuration(duration_ms)
            self._transition.start()
        else:
            self._old = None
            self._progress = 1.0
        self.update()

    def set_slide_direction(self, direction: int) -> None:
        """+1: the new page comes in from the right (forward), -1: from the left."""
        self._slide = direction if self._slide else 0

    def current_pixmap(self) -> QPixmap:
        """What the page shown now looks like at the widget's size."""
        assert self.scene is not None
        page_id = self.scene.page.id
        pixmap = self._pixmaps.get(page_id)
        if pixmap is None or pixmap.deviceIndependentSize().toSize() != self.size():
            pixmap = self._render(self.scene)
            self._keep(page_id, pixmap)
        else:
            self._pixmaps.move_to_end(page_id)
        return pixmap

    def _keep(self, page_id: str, pixmap: QPixmap) -> None:
        """Keep a page's picture; beyond PICTURES_KEPT the least recently shown page out
        of reach goes (the page shown and those one touch away only when no other is
        left). Letting go of a picture costs the UI thread its unmapping (about a
        millisecond at 1920x1080), so it happens here, when a picture comes, not at a
        page switch."""
        self._pixmaps[page_id] = pixmap
        self._pixmaps.move_to_end(page_id)
        shown = self.scene.page.id if self.scene is not None else None
        while len(self._pixmaps) > PICTURES_KEPT:
            kept = (shown, page_id, *self._reach)
            old = next((p for p in self._pixmaps if p not in kept), None)
            if old is None:
                old = next(p for p in self._pixmaps if p not in (shown, page_id))
            del self._pixmaps[old]

    @property
    def cached_pages(self) -> list[str]:
        """Ids of the pages rendered and kept, least recently shown first."""
        return list(self._pixmaps)

    def _render(self, scene: PageScene) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(self.size() * ratio)
        _paint_onto(pixmap, scene, self.size(), ratio)
        return pixmap

    def _step(self, value: object) -> None:
        self._progress = float(value)  # type: ignore[arg-type]
        self.update()

    def _transition_done(self) -> None:
        self._old = None
        self._progress = 1.0
        self.update()

    # --- in-page actions -------------------------------------------------------------------

    def set_shown(self, element_id: str, shown: bool, fade: bool = True) -> None:
        """Show or hide one element of the current page, fading it in or out. The element
        takes its new state at once (for touches); the screen cross-fades to it. Calls made
        in one go (a toggle by tag) share one fade."""
        if self.scene is None:
            return
        item = self.scene.items_by_id.get(element_id)
        if item is None or item.isVisible() == shown:
            return
        if fade:
            self._before = self._on_screen()
        page_id = self.scene.page.id
        self._pixmaps.pop(page_id, None)
        self._changes[page_id] = self._changes.get(page_id, 0) + 1
        self._after = None
        target = self.scene.page.element(element_id)
        item.setVisible(shown)
        item.setOpacity(target.style.opacity if target is not None else 1.0)
        if fade:
            self._fade_progress = 0.0
            self._fade.stop()
            self._fade.start()
        self.update()

    def _on_screen(self) -> QPixmap:
        """The current page as the shopper sees it now (mid-fade: the blend on screen)."""
        if self._before is None:
            return self.current_pixmap()
        if self._after is None:
            return self._before  # several changes in one go: one fade from the same start
        blend = QPixmap(self._before)
        painter = QPainter(blend)
        painter.setOpacity(self._fade_progress)
        painter.drawPixmap(0, 0, self._after)
        painter.end()
        return blend

    def _fade_step(self, value: object) -> None:
        self._fade_progress = float(value)  # type: ignore[arg-type]
        self.update()

    def _fade_done(self) -> None:
        self._before = self._after = None
        self._fade_progress = 1.0
        self.update()

    def _stop_fades(self) -> None:
        self._fade.stop()
        self._fade_done()

    @property
    def transitioning(self) -> bool:
        """True while a page transition runs."""
        return self._old is not None

    @property
    def fading(self) -> bool:
        """True while an in-page fade runs."""
        return self._before is not None

    # --- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """The cached page (or the live scene while a fade runs), under the transition."""
        painter = QPainter(self)
        if self.scene is None:
            painter.fillRect(self.rect(), Qt.GlobalColor.black)
            return
        pixmap = self.current_pixmap()
        if self._before is not None:
            self._after = pixmap
            painter.drawPixmap(0, 0, self._before)
            painter.setOpacity(self._fade_progress)
            painter.drawPixmap(0, 0, pixmap)
            return
        if self._old is not None and self._slide:
            shift = round(self.width() * self._progress) * self._slide
            painter.drawPixmap(-shift, 0, self._old)
            painter.drawPixmap(self.width() * self._slide - shift, 0, pixmap)
            return
        painter.drawPixmap(0, 0, pixmap)
        if self._old is not None and not self._slide:
            painter.setOpacity(1.0 - self._progress)
            painter.drawPixmap(0, 0, self._old)

    def resizeEvent(self, event: object) -> None:
        """Pixmaps are per size: a resize renders the pages again when next shown."""
        self._stop_fades()
        self._pixmaps.clear()
        self._epoch += 1
        super().resizeEvent(event)  # type: ignore[arg-type]

    # --- touch -----------------------------------------------------------------------------

    def to_page(self, point: QPointF) -> QPointF:
        """Widget pixels -> page coordinates of the page shown now."""
        assert self.scene is not None
        viewport = self.scene.viewport_rect
        key = (
            viewport.x(),
            viewport.y(),
            viewport.width(),
            viewport.height(),
            self.width(),
            self.height(),
        )
        cached = self._to_page
        if cached is None or cached[0] != key:
            transform = fit_transform(viewport, self.width(), self.height())
            cached = self._to_page = (key, transform.inverted()[0])
        return cached[1].map(point)

    def to_widget(self, point: QPointF) -> QPointF:
        """Page coordinates -> widget pixels."""
        assert self.scene is not None
        transform = fit_transform(self.scene.viewport_rect, self.width(), self.height())
        return transform.map(point)

    def hit(self, point: QPointF) -> Hit:
        """What a touch at ``point`` (widget pixels) lands on: the topmost shown element
        whose drawn outline contains it, looking through captions and connectors to a
        linked shape below."""
        if self.scene is None:
            return Hit(None, None, None)
        at = self.to_page(point)
        viewport = self.scene.viewport_rect
        inside = viewport.contains(at)
        nx = (at.x() - viewport.x()) / viewport.width() if inside else None
        ny = (at.y() - viewport.y()) / viewport.height() if inside else None
        page = self.scene.page
        first: Element | None = None
        # candidates by painted box, topmost first; then the outline or the label decides
        for item in self.scene.items(
            at, Qt.ItemSelectionMode.IntersectsItemBoundingRect, Qt.SortOrder.DescendingOrder
        ):
            element_id = item.data(0)
            element = page.element(element_id) if isinstance(element_id, str) else None
            if element is None or not item.isVisible() or not touches(item, at):
                continue
            if page.link_for(element.id) is not None or element.kiosk_action is not None:
                return Hit(element, nx, ny)
            if first is None:
                first = element
            if not passes_touch(element):
                break
        return Hit(first, nx, ny)

    def touch_point(self, element_id: str) -> QPoint | None:
        """A widget pixel inside the element as drawn (for the control socket and tests):
        its centre when that hits it, else a point of its outline's interior."""
        if self.scene is None:
            return None
        item = self.scene.items_by_id.get(element_id)
        if item is None or not item.isVisible():
            return None
        shape = item.mapToScene(item.shape())
        box = shape.boundingRect()
        candidates = [box.center()]
        for fy in (0.5, 0.3, 0.7, 0.15, 0.85):
            for fx in (0.5, 0.3, 0.7, 0.15, 0.85):
                candidates.append(QPointF(box.x() + box.width() * fx, box.y() + box.height() * fy))
        for candidate in candidates:
            widget_point = self.to_widget(candidate).toPoint()
            if not self.rect().contains(widget_point):
                continue
            found = self.hit(QPointF(widget_point)).element
            if found is not None and (found.id == element_id or element_id in found.ancestors):
                return widget_point
        return None

    def event(self, event: QEvent) -> bool:
        """Touch screens: one finger taps and swipes like the mouse; the rendering ahead
        starts (``AHEAD_EVENT``)."""
        kind = event.type()
        if kind == AHEAD_EVENT:
            self._begin_ahead()
            return True
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            assert isinstance(event, QTouchEvent)
            points = event.points()
            if points:
                position = points[0].position()
                if kind == QEvent.Type.TouchBegin:
                    self._touching = True
                    self._begin(position)
                elif kind == QEvent.Type.TouchEnd:
                    self._touching = False
                    self._end(position)
            event.accept()
            return True
        if kind == QEvent.Type.TouchCancel:
            self._touching = False
            self._press = None
            event.accept()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A mouse press starts a tap or a swipe (touches arrive as touch events)."""
        if event.button() == Qt.MouseButton.LeftButton and not self._touching:
            self._begin(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A mouse release ends the tap or swipe."""
        if event.button() == Qt.MouseButton.LeftButton and not self._touching:
            self._end(event.position())

    def _begin(self, position: QPointF) -> None:
        self._press = QPointF(position)
        self._press_at = time.monotonic()

    def _end(self, position: QPointF) -> None:
        start, self._press = self._press, None
        if start is None:
            return
        dx, dy = position.x() - start.x(), position.y() - start.y()
        if self.swipe_enabled and abs(dx) >= self.width() * SWIPE_SHARE and abs(dx) > 2 * abs(dy):
            self.swiped.emit(1 if dx < 0 else -1)
            return
        if abs(dx) <= TAP_SLOP_PX and abs(dy) <= TAP_SLOP_PX:
            self.tapped.emit(self.hit(start))

    def page_rect(self) -> QRectF:
        """Where the page sits in the widget (the rest is letterbox)."""
        if self.scene is None:
            return QRectF(self.rect())
        transform = fit_transform(self.scene.viewport_rect, self.width(), self.height())
        return transform.mapRect(self.scene.viewport_rect)
