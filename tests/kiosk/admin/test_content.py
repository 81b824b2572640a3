"""Content (manager): find a drawing in the incoming folder, check it, activate, roll back."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from kiosk.admin.library import ContentLibrary
from kiosk.tasks import TaskRunner
from settings import KioskConfig
from tests.kiosk.admin.shopper import ShopperScreenDouble
from tests.support.admin import MANAGER_PIN, Recorded, log_in
from tests.support.clock import FakeClock

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drawio"


def settled(tasks: TaskRunner, page: Any) -> bool:
    """The page's work off the UI thread is done and reported back."""
    return tasks.pending() == 0 and not page.busy


@pytest.fixture
def shown() -> ShopperScreenDouble:
    """The shopper screen, showing features.drawio."""
    return ShopperScreenDouble(FIXTURES / "features.drawio")


@pytest.fixture
def library(tmp_path: Path) -> ContentLibrary:
    """An empty content library in the test's folder."""
    return ContentLibrary(tmp_path / "content")


@pytest.fixture
def open_content(
    qtbot: Any,
    window: QWidget,
    clock: FakeClock,
    make_admin: Any,
    shown: ShopperScreenDouble,
    library: ContentLibrary,
) -> Callable[[], Any]:
    """Opens the Content page of a new panel over ``shown`` and ``library`` as a manager
    (``make_admin`` shuts the panel down after the test)."""

    def open_page() -> Any:
        admin = make_admin(screen=shown, library=library)
        log_in(qtbot, admin, window, clock, MANAGER_PIN)
        assert admin.show_page("content")
        return admin.pages["content"]

    return open_page


def test_content_activate_and_roll_back(
    qtbot: Any,
    recorded: Recorded,
    drawio_corpus: list[Path],
    tasks: TaskRunner,
    shown: ShopperScreenDouble,
    library: ContentLibrary,
    open_content: Any,
) -> None:
    library.incoming.mkdir(parents=True)
    new = next(p for p in drawio_corpus if p.name == "blog__story-map.drawio")
    shutil.copy(new, library.incoming / new.name)
    shutil.copy(FIXTURES / "billion-laughs.drawio", library.incoming / "broken.drawio")
    (library.incoming / "notes.txt").write_text("not a drawing", encoding="utf-8")
    page = open_content()
    assert "features.drawio" in page.active_label.text()
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=10_000)
    assert page.previous_label.text() == "before: none"
    assert not page.rollback_button.isEnabled()  # nothing shown before yet

    page.scan()
    qtbot.waitUntil(lambda: tasks.pending() == 0 and page.drawings.count() > 0, timeout=10_000)
    names = [page.drawings.item(i).text().split("\n")[0] for i in range(page.drawings.count())]
    assert names == ["blog__story-map.drawio", "broken.drawio"]

    # a drawing the importer refuses gives one clear line and cannot be activated
    page.check(library.incoming / "broken.drawio")
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=10_000)
    assert page.message.text().startswith("⚠ cannot use this drawing")
    assert not page.activate_button.isEnabled()

    page.check(library.incoming / new.name)
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=20_000)
    assert page.candidate is not None, page.message.text()
    assert page.activate_button.isEnabled()
    assert page.findings.count() >= 1
    assert page.thumbs.layout().count() == min(12, len(page.candidate.experience.pages))
    copied = page.candidate.path
    assert copied.parent.parent == library.root / "imported"
    assert copied.read_bytes() == new.read_bytes()

    page.activate()
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=10_000)
    assert shown.loads == [copied]
    assert shown.current.source_path == copied
    assert "blog__story-map" in page.active_label.text()
    assert "features.drawio" in page.previous_label.text()
    activated = [p for t, p in recorded.events if t == "admin.content_activate"]
    assert activated[-1]["role"] == "manager" and activated[-1]["path"] == str(copied)

    page.roll_back()
    qtbot.waitUntil(lambda: settled(tasks, page) and len(shown.loads) == 2, timeout=10_000)
    assert shown.current.source_path == FIXTURES / "features.drawio"
    assert "features.drawio" in page.active_label.text()
    assert "admin.content_rollback" in recorded.types()
    assert [e.role for e in library.history()] == ["config", "manager", "manager"]


def test_pictures_beside_a_drawing_come_along(tmp_path: Path) -> None:
    from kiosk.admin.content import prepare_candidate

    stick = tmp_path / "stick" / "summer"
    stick.mkdir(parents=True)
    shutil.copy(FIXTURES / "features.drawio", stick / "summer.drawio")
    shutil.copy(FIXTURES / "logo.png", stick / "logo.png")
    (stick / "notes.txt").write_text("not a picture", encoding="utf-8")
    library = ContentLibrary(tmp_path / "content")
    candidate = prepare_candidate(library, stick / "summer.drawio")
    assert (candidate.path.parent / "logo.png").read_bytes() == (FIXTURES / "logo.png").read_bytes()
    assert not (candidate.path.parent / "notes.txt").exists()
    assert not any("logo.png" in f.message for f in candidate.findings)
    assert (
        library.import_drawing(stick / "summer.drawio") == candidate.path
    )  # same content, same place


def test_a_failed_activation_keeps_the_old_experience(
    qtbot: Any,
    recorded: Recorded,
    tmp_path: Path,
    tasks: TaskRunner,
    shown: ShopperScreenDouble,
    library: ContentLibrary,
    open_content: Any,
) -> None:
    library.record(tmp_path / "gone.drawio", "manager")
    library.record(FIXTURES / "features.drawio", "manager")
    page = open_content()
    qtbot.waitUntil(
        lambda: settled(tasks, page) and page.rollback_button.isEnabled(), timeout=10_000
    )
    page.roll_back()
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=10_000)
    assert page.message.text().startswith("⚠ not activated")
    assert "gone.drawio: no such file" in page.message.text()
    assert shown.current.source_path == FIXTURES / "features.drawio"
    assert "admin.content_rollback" not in recorded.types()


def test_a_drawing_the_screen_cannot_show_is_not_recorded(
    qtbot: Any,
    recorded: Recorded,
    tasks: TaskRunner,
    shown: ShopperScreenDouble,
    library: ContentLibrary,
    open_content: Any,
) -> None:
    shown.refuse = RuntimeError("the page scene could not be built")
    page = open_content()
    page.check(FIXTURES / "problems.drawio")
    qtbot.waitUntil(lambda: settled(tasks, page) and page.candidate is not None, timeout=10_000)
    page.activate()
    qtbot.waitUntil(lambda: settled(tasks, page), timeout=10_000)
    assert page.message.text() == (
        "⚠ not activated: problems.drawio cannot be shown (the page scene could not be built)"
    )
    assert "admin.content_activate" not in recorded.types()
    assert [e.role for e in library.history()] == ["config"]


# --- the real thing: the kiosk's own window, admin panel and content history ---------------

DEMO = Path(__file__).resolve().parents[3] / "resources" / "demo" / "pet-store.drawio"


def start_kiosk(qtbot: Any, config: KioskConfig) -> Any:
    """A whole kiosk (composition root) on ``config``'s data folder, staff panel open as
    manager on the Content page."""
    from kiosk.app import Kiosk

    kiosk = Kiosk(config)
    window = kiosk.start()
    qtbot.addWidget(window)
    admin = kiosk.admin
    assert admin is not None
    admin.open_pad()
    assert admin.overlay is not None
    admin.overlay.pad.enter(MANAGER_PIN)
    qtbot.waitUntil(lambda: admin.state == "open", timeout=10_000)
    assert admin.show_page("content")
    page = admin.pages["content"]
    qtbot.waitUntil(lambda: settled(kiosk.tasks, page), timeout=10_000)
    return kiosk, page


@pytest.fixture
def store_config(config: KioskConfig) -> KioskConfig:
    config.kiosk.experience = FIXTURES / "features.drawio"
    config.sensors.type = "none"
    config.uplink.enabled = False
    return config


def activate_demo(qtbot: Any, config: KioskConfig, tmp_path: Path) -> Path:
    """A manager activates the demo through the Content page of a running kiosk, which is
    then stopped (as a power cut would, after the activation was made)."""
    stick = tmp_path / "stick"
    stick.mkdir()
    shutil.copy(DEMO, stick / DEMO.name)
    kiosk, page = start_kiosk(qtbot, config)
    try:
        assert kiosk.window.experience.source_path == FIXTURES / "features.drawio"
        page.check(stick / DEMO.name)
        qtbot.waitUntil(
            lambda: settled(kiosk.tasks, page) and page.candidate is not None, timeout=20_000
        )
        candidate = page.candidate
        page.activate()
        # shown at once, from the copy the page loaded and checked (not parsed again)
        assert kiosk.window.experience is candidate.experience
        qtbot.waitUntil(lambda: settled(kiosk.tasks, page), timeout=10_000)
        assert page.previous_label.text() == "before: features.drawio"
    finally:
        kiosk.stop()
    return candidate.path


def test_what_a_manager_activated_is_shown_after_a_restart(
    qtbot: Any, store_config: KioskConfig, tmp_path: Path
) -> None:
    activated = activate_demo(qtbot, store_config, tmp_path)
    kiosk, page = start_kiosk(qtbot, store_config)
    try:
        window = kiosk.window
        assert window.experience.source_path == activated
        assert window.page is not None and window.page.role == "attract"
        assert window.fallback is None and window.experience_error() is None
        assert page.active_label.text().startswith(f"{activated.name} (")
        assert page.previous_label.text() == "before: features.drawio"
        assert not page.problem_label.isVisibleTo(page)
        # roll back (loaded off the UI thread) is remembered too
        page.roll_back()
        qtbot.waitUntil(lambda: settled(kiosk.tasks, page), timeout=10_000)
        assert window.experience.source_path == FIXTURES / "features.drawio"
        assert page.previous_label.text() == f"before: {activated.name}"
    finally:
        kiosk.stop()
    kiosk, page = start_kiosk(qtbot, store_config)
    try:
        assert kiosk.window.experience.source_path == FIXTURES / "features.drawio"
        assert page.previous_label.text() == f"before: {activated.name}"
    finally:
        kiosk.stop()


def test_an_activated_file_that_went_bad_falls_back_and_says_so(
    qtbot: Any, store_config: KioskConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from kiosk.admin.tiles import experience_tile

    def experience_level(kiosk: Any) -> str:
        window = kiosk.window
        return experience_tile(
            store_config.kiosk.experience,
            window.shown_experience(),
            window.experience_error(),
            window.experience_findings(),
        ).level

    activated = activate_demo(qtbot, store_config, tmp_path)
    # the file disappears: the last good copy of it shows, the tile is red
    activated.unlink()
    kiosk, page = start_kiosk(qtbot, store_config)
    try:
        window = kiosk.window
        assert window.experience.source_format == "bundle"
        assert window.experience.globals["filename"] == DEMO.name
        assert window.broken is None and window.page.role == "attract"
        assert window.fallback == f"{activated}: no such file; showing the last good copy"
        assert experience_level(kiosk) == "bad"
        assert page.active_label.text().startswith(f"{DEMO.name} (kept copy)")
        assert page.problem_label.text() == f"⚠ {window.fallback}"
        assert f"experience {activated} cannot be loaded: {activated}: no such file" in caplog.text
    finally:
        kiosk.stop()
    # the file comes back corrupt and the kept copy is damaged too: the configured one
    activated.write_text("<mxfile><diagram>half a drawing", encoding="utf-8")
    assert store_config.paths.data_dir is not None
    (store_config.paths.data_dir / "experience-last-good" / "manifest.json").write_text("{")
    kiosk, page = start_kiosk(qtbot, store_config)
    try:
        window = kiosk.window
        assert window.experience.source_path == FIXTURES / "features.drawio"
        assert window.fallback is not None
        assert window.fallback.startswith(f"{activated}: ")
        assert window.fallback.endswith("; showing the configured experience")
        assert experience_level(kiosk) == "bad"
        assert page.problem_label.text() == f"⚠ {window.fallback}"
    finally:
        kiosk.stop()


def test_a_new_config_file_wins_until_a_manager_chooses(
    qtbot: Any, store_config: KioskConfig
) -> None:
    """The history's first entry only notes the configured file; a changed config shows its
    own file after a restart, as long as no manager activated or rolled back."""
    kiosk, _page = start_kiosk(qtbot, store_config)
    kiosk.stop()
    library = ContentLibrary.for_config(store_config)
    assert [(e.name, e.role) for e in library.history()] == [("features.drawio", "config")]
    store_config.kiosk.experience = DEMO
    kiosk, _page = start_kiosk(qtbot, store_config)
    try:
        assert kiosk.window.experience.source_path == DEMO
        assert kiosk.window.fallback is None
    finally:
        kiosk.stop()
