"""Rendering ahead: the pages one touch away are made ready at idle turns of the UI thread
(their picture painted into a QImage, their items built in slices; never on a worker, where
Qt's shared connection locks and PySide's GIL deadlocked), the picture is the one the view
would paint itself, and a picture made stale meanwhile is never shown."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from designer_import import load_experience
from designer_import.model import Page
from kiosk.screen import pageview
from kiosk.screen.fonts import load_web_fonts
from kiosk.screen.pageview import PageAhead, PageView, render_page_ahead
from kiosk.screen.render import ElementItem, PageScene
from kiosk.screen.window import KioskWindow
from kiosk.tasks import TaskRunner
from tests.support.drawings import FEATURES, button, page_xml, write_drawio

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "pet-store.drawio"


def settle(view: PageView) -> None:
    """Let the rendering ahead run to its end (outcomes arrive through the event loop)."""
    app = QApplication.instance()
    assert app is not None
    app.processEvents()
    deadline = time.monotonic() + 30
    while view.ahead_pending:
        assert time.monotonic() < deadline, "the pages ahead were not ready within 30 s"
        app.processEvents()
        time.sleep(0.005)


def same_pixels(a: QImage, b: QImage) -> bool:
    """Pixel for pixel, whatever the two images' formats."""
    return a.convertToFormat(QImage.Format.Format_RGB32) == b.convertToFormat(
        QImage.Format.Format_RGB32
    )


@pytest.mark.parametrize("source", [FEATURES, DEMO], ids=["features", "demo"])
def test_a_picture_rendered_ahead_is_the_one_the_view_paints(
    qtbot: object, tasks: TaskRunner, source: Path
) -> None:
    experience = load_experience(source)
    load_web_fonts(experience)
    view = PageView(tasks=tasks)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1280, 720)
    view.show()
    ratio = view.devicePixelRatioF()
    for page in experience.pages:
        view.show_page(page)
        own = view.current_pixmap().toImage()
        ahead = render_page_ahead(page, view.size(), ratio, {}).image
        assert same_pixels(own, ahead), f"{source.name}: page {page.id!r} differs"


@pytest.fixture
def renders_ahead(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, PageAhead]]:
    """Each picture the view renders ahead: the thread that rendered it and what came back."""
    renders: list[tuple[str, PageAhead]] = []
    original = pageview.render_page_ahead

    def recording(page: Page, size: QSize, ratio: float, shown: dict[str, bool]) -> PageAhead:
        ahead = original(page, size, ratio, shown)
        renders.append((threading.current_thread().name, ahead))
        return ahead

    monkeypatch.setattr(pageview, "render_page_ahead", recording)
    return renders


def test_pages_one_touch_away_are_ready_before_the_touch_and_rendered_on_the_ui_thread(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    renders_ahead: list[tuple[str, PageAhead]],
) -> None:
    window = open_window(shop_file)
    assert window.navigate("welcome")
    settle(window.view)
    cat = window.experience.page("cat")
    assert cat is not None
    # never shown, yet its items and picture are there: the first visit is a blit
    assert window.view.is_ready(cat)
    # on the UI thread: a worker building labels (QTextDocument connects signals) deadlocked
    # against the UI thread's disconnects (CI, py-spy: Qt's connection lock vs the GIL)
    threads = {thread for thread, _ in renders_ahead}
    assert threads == {threading.main_thread().name}, threads
    assert window.navigate("cat")
    settle(window.view)
    for product in ("p1", "p2", "p3"):
        page = window.experience.page(product)
        assert page is not None and window.view.is_ready(page), product


def test_a_page_changed_while_its_picture_renders_ahead_is_drawn_as_it_is_now(
    qtbot: object, tasks: TaskRunner
) -> None:
    experience = load_experience(FEATURES)
    load_web_fonts(experience)
    view = PageView(tasks=tasks)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1280, 720)  # not shown: no paint renders the page before the worker is done
    page = next(p for p in experience.pages if any(e.visible for e in p.elements))
    element = next(e for e in page.elements if e.visible and e.edge is None)
    view.show_page(page)  # not painted yet: nothing kept for it
    assert page.id not in view.cached_pages
    view.render_ahead([page])  # the worker draws the element shown ...
    view.set_shown(element.id, False, fade=False)  # ... while an action hides it
    settle(view)
    shown_now = view.current_pixmap().toImage()
    ratio = view.devicePixelRatioF()
    expected = render_page_ahead(page, view.size(), ratio, {element.id: False}).image
    assert same_pixels(shown_now, expected), "the stale picture from before the action is shown"


@pytest.mark.parametrize("source", [FEATURES, DEMO], ids=["features", "demo"])
def test_a_scene_built_in_slices_is_the_scene_built_at_once(source: Path) -> None:
    experience = load_experience(source)
    load_web_fonts(experience)
    for page in experience.pages:
        whole = PageScene(page)
        sliced = PageScene(page, build=False)
        while not sliced.build(pageview.AHEAD_SLICE_ELEMENTS):
            assert len(sliced.items_by_id) < len(page.elements)
        assert list(sliced.items_by_id) == list(whole.items_by_id)
        image_whole = QImage(640, 360, QImage.Format.Format_RGB32)
        image_sliced = QImage(640, 360, QImage.Format.Format_RGB32)
        for scene, image in ((whole, image_whole), (sliced, image_sliced)):
            image.fill(scene.background)
            painter = QPainter(image)
            pageview.paint_page(painter, scene, 640, 360)
            painter.end()
        assert image_whole == image_sliced, page.id


def photo_file(tmp_path: Path) -> Path:
    """A welcome page linking to a page that is one raster photograph (a PNG)."""
    photo = QImage(1600, 900, QImage.Format.Format_RGB32)
    photo.fill(0x336699)
    painter = QPainter(photo)
    painter.fillRect(200, 100, 800, 500, 0xFFCC00)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert photo.save(buffer, "PNG")
    encoded = base64.b64encode(bytes(data.data())).decode("ascii")
    picture = (
        f'<mxCell id="photo" value="" style="shape=image;image=data:image/png,{encoded};" '
        'vertex="1" parent="1"><mxGeometry x="0" y="0" width="1600" height="900" '
        'as="geometry"/></mxCell>'
    )
    return write_drawio(
        tmp_path / "photo.drawio",
        [
            page_xml("welcome", "Welcome", button("to-photo", "Photo", "data:page/id,pic", 0, 0)),
            page_xml("pic", "Photo", picture),
        ],
    )


def test_the_items_built_ahead_use_the_pictures_the_worker_decoded(
    open_window: Callable[..., KioskWindow],
    tmp_path: Path,
    renders_ahead: list[tuple[str, PageAhead]],
) -> None:
    window = open_window(photo_file(tmp_path))
    assert window.navigate("welcome")
    settle(window.view)
    page = window.experience.page("pic")
    assert page is not None and window.view.is_ready(page)
    item = window.view.scene_for(page).items_by_id["photo"]
    assert isinstance(item, ElementItem) and item.picture is not None
    assert item.picture.image is not None
    # the same decoded image (shared), not the photograph decoded a second time here
    decoded = [image.cacheKey() for _, ahead in renders_ahead for image in ahead.decoded.values()]
    assert item.picture.image.cacheKey() in decoded


def test_pictures_decoded_for_pages_no_longer_ahead_are_let_go(
    qtbot: object, tasks: TaskRunner, tmp_path: Path
) -> None:
    experience = load_experience(photo_file(tmp_path))
    view = PageView(tasks=tasks)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1280, 720)  # not shown: nothing paints
    page = experience.page("pic")
    assert page is not None
    view.render_ahead([page])
    QApplication.sendPostedEvents(view, pageview.AHEAD_EVENT)  # the rendering ahead starts
    # its picture alone, before any idle turn: the items of the page are not built yet
    view._render_pending()
    assert page.id in view.cached_pages
    assert page.id in view._decoded_ahead  # held for the items about to be built
    view.render_ahead([])  # the shopper went elsewhere: the page is no longer one touch away
    assert page.id not in view._decoded_ahead
    settle(view)
    assert not view._decoded_ahead


def test_the_pictures_kept_are_the_page_shown_and_the_pages_one_touch_away(
    open_window: Callable[..., KioskWindow], shop_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # room for four pictures: a product page and the three pages one touch from it
    monkeypatch.setattr(pageview, "PICTURES_KEPT", 4)
    window = open_window(shop_file)
    for page_id in ("welcome", "cat", "p1"):
        assert window.navigate(page_id)
        settle(window.view)
    # from a product: home, its back button's category, the next product by a swipe
    for page_id in ("welcome", "cat", "p2"):
        page = window.experience.page(page_id)
        assert page is not None and window.view.is_ready(page), page_id
    # and no other picture: the attract page shown first, the product two touches away
    assert sorted(window.view.cached_pages) == ["cat", "p1", "p2", "welcome"]


def test_rendering_ahead_starts_once_the_page_switched_to_is_painted(
    open_window: Callable[..., KioskWindow],
    shop_file: Path,
    tasks: TaskRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(shop_file)
    settle(window.view)  # on the attract page: the welcome page is ready, the category not
    painted_then: list[bool] = []  # per page rendered ahead: was the new page painted
    original = pageview.render_page_ahead

    def recording(page: Page, size: QSize, ratio: float, shown: dict[str, bool]) -> PageAhead:
        painted_then.append("cat" in window.view.cached_pages)
        return original(page, size, ratio, shown)

    monkeypatch.setattr(pageview, "render_page_ahead", recording)
    assert window.navigate("cat")
    assert "cat" not in window.view.cached_pages
    settle(window.view)
    assert painted_then and all(painted_then), painted_then


def test_pages_one_touch_away_are_the_last_to_make_room(
    qtbot: object, tasks: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pageview, "PICTURES_KEPT", 3)
    reachable, left, other, shown = load_experience(DEMO).pages[:4]
    view = PageView(tasks=tasks)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(640, 360)
    view.render_ahead([reachable])
    settle(view)
    for page in (left, other, shown):  # each shown and painted in turn
        view.show_page(page)
        view.current_pixmap()
    # the fourth picture made room: not the least recently shown page (one touch away)
    # but the next, out of reach
    assert view.cached_pages == [reachable.id, other.id, shown.id]
