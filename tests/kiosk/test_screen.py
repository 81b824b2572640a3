"""In-page actions, hot reload, a bad experience at start, and a window shoppers cannot
leave."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from designer_import import build_bundle
from kiosk.models.experience_source import BACK_SOON_ID
from kiosk.models.interactions import MemorySink
from kiosk.screen.window import KioskWindow
from settings import KioskConfig
from tests.support.drawings import FEATURES


def tap_element(window: KioskWindow, element_id: str) -> None:
    point = window.view.touch_point(element_id)
    assert point is not None, element_id
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton, pos=point)


def item_shown(window: KioskWindow, element_id: str) -> bool:
    assert window.view.scene is not None
    return window.view.scene.items_by_id[element_id].isVisible()


def test_custom_actions_fade_in_place(
    qtbot: object, open_window: Callable[..., KioskWindow], sink: MemorySink
) -> None:
    window = open_window(FEATURES)
    window.navigate("home")
    assert not item_shown(window, "details-text") and not item_shown(window, "hidden-cell")
    tap_element(window, "toggle-btn")
    # toggle by tag "details" and show cell "hidden-cell", fading in on the same page
    assert window.page.id == "home" and window.view.fading
    qtbot.waitUntil(lambda: not window.view.fading, timeout=2000)  # type: ignore[attr-defined]
    assert item_shown(window, "details-text") and item_shown(window, "hidden-cell")
    # what was shown is touchable now, and what is hidden is not
    assert window.view.touch_point("details-text") is not None
    tap_element(window, "toggle-btn")
    qtbot.waitUntil(lambda: not window.view.fading, timeout=2000)  # type: ignore[attr-defined]
    assert not item_shown(window, "details-text") and item_shown(window, "hidden-cell")
    assert window.view.touch_point("details-text") is None
    assert [e.element for e in sink.of_type("touch")] == ["toggle-btn", "toggle-btn"]
    # a new session starts from the drawing as drawn
    window.go_attract("test")
    window.navigate("home")
    assert not item_shown(window, "details-text") and not item_shown(window, "hidden-cell")


def test_hot_reload_keeps_the_page(
    qtbot: object, open_window: Callable[..., KioskWindow], features_copy: Path
) -> None:
    window = open_window(features_copy, watch=True)
    window.navigate("home")
    window.navigate("offers")
    text = features_copy.read_text(encoding="utf-8")
    features_copy.write_text(text.replace('label="Back"', 'label="Go back"'), encoding="utf-8")
    qtbot.waitUntil(lambda: window.reloads == 1, timeout=5000)  # type: ignore[attr-defined]
    assert window.page.id == "offers"
    assert window.page.element("back").label.plain == "Go back"
    # a broken save keeps the last good drawing on screen
    features_copy.write_text(text[: len(text) // 2], encoding="utf-8")
    QTest.qWait(900)
    assert window.reloads == 1 and window.page.id == "offers" and window.broken is None
    # an editor that replaces the file (write elsewhere, rename over) is seen too
    replacement = features_copy.with_name("features.drawio.tmp")
    replacement.write_text(text.replace('label="Back"', 'label="Back again"'), encoding="utf-8")
    os.replace(replacement, features_copy)
    qtbot.waitUntil(lambda: window.reloads == 2, timeout=5000)  # type: ignore[attr-defined]
    assert window.page.element("back").label.plain == "Back again"
    # a page that disappeared sends the shopper back to attract
    features_copy.write_text(text.replace('id="offers"', 'id="deals"'), encoding="utf-8")
    qtbot.waitUntil(lambda: window.reloads == 3, timeout=5000)  # type: ignore[attr-defined]
    assert window.page.role == "attract"


def test_bad_experience_at_start_shows_back_soon(
    open_window: Callable[..., KioskWindow], tmp_path: Path, sink: MemorySink
) -> None:
    broken = tmp_path / "broken.drawio"
    broken.write_text("<mxfile><diagram>not a drawing", encoding="utf-8")
    window = open_window(broken)
    assert window.page.id == BACK_SOON_ID
    assert window.broken and "broken.drawio" in window.broken
    assert window.shown_experience() is None
    assert window.experience_error() == window.broken
    # a tap does not start a session on a kiosk that has nothing to show
    QTest.mouseClick(window.view, Qt.MouseButton.LeftButton)
    assert window.page.id == BACK_SOON_ID
    assert window.session.session_id is None and not sink.events


def test_last_good_bundle_is_used_when_the_file_breaks(
    open_window: Callable[..., KioskWindow], config: KioskConfig, features_copy: Path
) -> None:
    assert config.paths.data_dir is not None
    build_bundle(FEATURES, config.paths.data_dir / "experience-last-good")
    features_copy.write_text("garbage", encoding="utf-8")
    window = open_window(features_copy)
    assert window.broken is None
    assert window.page.id == "attract"
    assert window.experience.source_format == "bundle"


def test_escape_keys_and_close_are_refused(
    open_window: Callable[..., KioskWindow], qtbot: object
) -> None:
    window = open_window(FEATURES)
    for key, modifiers in [
        (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
        (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    ]:
        override = QKeyEvent(QEvent.Type.ShortcutOverride, key, modifiers)
        QApplication.sendEvent(window, override)
        assert override.isAccepted()
        QTest.keyClick(window, key, modifiers)
        assert window.isVisible()
    window.close()
    assert window.isVisible()
    window.shutdown()
    window.close()
    assert not window.isVisible()


@pytest.mark.parametrize("size", ["1920x1080", "1080x1920"])
def test_preview_writes_one_png_per_page(tmp_path: Path, size: str) -> None:
    from PySide6.QtGui import QImage

    from kiosk.cli import main

    assert main(["preview", str(FEATURES), "-o", str(tmp_path / "out"), "--size", size]) == 0
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["01-attract.png", "02-Home.png", "03-Offers.png"]
    width, height = (int(v) for v in size.split("x"))
    image = QImage(str(files[0]))
    assert (image.width(), image.height()) == (width, height)
    # attract: dark page, white "Touch to start" in the middle, letterbox in page colour
    assert QImage(str(files[0])).pixelColor(5, 5).name() == "#102030"
    centre = {image.pixelColor(x, height // 2).name() for x in range(0, width, 3)}
    assert "#ffffff" in centre


def test_preview_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.cli import main

    assert main(["preview", str(tmp_path / "missing.drawio"), "-o", str(tmp_path)]) == 2
    assert main(["preview", str(FEATURES), "-o", str(tmp_path), "--size", "big"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "missing.drawio" in lines[0] and "--size" in lines[1]


@pytest.mark.parametrize("kind", ["fade", "slide"])
def test_page_transitions_run_and_end(
    qtbot: object,
    open_window: Callable[..., KioskWindow],
    config: KioskConfig,
    shop_file: Path,
    kind: str,
) -> None:
    config.kiosk.transition = kind  # type: ignore[assignment]
    config.kiosk.transition_ms = 200
    window = open_window(shop_file)
    window.navigate("welcome")
    qtbot.waitUntil(lambda: not window.view.transitioning, timeout=2000)  # type: ignore[attr-defined]
    window.navigate("cat")
    # the new page answers touches at once, while the old one fades or slides away
    assert window.view.transitioning and window.page.id == "cat"
    assert window.view.touch_point("to-p1") is not None
    window.repaint()
    qtbot.waitUntil(lambda: not window.view.transitioning, timeout=2000)  # type: ignore[attr-defined]
    # the screen shows the category page when it is over
    image = window.grab().toImage()
    inside = window.view.to_widget(QPointF(520, 420)).toPoint()  # "Product 1", off its text
    assert image.pixelColor(inside.x(), inside.y()).name() == "#dae8fc"


def test_a_fixed_drawing_replaces_back_soon(
    qtbot: object, open_window: Callable[..., KioskWindow], features_copy: Path
) -> None:
    good = features_copy.read_text(encoding="utf-8")
    features_copy.write_text(good[:100], encoding="utf-8")
    window = open_window(features_copy, watch=True)
    assert window.page.id == BACK_SOON_ID and window.broken
    features_copy.write_text(good, encoding="utf-8")
    qtbot.waitUntil(lambda: window.broken is None, timeout=5000)  # type: ignore[attr-defined]
    assert window.page.id == "attract"
    assert window.shown_experience() is window.experience


def test_rendered_pages_stay_within_the_memory_budget(
    open_window: Callable[..., KioskWindow], shop_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.screen import pageview

    width, height = 640, 360
    monkeypatch.setattr(pageview, "PICTURES_KEPT", 5)
    window = open_window(shop_file, size=(width, height))
    pages = ["welcome", "cat", "p1", "p2", "p3", "attract-2", "attract-1", "welcome", "cat"]
    for page_id in pages:
        window.navigate(page_id)
        window.repaint()
        QApplication.processEvents()
    cached = window.view.cached_pages
    assert len(cached) == 5
    assert cached[-1] == "cat"
    assert "p1" not in cached
    # a page that was dropped is drawn again when it comes back
    window.navigate("p1")
    window.repaint()
    assert window.view.cached_pages[-1] == "p1"
    image = window.grab().toImage()
    centre = window.view.to_widget(QPointF(880, 560)).toPoint()
    assert image.pixelColor(centre.x(), centre.y()).name() == "#1ba1e2"
